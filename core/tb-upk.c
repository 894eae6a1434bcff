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
 */

#include "config.h"

#include "tb-upk.h"

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

#define HEADER_LEN 12
#define TLV_HEADER_LEN 4
#define KEK_INFO_LABEL "trustbench-upk-kek-v1"

struct _TbUpk {
  GObject parent_instance;

  char *origin;
  char *product;
  GPtrArray *device_types;
  GPtrArray *device_uids;
  char *version;
  guint32 security_counter;
  guint64 load_address;
  guint64 image_size;
  gboolean has_entry;
  guint64 entry;
  guint8 plaintext_sha256[32];
  guint8 header_sha256[32];
  guint8 image_id[TB_UPK_IMAGE_ID_LEN];
  guint64 created;
  GArray *recipients;             /* TbUpkRecipient */
  TbCert *signer;
  TbUpkSignatureAlgorithm sig_alg;
  GBytes *signed_bytes;           /* parsed: the bytes the signature covers */
  GBytes *signature;
};

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

static guint32
get_be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static guint64
get_be64 (const guint8 *p)
{
  return (guint64) get_be32 (p) << 32 | get_be32 (p + 4);
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

static const char *
md_for_algorithm (TbUpkSignatureAlgorithm alg)
{
  switch (alg)
    {
    case TB_UPK_SIG_ECDSA_P384_SHA384:
      return "SHA384";
    case TB_UPK_SIG_ED25519:
      return NULL;
    case TB_UPK_SIG_ECDSA_P256_SHA256:
    case TB_UPK_SIG_RSA_PKCS1_SHA256:
    default:
      return "SHA256";
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

/* ---- parsing ---- */

static gboolean
fail (GError **error, const char *origin, gsize offset, const char *format, ...) G_GNUC_PRINTF (4, 5);

static gboolean
fail (GError **error, const char *origin, gsize offset, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s: offset %" G_GSIZE_FORMAT ": %s"), origin, offset, msg);
  return FALSE;
}

static char *
dup_utf8 (const guint8 *v, gsize len)
{
  if (len == 0 || memchr (v, 0, len) != NULL || !g_utf8_validate ((const char *) v, (gssize) len, NULL))
    return NULL;
  return g_strndup ((const char *) v, len);
}

/**
 * tb_upk_parse:
 * @origin: the file name, for messages
 *
 * Parses and checks the structure (not the signature: see
 * tb_upk_verify_signature()). Unknown required fields, duplicates,
 * missing fields, truncation and trailing bytes are refused.
 */
TbUpk *
tb_upk_parse (const guint8 *data, gsize len, const char *origin, GError **error)
{
  g_autoptr(TbUpk) self = tb_upk_new ();
  gsize pos = HEADER_LEN;
  guint seen[0x100] = { 0 };
  gboolean signature_seen = FALSE;

  self->origin = g_strdup (origin);
  if (len > TB_UPK_MAX_BYTES)
    {
      fail (error, origin, 0, _("%" G_GSIZE_FORMAT " bytes is more than a UPK may have"), len);
      return NULL;
    }
  if (len < HEADER_LEN || memcmp (data, TB_UPK_MAGIC, 8) != 0)
    {
      fail (error, origin, 0, _("not a Trustbench UPK (bad magic)"));
      return NULL;
    }
  if (data[8] == 0 && data[9] == TB_UPK_VERSION && (data[10] != 0 || data[11] != 0))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("%s: UPK flags 0x%04x are not supported (this build knows "
                                                            "none)"),
                   origin, (guint) (data[10] << 8 | data[11]));
      return NULL;
    }
  if (data[8] != 0 || data[9] != TB_UPK_VERSION)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("%s: UPK format version %u is not supported (this build "
                                                            "reads version %d)"),
                   origin, (guint) (data[8] << 8 | data[9]), TB_UPK_VERSION);
      return NULL;
    }

  while (pos < len)
    {
      guint16 type, vlen;
      const guint8 *v;
      gsize tlv_start = pos;

      if (signature_seen)
        {
          fail (error, origin, pos, _("%" G_GSIZE_FORMAT " bytes after the signature"), len - pos);
          return NULL;
        }
      if (len - pos < TLV_HEADER_LEN)
        {
          fail (error, origin, pos, _("truncated field header"));
          return NULL;
        }
      type = (guint16) (data[pos] << 8 | data[pos + 1]);
      vlen = (guint16) (data[pos + 2] << 8 | data[pos + 3]);
      pos += TLV_HEADER_LEN;
      if (len - pos < vlen)
        {
          fail (error, origin, tlv_start, _("field %04x says %u bytes, only %" G_GSIZE_FORMAT " remain (truncated?)"),
                type, vlen, len - pos);
          return NULL;
        }
      v = data + pos;
      pos += vlen;
      if (type < G_N_ELEMENTS (seen))
        seen[type]++;

#define EXPECT_LEN(n) \
  if (vlen != (n)) \
    return fail (error, origin, tlv_start, _("field %04x must have %u bytes, it has %u"), type, (guint) (n), vlen), NULL
#define ONCE() \
  if (seen[type] > 1) \
    return fail (error, origin, tlv_start, _("field %04x appears twice"), type), NULL

      switch (type)
        {
        case TB_UPK_TLV_PRODUCT:
          ONCE ();
          if (vlen == 0)
            return fail (error, origin, tlv_start, _("the product is empty")), NULL;
          if ((self->product = dup_utf8 (v, vlen)) == NULL)
            return fail (error, origin, tlv_start, _("the product is not UTF-8 text")), NULL;
          break;
        case TB_UPK_TLV_DEVICE_TYPE:
          {
            char *t = dup_utf8 (v, vlen);
            if (t == NULL)
              return fail (error, origin, tlv_start, _("a device type is not UTF-8 text")), NULL;
            g_ptr_array_add (self->device_types, t);
          }
          break;
        case TB_UPK_TLV_DEVICE_UID:
          if (vlen == 0 || vlen > 32)
            return fail (error, origin, tlv_start, _("a device UID has %u bytes (1 to 32)"), vlen), NULL;
          {
            GString *hex = g_string_new (NULL);
            for (guint i = 0; i < vlen; i++)
              g_string_append_printf (hex, "%02x", v[i]);
            g_ptr_array_add (self->device_uids, g_string_free (hex, FALSE));
          }
          break;
        case TB_UPK_TLV_VERSION:
          ONCE ();
          self->version = dup_utf8 (v, vlen);
          if (!tb_semver_is_valid (self->version, NULL))
            return fail (error, origin, tlv_start, _("the version is not a semantic version")), NULL;
          break;
        case TB_UPK_TLV_SECURITY_COUNTER:
          ONCE ();
          EXPECT_LEN (4);
          self->security_counter = get_be32 (v);
          break;
        case TB_UPK_TLV_LOAD_ADDRESS:
          ONCE ();
          EXPECT_LEN (8);
          self->load_address = get_be64 (v);
          break;
        case TB_UPK_TLV_IMAGE_SIZE:
          ONCE ();
          EXPECT_LEN (8);
          self->image_size = get_be64 (v);
          break;
        case TB_UPK_TLV_ENTRY_POINT:
          ONCE ();
          EXPECT_LEN (8);
          self->has_entry = TRUE;
          self->entry = get_be64 (v);
          break;
        case TB_UPK_TLV_PLAINTEXT_SHA256:
          ONCE ();
          EXPECT_LEN (32);
          memcpy (self->plaintext_sha256, v, 32);
          break;
        case TB_UPK_TLV_IMAGE_HEADER_SHA256:
          ONCE ();
          EXPECT_LEN (32);
          memcpy (self->header_sha256, v, 32);
          break;
        case TB_UPK_TLV_IMAGE_ID:
          ONCE ();
          EXPECT_LEN (TB_UPK_IMAGE_ID_LEN);
          memcpy (self->image_id, v, TB_UPK_IMAGE_ID_LEN);
          break;
        case TB_UPK_TLV_CREATED:
          ONCE ();
          EXPECT_LEN (8);
          self->created = get_be64 (v);
          break;
        case TB_UPK_TLV_RECIPIENT:
          {
            TbUpkRecipient r = { 0 };
            guint id_len;
            if (vlen < 2)
              return fail (error, origin, tlv_start, _("truncated recipient")), NULL;
            id_len = v[1];
            EXPECT_LEN (2 + id_len + TB_UPK_KEY_ID_LEN + TB_UPK_EPHEMERAL_LEN + TB_UPK_WRAPPED_KEY_LEN);
            if (v[0] != TB_UPK_RECIPIENT_PRODUCT && v[0] != TB_UPK_RECIPIENT_DEVICE)
              return fail (error, origin, tlv_start, _("unknown recipient kind %u"), v[0]), NULL;
            r.kind = v[0];
            r.id = dup_utf8 (v + 2, id_len);
            if (r.id == NULL)
              return fail (error, origin, tlv_start, _("a recipient name is not UTF-8 text")), NULL;
            memcpy (r.key_id, v + 2 + id_len, TB_UPK_KEY_ID_LEN);
            memcpy (r.ephemeral, v + 2 + id_len + TB_UPK_KEY_ID_LEN, TB_UPK_EPHEMERAL_LEN);
            memcpy (r.wrapped_key, v + 2 + id_len + TB_UPK_KEY_ID_LEN + TB_UPK_EPHEMERAL_LEN, TB_UPK_WRAPPED_KEY_LEN);
            g_array_append_val (self->recipients, r);
          }
          break;
        case TB_UPK_TLV_SIGNER_CERT:
          ONCE ();
          {
            g_autoptr(GError) cert_error = NULL;
            self->signer = tb_cert_new_from_data (v, vlen, origin, &cert_error);
            if (self->signer == NULL)
              return fail (error, origin, tlv_start, _("the signer certificate cannot be read")), NULL;
          }
          break;
        case TB_UPK_TLV_SIGNATURE:
          if (vlen < 3 || v[0] != 0 || v[1] < TB_UPK_SIG_ECDSA_P256_SHA256 || v[1] > TB_UPK_SIG_RSA_PKCS1_SHA256)
            return fail (error, origin, tlv_start, _("unknown signature algorithm")), NULL;
          self->sig_alg = v[1];
          self->signed_bytes = g_bytes_new (data, tlv_start);
          self->signature = g_bytes_new (v + 2, vlen - 2);
          signature_seen = TRUE;
          break;
        default:
          if (!(type & 0x8000))
            return fail (error, origin, tlv_start, _("unknown field %04x"), type), NULL;
          /* 0x8000 and above: optional fields a newer writer may add */
          break;
        }
#undef EXPECT_LEN
#undef ONCE
    }

  if (!signature_seen)
    return fail (error, origin, len, _("no signature: the UPK is truncated or unsigned")), NULL;
  {
    static const struct {
      guint16 type;
      const char *name;
    } required[] = {
      { TB_UPK_TLV_PRODUCT, "product" }, { TB_UPK_TLV_VERSION, "version" },
      { TB_UPK_TLV_SECURITY_COUNTER, "security counter" }, { TB_UPK_TLV_LOAD_ADDRESS, "load address" },
      { TB_UPK_TLV_IMAGE_SIZE, "image size" }, { TB_UPK_TLV_PLAINTEXT_SHA256, "plaintext digest" },
      { TB_UPK_TLV_IMAGE_HEADER_SHA256, "image header digest" }, { TB_UPK_TLV_IMAGE_ID, "image id" },
      { TB_UPK_TLV_CREATED, "creation time" }, { TB_UPK_TLV_RECIPIENT, "recipient" },
      { TB_UPK_TLV_SIGNER_CERT, "signer certificate" },
    };
    for (guint i = 0; i < G_N_ELEMENTS (required); i++)
      if (seen[required[i].type] == 0)
        return fail (error, origin, len, _("the %s is missing"), required[i].name), NULL;
  }
  /* the devices are 32-bit: the image must end at 0xffffffff at the latest */
  if (self->load_address >= (G_GUINT64_CONSTANT (1) << 32) ||
      self->image_size > (G_GUINT64_CONSTANT (1) << 32) - self->load_address)
    return fail (error, origin, len,
                 _("the image of %" G_GUINT64_FORMAT " bytes at 0x%08" G_GINT64_MODIFIER "x runs past 0xffffffff, "
                   "the end of a 32-bit device's address space"), self->image_size, self->load_address), NULL;
  return g_steal_pointer (&self);
}

TbUpk *
tb_upk_load_file (const char *path, GError **error)
{
  g_autoptr(GError) pending = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;

  /* a writer killed while replacing the image and this UPK: finish that first */
  if (!tb_output_file_recover_pair (path, &pending))
    g_debug ("%s", pending->message);
  if (!tb_file_read_bounded (path, TB_UPK_MAX_BYTES, &data, &len, error))
    return NULL;
  return tb_upk_parse ((const guint8 *) data, len, path, error);
}

/* The algorithm a public key signs UPKs with, as signature_algorithm_for_key()
 * picks it when signing; FALSE for a key that cannot sign one. */
static gboolean
signature_algorithm_for_public_key (EVP_PKEY *pub, TbUpkSignatureAlgorithm *alg)
{
  char group[32] = "";

  if (EVP_PKEY_is_a (pub, "EC") &&
      EVP_PKEY_get_utf8_string_param (pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL) == 1)
    {
      if (g_str_equal (group, "prime256v1") || g_str_equal (group, "P-256"))
        return *alg = TB_UPK_SIG_ECDSA_P256_SHA256, TRUE;
      if (g_str_equal (group, "secp384r1") || g_str_equal (group, "P-384"))
        return *alg = TB_UPK_SIG_ECDSA_P384_SHA384, TRUE;
      return FALSE;
    }
  if (EVP_PKEY_is_a (pub, "ED25519"))
    return *alg = TB_UPK_SIG_ED25519, TRUE;
  if (EVP_PKEY_is_a (pub, "RSA"))
    return *alg = TB_UPK_SIG_RSA_PKCS1_SHA256, TRUE;
  return FALSE;
}

/**
 * tb_upk_verify_signature:
 *
 * Checks the signature with the embedded signer certificate's key. That
 * the certificate chains to a trusted root is the caller's check.
 */
gboolean
tb_upk_verify_signature (TbUpk *self, GError **error)
{
  g_autoptr(EVP_MD_CTX) mctx = EVP_MD_CTX_new ();
  TbUpkSignatureAlgorithm expected = 0;
  gboolean known;
  EVP_PKEY *pub;
  int rc;

  if (self->signed_bytes == NULL || self->signer == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("The UPK is not signed"));
      return FALSE;
    }
  pub = X509_get0_pubkey (tb_cert_get_x509 (self->signer));
  /* the algorithm byte is not under the signature: it must be the one the
   * signer's key signs with, or a flipped byte would pass (an EC key with a
   * null digest falls back to SHA-256) */
  known = pub != NULL && signature_algorithm_for_public_key (pub, &expected);
  if (!known || expected != self->sig_alg)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("%s: the signature algorithm (%s) is not the one of the signer's key (%s)"),
                   self->origin != NULL ? self->origin : "UPK", tb_upk_signature_algorithm_to_string (self->sig_alg),
                   known ? tb_upk_signature_algorithm_to_string (expected) : _("unsupported"));
      return FALSE;
    }
  rc = EVP_DigestVerifyInit_ex (mctx, NULL, md_for_algorithm (self->sig_alg), NULL, NULL, pub, NULL);
  if (rc == 1)
    rc = EVP_DigestVerify (mctx, g_bytes_get_data (self->signature, NULL), g_bytes_get_size (self->signature),
                           g_bytes_get_data (self->signed_bytes, NULL), g_bytes_get_size (self->signed_bytes));
  ERR_clear_error ();
  if (rc != 1)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("%s: the signature does not verify: the UPK was altered or signed by another key"),
                   self->origin != NULL ? self->origin : "UPK");
      return FALSE;
    }
  return TRUE;
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
