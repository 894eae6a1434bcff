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
 */

#include "config.h"

#include "tb-key-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <string.h>

#include "tb-audit.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-pkcs11-private.h"
#include "tb-scrypt.h"

/* scrypt work factor for keys at rest: N = 2^14, r = 8 (16 MiB of memory;
 * OpenSSL refuses to decrypt above 32 MiB by default, so N cannot double
 * without locking out `openssl pkey`) and p = 2, which doubles the work:
 * about 70 ms per key here. See docs/keys.md. */
#define TB_SCRYPT_N (1u << 14)
#define TB_SCRYPT_R 8u
#define TB_SCRYPT_P 2u
#define TB_SCRYPT_SALT_LEN 16

#define TB_KEY_FILE_MAX_BYTES (1024u * 1024u)

struct _TbKey {
  GObject parent_instance;

  char *name;
  TbKeyUsage usage;
  char *algorithm;
  char *storage;
  char *file;
  char *public_file;
  char *public_sha256;
  EVP_PKEY *public_key;
  EVP_PKEY *private_key;
};

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

void
tb_set_error_from_openssl (GError **error, int code, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;
  unsigned long err;
  char buf[256] = "";

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  /* the last (outermost) error is the most specific reason */
  while ((err = ERR_get_error ()) != 0)
    ERR_error_string_n (err, buf, sizeof buf);
  if (buf[0] != '\0')
    g_set_error (error, TB_ERROR, code, "%s (%s)", msg, buf);
  else
    g_set_error_literal (error, TB_ERROR, code, msg);
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

static gboolean
pkey_has_private (EVP_PKEY *pkey)
{
  BIGNUM *bn = NULL;
  size_t len = 0;

  if (EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn) ||
      EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_RSA_D, &bn))
    {
      BN_clear_free (bn);
      return TRUE;
    }
  return EVP_PKEY_get_octet_string_param (pkey, OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0, &len) && len > 0;
}

static gboolean
looks_encrypted (const char *data, gsize len)
{
  return g_strstr_len (data, (gssize) len, "ENCRYPTED PRIVATE KEY") != NULL ||
         g_strstr_len (data, (gssize) len, "Proc-Type: 4,ENCRYPTED") != NULL;
}

static EVP_PKEY *
import_pkcs12 (const char *path, const guint8 *data, gsize len, const char *passphrase, GError **error)
{
  const unsigned char *p = data;
  PKCS12 *p12 = d2i_PKCS12 (NULL, &p, (long) len);
  EVP_PKEY *pkey = NULL;
  X509 *cert = NULL;

  if (p12 == NULL)
    {
      ERR_clear_error ();
      return NULL;
    }
  if (!PKCS12_mac_present (p12) || !PKCS12_verify_mac (p12, passphrase, -1))
    {
      if (PKCS12_mac_present (p12))
        {
          PKCS12_free (p12);
          ERR_clear_error ();
          g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION,
                       passphrase != NULL ? _("Wrong passphrase for the PKCS#12 file %s")
                                          : _("The PKCS#12 file %s is protected: give its passphrase"),
                       path);
          return NULL;
        }
    }
  if (!PKCS12_parse (p12, passphrase, &pkey, &cert, NULL) || pkey == NULL)
    {
      PKCS12_free (p12);
      X509_free (cert);
      tb_set_error_from_openssl (error, TB_ERROR_INVALID_DATA, _("%s: the PKCS#12 file holds no usable private key"), path);
      return NULL;
    }
  PKCS12_free (p12);
  X509_free (cert);
  return pkey;
}

/**
 * tb_key_import_file:
 * @path: a PEM or DER private key (traditional, PKCS#8, encrypted
 *   PKCS#8) or a PKCS#12 file
 * @passphrase: (nullable): the file's passphrase, if it is protected
 *
 * Reads an existing private key. A public key alone is refused (a key of
 * the context must be able to sign or unwrap).
 */
TbKey *
tb_key_import_file (const char *path, const char *passphrase, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  TbKey *key;

  if (!tb_file_read_bounded (path, TB_KEY_FILE_MAX_BYTES, &data, &len, error))
    return NULL;
  key = tb_key_import_data (data, len, path, passphrase, error);
  tb_secret_wipe (data, len);
  return key;
}

/**
 * tb_key_import_data: (skip)
 * @origin: where the data comes from, for messages
 *
 * tb_key_import_file() on bytes in memory.
 */
TbKey *
tb_key_import_data (const char *data, gsize len, const char *origin, const char *passphrase, GError **error)
{
  const char *path = origin;
  g_autoptr(EVP_PKEY) pkey = NULL;
  OSSL_DECODER_CTX *dctx;
  const unsigned char *p;
  size_t left;
  g_autoptr(GError) p12_error = NULL;

  if (len == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is empty"), path);
      return NULL;
    }

  if ((guint8) data[0] == 0x30)
    {
      pkey = import_pkcs12 (path, (const guint8 *) data, len, passphrase, &p12_error);
      if (p12_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&p12_error));
          return NULL;
        }
    }

  if (pkey == NULL)
    {
      dctx = OSSL_DECODER_CTX_new_for_pkey (&pkey, NULL, NULL, NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
      if (dctx == NULL)
        {
          tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot set up a key decoder"));
          return NULL;
        }
      if (passphrase != NULL)
        OSSL_DECODER_CTX_set_passphrase (dctx, (const unsigned char *) passphrase, strlen (passphrase));
      p = (const unsigned char *) data;
      left = len;
      if (!OSSL_DECODER_from_data (dctx, &p, &left))
        pkey = NULL;
      OSSL_DECODER_CTX_free (dctx);
    }

  if (pkey == NULL)
    {
      if (looks_encrypted (data, len))
        {
          ERR_clear_error ();
          g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION,
                       passphrase != NULL ? _("Wrong passphrase for the encrypted key %s")
                                          : _("The key %s is encrypted: give its passphrase"),
                       path);
          return NULL;
        }
      if (g_strstr_len (data, (gssize) len, "PUBLIC KEY") != NULL)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s holds only a public key; importing a key needs its private half"), path);
          return NULL;
        }
      tb_set_error_from_openssl (error, TB_ERROR_INVALID_DATA,
                                 _("%s is not a private key in PEM, DER, PKCS#8 or PKCS#12 form"), path);
      return NULL;
    }
  if (!pkey_has_private (pkey))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("%s holds only a public key; importing a key needs its private half"), path);
      return NULL;
    }
  return tb_key_new_for_pkey (pkey, TRUE, error);
}

static const char *
entry_string (JsonObject *entry, const char *member)
{
  return json_object_get_string_member_with_default (entry, member, NULL);
}

/**
 * tb_key_load:
 * @ctx: a context
 * @name: a key of its inventory
 *
 * Loads the public half and the description of a key; the private half
 * stays locked.
 */
TbKey *
tb_key_load (TbContext *ctx, const char *name, GError **error)
{
  JsonObject *entry = tb_context_find_entry (ctx, TB_INVENTORY_KEYS, name);
  g_autoptr(TbKey) self = NULL;
  g_autofree char *path = NULL;
  g_autofree char *pem = NULL;
  gsize len = 0;
  BIO *bio;
  g_autofree char *sha = NULL;
  const char *expected_sha;

  if (entry == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND,
                   _("The context %s has no key “%s”"), tb_context_get_path (ctx), name);
      return NULL;
    }
  self = g_object_new (TB_TYPE_KEY, NULL);
  self->name = g_strdup (name);
  if (!tb_key_usage_from_string (entry_string (entry, "usage"), &self->usage, error))
    {
      g_prefix_error (error, _("Key “%s” in the context: "), name);
      return NULL;
    }
  g_free (self->storage);
  self->storage = g_strdup (entry_string (entry, "storage") != NULL ? entry_string (entry, "storage")
                                                                    : TB_KEY_STORAGE_FILE);
  self->file = g_strdup (entry_string (entry, "file"));
  self->public_file = g_strdup (entry_string (entry, "public_file"));
  if (self->public_file == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("Key “%s” in the context has no “public_file”"), name);
      return NULL;
    }
  path = tb_context_build_path (ctx, self->public_file);
  if (!tb_file_read_bounded (path, TB_KEY_FILE_MAX_BYTES, &pem, &len, error))
    return NULL;
  bio = BIO_new_mem_buf (pem, (int) len);
  self->public_key = PEM_read_bio_PUBKEY_ex (bio, NULL, NULL, NULL, NULL, NULL);
  BIO_free (bio);
  if (self->public_key == NULL)
    {
      tb_set_error_from_openssl (error, TB_ERROR_INVALID_DATA, _("%s is not a PEM public key"), path);
      return NULL;
    }
  sha = tb_pkey_public_sha256 (self->public_key);
  expected_sha = entry_string (entry, "public_key_sha256");
  if (expected_sha == NULL || g_ascii_strcasecmp (sha, expected_sha) != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The public key in %s does not match the fingerprint of key “%s” in context.json"),
                   path, name);
      return NULL;
    }
  self->public_sha256 = g_steal_pointer (&sha);
  self->algorithm = tb_pkey_describe_algorithm (self->public_key);
  return g_steal_pointer (&self);
}

/* ---- storage backends ----
 *
 * Where a private key lives is a backend: it loads the private half for
 * use and describes the place to people. `file` (encrypted PKCS#8 in the
 * context) is the one this build has; a PKCS#11 token backend registers
 * the same two operations for `pkcs11:` storage. */

typedef struct {
  const char *name;
  gboolean (*handles) (const char *storage);
  EVP_PKEY *(*load_private) (TbKey *self, TbContext *ctx, const char *secret, GError **error);
  char *(*describe) (TbKey *self);
} TbKeyBackend;

static gboolean
file_handles (const char *storage)
{
  return g_strcmp0 (storage, TB_KEY_STORAGE_FILE) == 0;
}

static EVP_PKEY *
file_load_private (TbKey *self, TbContext *ctx, const char *passphrase, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *pem = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize len = 0;
  BIO *bio;
  X509_SIG *p8;
  PKCS8_PRIV_KEY_INFO *p8inf;
  EVP_PKEY *pkey;

  if (self->file == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("Key “%s” in the context has no “file”"), self->name);
      return NULL;
    }
  if (passphrase == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION,
                   _("Key “%s” is encrypted: a passphrase is needed"), self->name);
      return NULL;
    }
  path = tb_context_build_path (ctx, self->file);
  if (!tb_file_read_bounded (path, TB_KEY_FILE_MAX_BYTES, &pem, &len, error))
    return NULL;
  bio = BIO_new_mem_buf (pem, (int) len);
  p8 = PEM_read_bio_PKCS8 (bio, NULL, NULL, NULL);
  BIO_free (bio);
  tb_secret_wipe (pem, len);
  if (p8 == NULL)
    {
      tb_set_error_from_openssl (error, TB_ERROR_INVALID_DATA,
                                 _("%s is not an encrypted PKCS#8 private key"), path);
      return NULL;
    }
  /* scrypt's two lanes on two threads (tb-scrypt.c) */
  p8inf = tb_pkcs8_decrypt (p8, passphrase, strlen (passphrase), &local_error);
  X509_SIG_free (p8);
  if (p8inf == NULL)
    {
      if (g_error_matches (local_error, TB_ERROR, TB_ERROR_PERMISSION))
        g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION,
                     _("Wrong passphrase for key “%s” (%s)"), self->name, path);
      else
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", path);
      return NULL;
    }
  pkey = EVP_PKCS82PKEY_ex (p8inf, NULL, NULL);
  PKCS8_PRIV_KEY_INFO_free (p8inf);
  if (pkey == NULL)
    tb_set_error_from_openssl (error, TB_ERROR_INVALID_DATA, _("%s holds no usable private key"), path);
  return pkey;
}

static char *
file_describe (TbKey *self)
{
  return g_strdup_printf (_("File %s (encrypted PKCS#8, scrypt + AES-256)"),
                          self->file != NULL ? self->file : _("(not stored yet)"));
}

static gboolean
token_handles (const char *storage)
{
  return storage != NULL && g_str_has_prefix (storage, "pkcs11:");
}

/* The PIN is the process's (tb_pkcs11_set_pin()), never the passphrase. */
static EVP_PKEY *
token_load_private (TbKey *self, TbContext *ctx, const char *secret, GError **error)
{
  return tb_pkcs11_load_private (self->storage, error);
}

static char *
token_describe (TbKey *self)
{
  return tb_pkcs11_describe_uri (self->storage);
}

static const TbKeyBackend backends[] = {
  { TB_KEY_STORAGE_FILE, file_handles, file_load_private, file_describe },
  { "pkcs11", token_handles, token_load_private, token_describe },
};

/**
 * tb_key_is_on_token:
 *
 * Whether the private half lives on a PKCS#11 token (never in a file).
 */
gboolean
tb_key_is_on_token (TbKey *self)
{
  return token_handles (self->storage);
}

/* A key whose private half lives on a token at @key_uri. */
static TbKey *
new_token_key (EVP_PKEY *pub, const char *key_uri, GError **error)
{
  TbKey *self = tb_key_new_for_pkey (pub, FALSE, error);

  if (self == NULL)
    return NULL;
  g_free (self->storage);
  self->storage = g_strdup (key_uri);
  return self;
}

/**
 * tb_key_generate_on_token:
 * @token_uri: the token (RFC 7512), with `?module-path=` for one module
 * @label: the key's label on the token
 * @algorithm: ec-p256, ec-p384 or rsa-3072
 * @usage: what it is for: product keys may derive (ECDH), the others sign
 *
 * Generates a key pair on the token (the private half sensitive, never
 * extractable) and opens it for use; tb_key_store() records it.
 */
TbKey *
tb_key_generate_on_token (const char *token_uri, const char *label, const char *algorithm, TbKeyUsage usage,
                          GError **error)
{
  g_autofree char *key_uri = NULL;
  g_autoptr(EVP_PKEY) pub = tb_pkcs11_generate (token_uri, label, algorithm, usage == TB_KEY_USAGE_PRODUCT,
                                                      &key_uri, error);
  g_autoptr(TbKey) self = pub != NULL ? new_token_key (pub, key_uri, error) : NULL;

  if (self == NULL)
    return NULL;
  self->private_key = tb_pkcs11_load_private (self->storage, error);
  if (self->private_key == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * tb_key_new_from_token:
 * @key_uri: an existing key on a token
 *
 * The public half of a key already on a token, to record in a context
 * (`key import --token`).
 */
TbKey *
tb_key_new_from_token (const char *key_uri, GError **error)
{
  g_autoptr(EVP_PKEY) pub = tb_pkcs11_load_public (key_uri, error);

  return pub != NULL ? new_token_key (pub, key_uri, error) : NULL;
}

static const TbKeyBackend *
find_backend (const char *storage)
{
  for (guint i = 0; i < G_N_ELEMENTS (backends); i++)
    if (backends[i].handles (storage))
      return &backends[i];
  return NULL;
}

/**
 * tb_key_load_unlocked:
 * @secret: the passphrase (file keys; token keys use the token PIN)
 *
 * tb_key_load() then tb_key_unlock().
 */
TbKey *
tb_key_load_unlocked (TbContext *ctx, const char *name, const char *secret, GError **error)
{
  g_autoptr(TbKey) key = tb_key_load (ctx, name, error);

  if (key == NULL || !tb_key_unlock (key, ctx, secret, error))
    return NULL;
  return g_steal_pointer (&key);
}

/**
 * tb_key_unlock:
 * @secret: the context passphrase (or the token PIN)
 *
 * Loads the private half from where the key lives and checks that it
 * belongs to the public key. A wrong passphrase is %TB_ERROR_PERMISSION;
 * a key in a place this build cannot reach is %TB_ERROR_UNSUPPORTED.
 */
gboolean
tb_key_unlock (TbKey *self, TbContext *ctx, const char *secret, GError **error)
{
  const TbKeyBackend *backend;
  EVP_PKEY *pkey;

  g_return_val_if_fail (TB_IS_KEY (self), FALSE);
  if (self->private_key != NULL)
    return TRUE;
  backend = find_backend (self->storage);
  if (backend == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED,
                   _("Key “%s” lives in “%s”, which this build cannot use"), self->name, self->storage);
      return FALSE;
    }
  pkey = backend->load_private (self, ctx, secret, error);
  if (pkey == NULL)
    return FALSE;
  if (EVP_PKEY_eq (pkey, self->public_key) != 1)
    {
      EVP_PKEY_free (pkey);
      ERR_clear_error ();
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The private key of “%s” (%s) does not belong to its public key"), self->name, self->storage);
      return FALSE;
    }
  self->private_key = pkey;
  return TRUE;
}

static char *
encrypt_private_pem (EVP_PKEY *pkey, const char *passphrase, gsize *len, GError **error)
{
  PKCS8_PRIV_KEY_INFO *p8inf = EVP_PKEY2PKCS8 (pkey);
  unsigned char salt[TB_SCRYPT_SALT_LEN];
  X509_ALGOR *pbe = NULL;
  X509_SIG *p8 = NULL;
  BIO *mem = NULL;
  char *out = NULL;
  char *ptr = NULL;
  long n;

  if (p8inf == NULL || RAND_bytes (salt, sizeof salt) != 1)
    goto fail;
  pbe = PKCS5_pbe2_set_scrypt (EVP_aes_256_cbc (), salt, sizeof salt, NULL,
                               TB_SCRYPT_N, TB_SCRYPT_R, TB_SCRYPT_P);
  if (pbe == NULL)
    goto fail;
  p8 = PKCS8_set0_pbe (passphrase, (int) strlen (passphrase), p8inf, pbe);
  if (p8 == NULL)
    goto fail;
  pbe = NULL; /* owned by p8 now */
  mem = BIO_new (BIO_s_mem ());
  if (mem == NULL || !PEM_write_bio_PKCS8 (mem, p8))
    goto fail;
  n = BIO_get_mem_data (mem, &ptr);
  out = g_strndup (ptr, (gsize) n);
  *len = (gsize) n;

fail:
  if (out == NULL)
    tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot encrypt the private key"));
  X509_ALGOR_free (pbe);
  X509_SIG_free (p8);
  PKCS8_PRIV_KEY_INFO_free (p8inf);
  BIO_free (mem);
  return out;
}

/**
 * tb_key_dup_encrypted_pem: (skip)
 *
 * The private key as encrypted PKCS#8 PEM (scrypt, AES-256), as keys are
 * stored; wipe it with tb_secret_wipe() when done.
 */
char *
tb_key_dup_encrypted_pem (TbKey *self, const char *passphrase, gsize *len, GError **error)
{
  if (self->private_key == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION, _("Key “%s” is locked"),
                   self->name != NULL ? self->name : "?");
      return NULL;
    }
  return encrypt_private_pem (self->private_key, passphrase, len, error);
}

/**
 * tb_key_dup_public_pem:
 *
 * Returns: (transfer full): the public key as PEM SubjectPublicKeyInfo
 */
char *
tb_key_dup_public_pem (TbKey *self)
{
  BIO *mem = BIO_new (BIO_s_mem ());
  char *ptr = NULL;
  char *out = NULL;
  long n;

  if (mem != NULL && PEM_write_bio_PUBKEY (mem, self->public_key))
    {
      n = BIO_get_mem_data (mem, &ptr);
      out = g_strndup (ptr, (gsize) n);
    }
  BIO_free (mem);
  return out;
}

/**
 * tb_key_store:
 * @self: a key holding its private half
 * @ctx: a context locked for writing
 * @name: the key's name in the context
 * @passphrase: the context passphrase
 *
 * Writes `keys/NAME.key` (encrypted PKCS#8, 0600) and `keys/NAME.pub`, and
 * adds the inventory entry (call tb_context_save() afterwards).
 */
gboolean
tb_key_store (TbKey *self, TbContext *ctx, const char *name, TbKeyUsage usage,
              const char *passphrase, GError **error)
{
  g_autofree char *key_file = NULL;
  g_autofree char *pub_file = NULL;
  g_autofree char *pem = NULL;
  g_autofree char *pub_pem = NULL;
  g_autoptr(JsonObject) entry = json_object_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  gsize len = 0;
  gboolean ok;

  g_return_val_if_fail (TB_IS_KEY (self), FALSE);
  g_return_val_if_fail (usage < TB_KEY_USAGE_N, FALSE);
  if (!tb_name_is_valid (name, error))
    return FALSE;
  if (self->private_key == NULL && !tb_key_is_on_token (self))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Key “%s” has no private half to store"), name);
      return FALSE;
    }
  if (tb_context_find_entry (ctx, TB_INVENTORY_KEYS, name) != NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_EXISTS, _("The context already has a key “%s”"), name);
      return FALSE;
    }
  if (!tb_key_is_on_token (self) && (passphrase == NULL || strlen (passphrase) < 8))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("The passphrase protecting the keys must have at least 8 characters"));
      return FALSE;
    }
  if (!tb_context_is_writable (ctx))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("The security context %s is open read-only"),
                   tb_context_get_path (ctx));
      return FALSE;
    }

  pub_file = g_strdup_printf ("keys/%s.pub", name);
  if (!tb_key_is_on_token (self))
    {
      /* a token key has no file: the private half never leaves the token */
      key_file = g_strdup_printf ("keys/%s.key", name);
      pem = encrypt_private_pem (self->private_key, passphrase, &len, error);
      if (pem == NULL)
        return FALSE;
      ok = tb_context_write_file (ctx, key_file, pem, len, 0600, error);
      tb_secret_wipe (pem, len);
      if (!ok)
        return FALSE;
    }
  pub_pem = tb_key_dup_public_pem (self);
  if (pub_pem == NULL ||
      !tb_context_write_file (ctx, pub_file, pub_pem, strlen (pub_pem), 0644, error))
    return FALSE;

  json_object_set_string_member (entry, "name", name);
  json_object_set_string_member (entry, "usage", usage_names[usage]);
  json_object_set_string_member (entry, "algorithm", self->algorithm);
  json_object_set_string_member (entry, "storage", self->storage);
  if (key_file != NULL)
    json_object_set_string_member (entry, "file", key_file);
  json_object_set_string_member (entry, "public_file", pub_file);
  json_object_set_string_member (entry, "public_key_sha256", self->public_sha256);
  json_object_set_string_member (entry, "created", created);
  if (!tb_context_add_entry (ctx, TB_INVENTORY_KEYS, entry, error))
    return FALSE;
  {
    g_autoptr(JsonObject) details = json_object_new ();
    json_object_set_string_member (details, "usage", usage_names[usage]);
    json_object_set_string_member (details, "algorithm", self->algorithm);
    json_object_set_string_member (details, "storage", self->storage);
    json_object_set_string_member (details, "public_key_sha256", self->public_sha256);
    if (!tb_audit_append (ctx, "key.store", name, details, error))
      return FALSE;
  }

  g_free (self->name);
  self->name = g_strdup (name);
  self->usage = usage;
  g_free (self->file);
  self->file = g_steal_pointer (&key_file);
  g_free (self->public_file);
  self->public_file = g_steal_pointer (&pub_file);
  return TRUE;
}

gboolean
tb_key_export_public (TbKey *self, const char *path, GError **error)
{
  g_autofree char *pem = tb_key_dup_public_pem (self);

  if (pem == NULL)
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot encode the public key"));
      return FALSE;
    }
  return tb_file_write_output (path, pem, strlen (pem), 0644, error);
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

/**
 * tb_key_describe_storage:
 *
 * Returns: (transfer full): where the private key lives, for people
 */
char *
tb_key_describe_storage (TbKey *self)
{
  const TbKeyBackend *backend;

  g_return_val_if_fail (TB_IS_KEY (self), NULL);
  backend = find_backend (self->storage);
  return backend != NULL ? backend->describe (self) : g_strdup (self->storage);
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
