/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Mastering: firmware → encrypted image (.tbimg) + signed UPK (.tbupk).
 * The image format and the reverse checks (verify, decrypt) are in
 * tb-image.c.
 *
 * The image is encrypted with a fresh AES-256 key in chunks of a few KiB,
 * each sealed with AES-256-GCM under a nonce made of a per-image prefix
 * and the chunk index, and additional data binding the image id, the
 * chunk index, the chunk count and a final-chunk flag. A device streams
 * the image through one chunk-sized RAM buffer and authenticates every
 * chunk before it writes a byte of it to flash; reordering, truncation
 * and extension are detected (see docs/formats/tbimg.md).
 *
 * The mastering loop streams through small reused buffers: the plaintext
 * is read a block at a time, hashed (SHA-256) on a second thread while
 * the main thread encrypts it, and written out; memory does not grow with
 * the image. Both files are written to temporary files and replaced as a
 * pair (tb_output_file_commit_pair()): a reader finds the old pair or the
 * new one, even after a crash between the two renames. */

#include "config.h"

#include "tb-master.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb-cert-private.h"
#include "tb-app-slot.h"
#include "tb-audit-private.h"
#include "tb-context-private.h"
#include "tb-crypto.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-json-private.h"
#include "tb-hierarchy.h"
#include "tb-image-private.h"
#include "tb-key-private.h"
#include "tb-staging-private.h"
#include "sbm/tb-sbm.h"

/* The mastering key is found and decrypted (scrypt) on a thread of its own
 * while the image streams. */
typedef struct {
  TbContext *ctx;
  const char *passphrase;
  TbCert *cert;           /* the mastering certificate, found here */
  TbKey *key;             /* its key, unlocked here */
  GError *error;
  gint failed;
} UnlockJob;

static gboolean load_mastering_signer (TbContext *ctx, TbCert **cert, TbKey **key, GError **error);

static gpointer
unlock_thread (gpointer data)
{
  UnlockJob *job = data;

  if (!load_mastering_signer (job->ctx, &job->cert, &job->key, &job->error) ||
      !tb_key_unlock (job->key, job->ctx, job->passphrase, &job->error))
    g_atomic_int_set (&job->failed, 1);
  return NULL;
}

/* ---- mastering ---- */

/* Whether list[i] is already among the first @i entries. */
static gboolean
given_before (const char *const *list, guint i, gboolean ignore_case)
{
  for (guint k = 0; k < i; k++)
    if (ignore_case ? g_ascii_strcasecmp (list[k], list[i]) == 0 : g_str_equal (list[k], list[i]))
      return TRUE;
  return FALSE;
}

static gboolean
check_options (TbContext *ctx, const TbMasterOptions *o, guint32 *chunk_size, GError **error)
{
  *chunk_size = o->chunk_size != 0 ? o->chunk_size : TB_IMAGE_DEFAULT_CHUNK_SIZE;
  if (!tb_image_chunk_size_is_valid (*chunk_size))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("A chunk size of %u bytes is not acceptable: a power of two from 1024 to 65536"), *chunk_size);
      return FALSE;
    }
  if (!tb_context_check_product (ctx, o->product, error))
    return FALSE;
  if (!tb_semver_is_valid (o->version, error))
    return FALSE;
  if (strlen (o->version) > TB_SBM_IMAGE_VERSION_MAX_LEN)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Version “%s” has %" G_GSIZE_FORMAT " characters: a device keeps at most %d"), o->version,
                   strlen (o->version), TB_SBM_IMAGE_VERSION_MAX_LEN);
      return FALSE;
    }
  for (guint i = 0; o->device_uids != NULL && o->device_uids[i] != NULL; i++)
    {
      gsize len = strlen (o->device_uids[i]);
      gboolean hex = len >= 2 && len <= 64 && len % 2 == 0;
      for (gsize j = 0; hex && j < len; j++)
        hex = g_ascii_isxdigit (o->device_uids[i][j]);
      if (!hex)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                       _("Invalid device UID “%s”: expected 2 to 64 hex digits, an even number of them"),
                       o->device_uids[i]);
          return FALSE;
        }
      if (given_before (o->device_uids, i, TRUE))
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("Device UID “%s” is given twice"),
                       o->device_uids[i]);
          return FALSE;
        }
    }
  for (guint i = 0; o->device_types != NULL && o->device_types[i] != NULL; i++)
    {
      if (!tb_name_is_valid (o->device_types[i], error))
        return FALSE;
      if (given_before (o->device_types, i, FALSE))
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("Device type “%s” is given twice"),
                       o->device_types[i]);
          return FALSE;
        }
    }
  return TRUE;
}

/* The device types the image is for: those it is bound to, else those the
 * context's product entry names (`device_types`, optional). */
static GStrv
target_device_types (TbContext *ctx, const TbMasterOptions *o)
{
  if (o->device_types != NULL && o->device_types[0] != NULL)
    return g_strdupv ((char **) o->device_types);
  return tb_json_dup_strv (tb_context_find_entry (ctx, TB_INVENTORY_PRODUCTS, o->product), "device_types");
}

/* An image linked outside the application slot of a device type it is
 * for would be refused by every such device (status 0x8d), after it was
 * provisioned and locked: refused here, or only logged when asked. */
static gboolean
check_app_slots (TbContext *ctx, TbFirmware *firmware, const TbMasterOptions *o, TbProgress *progress,
                 GError **error)
{
  g_auto(GStrv) types = target_device_types (ctx, o);

  for (guint i = 0; types[i] != NULL; i++)
    {
      g_autoptr(GError) local = NULL;
      g_autofree char *device = NULL;
      TbAppSlot slot;

      if (!tb_app_slot_for_device_type (types[i], &slot))
        continue;
      device = g_strdup_printf (_("device type %s"), types[i]);
      if (tb_app_slot_check_image (&slot, device, tb_firmware_get_origin (firmware),
                                   tb_firmware_get_base_address (firmware), tb_firmware_get_size (firmware), &local))
        continue;
      if (!o->allow_outside_slot)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      tb_progress_log (progress, _("Warning: %s"), local->message);
    }
  return TRUE;
}
/* Encrypts @len plaintext bytes (whole chunks, the last maybe short)
 * starting at chunk @first into @out (ciphertext || tag per chunk). */
static gboolean
seal_chunks (EVP_CIPHER_CTX *gcm, const TbImageHeader *h, guint32 first, const guint8 *in, gsize len, guint8 *out,
             gsize *out_len, GError **error)
{
  gsize done = 0;
  guint8 *p = out;

  for (guint32 index = first; done < len; index++)
    {
      gsize n = MIN (h->chunk_size, len - done);
      guint8 nonce[12], aad[25];
      int outl = 0;

      tb_image_chunk_nonce_aad (h, index, nonce, aad);
      if (EVP_EncryptInit_ex (gcm, NULL, NULL, NULL, nonce) != 1 ||
          EVP_EncryptUpdate (gcm, NULL, &outl, aad, sizeof aad) != 1 ||
          EVP_EncryptUpdate (gcm, p, &outl, in + done, (int) n) != 1 ||
          EVP_EncryptFinal_ex (gcm, p + outl, &outl) != 1 ||
          EVP_CIPHER_CTX_ctrl (gcm, EVP_CTRL_GCM_GET_TAG, TB_IMAGE_TAG_LEN, p + n) != 1)
        {
          tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Encryption failed"));
          return FALSE;
        }
      p += n + TB_IMAGE_TAG_LEN;
      done += n;
    }
  *out_len = (gsize) (p - out);
  return TRUE;
}

typedef struct {
  TbKey *mastering_key;
  TbCert *mastering_cert;
  TbKey *product_key;
} Signers;

static void
signers_clear (Signers *s)
{
  g_clear_object (&s->mastering_key);
  g_clear_object (&s->mastering_cert);
  g_clear_object (&s->product_key);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Signers, signers_clear)

static gboolean
load_mastering_signer (TbContext *ctx, TbCert **cert, TbKey **key, GError **error)
{
  *cert = tb_cert_load (ctx, TB_KEY_NAME_MASTERING, error);
  if (*cert == NULL)
    return FALSE;
  *key = tb_key_load (ctx, tb_cert_get_key_name (*cert) != NULL ? tb_cert_get_key_name (*cert) : TB_KEY_NAME_MASTERING,
                      error);
  return *key != NULL && tb_key_require_usage (*key, TB_KEY_USAGE_MASTERING, _("master images"), error);
}

static gboolean
load_product_key (TbContext *ctx, const char *product, Signers *s, GError **error)
{
  g_autofree char *product_key = tb_context_dup_product_key_name (ctx, product);

  s->product_key = tb_key_load (ctx, product_key, error);
  return s->product_key != NULL &&
         tb_key_require_usage (s->product_key, TB_KEY_USAGE_PRODUCT, _("receive image keys"), error);
}

static gboolean
path_is_taken (const char *path)
{
  GStatBuf st;

  return g_lstat (path, &st) == 0;
}

/**
 * tb_master_check_destinations:
 * @image_path: where the .tbimg would go
 * @upk_path: where the .tbupk would go
 *
 * An earlier pair of the same name (mastered with another key, perhaps
 * already shipped) is not replaced unless the caller says so: this fails
 * with %TB_ERROR_EXISTS naming what exists. tb_master_image() checks it
 * too; callers that ask for a passphrase first check it before.
 */
gboolean
tb_master_check_destinations (const char *image_path, const char *upk_path, GError **error)
{
  gboolean image_taken = path_is_taken (image_path), upk_taken = path_is_taken (upk_path);

  if (image_taken && upk_taken)
    g_set_error (error, TB_ERROR, TB_ERROR_EXISTS,
                 _("%s and %s already exist (an image of that name was mastered before): master under another name "
                   "or version, or replace them"), image_path, upk_path);
  else if (image_taken || upk_taken)
    g_set_error (error, TB_ERROR, TB_ERROR_EXISTS,
                 _("%s already exists (an image of that name was mastered before): master under another name or "
                   "version, or replace it"), image_taken ? image_path : upk_path);
  return !image_taken && !upk_taken;
}

/**
 * tb_master_image:
 * @firmware: the plaintext image
 * @passphrase: unlocks the mastering key
 * @image_path: where the .tbimg goes
 * @upk_path: where the .tbupk goes
 *
 * Masters @firmware for a product; an existing file at @image_path or
 * @upk_path is refused (%TB_ERROR_EXISTS, naming it) unless
 * @options->replace. Runs in the caller's thread, with the
 * SHA-256 of the plaintext and the decryption of the mastering key on
 * two helper threads; reports
 * progress and honours the progress's cancellable; on failure or cancel
 * nothing is left at the destinations.
 *
 * Returns: (transfer full): the signed UPK
 */
TbUpk *
tb_master_image (TbContext *ctx, TbFirmware *firmware, const TbMasterOptions *options, const char *passphrase,
                 const char *image_path, const char *upk_path, TbProgress *progress, GError **error)
{
  g_auto(Signers) signers = { 0 };
  g_autoptr(TbUpk) upk = NULL;
  g_autoptr(EVP_CIPHER_CTX) gcm = EVP_CIPHER_CTX_new ();
  g_autoptr(EVP_MD_CTX) sha = EVP_MD_CTX_new ();
  g_autoptr(GBytes) upk_bytes = NULL;
  g_autoptr(GAsyncQueue) free_plain = g_async_queue_new ();
  TbImageHeader h = { 0 };
  guint8 image_key[TB_UPK_IMAGE_KEY_LEN];
  guint8 header[TB_IMAGE_HEADER_LEN];
  guint8 digest[32];
  unsigned int digest_len = 0;
  TbOutputFile out = TB_OUTPUT_FILE_INIT;
  TbOutputFile upk_out = TB_OUTPUT_FILE_INIT;
  TbStage hasher = { 0 };
  UnlockJob unlock = { 0 };
  GThread *unlock_thr = NULL;
  TbStagingBlock plain[TB_STAGING_N_BUFFERS] = { { 0 } };
  TbStagingBlock sealed = { 0 };
  gboolean ok = FALSE;
  guint64 size;

  if (!check_options (ctx, options, &h.chunk_size, error) || !tb_audit_check_appendable (ctx, error) ||
      !tb_output_file_recover_pair (upk_path, error) ||
      (!options->replace && !tb_master_check_destinations (image_path, upk_path, error)))
    return NULL;
  size = tb_firmware_get_size (firmware);
  if ((size + h.chunk_size - 1) / h.chunk_size > G_MAXUINT32)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("The image is too large"));
      return NULL;
    }
  h.plaintext_size = size;
  h.chunk_count = (guint32) ((size + h.chunk_size - 1) / h.chunk_size);

  /* scrypt takes the longest: the mastering key is found and unlocked
   * first, on its own thread, while everything else goes on (in a fresh
   * process this also overlaps OpenSSL's set-up with the checks below) */
  tb_progress_set_stage (progress, _("Unlocking the mastering key"));
  unlock.ctx = ctx;
  unlock.passphrase = passphrase;
  unlock_thr = g_thread_new ("tb-master-unlock", unlock_thread, &unlock);
  if (!check_app_slots (ctx, firmware, options, progress, error) ||
      !load_product_key (ctx, options->product, &signers, error))
    goto out;

  if (!tb_crypto_random_bytes (image_key, sizeof image_key, error) || !tb_crypto_random_bytes (h.image_id, sizeof h.image_id, error) ||
      !tb_crypto_random_bytes (h.nonce_prefix, sizeof h.nonce_prefix, error))
    goto out;
  tb_image_header_encode (&h, header);

  if (EVP_EncryptInit_ex2 (gcm, EVP_aes_256_gcm (), image_key, NULL, NULL) != 1 ||
      EVP_DigestInit_ex (sha, EVP_sha256 (), NULL) != 1)
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot set up AES-256-GCM and SHA-256"));
      goto out;
    }
  if (!tb_output_file_open (&out, image_path, 0644, options->sync ? TB_OUTPUT_FILE_DURABLE : TB_OUTPUT_FILE_DEFAULT,
                            error) ||
      !tb_output_file_write (&out, header, sizeof header, error))
    goto out;

  for (guint i = 0; i < TB_STAGING_N_BUFFERS; i++)
    {
      plain[i].data = g_malloc (TB_STAGING_BLOCK_SIZE);
      g_async_queue_push (free_plain, &plain[i]);
    }
  /* written here, as soon as sealed: a writer thread of its own cost more
   * in hand-offs on two cores than the copy into the page cache */
  sealed.data = g_malloc (TB_STAGING_BLOCK_SIZE + (TB_STAGING_BLOCK_SIZE / TB_IMAGE_MIN_CHUNK_SIZE) * TB_IMAGE_TAG_LEN);
  tb_stage_start (&hasher, "tb-master-sha256", tb_stage_hash_block, sha, free_plain);

  tb_progress_set_stage (progress, _("Encrypting %" G_GUINT64_FORMAT " bytes in chunks of %u bytes"), size,
                         h.chunk_size);
  for (guint64 off = 0; off < size; off += TB_STAGING_BLOCK_SIZE)
    {
      TbStagingBlock *p = g_async_queue_pop (free_plain);

      p->len = (gsize) MIN (TB_STAGING_BLOCK_SIZE, size - off);
      if (tb_progress_set_error_if_cancelled (progress, error) || g_atomic_int_get (&unlock.failed) ||
          !tb_firmware_read (firmware, off, p->data, p->len, error))
        {
          g_async_queue_push (free_plain, p);
          goto stop;
        }
      g_async_queue_push (hasher.in, p);
      if (!seal_chunks (gcm, &h, (guint32) (off / h.chunk_size), p->data, p->len, sealed.data, &sealed.len, error) ||
          !tb_output_file_write (&out, sealed.data, sealed.len, error))
        goto stop;
      tb_progress_set_fraction (progress, (double) (off + p->len) / size * 0.95);
    }
  ok = TRUE;

stop:
  /* drain the hasher and the key; the most telling error wins: a wrong
   * passphrase, then whatever stopped the loop (a write failure…) */
  {
    GError *stage_errors[2] = { NULL, NULL };

    tb_stage_finish (&hasher, &stage_errors[1]);
    g_thread_join (unlock_thr);
    unlock_thr = NULL;
    signers.mastering_cert = g_steal_pointer (&unlock.cert);
    signers.mastering_key = g_steal_pointer (&unlock.key);
    stage_errors[0] = g_steal_pointer (&unlock.error);
    for (guint i = 0; i < G_N_ELEMENTS (stage_errors); i++)
      if (stage_errors[i] != NULL)
        {
          if (ok || (error != NULL && *error == NULL) || i == 0)
            {
              g_clear_error (error);
              g_propagate_error (error, g_steal_pointer (&stage_errors[i]));
            }
          ok = FALSE;
          g_clear_error (&stage_errors[i]);
        }
  }
  if (!ok)
    goto out;
  ok = FALSE;
  EVP_DigestFinal_ex (sha, digest, &digest_len);

  tb_progress_set_stage (progress, _("Signing the update protection key"));
  upk = tb_upk_new ();
  tb_upk_set_product (upk, options->product);
  for (guint i = 0; options->device_types != NULL && options->device_types[i] != NULL; i++)
    tb_upk_add_device_type (upk, options->device_types[i]);
  for (guint i = 0; options->device_uids != NULL && options->device_uids[i] != NULL; i++)
    tb_upk_add_device_uid (upk, options->device_uids[i]);
  tb_upk_set_version (upk, options->version);
  tb_upk_set_security_counter (upk, options->security_counter);
  tb_upk_set_load_address (upk, tb_firmware_get_base_address (firmware));
  tb_upk_set_image_size (upk, size);
  if (tb_firmware_has_entry_point (firmware))
    tb_upk_set_entry_point (upk, tb_firmware_get_entry_point (firmware));
  tb_upk_set_plaintext_sha256 (upk, digest);
  {
    guint8 header_digest[32];
    unsigned int n = 0;
    EVP_Digest (header, sizeof header, header_digest, &n, EVP_sha256 (), NULL);
    tb_upk_set_image_header_sha256 (upk, header_digest);
  }
  tb_upk_set_image_id (upk, h.image_id);
  tb_upk_set_created (upk, (guint64) (g_get_real_time () / G_USEC_PER_SEC));
  if (!tb_upk_add_recipient (upk, TB_UPK_RECIPIENT_PRODUCT, options->product, signers.product_key, image_key, error))
    goto out;
  upk_bytes = tb_upk_sign (upk, signers.mastering_cert, signers.mastering_key, error);
  if (upk_bytes == NULL)
    goto out;

  tb_progress_set_stage (progress, _("Writing %s and %s"), image_path, upk_path);
  /* the pair is replaced whole: a reader never finds the new image beside the old UPK */
  if (tb_progress_set_error_if_cancelled (progress, error) ||
      !tb_output_file_open (&upk_out, upk_path, 0644, TB_OUTPUT_FILE_DURABLE, error) ||
      !tb_output_file_write (&upk_out, g_bytes_get_data (upk_bytes, NULL), g_bytes_get_size (upk_bytes), error) ||
      !tb_output_file_commit_pair (&out, &upk_out, error))
    goto out;
  {
    g_autoptr(JsonObject) details = json_object_new ();
    g_autofree char *subject = g_strdup_printf ("%s %s", options->product, options->version);
    g_autofree char *sha_hex = tb_hex_encode (digest, 32);
    g_autofree char *id = tb_hex_encode (h.image_id, 16);

    json_object_set_string_member (details, "product", options->product);
    json_object_set_string_member (details, "version", options->version);
    json_object_set_int_member (details, "security_counter", options->security_counter);
    json_object_set_string_member (details, "image_id", id);
    json_object_set_string_member (details, "plaintext_sha256", sha_hex);
    g_autofree char *image_abs = g_canonicalize_filename (image_path, NULL);
    g_autofree char *upk_abs = g_canonicalize_filename (upk_path, NULL);
    g_autofree char *signer_subject = tb_cert_dup_subject (signers.mastering_cert);

    /* absolute: the workbench lists these files later, from anywhere */
    json_object_set_string_member (details, "image", image_abs);
    json_object_set_string_member (details, "upk", upk_abs);
    json_object_set_string_member (details, "signer", tb_cert_get_name (signers.mastering_cert));
    json_object_set_string_member (details, "signer_subject", signer_subject);
    if (!tb_audit_append (ctx, "image.master", subject, details, error))
      goto out;
  }
  tb_progress_finish (progress);
  ok = TRUE;

out:
  tb_stage_finish (&hasher, NULL);
  if (unlock_thr != NULL)
    g_thread_join (unlock_thr);
  g_clear_object (&unlock.cert);
  g_clear_object (&unlock.key);
  g_clear_error (&unlock.error);
  OPENSSL_cleanse (image_key, sizeof image_key);
  tb_output_file_clear (&out);
  tb_output_file_clear (&upk_out);
  for (guint i = 0; i < TB_STAGING_N_BUFFERS; i++)
    g_free (plain[i].data);
  g_free (sealed.data);
  return ok ? g_steal_pointer (&upk) : NULL;
}
