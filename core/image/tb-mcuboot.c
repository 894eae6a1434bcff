/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Export to the standard MCUboot image format, signed by the context's
 * mastering key (ECDSA P-256), so projects already on MCUboot use the
 * same keys. Layout (little-endian), as MCUboot's bootutil and imgtool
 * define it:
 *
 *   header (32 bytes, padded with zeros to header_size)
 *   image (plaintext, or AES-128-CTR with a zero nonce when encrypted)
 *   protected TLV area: info {0x6908, total} + SEC_CNT (u32)
 *   TLV area: info {0x6907, total} + SHA256 + KEYHASH + ECDSA_SIG
 *             [+ ENC_EC256 when encrypted]
 *
 * SHA256 covers the header, the plaintext image and the protected TLVs;
 * the signature is ECDSA-SHA256 over the same bytes; KEYHASH is the
 * SHA-256 of the signer's DER SubjectPublicKeyInfo. ENC_EC256 (ECIES-P256)
 * is an ephemeral point, an HMAC-SHA256 and the AES-128 image key
 * encrypted with keys from HKDF-SHA256(ECDH secret, info
 * "MCUBoot_ECIES_v1"). See docs/mcuboot.md. */

#include "config.h"

#include "tb-mcuboot.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <string.h>

#include "tb-cert.h"
#include "tb-context-private.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-hierarchy.h"
#include "tb-key-private.h"
#include "tb-master.h"
#include "tb-upk.h"

#define STREAM_BLOCK (64u * 1024u)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)

static void
le16 (guint8 *p, guint16 v)
{
  p[0] = v & 0xff;
  p[1] = v >> 8;
}

static void
le32 (guint8 *p, guint32 v)
{
  le16 (p, v & 0xffff);
  le16 (p + 2, v >> 16);
}

static void
add_tlv (GByteArray *area, guint8 type, const guint8 *value, guint16 len)
{
  guint8 head[4] = { type, 0 };

  le16 (head + 2, len);
  g_byte_array_append (area, head, 4);
  g_byte_array_append (area, value, len);
}

/* Starts a TLV area: its info header's total is filled in by finish_area. */
static GByteArray *
new_area (guint16 magic)
{
  GByteArray *area = g_byte_array_new ();
  guint8 info[4];

  le16 (info, magic);
  le16 (info + 2, 0);
  g_byte_array_append (area, info, 4);
  return area;
}

static void
finish_area (GByteArray *area)
{
  le16 (area->data + 2, (guint16) area->len);
}

/* MAJOR.MINOR.PATCH[-pre][+BUILD] → MCUboot's u8.u8.u16+u32 */
static gboolean
parse_version (const char *text, guint8 out[8], GError **error)
{
  g_auto(GStrv) parts = NULL;
  const char *plus;
  guint64 major, minor, patch, build = 0;

  if (!tb_semver_is_valid (text, error))
    return FALSE;
  {
    const char *dash = strchr (text, '-');
    plus = strchr (text, '+');
    if (dash != NULL && (plus == NULL || dash < plus))
      {
        g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                     _("MCUboot versions have no pre-release part (“%s”): use MAJOR.MINOR.PATCH+BUILD"), text);
        return FALSE;
      }
  }
  parts = g_strsplit_set (text, ".-+", 4);
  major = g_ascii_strtoull (parts[0], NULL, 10);
  minor = g_ascii_strtoull (parts[1], NULL, 10);
  patch = g_ascii_strtoull (parts[2], NULL, 10);
  if (plus != NULL)
    {
      char *end = NULL;
      build = g_ascii_strtoull (plus + 1, &end, 10);
      if (end == NULL || *end != '\0')
        build = G_MAXUINT64;
    }
  if (major > 255 || minor > 255 || patch > 65535 || build > G_MAXUINT32)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("MCUboot versions are MAJOR.MINOR.PATCH+BUILD with MAJOR and MINOR up to 255, PATCH up to "
                     "65535 and a numeric BUILD up to 4294967295; “%s” does not fit"), text);
      return FALSE;
    }
  out[0] = (guint8) major;
  out[1] = (guint8) minor;
  le16 (out + 2, (guint16) patch);
  le32 (out + 4, (guint32) build);
  return TRUE;
}

/* ECIES-P256 as MCUboot's imgtool does it: returns the ENC_EC256 TLV value
 * (ephemeral point 65 ‖ HMAC 32 ‖ encrypted key 16). */
static gboolean
ecies_wrap (TbKey *recipient, const guint8 plainkey[16], guint8 out[113], GError **error)
{
  g_autoptr(EVP_PKEY) eph = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  g_autoptr(EVP_PKEY_CTX) dctx = NULL;
  EVP_KDF *kdf = EVP_KDF_fetch (NULL, "HKDF", NULL);
  EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new (kdf) : NULL;
  g_autoptr(EVP_CIPHER_CTX) ctr = EVP_CIPHER_CTX_new ();
  guint8 shared[32], derived[48], iv[16] = { 0 };
  size_t shared_len = sizeof shared, eph_len = 0;
  unsigned int mac_len = 0;
  int n = 0;
  OSSL_PARAM params[4];
  gboolean ok;

  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
  params[1] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY, shared, sizeof shared);
  params[2] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_INFO, (char *) "MCUBoot_ECIES_v1", 16);
  params[3] = OSSL_PARAM_construct_end ();
  dctx = eph != NULL ? EVP_PKEY_CTX_new_from_pkey (NULL, eph, NULL) : NULL;
  ok = dctx != NULL && EVP_PKEY_derive_init (dctx) == 1 &&
       EVP_PKEY_derive_set_peer (dctx, tb_key_get_public_pkey (recipient)) == 1 &&
       EVP_PKEY_derive (dctx, shared, &shared_len) == 1 && shared_len == 32 &&
       kctx != NULL && EVP_KDF_derive (kctx, derived, sizeof derived, params) == 1 &&
       EVP_EncryptInit_ex2 (ctr, EVP_aes_128_ctr (), derived, iv, NULL) == 1 &&
       EVP_EncryptUpdate (ctr, out + 65 + 32, &n, plainkey, 16) == 1 &&
       HMAC (EVP_sha256 (), derived + 16, 32, out + 65 + 32, 16, out + 65, &mac_len) != NULL &&
       EVP_PKEY_get_octet_string_param (eph, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, 65, &eph_len) && eph_len == 65;
  OPENSSL_cleanse (shared, sizeof shared);
  OPENSSL_cleanse (derived, sizeof derived);
  EVP_KDF_CTX_free (kctx);
  EVP_KDF_free (kdf);
  if (!ok)
    tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot encrypt the image key for MCUboot (ECIES-P256)"));
  return ok;
}

static TbKey *
product_key (TbContext *ctx, const char *product, GError **error)
{
  g_autofree char *name = NULL;
  TbKey *key;

  if (!tb_context_check_product (ctx, product, error))
    return NULL;
  name = tb_context_dup_product_key_name (ctx, product);
  key = tb_key_load (ctx, name, error);
  if (key != NULL && g_strcmp0 (tb_key_get_algorithm (key), "ec-p256") != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("MCUboot encrypts to P-256 keys; “%s” is %s"), name,
                   tb_key_get_algorithm (key));
      g_clear_object (&key);
    }
  return key;
}

/**
 * tb_mcuboot_export:
 * @firmware: the image (its flat bytes go into the MCUboot image)
 * @passphrase: unlocks the mastering key
 * @output: the MCUboot image file
 *
 * Writes a standard MCUboot image signed by the mastering key (which must
 * be ECDSA P-256), optionally encrypted (ECIES-P256, AES-128-CTR) to a
 * product key.
 */
gboolean
tb_mcuboot_export (TbContext *ctx, TbFirmware *firmware, const TbMcubootOptions *options, const char *passphrase,
                   const char *output, TbProgress *progress, GError **error)
{
  g_autoptr(TbCert) cert = NULL;
  g_autoptr(TbKey) key = NULL;
  g_autoptr(TbKey) enc_key = NULL;
  g_autoptr(EVP_MD_CTX) sha = EVP_MD_CTX_new ();
  g_autoptr(EVP_CIPHER_CTX) ctr = NULL;
  g_autoptr(GByteArray) prot = NULL;
  g_autoptr(GByteArray) tlvs = NULL;
  g_autofree guint8 *header = NULL;
  g_autofree guint8 *buf = NULL;
  g_autofree guint8 *enc = NULL;
  guint32 header_size = options->header_size != 0 ? options->header_size : TB_MCUBOOT_DEFAULT_HEADER_SIZE;
  guint64 size = tb_firmware_get_size (firmware);
  guint64 padded;
  guint8 version[8];
  guint8 digest[32];
  unsigned int digest_len = 0;
  guint8 plainkey[16];
  TbOutputFile out = TB_OUTPUT_FILE_INIT;
  gboolean ok = FALSE;

  /* the header's own size field is 16 bits */
  if (header_size < 32 || header_size > 0xfffc || header_size % 4 != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("An MCUboot header size of %u bytes is not acceptable (32 to 65532, a multiple of 4)"), header_size);
      return FALSE;
    }
  if (!parse_version (options->version, version, error))
    return FALSE;
  padded = options->encrypt_for != NULL ? (size + 15) / 16 * 16 : size;
  if (padded > G_MAXUINT32)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("The image is too large for MCUboot (4 GiB at most)"));
      return FALSE;
    }

  tb_progress_set_stage (progress, _("Unlocking the mastering key"));
  cert = tb_cert_load (ctx, TB_KEY_NAME_MASTERING, error);
  if (cert == NULL)
    return FALSE;
  key = tb_key_load (ctx, tb_cert_get_key_name (cert) != NULL ? tb_cert_get_key_name (cert) : TB_KEY_NAME_MASTERING,
                     error);
  if (key == NULL || !tb_key_require_usage (key, TB_KEY_USAGE_MASTERING, _("sign MCUboot images"), error))
    return FALSE;
  if (g_strcmp0 (tb_key_get_algorithm (key), "ec-p256") != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED,
                   _("MCUboot export signs with ECDSA P-256; the mastering key is %s"), tb_key_get_algorithm (key));
      return FALSE;
    }
  if (options->encrypt_for != NULL && (enc_key = product_key (ctx, options->encrypt_for, error)) == NULL)
    return FALSE;
  if (!tb_key_unlock (key, ctx, passphrase, error))
    return FALSE;

  /* header */
  header = g_malloc0 (header_size);
  le32 (header, TB_MCUBOOT_IMAGE_MAGIC);
  le32 (header + 4, 0);                         /* load address: executes in place */
  le16 (header + 8, (guint16) header_size);
  prot = new_area (TB_MCUBOOT_TLV_PROT_INFO_MAGIC);
  {
    guint8 counter[4];
    le32 (counter, options->security_counter);
    add_tlv (prot, TB_MCUBOOT_TLV_SEC_CNT, counter, 4);
  }
  finish_area (prot);
  le16 (header + 10, (guint16) prot->len);
  le32 (header + 12, (guint32) padded);
  le32 (header + 16, enc_key != NULL ? TB_MCUBOOT_F_ENCRYPTED_AES128 : 0);
  memcpy (header + 20, version, 8);

  if (enc_key != NULL)
    {
      guint8 iv[16] = { 0 };
      ctr = EVP_CIPHER_CTX_new ();
      if (RAND_bytes (plainkey, sizeof plainkey) != 1 ||
          EVP_EncryptInit_ex2 (ctr, EVP_aes_128_ctr (), plainkey, iv, NULL) != 1)
        {
          tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot set up AES-128-CTR"));
          goto out;
        }
    }

  EVP_DigestInit_ex (sha, EVP_sha256 (), NULL);
  EVP_DigestUpdate (sha, header, header_size);
  if (!tb_output_file_open (&out, output, 0644, TB_OUTPUT_FILE_DURABLE, error) || !tb_output_file_write (&out, header, header_size, error))
    goto out;

  tb_progress_set_stage (progress, enc_key != NULL ? _("Encrypting and hashing the image")
                                                   : _("Hashing the image"));
  buf = g_malloc (STREAM_BLOCK);
  enc = g_malloc (STREAM_BLOCK);
  for (guint64 off = 0; off < padded; off += STREAM_BLOCK)
    {
      gsize n = (gsize) MIN (STREAM_BLOCK, padded - off);
      gsize real = off < size ? (gsize) MIN (n, size - off) : 0;
      const guint8 *data = buf;
      int outl = 0;

      if (tb_progress_set_error_if_cancelled (progress, error))
        goto out;
      memset (buf + real, 0, n - real); /* the padding to 16 bytes */
      if (real > 0 && !tb_firmware_read (firmware, off, buf, real, error))
        goto out;
      EVP_DigestUpdate (sha, buf, n);
      if (ctr != NULL)
        {
          if (EVP_EncryptUpdate (ctr, enc, &outl, buf, (int) n) != 1)
            {
              tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Encryption failed"));
              goto out;
            }
          data = enc;
        }
      if (!tb_output_file_write (&out, data, n, error))
        goto out;
      tb_progress_set_fraction (progress, (double) (off + n) / padded * 0.9);
    }
  EVP_DigestUpdate (sha, prot->data, prot->len);
  EVP_DigestFinal_ex (sha, digest, &digest_len);

  tb_progress_set_stage (progress, _("Signing"));
  tlvs = new_area (TB_MCUBOOT_TLV_INFO_MAGIC);
  add_tlv (tlvs, TB_MCUBOOT_TLV_SHA256, digest, 32);
  {
    unsigned char *spki = NULL;
    int spki_len = i2d_PUBKEY (tb_key_get_public_pkey (key), &spki);
    guint8 keyhash[32];
    unsigned int kh_len = 0;
    g_autoptr(EVP_PKEY_CTX) sctx = EVP_PKEY_CTX_new_from_pkey (NULL, tb_key_get_private_pkey (key), NULL);
    guint8 sig[80];
    size_t sig_len = sizeof sig;

    EVP_Digest (spki, (size_t) spki_len, keyhash, &kh_len, EVP_sha256 (), NULL);
    OPENSSL_free (spki);
    add_tlv (tlvs, TB_MCUBOOT_TLV_KEYHASH, keyhash, 32);
    if (sctx == NULL || EVP_PKEY_sign_init (sctx) != 1 || EVP_PKEY_CTX_set_signature_md (sctx, EVP_sha256 ()) != 1 ||
        EVP_PKEY_sign (sctx, sig, &sig_len, digest, sizeof digest) != 1)
      {
        tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot sign the MCUboot image"));
        goto out;
      }
    add_tlv (tlvs, TB_MCUBOOT_TLV_ECDSA_SIG, sig, (guint16) sig_len);
  }
  if (enc_key != NULL)
    {
      guint8 enc_tlv[113];
      if (!ecies_wrap (enc_key, plainkey, enc_tlv, error))
        goto out;
      add_tlv (tlvs, TB_MCUBOOT_TLV_ENC_EC256, enc_tlv, sizeof enc_tlv);
    }
  finish_area (tlvs);
  if (!tb_output_file_write (&out, prot->data, prot->len, error) ||
      !tb_output_file_write (&out, tlvs->data, tlvs->len, error) || !tb_output_file_commit (&out, error))
    goto out;
  tb_progress_finish (progress);
  ok = TRUE;

out:
  OPENSSL_cleanse (plainkey, sizeof plainkey);
  tb_output_file_clear (&out);
  return ok;
}

/**
 * tb_mcuboot_export_mastered:
 * @upk_path: a UPK mastered in @ctx
 * @image_path: its encrypted image
 * @output: the MCUboot image to write
 *
 * Exports an image already mastered in @ctx as a signed MCUboot image,
 * with the UPK's version, security counter and load address: the image is
 * decrypted (and authenticated) with the product key into a private
 * temporary folder, exported, and the plaintext removed.
 */
gboolean
tb_mcuboot_export_mastered (TbContext *ctx, const char *upk_path, const char *image_path, const char *passphrase,
                            const char *output, TbProgress *progress, GError **error)
{
  g_autoptr(TbUpk) upk = tb_upk_load_file (upk_path, error);
  g_autofree char *dir = NULL;
  g_autofree char *plain = NULL;
  g_autoptr(TbFirmware) firmware = NULL;
  g_autoptr(GError) local = NULL;
  TbMcubootOptions options = { 0 };
  gboolean ok;

  if (upk == NULL)
    return FALSE;
  dir = g_dir_make_tmp ("trustbench-mcuboot-XXXXXX", &local);
  if (dir == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot make a private temporary folder: %s"), local->message);
      return FALSE;
    }
  plain = g_build_filename (dir, "plain.bin", NULL);
  options.version = tb_upk_get_version (upk);
  options.security_counter = tb_upk_get_security_counter (upk);
  ok = tb_image_decrypt_mastered (ctx, upk_path, image_path, passphrase, plain, progress, error) &&
       (firmware = tb_firmware_load_file (plain, TB_FIRMWARE_FORMAT_BIN, tb_upk_get_load_address (upk), error)) != NULL &&
       tb_mcuboot_export (ctx, firmware, &options, passphrase, output, progress, error);
  g_unlink (plain);
  g_rmdir (dir);
  return ok;
}
