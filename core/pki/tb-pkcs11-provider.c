/* SPDX-License-Identifier: GPL-3.0-or-later */

/* A small OpenSSL 3 provider, built into libtrustbench, through which keys
 * on PKCS#11 tokens sign: key management for "EC" and "RSA" keys that
 * are a handle on a token object, and "ECDSA" / "RSA" signatures that
 * hash in the default provider and sign with C_Sign on the token. With it
 * X509_sign(), EVP_DigestSign() and everything built on them work on token
 * keys unchanged, with no ENGINE.
 *
 * Its algorithms carry the property provider=tb-pkcs11 and are only
 * fetched for keys made by tb_pkcs11_provider_wrap(); the process prefers
 * the default provider for everything else ("?provider=default"). The
 * public half is exported to the default provider on demand (comparing,
 * encoding). */

#include "config.h"

#include "tb-pkcs11-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <string.h>

#include "tb-error.h"
#include "tb-openssl-private.h"

#define PROVIDER_NAME "tb-pkcs11"
#define PARAM_TOKEN_KEY "tb-token-key"

/* ---- key management ---- */

typedef struct {
  TbTokenKey *key;
} KeyData;

static void *
km_new (void *provctx)
{
  return g_new0 (KeyData, 1);
}

static void
km_free (void *keydata)
{
  KeyData *kd = keydata;

  if (kd == NULL)
    return;
  tb_token_key_unref (kd->key);
  g_free (kd);
}

static int
km_has (const void *keydata, int selection)
{
  const KeyData *kd = keydata;

  return kd != NULL && kd->key != NULL;
}

static int
km_import (void *keydata, int selection, const OSSL_PARAM params[])
{
  KeyData *kd = keydata;
  const OSSL_PARAM *p = OSSL_PARAM_locate_const (params, PARAM_TOKEN_KEY);
  const void *ptr = NULL;
  size_t len = 0;

  if (kd == NULL || p == NULL || !OSSL_PARAM_get_octet_ptr (p, &ptr, &len) || len != sizeof (TbTokenKey *))
    return 0;
  tb_token_key_unref (kd->key);
  kd->key = tb_token_key_ref ((TbTokenKey *) ptr); /* an octet_ptr param yields the pointer itself */
  return 1;
}

static const OSSL_PARAM *
km_import_types (int selection)
{
  static const OSSL_PARAM types[] = {
    OSSL_PARAM_octet_ptr (PARAM_TOKEN_KEY, NULL, 0),
    OSSL_PARAM_END,
  };
  return types;
}

/* Only the public half leaves: the private key stays on the token. */
static int
km_export (void *keydata, int selection, OSSL_CALLBACK *param_cb, void *cbarg)
{
  KeyData *kd = keydata;
  OSSL_PARAM *params = NULL;
  int ok;

  if (kd == NULL || kd->key == NULL || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0)
    return 0;
  if (EVP_PKEY_todata (kd->key->public_key, EVP_PKEY_PUBLIC_KEY, &params) != 1)
    return 0;
  ok = param_cb (params, cbarg);
  OSSL_PARAM_free (params);
  return ok;
}

static const OSSL_PARAM *
km_ec_export_types (int selection)
{
  static const OSSL_PARAM types[] = {
    OSSL_PARAM_utf8_string (OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
    OSSL_PARAM_octet_string (OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_END,
  };
  return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 ? NULL : types;
}

static const OSSL_PARAM *
km_rsa_export_types (int selection)
{
  static const OSSL_PARAM types[] = {
    OSSL_PARAM_BN (OSSL_PKEY_PARAM_RSA_N, NULL, 0),
    OSSL_PARAM_BN (OSSL_PKEY_PARAM_RSA_E, NULL, 0),
    OSSL_PARAM_END,
  };
  return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 ? NULL : types;
}

static int
km_get_params (void *keydata, OSSL_PARAM params[])
{
  KeyData *kd = keydata;
  OSSL_PARAM *p;

  if (kd == NULL || kd->key == NULL)
    return 0;
  /* what the public half knows (bits, group, encoded point…) */
  EVP_PKEY_get_params (kd->key->public_key, params);
  if ((p = OSSL_PARAM_locate (params, OSSL_PKEY_PARAM_MAX_SIZE)) != NULL &&
      !OSSL_PARAM_set_int (p, kd->key->key_type == CKK_EC ? (kd->key->bits > 256 ? 104 : 72) : kd->key->bits / 8))
    return 0;
  if ((p = OSSL_PARAM_locate (params, OSSL_PKEY_PARAM_BITS)) != NULL && !OSSL_PARAM_set_int (p, kd->key->bits))
    return 0;
  if ((p = OSSL_PARAM_locate (params, OSSL_PKEY_PARAM_SECURITY_BITS)) != NULL &&
      !OSSL_PARAM_set_int (p, kd->key->key_type == CKK_EC ? kd->key->bits / 2 : 128))
    return 0;
  if ((p = OSSL_PARAM_locate (params, PARAM_TOKEN_KEY)) != NULL &&
      !OSSL_PARAM_set_octet_ptr (p, kd->key, sizeof kd->key))
    return 0;
  if ((p = OSSL_PARAM_locate (params, OSSL_PKEY_PARAM_DEFAULT_DIGEST)) != NULL &&
      !OSSL_PARAM_set_utf8_string (p, kd->key->bits == 384 ? "SHA384" : "SHA256"))
    return 0;
  return 1;
}

static const OSSL_PARAM *
km_gettable_params (void *provctx)
{
  static const OSSL_PARAM types[] = {
    OSSL_PARAM_int (OSSL_PKEY_PARAM_BITS, NULL),
    OSSL_PARAM_int (OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
    OSSL_PARAM_int (OSSL_PKEY_PARAM_MAX_SIZE, NULL),
    OSSL_PARAM_utf8_string (OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
    OSSL_PARAM_octet_ptr (PARAM_TOKEN_KEY, NULL, 0),
    OSSL_PARAM_utf8_string (OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
    OSSL_PARAM_octet_string (OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
    OSSL_PARAM_END,
  };
  return types;
}

static int
km_match (const void *a, const void *b, int selection)
{
  const KeyData *ka = a, *kb = b;

  if (ka == NULL || kb == NULL || ka->key == NULL || kb->key == NULL)
    return 0;
  return EVP_PKEY_eq (ka->key->public_key, kb->key->public_key) == 1;
}

static const char *
km_ec_operation (int operation_id)
{
  return operation_id == OSSL_OP_SIGNATURE ? "ECDSA" : NULL;
}

static const char *
km_rsa_operation (int operation_id)
{
  return operation_id == OSSL_OP_SIGNATURE ? "RSA" : NULL;
}

#define KEYMGMT_COMMON \
  { OSSL_FUNC_KEYMGMT_NEW, (void (*) (void)) km_new }, \
  { OSSL_FUNC_KEYMGMT_FREE, (void (*) (void)) km_free }, \
  { OSSL_FUNC_KEYMGMT_HAS, (void (*) (void)) km_has }, \
  { OSSL_FUNC_KEYMGMT_IMPORT, (void (*) (void)) km_import }, \
  { OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*) (void)) km_import_types }, \
  { OSSL_FUNC_KEYMGMT_EXPORT, (void (*) (void)) km_export }, \
  { OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*) (void)) km_get_params }, \
  { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*) (void)) km_gettable_params }, \
  { OSSL_FUNC_KEYMGMT_MATCH, (void (*) (void)) km_match }

static const OSSL_DISPATCH ec_keymgmt[] = {
  KEYMGMT_COMMON,
  { OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*) (void)) km_ec_export_types },
  { OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*) (void)) km_ec_operation },
  { 0, NULL },
};

static const OSSL_DISPATCH rsa_keymgmt[] = {
  KEYMGMT_COMMON,
  { OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*) (void)) km_rsa_export_types },
  { OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*) (void)) km_rsa_operation },
  { 0, NULL },
};

/* ---- signatures ---- */

typedef struct {
  TbTokenKey *key;
  EVP_MD_CTX *md;
  int md_nid;
  gboolean pss;                 /* RSA-PSS (salt = digest length, MGF1 with the same digest) */
} SigCtx;

static void *
sig_newctx (void *provctx, const char *propq)
{
  return g_new0 (SigCtx, 1);
}

static void
sig_freectx (void *ctx)
{
  SigCtx *c = ctx;

  tb_token_key_unref (c->key);
  EVP_MD_CTX_free (c->md);
  g_free (c);
}

static void *
sig_dupctx (void *ctx)
{
  SigCtx *c = ctx;
  SigCtx *d = g_new0 (SigCtx, 1);

  d->key = c->key != NULL ? tb_token_key_ref (c->key) : NULL;
  d->md_nid = c->md_nid;
  d->pss = c->pss;
  if (c->md != NULL)
    {
      d->md = EVP_MD_CTX_new ();
      if (d->md == NULL || !EVP_MD_CTX_copy_ex (d->md, c->md))
        {
          sig_freectx (d);
          return NULL;
        }
    }
  return d;
}

static int
sig_sign_init (void *ctx, void *provkey, const OSSL_PARAM params[])
{
  SigCtx *c = ctx;
  KeyData *kd = provkey;

  if (kd == NULL || kd->key == NULL)
    return 0;
  tb_token_key_unref (c->key);
  c->key = tb_token_key_ref (kd->key);
  if (c->md_nid == 0)
    c->md_nid = kd->key->bits == 384 ? NID_sha384 : NID_sha256;
  return 1;
}

static int
sig_sign (void *ctx, unsigned char *sig, size_t *siglen, size_t sigsize, const unsigned char *tbs, size_t tbslen)
{
  SigCtx *c = ctx;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *out = NULL;
  gsize out_len = 0;
  size_t max = c->key->key_type == CKK_EC ? (c->key->bits > 256 ? 104 : 72) : (size_t) c->key->bits / 8;

  if (sig == NULL)
    {
      *siglen = max;
      return 1;
    }
  if (!tb_token_key_sign (c->key, tbs, tbslen, c->md_nid, c->pss, &out, &out_len, &error))
    {
      ERR_raise_data (ERR_LIB_PROV, ERR_R_OPERATION_FAIL, "%s", error->message);
      return 0;
    }
  if (out_len > sigsize)
    return 0;
  memcpy (sig, out, out_len);
  *siglen = out_len;
  return 1;
}

static int
sig_digest_sign_init (void *ctx, const char *mdname, void *provkey, const OSSL_PARAM params[])
{
  SigCtx *c = ctx;
  KeyData *kd = provkey;
  EVP_MD *md;
  int ok;

  if (kd == NULL || kd->key == NULL)
    return 0;
  if (mdname == NULL || mdname[0] == '\0')
    mdname = kd->key->bits == 384 ? "SHA384" : "SHA256";
  md = EVP_MD_fetch (NULL, mdname, "provider=default");
  if (md == NULL)
    return 0;
  c->md_nid = EVP_MD_get_type (md);
  if (c->md_nid != NID_sha256 && c->md_nid != NID_sha384)
    {
      EVP_MD_free (md);
      return 0;
    }
  EVP_MD_CTX_free (c->md);
  c->md = EVP_MD_CTX_new ();
  ok = c->md != NULL && EVP_DigestInit_ex2 (c->md, md, NULL);
  EVP_MD_free (md);
  return ok && sig_sign_init (ctx, provkey, params);
}

static int
sig_digest_sign_update (void *ctx, const unsigned char *data, size_t len)
{
  SigCtx *c = ctx;

  return c->md != NULL && EVP_DigestUpdate (c->md, data, len);
}

static int
sig_digest_sign_final (void *ctx, unsigned char *sig, size_t *siglen, size_t sigsize)
{
  SigCtx *c = ctx;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;

  if (c->md == NULL)
    return 0;
  if (sig == NULL)
    return sig_sign (ctx, NULL, siglen, 0, NULL, 0);
  if (!EVP_DigestFinal_ex (c->md, digest, &dlen))
    return 0;
  return sig_sign (ctx, sig, siglen, sigsize, digest, dlen);
}

/* AlgorithmIdentifier DER, for X.509 */
static const unsigned char aid_ecdsa_sha256[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const unsigned char aid_ecdsa_sha384[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 };
static const unsigned char aid_rsa_sha256[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
                                                0x01, 0x0b, 0x05, 0x00 };
static const unsigned char aid_rsa_sha384[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
                                                0x01, 0x0c, 0x05, 0x00 };

/* RSASSA-PSS, SHA-2 with MGF1 of the same digest, salt = digest length (RFC 4055) */
static const unsigned char aid_pss_sha256[] = {
  0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d,
  0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09,
  0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
  0x04, 0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20,
};
static const unsigned char aid_pss_sha384[] = {
  0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d,
  0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09,
  0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
  0x04, 0x02, 0x02, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x30,
};

static int
sig_get_ctx_params (void *ctx, OSSL_PARAM params[])
{
  SigCtx *c = ctx;
  OSSL_PARAM *p = OSSL_PARAM_locate (params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID);
  gboolean ec = c->key == NULL || c->key->key_type == CKK_EC;
  gboolean sha384 = c->md_nid == NID_sha384;

  if (p != NULL)
    {
      const unsigned char *aid = ec ? (sha384 ? aid_ecdsa_sha384 : aid_ecdsa_sha256)
                                    : c->pss ? (sha384 ? aid_pss_sha384 : aid_pss_sha256)
                                             : (sha384 ? aid_rsa_sha384 : aid_rsa_sha256);
      size_t len = ec ? sizeof aid_ecdsa_sha256 : c->pss ? sizeof aid_pss_sha256 : sizeof aid_rsa_sha256;
      if (!OSSL_PARAM_set_octet_string (p, aid, len))
        return 0;
    }
  if ((p = OSSL_PARAM_locate (params, OSSL_SIGNATURE_PARAM_DIGEST)) != NULL &&
      !OSSL_PARAM_set_utf8_string (p, sha384 ? "SHA384" : "SHA256"))
    return 0;
  return 1;
}

static const OSSL_PARAM *
sig_gettable_ctx_params (void *ctx, void *provctx)
{
  static const OSSL_PARAM types[] = {
    OSSL_PARAM_octet_string (OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
    OSSL_PARAM_utf8_string (OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_END,
  };
  return types;
}

static int
sig_set_ctx_params (void *ctx, const OSSL_PARAM params[])
{
  SigCtx *c = ctx;
  const OSSL_PARAM *p = OSSL_PARAM_locate_const (params, OSSL_SIGNATURE_PARAM_DIGEST);
  const char *name = NULL;

  if (p != NULL)
    {
      if (!OSSL_PARAM_get_utf8_string_ptr (p, &name))
        return 0;
      c->md_nid = g_ascii_strcasecmp (name, "SHA384") == 0 || g_ascii_strcasecmp (name, "SHA2-384") == 0
                    ? NID_sha384 : NID_sha256;
    }
  if ((p = OSSL_PARAM_locate_const (params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL)
    {
      int mode = 0;
      if (p->data_type == OSSL_PARAM_UTF8_STRING && OSSL_PARAM_get_utf8_string_ptr (p, &name))
        mode = g_strcmp0 (name, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0 ? RSA_PKCS1_PSS_PADDING
               : g_strcmp0 (name, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0 ? RSA_PKCS1_PADDING : -1;
      else if (!OSSL_PARAM_get_int (p, &mode))
        return 0;
      if (mode != RSA_PKCS1_PADDING && mode != RSA_PKCS1_PSS_PADDING)
        return 0; /* the token signs PKCS#1 v1.5 or PSS, nothing else */
      c->pss = mode == RSA_PKCS1_PSS_PADDING;
    }
  if ((p = OSSL_PARAM_locate_const (params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL)
    {
      int salt = 0;
      /* only the salt length of the digest, as RFC 4055 and X.509 profiles use */
      if (p->data_type == OSSL_PARAM_UTF8_STRING && OSSL_PARAM_get_utf8_string_ptr (p, &name))
        return g_strcmp0 (name, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0;
      if (!OSSL_PARAM_get_int (p, &salt))
        return 0;
      return salt == RSA_PSS_SALTLEN_DIGEST || salt == (c->md_nid == NID_sha384 ? 48 : 32);
    }
  return 1;
}

static const OSSL_PARAM *
sig_settable_ctx_params (void *ctx, void *provctx)
{
  static const OSSL_PARAM types[] = {
    OSSL_PARAM_utf8_string (OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string (OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string (OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
    OSSL_PARAM_END,
  };
  return types;
}

static const OSSL_DISPATCH signature[] = {
  { OSSL_FUNC_SIGNATURE_NEWCTX, (void (*) (void)) sig_newctx },
  { OSSL_FUNC_SIGNATURE_FREECTX, (void (*) (void)) sig_freectx },
  { OSSL_FUNC_SIGNATURE_DUPCTX, (void (*) (void)) sig_dupctx },
  { OSSL_FUNC_SIGNATURE_SIGN_INIT, (void (*) (void)) sig_sign_init },
  { OSSL_FUNC_SIGNATURE_SIGN, (void (*) (void)) sig_sign },
  { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*) (void)) sig_digest_sign_init },
  { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*) (void)) sig_digest_sign_update },
  { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*) (void)) sig_digest_sign_final },
  { OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*) (void)) sig_get_ctx_params },
  { OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*) (void)) sig_gettable_ctx_params },
  { OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*) (void)) sig_set_ctx_params },
  { OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*) (void)) sig_settable_ctx_params },
  { 0, NULL },
};

/* ---- the provider ---- */

static const OSSL_ALGORITHM keymgmts[] = {
  { "EC:id-ecPublicKey", "provider=" PROVIDER_NAME, ec_keymgmt, "PKCS#11 token EC keys" },
  { "RSA:rsaEncryption", "provider=" PROVIDER_NAME, rsa_keymgmt, "PKCS#11 token RSA keys" },
  { NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM signatures[] = {
  { "ECDSA", "provider=" PROVIDER_NAME, signature, "ECDSA with C_Sign" },
  { "RSA:rsaEncryption", "provider=" PROVIDER_NAME, signature, "RSA PKCS#1 v1.5 with C_Sign" },
  { NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM *
query_operation (void *provctx, int operation_id, int *no_store)
{
  *no_store = 0;
  switch (operation_id)
    {
    case OSSL_OP_KEYMGMT: return keymgmts;
    case OSSL_OP_SIGNATURE: return signatures;
    default: return NULL;
    }
}

static void
teardown (void *provctx)
{
}

static const OSSL_DISPATCH provider_dispatch[] = {
  { OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*) (void)) query_operation },
  { OSSL_FUNC_PROVIDER_TEARDOWN, (void (*) (void)) teardown },
  { 0, NULL },
};

static int
provider_init (const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in, const OSSL_DISPATCH **out, void **provctx)
{
  *out = provider_dispatch;
  *provctx = (void *) handle;
  return 1;
}

static gboolean
ensure_provider (GError **error)
{
  static gsize done = 0;
  static gboolean ok = FALSE;
  static OSSL_PROVIDER *default_provider, *token_provider; /* held for the life of the process */

  if (g_once_init_enter (&done))
    {
      /* loading a provider stops the default one from loading implicitly */
      ok = OSSL_PROVIDER_add_builtin (NULL, PROVIDER_NAME, provider_init) == 1 &&
           (default_provider = OSSL_PROVIDER_load (NULL, "default")) != NULL &&
           (token_provider = OSSL_PROVIDER_load (NULL, PROVIDER_NAME)) != NULL &&
           EVP_set_default_properties (NULL, "?provider=default") == 1;
      g_once_init_leave (&done, 1);
    }
  if (!ok)
    tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot load the PKCS#11 provider into OpenSSL"));
  return ok;
}

/**
 * tb_pkcs11_provider_wrap: (skip)
 *
 * Returns: (transfer full): an OpenSSL key whose signatures run on the
 *   token through @key
 */
EVP_PKEY *
tb_pkcs11_provider_wrap (TbTokenKey *key, GError **error)
{
  EVP_PKEY_CTX *pctx;
  EVP_PKEY *pkey = NULL;
  OSSL_PARAM params[2];
  TbTokenKey *ptr = key;

  if (!ensure_provider (error))
    return NULL;
  pctx = EVP_PKEY_CTX_new_from_name (NULL, key->key_type == CKK_EC ? "EC" : "RSA", "provider=" PROVIDER_NAME);
  params[0] = OSSL_PARAM_construct_octet_ptr (PARAM_TOKEN_KEY, (void **) &ptr, sizeof ptr);
  params[1] = OSSL_PARAM_construct_end ();
  if (pctx == NULL || EVP_PKEY_fromdata_init (pctx) != 1 ||
      EVP_PKEY_fromdata (pctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
    {
      pkey = NULL;
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot hand the token key to OpenSSL"));
    }
  EVP_PKEY_CTX_free (pctx);
  return pkey;
}

/**
 * tb_pkcs11_provider_get_token_key: (skip)
 *
 * Returns: (transfer none) (nullable): the token key behind @pkey, %NULL
 *   for a key of any other provider
 */
TbTokenKey *
tb_pkcs11_provider_get_token_key (EVP_PKEY *pkey)
{
  const OSSL_PROVIDER *prov = EVP_PKEY_get0_provider (pkey);
  void *ptr = NULL;
  OSSL_PARAM params[2];

  if (prov == NULL || g_strcmp0 (OSSL_PROVIDER_get0_name (prov), PROVIDER_NAME) != 0)
    return NULL;
  params[0] = OSSL_PARAM_construct_octet_ptr (PARAM_TOKEN_KEY, &ptr, 0);
  params[1] = OSSL_PARAM_construct_end ();
  if (!EVP_PKEY_get_params (pkey, params))
    return NULL;
  return ptr;
}
