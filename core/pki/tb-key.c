/* SPDX-License-Identifier: GPL-3.0-or-later */

/**
 * TbKey:
 *
 * A key pair of a security context. The public half is always at hand
 * (from `keys/NAME.pub`, checked against the fingerprint in the
 * inventory); the private half is loaded by tb_key_unlock() with the
 * context passphrase and lives only in memory.
 *
 * On disk a private key is an encrypted PKCS#8 PEM file (PBES2 with
 * scrypt and AES-256-CBC), mode 0600; it is never written in clear, never
 * logged and never put in JSON. The inventory entry says where each key
 * lives (`storage`): `file` today, a `pkcs11:` URI for token keys.
 *
 * This file: the object, usages and algorithms, generation and the
 * accessors. Reading existing keys (PEM, DER, PKCS#8, PKCS#12) is in
 * tb-key-import.c; keys in a context (load, unlock, store, the storage
 * backends) and PEM export in tb-key-store.c.
 */

#include "config.h"

#include "tb-key-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <string.h>

#include "tb-error.h"

G_DEFINE_FINAL_TYPE (TbKey, tb_key, G_TYPE_OBJECT)

static const char *const usage_names[TB_KEY_USAGE_N] = {
  [TB_KEY_USAGE_ROOT_CA] = "root-ca",
  [TB_KEY_USAGE_PROVISIONING_CA] = "provisioning-ca",
  [TB_KEY_USAGE_MASTERING] = "mastering",
  [TB_KEY_USAGE_PRODUCT] = "product",
  [TB_KEY_USAGE_JOB] = "job",
};

static const char *const algorithms[] = { "ec-p256", "ec-p384", "ed25519", "rsa-3072", NULL };

static void
tb_key_finalize (GObject *object)
{
  TbKey *self = TB_KEY (object);

  g_free (self->name);
  g_free (self->algorithm);
  g_free (self->storage);
  g_free (self->file);
  g_free (self->public_file);
  g_free (self->public_sha256);
  EVP_PKEY_free (self->public_key);
  EVP_PKEY_free (self->private_key); /* OpenSSL clears private key material */
  G_OBJECT_CLASS (tb_key_parent_class)->finalize (object);
}

static void
tb_key_class_init (TbKeyClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tb_key_finalize;
}

static void
tb_key_init (TbKey *self)
{
  self->storage = g_strdup (TB_KEY_STORAGE_FILE);
}

const char *
tb_key_usage_to_string (TbKeyUsage usage)
{
  g_return_val_if_fail (usage < TB_KEY_USAGE_N, NULL);
  return usage_names[usage];
}

/**
 * tb_key_usage_describe:
 *
 * Returns: a sentence saying what a key of @usage is for
 */
const char *
tb_key_usage_describe (TbKeyUsage usage)
{
  switch (usage)
    {
    case TB_KEY_USAGE_ROOT_CA:
      return _("OEM root CA: certifies the CAs, the mastering key and the product keys");
    case TB_KEY_USAGE_PROVISIONING_CA:
      return _("Provisioning CA: issues device certificates");
    case TB_KEY_USAGE_MASTERING:
      return _("Mastering key: signs update protection keys");
    case TB_KEY_USAGE_PRODUCT:
      return _("Product key: wraps image keys for a product family");
    case TB_KEY_USAGE_JOB:
      return _("Job key: signs production job material");
    case TB_KEY_USAGE_N:
    default:
      g_return_val_if_reached (NULL);
    }
}

gboolean
tb_key_usage_from_string (const char *text, TbKeyUsage *usage, GError **error)
{
  for (TbKeyUsage u = 0; u < TB_KEY_USAGE_N; u++)
    if (g_strcmp0 (text, usage_names[u]) == 0)
      {
        *usage = u;
        return TRUE;
      }
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
               _("Unknown key usage “%s”: expected root-ca, provisioning-ca, mastering, product or job"),
               text != NULL ? text : "");
  return FALSE;
}

/**
 * tb_key_algorithms:
 *
 * Returns: (transfer none): the algorithms keys can be generated with
 */
const char *const *
tb_key_algorithms (void)
{
  return algorithms;
}

gboolean
tb_key_algorithm_is_supported (const char *algorithm, GError **error)
{
  if (algorithm != NULL && g_strv_contains (algorithms, algorithm))
    return TRUE;
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
               _("Unknown key algorithm “%s”: expected ec-p256, ec-p384, ed25519 or rsa-3072"),
               algorithm != NULL ? algorithm : "");
  return FALSE;
}

/**
 * tb_pkey_describe_algorithm:
 *
 * Returns: (transfer full): `ec-p256`, `ec-p384`, `ed25519`, `rsa-BITS`,
 *   `ec-CURVE` or the lower-case type name
 */
char *
tb_pkey_describe_algorithm (EVP_PKEY *pkey)
{
  char group[64] = "";

  if (EVP_PKEY_is_a (pkey, "EC"))
    {
      if (!EVP_PKEY_get_utf8_string_param (pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL))
        return g_strdup ("ec-unknown");
      if (g_str_equal (group, "prime256v1") || g_str_equal (group, "P-256"))
        return g_strdup ("ec-p256");
      if (g_str_equal (group, "secp384r1") || g_str_equal (group, "P-384"))
        return g_strdup ("ec-p384");
      return g_strdup_printf ("ec-%s", group);
    }
  if (EVP_PKEY_is_a (pkey, "ED25519"))
    return g_strdup ("ed25519");
  if (EVP_PKEY_is_a (pkey, "RSA") || EVP_PKEY_is_a (pkey, "RSA-PSS"))
    return g_strdup_printf ("rsa-%d", EVP_PKEY_get_bits (pkey));
  return g_ascii_strdown (EVP_PKEY_get0_type_name (pkey), -1);
}

/**
 * tb_pkey_public_sha256:
 *
 * Returns: (transfer full): hex SHA-256 of the DER SubjectPublicKeyInfo
 */
char *
tb_pkey_public_sha256 (EVP_PKEY *pkey)
{
  unsigned char *der = NULL;
  int len = i2d_PUBKEY (pkey, &der);
  char *hex;

  if (len <= 0)
    return NULL;
  hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der, (gsize) len);
  OPENSSL_free (der);
  return hex;
}

static EVP_PKEY *
public_copy (EVP_PKEY *pkey)
{
  unsigned char *der = NULL;
  const unsigned char *p;
  int len = i2d_PUBKEY (pkey, &der);
  EVP_PKEY *pub;

  if (len <= 0)
    return NULL;
  p = der;
  pub = d2i_PUBKEY (NULL, &p, len);
  OPENSSL_free (der);
  return pub;
}

/**
 * tb_key_new_for_pkey: (skip)
 * @pkey: a key; a reference is taken
 * @has_private: whether @pkey holds the private half
 */
TbKey *
tb_key_new_for_pkey (EVP_PKEY *pkey, gboolean has_private, GError **error)
{
  g_autoptr(TbKey) self = g_object_new (TB_TYPE_KEY, NULL);

  self->public_key = public_copy (pkey);
  if (self->public_key == NULL)
    {
      tb_set_error_from_openssl (error, TB_ERROR_INVALID_DATA, _("Cannot encode the public key"));
      return NULL;
    }
  if (has_private)
    {
      EVP_PKEY_up_ref (pkey);
      self->private_key = pkey;
    }
  self->algorithm = tb_pkey_describe_algorithm (pkey);
  self->public_sha256 = tb_pkey_public_sha256 (self->public_key);
  return g_steal_pointer (&self);
}

/**
 * tb_key_generate:
 * @algorithm: one of tb_key_algorithms()
 *
 * Generates a key pair in memory; tb_key_store() puts it in a context.
 */
TbKey *
tb_key_generate (const char *algorithm, GError **error)
{
  g_autoptr(EVP_PKEY) pkey = NULL;

  if (!tb_key_algorithm_is_supported (algorithm, error))
    return NULL;
  if (g_str_equal (algorithm, "ec-p256"))
    pkey = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  else if (g_str_equal (algorithm, "ec-p384"))
    pkey = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-384");
  else if (g_str_equal (algorithm, "ed25519"))
    pkey = EVP_PKEY_Q_keygen (NULL, NULL, "ED25519");
  else
    pkey = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) 3072);
  if (pkey == NULL)
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot generate a %s key"), algorithm);
      return NULL;
    }
  return tb_key_new_for_pkey (pkey, TRUE, error);
}

/**
 * tb_key_require_usage:
 * @action: what the caller is about to do, for the message
 *
 * Refuses a key for anything its usage does not allow.
 */
gboolean
tb_key_require_usage (TbKey *self, TbKeyUsage usage, const char *action, GError **error)
{
  if (self->usage == usage)
    return TRUE;
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
               _("Key “%s” is a %s key and may not be used to %s (that needs a %s key)"),
               self->name != NULL ? self->name : "?", usage_names[self->usage], action, usage_names[usage]);
  return FALSE;
}

const char *
tb_key_get_name (TbKey *self)
{
  g_return_val_if_fail (TB_IS_KEY (self), NULL);
  return self->name;
}

TbKeyUsage
tb_key_get_usage (TbKey *self)
{
  g_return_val_if_fail (TB_IS_KEY (self), TB_KEY_USAGE_N);
  return self->usage;
}

const char *
tb_key_get_algorithm (TbKey *self)
{
  g_return_val_if_fail (TB_IS_KEY (self), NULL);
  return self->algorithm;
}

const char *
tb_key_get_storage (TbKey *self)
{
  g_return_val_if_fail (TB_IS_KEY (self), NULL);
  return self->storage;
}

const char *
tb_key_get_public_sha256 (TbKey *self)
{
  g_return_val_if_fail (TB_IS_KEY (self), NULL);
  return self->public_sha256;
}

gboolean
tb_key_has_private (TbKey *self)
{
  g_return_val_if_fail (TB_IS_KEY (self), FALSE);
  return self->private_key != NULL;
}

EVP_PKEY *
tb_key_get_public_pkey (TbKey *self)
{
  return self->public_key;
}

EVP_PKEY *
tb_key_get_private_pkey (TbKey *self)
{
  return self->private_key;
}

/**
 * tb_key_new_from_point: (skip)
 * @point: an uncompressed P-256 point (65 bytes)
 *
 * A public-only key, e.g. a device key as a device reports it.
 */
TbKey *
tb_key_new_from_point (const guint8 *point, GError **error)
{
  OSSL_PARAM params[3];
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);
  g_autoptr(EVP_PKEY) pkey = NULL;

  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_PKEY_PARAM_GROUP_NAME, (char *) "P-256", 0);
  params[1] = OSSL_PARAM_construct_octet_string (OSSL_PKEY_PARAM_PUB_KEY, (void *) point, 65);
  params[2] = OSSL_PARAM_construct_end ();
  if (ctx == NULL || EVP_PKEY_fromdata_init (ctx) != 1 ||
      EVP_PKEY_fromdata (ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
      EVP_PKEY_CTX_free (ctx);
      tb_set_error_from_openssl (error, TB_ERROR_INVALID_DATA, _("Not a P-256 public key"));
      return NULL;
    }
  EVP_PKEY_CTX_free (ctx);
  return tb_key_new_for_pkey (pkey, FALSE, error);
}

/**
 * tb_key_dup_p256_point: (skip)
 * @point: (out caller-allocates): 65 bytes
 *
 * Returns: whether the key is P-256 (and @point filled)
 */
gboolean
tb_key_get_p256_point (TbKey *self, guint8 *point)
{
  size_t len = 0;

  return g_strcmp0 (self->algorithm, "ec-p256") == 0 &&
         EVP_PKEY_get_octet_string_param (self->public_key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, 65, &len) &&
         len == 65;
}

/**
 * tb_key_get_p256_scalar: (skip)
 * @scalar: (out caller-allocates): 32 bytes; wipe after use
 *
 * The private scalar of an unlocked P-256 key, for wrapping it to a device.
 */
gboolean
tb_key_get_p256_scalar (TbKey *self, guint8 *scalar)
{
  BIGNUM *bn = NULL;
  gboolean ok;

  ok = self->private_key != NULL && g_strcmp0 (self->algorithm, "ec-p256") == 0 &&
       EVP_PKEY_get_bn_param (self->private_key, OSSL_PKEY_PARAM_PRIV_KEY, &bn) && BN_bn2binpad (bn, scalar, 32) == 32;
  BN_clear_free (bn);
  return ok;
}
