/* SPDX-License-Identifier: GPL-3.0-or-later */

/* TbKeys in a security context: loading the public half (checked against
 * the inventory's fingerprint), the storage backends (an encrypted PKCS#8
 * file, a PKCS#11 token) that unlock the private half, storing a key
 * (encrypted PKCS#8 PEM, scrypt and AES-256-CBC, mode 0600) and the PEM
 * export of either half. */

#include "config.h"

#include "tb-key-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <string.h>

#include "tb-audit-private.h"
#include "tb-context-private.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-json-private.h"
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

static const char *
entry_string (JsonObject *entry, const char *member)
{
  return tb_json_get_string (entry, member, NULL);
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
  /* scrypt's two lanes side by side on vectors (tb-scrypt.c) */
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
  return tb_pkcs11_is_uri (storage);
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
  /* a log that takes no entry: refused before any file is written */
  if (!tb_audit_check_appendable (ctx, error))
    return FALSE;
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
  json_object_set_string_member (entry, "usage", tb_key_usage_to_string (usage));
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
    json_object_set_string_member (details, "usage", tb_key_usage_to_string (usage));
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
