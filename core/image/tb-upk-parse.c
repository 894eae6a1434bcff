/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Reading a TbUpk: parsing the format of docs/formats/upk.md (header,
 * TLVs, each checked for its length and given once), loading a file, and
 * verifying the signature against the mastering certificate it carries. */

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

#define TLV_HEADER_LEN 4

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
