/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Keys on PKCS#11 tokens: generated on the token (private half sensitive
 * and never extractable), their public half read back, loaded by URI,
 * signing with C_Sign and ECDH with C_DeriveKey on the token, the private
 * half reaching OpenSSL through tb-pkcs11-provider.c. Modules, tokens and
 * sessions are in tb-pkcs11.c. */

#include "config.h"

#include "tb-pkcs11-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <p11-kit/uri.h>
#include <string.h>

#include "tb-error.h"
#include "tb-openssl-private.h"
#include "tb-secret.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OSSL_PARAM_BLD, OSSL_PARAM_BLD_free)

static const guint8 oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const guint8 oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };

static GBytes *
get_attribute (CK_FUNCTION_LIST *module, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type)
{
  CK_ATTRIBUTE a = { type, NULL, 0 };
  guint8 *buf;

  if (module->C_GetAttributeValue (s, o, &a, 1) != CKR_OK || a.ulValueLen == (CK_ULONG) -1 || a.ulValueLen > 65536)
    return NULL;
  buf = g_malloc (a.ulValueLen + 1);
  a.pValue = buf;
  if (module->C_GetAttributeValue (s, o, &a, 1) != CKR_OK)
    {
      g_free (buf);
      return NULL;
    }
  return g_bytes_new_take (buf, a.ulValueLen);
}

static EVP_PKEY *
public_from_object (CK_FUNCTION_LIST *module, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_KEY_TYPE *type_out,
                    int *bits_out, GError **error)
{
  CK_KEY_TYPE type = (CK_KEY_TYPE) -1;
  CK_ATTRIBUTE a = { CKA_KEY_TYPE, &type, sizeof type };
  g_autoptr(OSSL_PARAM_BLD) bld = OSSL_PARAM_BLD_new ();
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *pctx = NULL;
  EVP_PKEY *pkey = NULL;
  BIGNUM *n = NULL, *e = NULL;
  g_autoptr(GBytes) ecp = NULL;
  g_autoptr(GBytes) point = NULL;

  if (module->C_GetAttributeValue (s, o, &a, 1) != CKR_OK)
    goto fail;
  /* the builder keeps pointers until OSSL_PARAM_BLD_to_param(): these live until then */
  if (type == CKK_EC)
    {
      ecp = get_attribute (module, s, o, CKA_EC_PARAMS);
      point = get_attribute (module, s, o, CKA_EC_POINT);
      const guint8 *p;
      gsize len;
      const char *group;

      if (ecp == NULL || point == NULL)
        goto fail;
      if (g_bytes_get_size (ecp) == sizeof oid_p256 && memcmp (g_bytes_get_data (ecp, NULL), oid_p256, sizeof oid_p256) == 0)
        group = "prime256v1", *bits_out = 256;
      else if (g_bytes_get_size (ecp) == sizeof oid_p384 &&
               memcmp (g_bytes_get_data (ecp, NULL), oid_p384, sizeof oid_p384) == 0)
        group = "secp384r1", *bits_out = 384;
      else
        {
          g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("The token key is on a curve Trustbench does not use"));
          return NULL;
        }
      p = g_bytes_get_data (point, &len);
      /* CKA_EC_POINT is a DER OCTET STRING around the point */
      if (len > 2 && p[0] == 0x04 && p[1] == len - 2)
        p += 2, len -= 2;
      else if (len > 3 && p[0] == 0x04 && p[1] == 0x81 && p[2] == len - 3)
        p += 3, len -= 3;
      OSSL_PARAM_BLD_push_utf8_string (bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
      OSSL_PARAM_BLD_push_octet_string (bld, OSSL_PKEY_PARAM_PUB_KEY, p, len);
      pctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", "provider=default");
    }
  else if (type == CKK_RSA)
    {
      g_autoptr(GBytes) mod = get_attribute (module, s, o, CKA_MODULUS);
      g_autoptr(GBytes) exp = get_attribute (module, s, o, CKA_PUBLIC_EXPONENT);
      gsize ml, el;
      const guint8 *mp, *ep;

      if (mod == NULL || exp == NULL)
        goto fail;
      mp = g_bytes_get_data (mod, &ml);
      ep = g_bytes_get_data (exp, &el);
      n = BN_bin2bn (mp, (int) ml, NULL);
      e = BN_bin2bn (ep, (int) el, NULL);
      *bits_out = BN_num_bits (n);
      OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_N, n);
      OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_E, e);
      pctx = EVP_PKEY_CTX_new_from_name (NULL, "RSA", "provider=default");
    }
  else
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("The token key is neither EC nor RSA"));
      return NULL;
    }
  params = OSSL_PARAM_BLD_to_param (bld);
  if (pctx == NULL || params == NULL || EVP_PKEY_fromdata_init (pctx) != 1 ||
      EVP_PKEY_fromdata (pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    pkey = NULL;
  OSSL_PARAM_free (params);
  EVP_PKEY_CTX_free (pctx);
  BN_free (n);
  BN_free (e);
  if (pkey != NULL)
    {
      *type_out = type;
      return pkey;
    }

fail:
  ERR_clear_error ();
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("Cannot read the public key from the token"));
  return NULL;
}

/* Finds one object of @klass matching the URI's attributes (id, label). */
static gboolean
find_object (CK_FUNCTION_LIST *module, CK_SESSION_HANDLE s, P11KitUri *uri, CK_OBJECT_CLASS klass,
             const GBytes *id, CK_OBJECT_HANDLE *out, GError **error)
{
  CK_ATTRIBUTE tmpl[3];
  CK_ULONG n = 0, found = 0;
  CK_ATTRIBUTE_PTR label = p11_kit_uri_get_attribute (uri, CKA_LABEL);
  CK_ATTRIBUTE_PTR uri_id = p11_kit_uri_get_attribute (uri, CKA_ID);
  CK_RV rv;

  tmpl[n++] = (CK_ATTRIBUTE) { CKA_CLASS, &klass, sizeof klass };
  if (id != NULL)
    {
      gsize len;
      const void *data = g_bytes_get_data ((GBytes *) id, &len);
      tmpl[n++] = (CK_ATTRIBUTE) { CKA_ID, (void *) data, len };
    }
  else if (uri_id != NULL)
    tmpl[n++] = *uri_id;
  if (label != NULL)
    tmpl[n++] = *label;
  if (label == NULL && uri_id == NULL && id == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("The PKCS#11 URI names no key: give object=LABEL or id=…"));
      return FALSE;
    }
  rv = module->C_FindObjectsInit (s, tmpl, n);
  if (rv == CKR_OK)
    rv = module->C_FindObjects (s, out, 1, &found);
  module->C_FindObjectsFinal (s);
  if (rv != CKR_OK)
    {
      tb_pkcs11_set_rv_error (error, rv, _("Cannot search the token"));
      return FALSE;
    }
  if (found == 0)
    {
      g_autofree char *name = label != NULL ? g_strndup (label->pValue, label->ulValueLen) : g_strdup (_("(by id)"));
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("The token holds no %s key “%s”"),
                   klass == CKO_PRIVATE_KEY ? _("private") : _("public"), name);
      return FALSE;
    }
  return TRUE;
}

static char *
key_uri (const CK_TOKEN_INFO *ti, const char *label, GBytes *id, const char *module_path)
{
  P11KitUri *uri = p11_kit_uri_new ();
  CK_ATTRIBUTE attrs[2];
  gsize id_len;
  const void *id_data = g_bytes_get_data (id, &id_len);
  char *out;

  memcpy (p11_kit_uri_get_token_info (uri), ti, sizeof *ti);
  attrs[0] = (CK_ATTRIBUTE) { CKA_LABEL, (void *) label, strlen (label) };
  attrs[1] = (CK_ATTRIBUTE) { CKA_ID, (void *) id_data, id_len };
  p11_kit_uri_set_attributes (uri, attrs, 2);
  out = tb_pkcs11_format_uri (uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, module_path);
  p11_kit_uri_free (uri);
  return out;
}

/**
 * tb_pkcs11_generate: (skip)
 * @tb_pkcs11_token_uri: the token
 * @label: the key's label on the token
 * @algorithm: ec-p256, ec-p384 or rsa-3072
 * @key_agreement: allow ECDH (CKA_DERIVE) instead of signing
 * @key_uri: (out): the key's URI
 *
 * Generates a key pair on the token: the private key sensitive, never
 * extractable, for signing only.
 *
 * Returns: (transfer full): the public key
 */
EVP_PKEY *
tb_pkcs11_generate (const char *token_uri_text, const char *label, const char *algorithm, gboolean key_agreement,
                    char **key_uri_out, GError **error)
{
  P11KitUri *uri = tb_pkcs11_parse_uri (token_uri_text, error);
  CK_FUNCTION_LIST *module;
  CK_SLOT_ID slot;
  CK_TOKEN_INFO ti;
  CK_SESSION_HANDLE s;
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_ULONG bits = 3072;
  CK_BYTE exponent[] = { 0x01, 0x00, 0x01 };
  guint8 id[16];
  CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
  CK_ATTRIBUTE pub_t[8], priv_t[10];
  CK_ULONG np = 0, nq = 0;
  CK_OBJECT_HANDLE pub, priv;
  CK_KEY_TYPE type;
  int kbits = 0;
  CK_RV rv;
  EVP_PKEY *pkey;
  g_autoptr(GBytes) id_bytes = NULL;

  if (uri == NULL)
    return NULL;
  if (!tb_pkcs11_find_token (uri, &module, &slot, &ti, error) || !tb_pkcs11_open_logged_in (module, slot, &ti, &s, error))
    {
      p11_kit_uri_free (uri);
      return NULL;
    }
  if (!tb_crypto_random_bytes (id, sizeof id, error))
    {
      module->C_CloseSession (s);
      p11_kit_uri_free (uri);
      return NULL;
    }
  id_bytes = g_bytes_new (id, sizeof id);
  pub_t[np++] = (CK_ATTRIBUTE) { CKA_TOKEN, &yes, sizeof yes };
  pub_t[np++] = (CK_ATTRIBUTE) { CKA_VERIFY, &yes, sizeof yes };
  pub_t[np++] = (CK_ATTRIBUTE) { CKA_LABEL, (void *) label, strlen (label) };
  pub_t[np++] = (CK_ATTRIBUTE) { CKA_ID, id, sizeof id };
  priv_t[nq++] = (CK_ATTRIBUTE) { CKA_TOKEN, &yes, sizeof yes };
  priv_t[nq++] = (CK_ATTRIBUTE) { CKA_PRIVATE, &yes, sizeof yes };
  priv_t[nq++] = (CK_ATTRIBUTE) { CKA_SENSITIVE, &yes, sizeof yes };
  priv_t[nq++] = (CK_ATTRIBUTE) { CKA_EXTRACTABLE, &no, sizeof no };
  /* one purpose per key: a product key agrees keys, the others sign */
  priv_t[nq++] = (CK_ATTRIBUTE) { key_agreement ? CKA_DERIVE : CKA_SIGN, &yes, sizeof yes };
  priv_t[nq++] = (CK_ATTRIBUTE) { CKA_LABEL, (void *) label, strlen (label) };
  priv_t[nq++] = (CK_ATTRIBUTE) { CKA_ID, id, sizeof id };
  if (g_strcmp0 (algorithm, "ec-p256") == 0 || algorithm == NULL)
    pub_t[np++] = (CK_ATTRIBUTE) { CKA_EC_PARAMS, (void *) oid_p256, sizeof oid_p256 };
  else if (g_strcmp0 (algorithm, "ec-p384") == 0)
    pub_t[np++] = (CK_ATTRIBUTE) { CKA_EC_PARAMS, (void *) oid_p384, sizeof oid_p384 };
  else if (g_strcmp0 (algorithm, "rsa-3072") == 0)
    {
      mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
      pub_t[np++] = (CK_ATTRIBUTE) { CKA_MODULUS_BITS, &bits, sizeof bits };
      pub_t[np++] = (CK_ATTRIBUTE) { CKA_PUBLIC_EXPONENT, exponent, sizeof exponent };
    }
  else
    {
      module->C_CloseSession (s);
      p11_kit_uri_free (uri);
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED,
                   _("Keys on tokens are ec-p256, ec-p384 or rsa-3072, not “%s”"), algorithm);
      return NULL;
    }
  rv = module->C_GenerateKeyPair (s, &mech, pub_t, np, priv_t, nq, &pub, &priv);
  if (rv != CKR_OK)
    {
      module->C_CloseSession (s);
      p11_kit_uri_free (uri);
      tb_pkcs11_set_rv_error (error, rv, _("The token could not generate the key"));
      return NULL;
    }
  pkey = public_from_object (module, s, pub, &type, &kbits, error);
  module->C_CloseSession (s);
  if (pkey != NULL && key_uri_out != NULL)
    *key_uri_out = key_uri (&ti, label, id_bytes, p11_kit_uri_get_module_path (uri));
  p11_kit_uri_free (uri);
  return pkey;
}

/* Opens the token of @text and finds the key's private (or public) object. */
static gboolean
open_key (const char *text, CK_OBJECT_CLASS klass, CK_FUNCTION_LIST **module, CK_SESSION_HANDLE *s,
          CK_OBJECT_HANDLE *o, GError **error)
{
  P11KitUri *uri = tb_pkcs11_parse_uri (text, error);
  CK_SLOT_ID slot;
  CK_TOKEN_INFO ti;
  gboolean ok;

  if (uri == NULL)
    return FALSE;
  ok = tb_pkcs11_find_token (uri, module, &slot, &ti, error) && tb_pkcs11_open_logged_in (*module, slot, &ti, s, error);
  if (ok && o != NULL && !find_object (*module, *s, uri, klass, NULL, o, error))
    {
      (*module)->C_CloseSession (*s);
      ok = FALSE;
    }
  p11_kit_uri_free (uri);
  return ok;
}

/* The public half of a token key: its public key object, or else (smart
 * cards often keep only the private key and a certificate) the public key
 * of its certificate object. @id narrows the search to one CKA_ID. */
static EVP_PKEY *
public_for_key (CK_FUNCTION_LIST *module, CK_SESSION_HANDLE s, const char *key_uri_text, GBytes *id,
                CK_KEY_TYPE *type, int *bits, GError **error)
{
  P11KitUri *uri = tb_pkcs11_parse_uri (key_uri_text, error);
  g_autoptr(GError) no_public = NULL;
  g_autoptr(GBytes) der = NULL;
  CK_OBJECT_HANDLE o;
  EVP_PKEY *pkey = NULL;

  if (uri == NULL)
    return NULL;
  if (find_object (module, s, uri, CKO_PUBLIC_KEY, id, &o, &no_public))
    {
      pkey = public_from_object (module, s, o, type, bits, error);
      p11_kit_uri_free (uri);
      return pkey;
    }
  if (!g_error_matches (no_public, TB_ERROR, TB_ERROR_NOT_FOUND) ||
      !find_object (module, s, uri, CKO_CERTIFICATE, id, &o, NULL) ||
      (der = get_attribute (module, s, o, CKA_VALUE)) == NULL)
    {
      p11_kit_uri_free (uri);
      g_propagate_error (error, g_steal_pointer (&no_public));
      if (error != NULL && *error != NULL && g_error_matches (*error, TB_ERROR, TB_ERROR_NOT_FOUND))
        g_prefix_error (error, "%s", _("No public key or certificate object for the key: "));
      return NULL;
    }
  p11_kit_uri_free (uri);
  {
    const unsigned char *p = g_bytes_get_data (der, NULL);
    X509 *x = d2i_X509 (NULL, &p, (long) g_bytes_get_size (der));
    pkey = x != NULL ? X509_get_pubkey (x) : NULL;
    X509_free (x);
  }
  if (pkey == NULL)
    {
      ERR_clear_error ();
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("The key's certificate on the token is not valid X.509"));
      return NULL;
    }
  *type = EVP_PKEY_is_a (pkey, "EC") ? CKK_EC : CKK_RSA;
  *bits = EVP_PKEY_get_bits (pkey);
  return pkey;
}

/**
 * tb_pkcs11_load_public: (skip)
 *
 * Returns: (transfer full): the public key of the token key at @key_uri
 *   (from its public key object, or its certificate)
 */
EVP_PKEY *
tb_pkcs11_load_public (const char *key_uri_text, GError **error)
{
  CK_FUNCTION_LIST *module;
  CK_SESSION_HANDLE s;
  CK_KEY_TYPE type;
  int bits;
  EVP_PKEY *pkey;

  if (!open_key (key_uri_text, CKO_PUBLIC_KEY, &module, &s, NULL, error))
    return NULL;
  pkey = public_for_key (module, s, key_uri_text, NULL, &type, &bits, error);
  module->C_CloseSession (s);
  return pkey;
}

/**
 * tb_pkcs11_load_private: (skip)
 *
 * Logs in to the key's token (with the process PIN) and returns the
 * private key as an OpenSSL key whose operations run on the token.
 */
EVP_PKEY *
tb_pkcs11_load_private (const char *key_uri_text, GError **error)
{
  TbTokenKey *key = g_new0 (TbTokenKey, 1);
  g_autoptr(GBytes) id = NULL;
  EVP_PKEY *pkey;

  key->refs = 1;
  key->generation = tb_pkcs11_get_modules_generation ();
  g_mutex_init (&key->lock);
  if (!open_key (key_uri_text, CKO_PRIVATE_KEY, &key->module, &key->session, &key->object, error))
    {
      g_mutex_clear (&key->lock);
      g_free (key);
      return NULL;
    }
  id = get_attribute (key->module, key->session, key->object, CKA_ID);
  key->public_key = public_for_key (key->module, key->session, key_uri_text, id, &key->key_type, &key->bits, error);
  if (key->public_key == NULL)
    {
      tb_token_key_unref (key);
      return NULL;
    }
  pkey = tb_pkcs11_provider_wrap (key, error);
  tb_token_key_unref (key);
  return pkey;
}

TbTokenKey *
tb_token_key_ref (TbTokenKey *key)
{
  g_atomic_int_inc (&key->refs);
  return key;
}

void
tb_token_key_unref (TbTokenKey *key)
{
  if (key == NULL || !g_atomic_int_dec_and_test (&key->refs))
    return;
  /* after tb_pkcs11_reset() the module is gone, and its sessions with it */
  if (key->module != NULL && key->session != 0 && key->generation == tb_pkcs11_get_modules_generation ())
    key->module->C_CloseSession (key->session);
  EVP_PKEY_free (key->public_key);
  g_mutex_clear (&key->lock);
  g_free (key);
}

/* DigestInfo prefixes for PKCS#1 v1.5 (RFC 8017, section 9.2) */
static const guint8 di_sha256[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
static const guint8 di_sha384[] = { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                    0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30 };

/**
 * tb_token_key_sign: (skip)
 * @digest: the message digest
 * @md_nid: its algorithm (NID_sha256, NID_sha384)
 * @sig: (out): DER ECDSA signature, or the RSA PKCS#1 v1.5 signature
 *
 * Signs on the token (C_Sign): ECDSA over the digest (the token's raw
 * r ‖ s converted to DER), RSA PKCS#1 v1.5 over the DigestInfo, or
 * RSA-PSS (@pss: salt = digest length, MGF1 with the same digest).
 */
gboolean
tb_token_key_sign (TbTokenKey *key, const guint8 *digest, gsize digest_len, int md_nid, gboolean pss, guint8 **sig,
                   gsize *sig_len, GError **error)
{
  CK_MECHANISM mech = { key->key_type == CKK_EC ? CKM_ECDSA : CKM_RSA_PKCS, NULL, 0 };
  CK_RSA_PKCS_PSS_PARAMS pss_params = { md_nid == NID_sha384 ? CKM_SHA384 : CKM_SHA256,
                                        md_nid == NID_sha384 ? CKG_MGF1_SHA384 : CKG_MGF1_SHA256, digest_len };
  g_autofree guint8 *input = NULL;
  gsize input_len = digest_len;
  guint8 raw[1024];
  CK_ULONG raw_len = sizeof raw;
  CK_RV rv;

  if (key->key_type == CKK_RSA && pss)
    {
      /* RSA-PSS over the digest; the token pads */
      mech.mechanism = CKM_RSA_PKCS_PSS;
      mech.pParameter = &pss_params;
      mech.ulParameterLen = sizeof pss_params;
      input = g_memdup2 (digest, digest_len);
    }
  else if (key->key_type == CKK_RSA)
    {
      const guint8 *prefix = md_nid == NID_sha384 ? di_sha384 : di_sha256;
      gsize plen = md_nid == NID_sha384 ? sizeof di_sha384 : sizeof di_sha256;
      input = g_malloc (plen + digest_len);
      memcpy (input, prefix, plen);
      memcpy (input + plen, digest, digest_len);
      input_len = plen + digest_len;
    }
  else
    input = g_memdup2 (digest, digest_len);
  g_mutex_lock (&key->lock);
  rv = key->module->C_SignInit (key->session, &mech, key->object);
  if (rv == CKR_OK)
    rv = key->module->C_Sign (key->session, input, input_len, raw, &raw_len);
  g_mutex_unlock (&key->lock);
  if (rv != CKR_OK)
    {
      tb_pkcs11_set_rv_error (error, rv, _("The token could not sign"));
      return FALSE;
    }
  if (key->key_type == CKK_EC)
    {
      ECDSA_SIG *es = ECDSA_SIG_new ();
      BIGNUM *r = BN_bin2bn (raw, (int) (raw_len / 2), NULL);
      BIGNUM *s = BN_bin2bn (raw + raw_len / 2, (int) (raw_len / 2), NULL);
      unsigned char *der = NULL;
      int len;

      if (raw_len % 2 != 0 || es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0 (es, r, s))
        {
          BN_free (r);
          BN_free (s);
          ECDSA_SIG_free (es);
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("The token returned a malformed ECDSA signature"));
          return FALSE;
        }
      len = i2d_ECDSA_SIG (es, &der);
      ECDSA_SIG_free (es);
      if (len <= 0)
        return FALSE;
      *sig = g_memdup2 (der, (gsize) len);
      *sig_len = (gsize) len;
      OPENSSL_free (der);
      return TRUE;
    }
  *sig = g_memdup2 (raw, raw_len);
  *sig_len = raw_len;
  return TRUE;
}

/**
 * tb_pkcs11_get_key_flags:
 *
 * Reads CKA_SENSITIVE and CKA_EXTRACTABLE of the private key at @key_uri.
 */
gboolean
tb_pkcs11_get_key_flags (const char *key_uri_text, gboolean *sensitive, gboolean *extractable, GError **error)
{
  CK_FUNCTION_LIST *module;
  CK_SESSION_HANDLE s;
  CK_OBJECT_HANDLE o;
  CK_BBOOL sens = CK_FALSE, extr = CK_TRUE;
  CK_ATTRIBUTE a[2] = { { CKA_SENSITIVE, &sens, sizeof sens }, { CKA_EXTRACTABLE, &extr, sizeof extr } };
  CK_RV rv;

  if (!open_key (key_uri_text, CKO_PRIVATE_KEY, &module, &s, &o, error))
    return FALSE;
  rv = module->C_GetAttributeValue (s, o, a, 2);
  module->C_CloseSession (s);
  if (rv != CKR_OK)
    {
      tb_pkcs11_set_rv_error (error, rv, _("Cannot read the key's attributes"));
      return FALSE;
    }
  *sensitive = sens == CK_TRUE;
  *extractable = extr == CK_TRUE;
  return TRUE;
}
/**
 * tb_token_key_derive: (skip)
 * @peer_point: the peer's uncompressed EC point
 * @shared: (out caller-allocates): at least 66 bytes
 *
 * ECDH on the token (CKM_ECDH1_DERIVE, no KDF): the raw shared secret, as
 * EVP_PKEY_derive() gives it, for the callers' own KDF. The private key
 * never leaves the token; the derived secret is a session object,
 * destroyed at once.
 */
gboolean
tb_token_key_derive (TbTokenKey *key, const guint8 *peer_point, gsize peer_len, guint8 *shared, gsize *shared_len,
                     GError **error)
{
  CK_ECDH1_DERIVE_PARAMS params = { CKD_NULL, 0, NULL, peer_len, (CK_BYTE_PTR) peer_point };
  CK_MECHANISM mech = { CKM_ECDH1_DERIVE, &params, sizeof params };
  CK_OBJECT_CLASS klass = CKO_SECRET_KEY;
  CK_KEY_TYPE type = CKK_GENERIC_SECRET;
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_ULONG len = (CK_ULONG) (key->bits + 7) / 8;
  CK_ATTRIBUTE tmpl[] = {
    { CKA_CLASS, &klass, sizeof klass },
    { CKA_KEY_TYPE, &type, sizeof type },
    { CKA_TOKEN, &no, sizeof no },
    { CKA_SENSITIVE, &no, sizeof no },
    { CKA_EXTRACTABLE, &yes, sizeof yes },
    { CKA_VALUE_LEN, &len, sizeof len },
  };
  CK_OBJECT_HANDLE secret = CK_INVALID_HANDLE;
  CK_ATTRIBUTE value = { CKA_VALUE, shared, len };
  CK_RV rv;

  if (key->key_type != CKK_EC)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("Key agreement needs an EC key; this token key is RSA"));
      return FALSE;
    }
  g_mutex_lock (&key->lock);
  rv = key->module->C_DeriveKey (key->session, &mech, key->object, tmpl, G_N_ELEMENTS (tmpl), &secret);
  if (rv == CKR_OK)
    rv = key->module->C_GetAttributeValue (key->session, secret, &value, 1);
  if (secret != CK_INVALID_HANDLE)
    key->module->C_DestroyObject (key->session, secret);
  g_mutex_unlock (&key->lock);
  if (rv != CKR_OK)
    {
      tb_pkcs11_set_rv_error (error, rv, _("The token could not derive the shared secret (ECDH)"));
      return FALSE;
    }
  *shared_len = value.ulValueLen;
  return TRUE;
}
