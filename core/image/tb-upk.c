/* SPDX-License-Identifier: GPL-3.0-or-later */

/**
 * TbUpk:
 *
 * The Update Protection Key: what a device needs to accept an encrypted
 * image — product, device types and UIDs it is bound to, version and
 * security counter, load address, size, the plaintext digest, the digest
 * of the encrypted image's header (which fixes its chunking), the image
 * key wrapped for each recipient, the mastering certificate, and an
 * ECDSA signature over all of it. The format is documented byte by byte
 * in docs/formats/upk.md.
 *
 * Key wrapping: for each recipient (a product key, or a device key), a
 * fresh ephemeral P-256 key agrees a secret with the recipient's public
 * key (ECDH); HKDF-SHA256 (salt: image id; info: a label, the ephemeral
 * point and the recipient key id) turns it into a key-encryption key, and
 * AES-256 key wrap (RFC 3394) wraps the 32-byte image key.
 *
 * This file: the object, key wrapping, serialising and signing, and the
 * accessors. Parsing a UPK and verifying its signature are in
 * tb-upk-parse.c.
 */

#include "config.h"

#include "tb-upk-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <string.h>

#include "tb-cert-private.h"
#include "tb-crypto.h"
#include "tb-device-cert.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-key-private.h"

#define KEK_INFO_LABEL "trustbench-upk-kek-v1"

G_DEFINE_FINAL_TYPE (TbUpk, tb_upk, G_TYPE_OBJECT)

static void
recipient_clear (TbUpkRecipient *r)
{
  g_clear_pointer (&r->id, g_free);
}

static void
tb_upk_finalize (GObject *object)
{
  TbUpk *self = TB_UPK (object);

  g_free (self->origin);
  g_free (self->product);
  g_ptr_array_unref (self->device_types);
  g_ptr_array_unref (self->device_uids);
  g_free (self->version);
  g_array_unref (self->recipients);
  g_clear_object (&self->signer);
  g_clear_pointer (&self->signed_bytes, g_bytes_unref);
  g_clear_pointer (&self->signature, g_bytes_unref);
  G_OBJECT_CLASS (tb_upk_parent_class)->finalize (object);
}

static void
tb_upk_class_init (TbUpkClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tb_upk_finalize;
}

static void
tb_upk_init (TbUpk *self)
{
  self->device_types = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  self->device_uids = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  self->recipients = g_array_new (FALSE, TRUE, sizeof (TbUpkRecipient));
  g_array_set_clear_func (self->recipients, (GDestroyNotify) recipient_clear);
}

TbUpk *
tb_upk_new (void)
{
  return g_object_new (TB_TYPE_UPK, NULL);
}

/**
 * tb_semver_is_valid:
 *
 * Semantic versioning 2.0: MAJOR.MINOR.PATCH[-PRE][+BUILD].
 */
gboolean
tb_semver_is_valid (const char *version, GError **error)
{
  static GRegex *re;

  if (g_once_init_enter (&re))
    /* semver.org 2.0.0: numeric pre-release identifiers without leading
     * zeros, no empty identifiers */
    g_once_init_leave (&re, g_regex_new ("^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)"
                                         "(-(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
                                         "(\\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*)?"
                                         "(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?$", G_REGEX_OPTIMIZE, 0, NULL));
  if (version != NULL && strlen (version) <= 64 && g_regex_match (re, version, 0, NULL))
    return TRUE;
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
               _("“%s” is not a version of the form MAJOR.MINOR.PATCH (semantic versioning, e.g. 1.4.2)"),
               version != NULL ? version : "");
  return FALSE;
}

/* ---- serialisation helpers ---- */

static void
put_be16 (GByteArray *out, guint16 v)
{
  guint8 b[2] = { v >> 8, v & 0xff };
  g_byte_array_append (out, b, 2);
}

static void
put_be32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static void
put_be64 (guint8 *p, guint64 v)
{
  put_be32 (p, (guint32) (v >> 32));
  put_be32 (p + 4, (guint32) v);
}

static void
put_tlv (GByteArray *out, guint16 type, const void *value, gsize len)
{
  g_assert (len <= G_MAXUINT16);
  put_be16 (out, type);
  put_be16 (out, (guint16) len);
  g_byte_array_append (out, value, (guint) len);
}

static void
put_tlv_u32 (GByteArray *out, guint16 type, guint32 v)
{
  guint8 b[4];
  put_be32 (b, v);
  put_tlv (out, type, b, 4);
}

static void
put_tlv_u64 (GByteArray *out, guint16 type, guint64 v)
{
  guint8 b[8];
  put_be64 (b, v);
  put_tlv (out, type, b, 8);
}

static void
put_tlv_string (GByteArray *out, guint16 type, const char *s)
{
  put_tlv (out, type, s, strlen (s));
}

static gboolean
hex_to_bytes (const char *hex, guint8 *out, gsize out_len)
{
  if (hex == NULL || strlen (hex) != 2 * out_len)
    return FALSE;
  for (gsize i = 0; i < out_len; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}

/* ---- key wrapping ---- */

static gboolean
derive_kek (const guint8 *z, gsize z_len, const guint8 *image_id, const guint8 *ephemeral, const guint8 *key_id,
            guint8 kek[32], GError **error)
{
  guint8 info[sizeof KEK_INFO_LABEL - 1 + TB_UPK_EPHEMERAL_LEN + TB_UPK_KEY_ID_LEN];

  memcpy (info, KEK_INFO_LABEL, sizeof KEK_INFO_LABEL - 1);
  memcpy (info + sizeof KEK_INFO_LABEL - 1, ephemeral, TB_UPK_EPHEMERAL_LEN);
  memcpy (info + sizeof KEK_INFO_LABEL - 1 + TB_UPK_EPHEMERAL_LEN, key_id, TB_UPK_KEY_ID_LEN);
  return tb_crypto_hkdf_sha256 (z, z_len, image_id, TB_UPK_IMAGE_ID_LEN, info, sizeof info, kek, 32, error);
}

static gboolean
require_p256 (TbKey *key, GError **error)
{
  if (g_strcmp0 (tb_key_get_algorithm (key), "ec-p256") == 0)
    return TRUE;
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
               _("Key “%s” is %s; image keys are wrapped for P-256 keys only"),
               tb_key_get_name (key) != NULL ? tb_key_get_name (key) : "?", tb_key_get_algorithm (key));
  return FALSE;
}

/**
 * tb_upk_add_recipient:
 * @recipient: the recipient's key (public half suffices), P-256
 * @image_key: the 32-byte image key
 *
 * Wraps the image key for @recipient. The image id must be set first.
 */
gboolean
tb_upk_add_recipient (TbUpk *self, TbUpkRecipientKind kind, const char *id, TbKey *recipient,
                      const guint8 *image_key, GError **error)
{
  TbUpkRecipient r = { kind, NULL };
  g_autoptr(EVP_PKEY) eph = NULL;
  guint8 z[64];
  gsize z_len = 0;
  guint8 kek[32];
  size_t eph_len = 0;
  gsize wrapped_len = 0;
  gboolean ok;

  if (!require_p256 (recipient, error))
    return FALSE;
  if (id == NULL || strlen (id) == 0 || strlen (id) > 255)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("A recipient needs a name of 1 to 255 bytes"));
      return FALSE;
    }
  hex_to_bytes (tb_key_get_public_sha256 (recipient), r.key_id, TB_UPK_KEY_ID_LEN);
  eph = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  if (eph == NULL ||
      !EVP_PKEY_get_octet_string_param (eph, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, r.ephemeral, sizeof r.ephemeral,
                                        &eph_len) || eph_len != TB_UPK_EPHEMERAL_LEN)
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot make an ephemeral key"));
      return FALSE;
    }
  ok = tb_crypto_ecdh (eph, tb_key_get_public_pkey (recipient), z, &z_len, error) &&
       derive_kek (z, z_len, self->image_id, r.ephemeral, r.key_id, kek, error) &&
       tb_crypto_aes256_kw (TRUE, kek, image_key, TB_UPK_IMAGE_KEY_LEN, r.wrapped_key, &wrapped_len, error);
  OPENSSL_cleanse (z, sizeof z);
  OPENSSL_cleanse (kek, sizeof kek);
  if (!ok)
    return FALSE;
  g_assert (wrapped_len == TB_UPK_WRAPPED_KEY_LEN);
  r.id = g_strdup (id);
  g_array_append_val (self->recipients, r);
  return TRUE;
}

/**
 * tb_upk_find_recipient:
 * @public_key_sha256: hex fingerprint of a key
 *
 * Returns: (nullable): the recipient entry for that key
 */
const TbUpkRecipient *
tb_upk_find_recipient (TbUpk *self, const char *public_key_sha256)
{
  guint8 key_id[TB_UPK_KEY_ID_LEN];

  if (!hex_to_bytes (public_key_sha256, key_id, sizeof key_id))
    return NULL;
  for (guint i = 0; i < self->recipients->len; i++)
    {
      TbUpkRecipient *r = &g_array_index (self->recipients, TbUpkRecipient, i);
      if (memcmp (r->key_id, key_id, sizeof key_id) == 0)
        return r;
    }
  return NULL;
}

/**
 * tb_upk_unwrap_image_key:
 * @recipient: an unlocked recipient key
 * @image_key: (out caller-allocates): 32 bytes
 *
 * Recovers the image key as the device holding @recipient would.
 */
gboolean
tb_upk_unwrap_image_key (TbUpk *self, TbKey *recipient, guint8 *image_key, GError **error)
{
  const TbUpkRecipient *r = tb_upk_find_recipient (self, tb_key_get_public_sha256 (recipient));
  g_autoptr(EVP_PKEY) eph = NULL;
  guint8 z[64];
  gsize z_len = 0;
  guint8 kek[32];
  gsize out_len = 0;
  gboolean ok;

  if (r == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The UPK is not wrapped for key “%s”"),
                   tb_key_get_name (recipient) != NULL ? tb_key_get_name (recipient) : "?");
      return FALSE;
    }
  if (!tb_key_has_private (recipient))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION, _("Key “%s” is locked"), tb_key_get_name (recipient));
      return FALSE;
    }
  {
    g_autoptr(TbKey) eph_key = tb_key_new_from_point (r->ephemeral, NULL);
    if (eph_key != NULL)
      eph = EVP_PKEY_dup (tb_key_get_public_pkey (eph_key));
  }
  if (eph == NULL)
    {
      ERR_clear_error ();
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("The UPK's ephemeral key is not a P-256 point"));
      return FALSE;
    }
  ok = tb_crypto_ecdh (tb_key_get_private_pkey (recipient), eph, z, &z_len, error) &&
       derive_kek (z, z_len, self->image_id, r->ephemeral, r->key_id, kek, error) &&
       tb_crypto_aes256_kw (FALSE, kek, r->wrapped_key, TB_UPK_WRAPPED_KEY_LEN, image_key, &out_len, error);
  OPENSSL_cleanse (z, sizeof z);
  OPENSSL_cleanse (kek, sizeof kek);
  if (ok && out_len != TB_UPK_IMAGE_KEY_LEN)
    {
      OPENSSL_cleanse (image_key, out_len);
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("The unwrapped image key has the wrong length"));
      return FALSE;
    }
  return ok;
}

/* ---- signing ---- */

static gboolean
signature_algorithm_for_key (TbKey *key, TbUpkSignatureAlgorithm *alg, const char **md, GError **error)
{
  const char *a = tb_key_get_algorithm (key);

  if (g_strcmp0 (a, "ec-p256") == 0)
    *alg = TB_UPK_SIG_ECDSA_P256_SHA256, *md = "SHA256";
  else if (g_strcmp0 (a, "ec-p384") == 0)
    *alg = TB_UPK_SIG_ECDSA_P384_SHA384, *md = "SHA384";
  else if (g_strcmp0 (a, "ed25519") == 0)
    *alg = TB_UPK_SIG_ED25519, *md = NULL;
  else if (g_str_has_prefix (a, "rsa-"))
    *alg = TB_UPK_SIG_RSA_PKCS1_SHA256, *md = "SHA256";
  else
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("Key “%s” (%s) cannot sign a UPK"),
                   tb_key_get_name (key), a);
      return FALSE;
    }
  return TRUE;
}

const char *
tb_upk_signature_algorithm_to_string (TbUpkSignatureAlgorithm alg)
{
  switch (alg)
    {
    case TB_UPK_SIG_ECDSA_P256_SHA256:
      return "ecdsa-p256-sha256";
    case TB_UPK_SIG_ECDSA_P384_SHA384:
      return "ecdsa-p384-sha384";
    case TB_UPK_SIG_ED25519:
      return "ed25519";
    case TB_UPK_SIG_RSA_PKCS1_SHA256:
      return "rsa-pkcs1-sha256";
    default:
      return "unknown";
    }
}

static void
serialise_body (TbUpk *self, GByteArray *out)
{
  g_autoptr(GBytes) cert = tb_cert_get_der (self->signer);

  put_tlv_string (out, TB_UPK_TLV_PRODUCT, self->product);
  for (guint i = 0; i < self->device_types->len; i++)
    put_tlv_string (out, TB_UPK_TLV_DEVICE_TYPE, g_ptr_array_index (self->device_types, i));
  for (guint i = 0; i < self->device_uids->len; i++)
    {
      const char *uid = g_ptr_array_index (self->device_uids, i);
      guint8 raw[128];
      gsize n = strlen (uid) / 2;
      hex_to_bytes (uid, raw, n);
      put_tlv (out, TB_UPK_TLV_DEVICE_UID, raw, n);
    }
  put_tlv_string (out, TB_UPK_TLV_VERSION, self->version);
  put_tlv_u32 (out, TB_UPK_TLV_SECURITY_COUNTER, self->security_counter);
  put_tlv_u64 (out, TB_UPK_TLV_LOAD_ADDRESS, self->load_address);
  put_tlv_u64 (out, TB_UPK_TLV_IMAGE_SIZE, self->image_size);
  if (self->has_entry)
    put_tlv_u64 (out, TB_UPK_TLV_ENTRY_POINT, self->entry);
  put_tlv (out, TB_UPK_TLV_PLAINTEXT_SHA256, self->plaintext_sha256, 32);
  put_tlv (out, TB_UPK_TLV_IMAGE_HEADER_SHA256, self->header_sha256, 32);
  put_tlv (out, TB_UPK_TLV_IMAGE_ID, self->image_id, TB_UPK_IMAGE_ID_LEN);
  put_tlv_u64 (out, TB_UPK_TLV_CREATED, self->created);
  for (guint i = 0; i < self->recipients->len; i++)
    {
      TbUpkRecipient *r = &g_array_index (self->recipients, TbUpkRecipient, i);
      g_autoptr(GByteArray) v = g_byte_array_new ();
      guint8 head[2] = { (guint8) r->kind, (guint8) strlen (r->id) };
      g_byte_array_append (v, head, 2);
      g_byte_array_append (v, (const guint8 *) r->id, (guint) strlen (r->id));
      g_byte_array_append (v, r->key_id, sizeof r->key_id);
      g_byte_array_append (v, r->ephemeral, sizeof r->ephemeral);
      g_byte_array_append (v, r->wrapped_key, sizeof r->wrapped_key);
      put_tlv (out, TB_UPK_TLV_RECIPIENT, v->data, v->len);
    }
  put_tlv (out, TB_UPK_TLV_SIGNER_CERT, g_bytes_get_data (cert, NULL), g_bytes_get_size (cert));
}

static gboolean
is_short_text (const char *text)
{
  gsize len = strlen (text);

  return len >= 1 && len <= 255 && g_utf8_validate (text, (gssize) len, NULL);
}

/* What the parser (and a device) would refuse is not signed: a field too
 * long for its TLV, a version that is no semantic version, a UID that is
 * no even number of hex digits (it is packed into at most 32 bytes). */
static gboolean
fields_are_valid (TbUpk *self, GError **error)
{
  if (!is_short_text (self->product))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("The product of a UPK must be 1 to 255 bytes of UTF-8 text"));
      return FALSE;
    }
  if (!tb_semver_is_valid (self->version, error))
    return FALSE;
  for (guint i = 0; i < self->device_types->len; i++)
    if (!is_short_text (g_ptr_array_index (self->device_types, i)))
      {
        g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                     _("A device type of a UPK must be 1 to 255 bytes of UTF-8 text"));
        return FALSE;
      }
  for (guint i = 0; i < self->device_uids->len; i++)
    if (!tb_device_uid_is_valid (g_ptr_array_index (self->device_uids, i), error))
      return FALSE;
  return TRUE;
}

/**
 * tb_upk_sign:
 * @signer_cert: the mastering certificate (embedded in the UPK)
 * @signer_key: its unlocked key, usage mastering
 *
 * Fields the parser (or a device) would refuse are not signed: an empty or
 * overlong product or device type, a version that is not semantic, a
 * malformed device UID are %TB_ERROR_INVALID_ARGUMENT.
 *
 * Returns: (transfer full): the complete .tbupk file contents
 */
GBytes *
tb_upk_sign (TbUpk *self, TbCert *signer_cert, TbKey *signer_key, GError **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(EVP_MD_CTX) mctx = EVP_MD_CTX_new ();
  guint8 header[HEADER_LEN] = { 0 };
  const char *md = NULL;
  size_t sig_len = 0;
  g_autofree guint8 *sig = NULL;
  g_autofree char *cert_pub = NULL;

  if (!tb_key_require_usage (signer_key, TB_KEY_USAGE_MASTERING, _("sign an update protection key"), error))
    return NULL;
  if (!tb_key_has_private (signer_key))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION, _("Key “%s” is locked"), tb_key_get_name (signer_key));
      return NULL;
    }
  cert_pub = tb_cert_dup_public_key_sha256 (signer_cert);
  if (g_strcmp0 (cert_pub, tb_key_get_public_sha256 (signer_key)) != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Certificate “%s” does not certify key “%s”"), tb_cert_get_name (signer_cert),
                   tb_key_get_name (signer_key));
      return NULL;
    }
  if (self->product == NULL || self->version == NULL || self->recipients->len == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("A UPK needs a product, a version and at least one recipient"));
      return NULL;
    }
  if (!fields_are_valid (self, error) || !signature_algorithm_for_key (signer_key, &self->sig_alg, &md, error))
    return NULL;
  g_set_object (&self->signer, signer_cert);

  memcpy (header, TB_UPK_MAGIC, 8);
  header[8] = 0;
  header[9] = TB_UPK_VERSION;
  g_byte_array_append (out, header, sizeof header);
  serialise_body (self, out);

  if (EVP_DigestSignInit_ex (mctx, NULL, md, NULL, NULL, tb_key_get_private_pkey (signer_key), NULL) != 1 ||
      EVP_DigestSign (mctx, NULL, &sig_len, out->data, out->len) != 1)
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot sign the UPK"));
      return NULL;
    }
  sig = g_malloc (sig_len + 2);
  sig[0] = 0;
  sig[1] = (guint8) self->sig_alg;
  if (EVP_DigestSign (mctx, sig + 2, &sig_len, out->data, out->len) != 1)
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot sign the UPK"));
      return NULL;
    }
  g_clear_pointer (&self->signed_bytes, g_bytes_unref);
  self->signed_bytes = g_bytes_new (out->data, out->len);
  g_clear_pointer (&self->signature, g_bytes_unref);
  self->signature = g_bytes_new (sig + 2, sig_len);
  put_tlv (out, TB_UPK_TLV_SIGNATURE, sig, sig_len + 2);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* ---- accessors ---- */

#define SETTER_STRING(field, name) \
  void tb_upk_set_##name (TbUpk *self, const char *value) \
  { \
    g_free (self->field); \
    self->field = g_strdup (value); \
  } \
  const char *tb_upk_get_##name (TbUpk *self) { return self->field; }

SETTER_STRING (product, product)
SETTER_STRING (version, version)

void
tb_upk_add_device_type (TbUpk *self, const char *device_type)
{
  g_ptr_array_add (self->device_types, g_strdup (device_type));
}

static const char *const empty_strv[] = { NULL };

const char *const *
tb_upk_get_device_types (TbUpk *self)
{
  /* an empty GPtrArray has no storage yet, even when NULL-terminated */
  return self->device_types->len > 0 ? (const char *const *) self->device_types->pdata : empty_strv;
}

void
tb_upk_add_device_uid (TbUpk *self, const char *uid_hex)
{
  g_ptr_array_add (self->device_uids, g_ascii_strdown (uid_hex, -1));
}

const char *const *
tb_upk_get_device_uids (TbUpk *self)
{
  return self->device_uids->len > 0 ? (const char *const *) self->device_uids->pdata : empty_strv;
}

void tb_upk_set_security_counter (TbUpk *self, guint32 counter) { self->security_counter = counter; }
guint32 tb_upk_get_security_counter (TbUpk *self) { return self->security_counter; }
void tb_upk_set_load_address (TbUpk *self, guint64 address) { self->load_address = address; }
guint64 tb_upk_get_load_address (TbUpk *self) { return self->load_address; }
void tb_upk_set_image_size (TbUpk *self, guint64 size) { self->image_size = size; }
guint64 tb_upk_get_image_size (TbUpk *self) { return self->image_size; }
void tb_upk_set_created (TbUpk *self, guint64 unix_time) { self->created = unix_time; }
guint64 tb_upk_get_created (TbUpk *self) { return self->created; }

void
tb_upk_set_entry_point (TbUpk *self, guint64 entry)
{
  self->has_entry = TRUE;
  self->entry = entry;
}

gboolean
tb_upk_get_entry_point (TbUpk *self, guint64 *entry)
{
  if (entry != NULL)
    *entry = self->entry;
  return self->has_entry;
}

void tb_upk_set_plaintext_sha256 (TbUpk *self, const guint8 *digest) { memcpy (self->plaintext_sha256, digest, 32); }
const guint8 *tb_upk_get_plaintext_sha256 (TbUpk *self) { return self->plaintext_sha256; }
void tb_upk_set_image_header_sha256 (TbUpk *self, const guint8 *digest) { memcpy (self->header_sha256, digest, 32); }
const guint8 *tb_upk_get_image_header_sha256 (TbUpk *self) { return self->header_sha256; }
void tb_upk_set_image_id (TbUpk *self, const guint8 *image_id) { memcpy (self->image_id, image_id, TB_UPK_IMAGE_ID_LEN); }
const guint8 *tb_upk_get_image_id (TbUpk *self) { return self->image_id; }
guint tb_upk_get_n_recipients (TbUpk *self) { return self->recipients->len; }
TbCert *tb_upk_get_signer_cert (TbUpk *self) { return self->signer; }
TbUpkSignatureAlgorithm tb_upk_get_signature_algorithm (TbUpk *self) { return self->sig_alg; }

const TbUpkRecipient *
tb_upk_get_recipient (TbUpk *self, guint index)
{
  return index < self->recipients->len ? &g_array_index (self->recipients, TbUpkRecipient, index) : NULL;
}
