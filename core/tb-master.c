/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Mastering: firmware → encrypted image (.tbimg) + signed UPK (.tbupk),
 * and the reverse checks (verify, decrypt).
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
#include "tb-audit.h"
#include "tb-crypto.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-hierarchy.h"
#include "tb-key-private.h"

#define BLOCK_SIZE (256u * 1024u)   /* plaintext read per step: a multiple of every chunk size */
#define N_BUFFERS 2

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)

/* ---- image header ---- */


static void
be32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static guint32
rd32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

void
tb_image_header_encode (const TbImageHeader *h, guint8 *out)
{
  memset (out, 0, TB_IMAGE_HEADER_LEN);
  memcpy (out, TB_IMAGE_MAGIC, 8);
  out[8] = 0;
  out[9] = TB_IMAGE_FORMAT_VERSION;
  out[10] = 0;
  out[11] = TB_IMAGE_HEADER_LEN;
  be32 (out + 12, h->chunk_size);
  be32 (out + 16, (guint32) (h->plaintext_size >> 32));
  be32 (out + 20, (guint32) h->plaintext_size);
  be32 (out + 24, h->chunk_count);
  memcpy (out + 32, h->image_id, TB_UPK_IMAGE_ID_LEN);
  memcpy (out + 48, h->nonce_prefix, TB_IMAGE_NONCE_PREFIX_LEN);
}

static gboolean
chunk_size_is_valid (guint32 size)
{
  return size >= TB_IMAGE_MIN_CHUNK_SIZE && size <= TB_IMAGE_MAX_CHUNK_SIZE && (size & (size - 1)) == 0;
}

gboolean
tb_image_header_decode (const guint8 *data, TbImageHeader *h, const char *origin, GError **error)
{
  guint64 expected_count;

  if (memcmp (data, TB_IMAGE_MAGIC, 8) != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is not a Trustbench encrypted image (bad magic)"),
                   origin);
      return FALSE;
    }
  if (data[8] != 0 || data[9] != TB_IMAGE_FORMAT_VERSION || data[10] != 0 || data[11] != TB_IMAGE_HEADER_LEN)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("%s: image format version %u is not supported"), origin,
                   (guint) (data[8] << 8 | data[9]));
      return FALSE;
    }
  h->chunk_size = rd32 (data + 12);
  h->plaintext_size = (guint64) rd32 (data + 16) << 32 | rd32 (data + 20);
  h->chunk_count = rd32 (data + 24);
  memcpy (h->image_id, data + 32, TB_UPK_IMAGE_ID_LEN);
  memcpy (h->nonce_prefix, data + 48, TB_IMAGE_NONCE_PREFIX_LEN);
  expected_count = chunk_size_is_valid (h->chunk_size) ? (h->plaintext_size + h->chunk_size - 1) / h->chunk_size : 0;
  if (!chunk_size_is_valid (h->chunk_size) || h->plaintext_size == 0 || expected_count != h->chunk_count ||
      rd32 (data + 28) != 0 || memcmp (data + 56, "\0\0\0\0\0\0\0\0", 8) != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("%s: the image header is inconsistent (chunk size %u, %" G_GUINT64_FORMAT " bytes, %u chunks)"),
                   origin, h->chunk_size, h->plaintext_size, h->chunk_count);
      return FALSE;
    }
  return TRUE;
}

guint64
tb_image_file_size (const TbImageHeader *h)
{
  return TB_IMAGE_HEADER_LEN + h->plaintext_size + (guint64) h->chunk_count * TB_IMAGE_TAG_LEN;
}

static void
chunk_nonce_aad (const TbImageHeader *h, guint32 index, guint8 nonce[12], guint8 aad[25])
{
  memcpy (nonce, h->nonce_prefix, TB_IMAGE_NONCE_PREFIX_LEN);
  be32 (nonce + 8, index);
  memcpy (aad, h->image_id, TB_UPK_IMAGE_ID_LEN);
  be32 (aad + 16, index);
  be32 (aad + 20, h->chunk_count);
  aad[24] = index + 1 == h->chunk_count ? 1 : 0;
}

/* ---- checks ---- */

void
tb_check_free (TbCheck *check)
{
  if (check == NULL)
    return;
  g_free (check->name);
  g_free (check->message);
  g_free (check);
}

const char *
tb_check_status_to_string (TbCheckStatus status)
{
  switch (status)
    {
    case TB_CHECK_PASSED:
      return "passed";
    case TB_CHECK_FAILED:
      return "failed";
    case TB_CHECK_SKIPPED:
    default:
      return "skipped";
    }
}

/* ---- a pipeline stage: hashing on its own thread ---- */

typedef struct {
  guint8 *data;
  gsize len;
} Block;

typedef struct _Stage Stage;
struct _Stage {
  GAsyncQueue *in;        /* blocks to process */
  GAsyncQueue *done;      /* where processed blocks go back */
  gboolean (*process) (Stage *stage, Block *block, GError **error);
  gpointer user;
  GError *error;          /* the first failure; later blocks pass through */
  gint failed;
  GThread *thread;
  Block stop;
};

static gpointer
stage_thread (gpointer data)
{
  Stage *stage = data;
  Block *b;

  while ((b = g_async_queue_pop (stage->in)) != &stage->stop)
    {
      if (stage->error == NULL && !stage->process (stage, b, &stage->error))
        g_atomic_int_set (&stage->failed, 1);
      g_async_queue_push (stage->done, b);
    }
  return NULL;
}

static void
stage_start (Stage *stage, const char *name, gboolean (*process) (Stage *, Block *, GError **), gpointer user,
             GAsyncQueue *done)
{
  stage->in = g_async_queue_new ();
  stage->done = g_async_queue_ref (done);
  stage->process = process;
  stage->user = user;
  stage->thread = g_thread_new (name, stage_thread, stage);
}

/* Waits for the stage to drain; returns its error, if any. */
static gboolean
stage_finish (Stage *stage, GError **error)
{
  if (stage->thread == NULL)
    return TRUE;
  g_async_queue_push (stage->in, &stage->stop);
  g_thread_join (stage->thread);
  stage->thread = NULL;
  g_async_queue_unref (stage->in);
  g_async_queue_unref (stage->done);
  if (stage->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&stage->error));
      return FALSE;
    }
  return TRUE;
}

static gboolean
hash_block (Stage *stage, Block *b, GError **error)
{
  if (EVP_DigestUpdate (stage->user, b->data, b->len) == 1)
    return TRUE;
  tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot compute the SHA-256 of the image"));
  return FALSE;
}

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
  if (!chunk_size_is_valid (*chunk_size))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("A chunk size of %u bytes is not acceptable: a power of two from 1024 to 65536"), *chunk_size);
      return FALSE;
    }
  if (o->product == NULL || tb_context_find_entry (ctx, TB_INVENTORY_PRODUCTS, o->product) == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("The context has no product “%s”"),
                   o->product != NULL ? o->product : "");
      return FALSE;
    }
  if (!tb_semver_is_valid (o->version, error))
    return FALSE;
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
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  JsonObject *entry;
  JsonNode *node;

  if (o->device_types != NULL && o->device_types[0] != NULL)
    {
      g_strv_builder_addv (b, (const char **) o->device_types);
      return g_strv_builder_end (b);
    }
  entry = tb_context_find_entry (ctx, TB_INVENTORY_PRODUCTS, o->product);
  node = entry != NULL ? json_object_get_member (entry, "device_types") : NULL;
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *types = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (types); i++)
        {
          const char *type = json_node_get_string (json_array_get_element (types, i));
          if (type != NULL)
            g_strv_builder_add (b, type);
        }
    }
  return g_strv_builder_end (b);
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

static char *
product_key_name (TbContext *ctx, const char *product)
{
  JsonObject *entry = tb_context_find_entry (ctx, TB_INVENTORY_PRODUCTS, product);
  const char *key = entry != NULL ? json_object_get_string_member_with_default (entry, "key", NULL) : NULL;

  return key != NULL ? g_strdup (key) : g_strconcat (TB_KEY_NAME_PRODUCT_PREFIX, product, NULL);
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

      chunk_nonce_aad (h, index, nonce, aad);
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
  g_autofree char *product_key = product_key_name (ctx, product);

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
  Stage hasher = { 0 };
  UnlockJob unlock = { 0 };
  GThread *unlock_thr = NULL;
  Block plain[N_BUFFERS] = { { 0 } };
  Block sealed = { 0 };
  gboolean ok = FALSE;
  guint64 size;

  if (!check_options (ctx, options, &h.chunk_size, error) || !tb_output_file_recover_pair (upk_path, error) ||
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

  for (guint i = 0; i < N_BUFFERS; i++)
    {
      plain[i].data = g_malloc (BLOCK_SIZE);
      g_async_queue_push (free_plain, &plain[i]);
    }
  /* written here, as soon as sealed: a writer thread of its own cost more
   * in hand-offs on two cores than the copy into the page cache */
  sealed.data = g_malloc (BLOCK_SIZE + (BLOCK_SIZE / TB_IMAGE_MIN_CHUNK_SIZE) * TB_IMAGE_TAG_LEN);
  stage_start (&hasher, "tb-master-sha256", hash_block, sha, free_plain);

  tb_progress_set_stage (progress, _("Encrypting %" G_GUINT64_FORMAT " bytes in chunks of %u bytes"), size,
                         h.chunk_size);
  for (guint64 off = 0; off < size; off += BLOCK_SIZE)
    {
      Block *p = g_async_queue_pop (free_plain);

      p->len = (gsize) MIN (BLOCK_SIZE, size - off);
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

    stage_finish (&hasher, &stage_errors[1]);
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
  stage_finish (&hasher, NULL);
  if (unlock_thr != NULL)
    g_thread_join (unlock_thr);
  g_clear_object (&unlock.cert);
  g_clear_object (&unlock.key);
  g_clear_error (&unlock.error);
  OPENSSL_cleanse (image_key, sizeof image_key);
  tb_output_file_clear (&out);
  tb_output_file_clear (&upk_out);
  for (guint i = 0; i < N_BUFFERS; i++)
    g_free (plain[i].data);
  g_free (sealed.data);
  return ok ? g_steal_pointer (&upk) : NULL;
}

/* ---- decrypting ---- */

static gboolean
read_exact (int fd, guint8 *buf, gsize len, const char *origin, guint64 offset, GError **error)
{
  gsize done = 0;

  while (done < len)
    {
      gssize n = read (fd, buf + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot read %s: %s"), origin, g_strerror (saved_errno));
          return FALSE;
        }
      if (n == 0)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                       _("%s ends at offset %" G_GUINT64_FORMAT ", before its last chunk: it is truncated"), origin,
                       offset + done);
          return FALSE;
        }
      done += (gsize) n;
    }
  return TRUE;
}

/* Opens an image, reads and checks its header against the UPK. */
static int
open_image (TbUpk *upk, const char *image_path, TbImageHeader *h, GError **error)
{
  guint8 header[TB_IMAGE_HEADER_LEN];
  guint8 digest[32];
  unsigned int n = 0;
  struct stat st;
  int fd = open (image_path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, saved_errno == ENOENT ? TB_ERROR_NOT_FOUND : TB_ERROR_FAILED,
                   _("Cannot read %s: %s"), image_path, g_strerror (saved_errno));
      return -1;
    }
  if (fstat (fd, &st) != 0 || !read_exact (fd, header, sizeof header, image_path, 0, error) ||
      !tb_image_header_decode (header, h, image_path, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot read %s"), image_path);
      close (fd);
      return -1;
    }
  EVP_Digest (header, sizeof header, digest, &n, EVP_sha256 (), NULL);
  if (memcmp (digest, tb_upk_get_image_header_sha256 (upk), 32) != 0 ||
      memcmp (h->image_id, tb_upk_get_image_id (upk), TB_UPK_IMAGE_ID_LEN) != 0 ||
      h->plaintext_size != tb_upk_get_image_size (upk))
    {
      close (fd);
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The header of %s does not match the UPK: it is another image or was altered"), image_path);
      return -1;
    }
  if ((guint64) st.st_size != tb_image_file_size (h))
    {
      close (fd);
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("%s has %" G_GUINT64_FORMAT " bytes, the UPK says %" G_GUINT64_FORMAT ": it is %s"), image_path,
                   (guint64) st.st_size, tb_image_file_size (h),
                   (guint64) st.st_size < tb_image_file_size (h) ? _("truncated") : _("extended"));
      return -1;
    }
  return fd;
}

/**
 * tb_image_decrypt_mastered:
 * @upk_path: a UPK mastered in @ctx
 * @image_path: its encrypted image
 * @passphrase: the context passphrase (unlocks the product key)
 * @output_path: where the plaintext goes (0600), written only if every
 *   chunk authenticates and the digest matches
 *
 * Checks the UPK's signature and signer chain, unwraps the image key with
 * the product's key and decrypts the image as a device would.
 */
gboolean
tb_image_decrypt_mastered (TbContext *ctx, const char *upk_path, const char *image_path, const char *passphrase,
                           const char *output_path, TbProgress *progress, GError **error)
{
  g_autoptr(TbUpk) upk = tb_upk_load_file (upk_path, error);
  g_autofree char *key_name = NULL;
  g_autoptr(TbKey) product_key = NULL;

  if (upk == NULL || !tb_upk_verify_signature (upk, error) ||
      !tb_cert_verify (ctx, tb_upk_get_signer_cert (upk), NULL, error) ||
      !tb_cert_check_code_signing (tb_upk_get_signer_cert (upk), error))
    return FALSE;
  key_name = product_key_name (ctx, tb_upk_get_product (upk));
  product_key = tb_key_load_unlocked (ctx, key_name, passphrase, error);
  if (product_key == NULL)
    return FALSE;
  return tb_image_decrypt (upk, image_path, product_key, output_path, NULL, progress, error);
}

/* Opens chunks @first… of a block read at once: @sealed holds them with
 * their tags, @plain receives @plain_len bytes. A chunk that does not
 * authenticate is named with its offset in @image_path. */
static gboolean
open_chunks (EVP_CIPHER_CTX *gcm, const TbImageHeader *h, guint32 first, const guint8 *sealed, gsize plain_len,
             guint8 *plain, const char *image_path, GError **error)
{
  gsize done = 0;
  const guint8 *p = sealed;

  for (guint32 index = first; done < plain_len; index++)
    {
      gsize n = MIN (h->chunk_size, plain_len - done);
      guint8 nonce[12], aad[25];
      int outl = 0;

      chunk_nonce_aad (h, index, nonce, aad);
      if (EVP_DecryptInit_ex (gcm, NULL, NULL, NULL, nonce) != 1 ||
          EVP_DecryptUpdate (gcm, NULL, &outl, aad, sizeof aad) != 1 ||
          EVP_DecryptUpdate (gcm, plain + done, &outl, p, (int) n) != 1 ||
          EVP_CIPHER_CTX_ctrl (gcm, EVP_CTRL_GCM_SET_TAG, TB_IMAGE_TAG_LEN, (void *) (p + n)) != 1 ||
          EVP_DecryptFinal_ex (gcm, plain + done + outl, &outl) != 1)
        {
          ERR_clear_error ();
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                       _("%s: chunk %u of %u (offset %" G_GUINT64_FORMAT ") does not authenticate: the image was "
                         "altered"), image_path, index + 1, h->chunk_count,
                       TB_IMAGE_HEADER_LEN + (guint64) index * (h->chunk_size + TB_IMAGE_TAG_LEN));
          return FALSE;
        }
      p += n + TB_IMAGE_TAG_LEN;
      done += n;
    }
  return TRUE;
}

/**
 * tb_image_decrypt:
 * @recipient: an unlocked key the UPK is wrapped for
 * @output_path: (nullable): where the plaintext goes, written only if
 *   every chunk authenticates and the digest matches
 * @plaintext_sha256: (out caller-allocates) (optional): 32 bytes
 *
 * Decrypts and authenticates every chunk as the device does. The image is
 * read a block of chunks at a time and the SHA-256 of the plaintext runs
 * on a helper thread, as when mastering.
 */
gboolean
tb_image_decrypt (TbUpk *upk, const char *image_path, TbKey *recipient, const char *output_path,
                  guint8 *plaintext_sha256, TbProgress *progress, GError **error)
{
  TbImageHeader h;
  guint8 image_key[TB_UPK_IMAGE_KEY_LEN];
  g_autoptr(EVP_CIPHER_CTX) gcm = EVP_CIPHER_CTX_new ();
  g_autoptr(EVP_MD_CTX) sha = EVP_MD_CTX_new ();
  g_autoptr(GAsyncQueue) free_plain = g_async_queue_new ();
  g_autofree guint8 *sealed = NULL;
  Block plain[N_BUFFERS] = { { 0 } };
  Stage hasher = { 0 };
  guint8 digest[32];
  unsigned int digest_len = 0;
  TbOutputFile out = TB_OUTPUT_FILE_INIT;
  guint32 per_block;
  gsize plain_cap = 0;
  gboolean ok = FALSE;
  int fd;

  fd = open_image (upk, image_path, &h, error);
  if (fd < 0)
    return FALSE;
  if (!tb_upk_unwrap_image_key (upk, recipient, image_key, error))
    {
      close (fd);
      return FALSE;
    }
  if (EVP_DecryptInit_ex2 (gcm, EVP_aes_256_gcm (), image_key, NULL, NULL) != 1 ||
      EVP_DigestInit_ex (sha, EVP_sha256 (), NULL) != 1)
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot set up AES-256-GCM"));
      goto out;
    }
  if (output_path != NULL && !tb_output_file_open (&out, output_path, 0600, TB_OUTPUT_FILE_DURABLE, error))
    goto out;

  per_block = MAX (1u, BLOCK_SIZE / h.chunk_size);
  plain_cap = (gsize) per_block * h.chunk_size;
  sealed = g_malloc ((gsize) per_block * (h.chunk_size + TB_IMAGE_TAG_LEN));
  for (guint i = 0; i < N_BUFFERS; i++)
    {
      plain[i].data = g_malloc (plain_cap);
      g_async_queue_push (free_plain, &plain[i]);
    }
  stage_start (&hasher, "tb-image-sha256", hash_block, sha, free_plain);

  tb_progress_set_stage (progress, _("Decrypting and authenticating %u chunks"), h.chunk_count);
  for (guint32 first = 0; first < h.chunk_count; first += per_block)
    {
      guint32 count = MIN (per_block, h.chunk_count - first);
      guint64 plain_offset = (guint64) first * h.chunk_size;
      gsize plain_len = (gsize) MIN ((guint64) count * h.chunk_size, h.plaintext_size - plain_offset);
      guint64 offset = TB_IMAGE_HEADER_LEN + (guint64) first * (h.chunk_size + TB_IMAGE_TAG_LEN);
      Block *p = g_async_queue_pop (free_plain);

      if (tb_progress_set_error_if_cancelled (progress, error) || g_atomic_int_get (&hasher.failed) ||
          !read_exact (fd, sealed, plain_len + (gsize) count * TB_IMAGE_TAG_LEN, image_path, offset, error) ||
          !open_chunks (gcm, &h, first, sealed, plain_len, p->data, image_path, error) ||
          (output_path != NULL && !tb_output_file_write (&out, p->data, plain_len, error)))
        {
          g_async_queue_push (free_plain, p);
          goto stop;
        }
      p->len = plain_len;
      g_async_queue_push (hasher.in, p);
      tb_progress_set_fraction (progress, (double) (first + count) / h.chunk_count);
    }
  ok = TRUE;

stop:
  if (!stage_finish (&hasher, ok ? error : NULL))
    ok = FALSE;
  if (!ok)
    goto out;
  EVP_DigestFinal_ex (sha, digest, &digest_len);
  if (memcmp (digest, tb_upk_get_plaintext_sha256 (upk), 32) != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("%s decrypts, but not to the image the UPK describes (SHA-256 differs)"), image_path);
      ok = FALSE;
      goto out;
    }
  if (plaintext_sha256 != NULL)
    memcpy (plaintext_sha256, digest, 32);
  if (output_path != NULL && !tb_output_file_commit (&out, error))
    {
      ok = FALSE;
      goto out;
    }
  tb_progress_finish (progress);

out:
  OPENSSL_cleanse (image_key, sizeof image_key);
  for (guint i = 0; i < N_BUFFERS; i++)
    if (plain[i].data != NULL)
      {
        OPENSSL_cleanse (plain[i].data, plain_cap);
        g_free (plain[i].data);
      }
  tb_output_file_clear (&out);
  close (fd);
  return ok;
}

/* ---- verification ---- */

static void
add_check (GPtrArray *checks, const char *name, TbCheckStatus status, const char *message)
{
  TbCheck *c = g_new0 (TbCheck, 1);

  c->name = g_strdup (name);
  c->status = status;
  c->message = g_strdup (message);
  g_ptr_array_add (checks, c);
}

/* The product key's scrypt is the longest step of a verification: it runs
 * on its own thread beside the signature, chain and header checks. */
typedef struct {
  TbKey *key;
  TbContext *ctx;
  const char *passphrase;
  GError *error;
} KeyUnlock;

static gpointer
key_unlock_thread (gpointer data)
{
  KeyUnlock *u = data;

  tb_key_unlock (u->key, u->ctx, u->passphrase, &u->error);
  return NULL;
}

/**
 * tb_image_verify:
 * @passphrase: (nullable): unlocks the product key to decrypt; without
 *   it the decryption checks are skipped
 * @checks: (out) (transfer container) (element-type TbCheck): every
 *   check made, passed or not
 *
 * Verifies a mastered pair against the context: the UPK's structure and
 * signature, the signer's chain to the context root and its code-signing
 * usage, the product and its key among the recipients, the image header,
 * and (with the passphrase) every chunk and the plaintext digest.
 *
 * Returns: %TRUE if nothing failed; else %TB_ERROR_VERIFY_FAILED naming
 *   the first failure, or %TB_ERROR_PERMISSION if @passphrase does not
 *   unlock the product key (the files are not at fault)
 */
gboolean
tb_image_verify (TbContext *ctx, const char *upk_path, const char *image_path, const char *passphrase,
                 GPtrArray **checks, TbProgress *progress, GError **error)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_check_free);
  g_autoptr(TbUpk) upk = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(TbKey) product_key = NULL;
  g_autofree char *product_key_id = NULL;
  g_autofree char *first_failure = NULL;
  GError *unlock_error = NULL;
  KeyUnlock unlock = { 0 };
  GThread *unlock_thr = NULL;
  TbImageHeader h;
  int fd;

#define FAILED(name, msg) \
  G_STMT_START { \
    add_check (list, name, TB_CHECK_FAILED, msg); \
    if (first_failure == NULL) \
      first_failure = g_strdup (msg); \
  } G_STMT_END

  tb_progress_set_stage (progress, _("Checking the update protection key"));
  upk = tb_upk_load_file (upk_path, &local);
  if (upk == NULL)
    {
      FAILED ("upk", local->message);
      goto done;
    }
  add_check (list, "upk", TB_CHECK_PASSED, _("well formed"));
  if (passphrase != NULL && tb_context_find_entry (ctx, TB_INVENTORY_PRODUCTS, tb_upk_get_product (upk)) != NULL)
    {
      g_autofree char *key_name = product_key_name (ctx, tb_upk_get_product (upk));

      /* errors are the recipients check's to report */
      unlock.key = tb_key_load (ctx, key_name, NULL);
      unlock.ctx = ctx;
      unlock.passphrase = passphrase;
      if (unlock.key != NULL)
        unlock_thr = g_thread_new ("tb-verify-unlock", key_unlock_thread, &unlock);
    }

  if (tb_upk_verify_signature (upk, &local))
    add_check (list, "signature", TB_CHECK_PASSED,
               tb_upk_signature_algorithm_to_string (tb_upk_get_signature_algorithm (upk)));
  else
    FAILED ("signature", local->message);
  g_clear_error (&local);

  {
    TbCert *signer = tb_upk_get_signer_cert (upk);
    g_autofree char *subject = tb_cert_dup_subject (signer);
    if (!tb_cert_verify (ctx, signer, NULL, &local) || !tb_cert_check_code_signing (signer, &local))
      FAILED ("chain", local->message);
    else
      {
        g_autofree char *msg = g_strdup_printf (_("signed by %s, which chains to the context root"), subject);
        add_check (list, "chain", TB_CHECK_PASSED, msg);
      }
    g_clear_error (&local);
  }

  {
    const char *product = tb_upk_get_product (upk);
    g_autofree char *key_name = NULL;
    if (tb_context_find_entry (ctx, TB_INVENTORY_PRODUCTS, product) == NULL)
      {
        g_autofree char *msg = g_strdup_printf (_("the context has no product “%s”"), product);
        FAILED ("recipients", msg);
      }
    else
      {
        key_name = product_key_name (ctx, product);
        product_key = tb_key_load (ctx, key_name, &local);
        if (product_key == NULL)
          FAILED ("recipients", local->message);
        else if (tb_upk_find_recipient (upk, tb_key_get_public_sha256 (product_key)) == NULL)
          {
            g_autofree char *msg = g_strdup_printf (_("the image key is not wrapped for the key of product “%s”"),
                                                    product);
            FAILED ("recipients", msg);
            g_clear_object (&product_key);
          }
        else
          {
            g_autofree char *msg = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                                 "wrapped for %u recipient, the product key “%s”",
                                                                 "wrapped for %u recipients, including the product key “%s”",
                                                                 tb_upk_get_n_recipients (upk)),
                                                    tb_upk_get_n_recipients (upk), key_name);
            add_check (list, "recipients", TB_CHECK_PASSED, msg);
          }
        g_clear_error (&local);
      }
  }

  tb_progress_set_stage (progress, _("Checking the encrypted image"));
  fd = open_image (upk, image_path, &h, &local);
  if (fd < 0)
    FAILED ("image", local->message);
  else
    {
      g_autofree char *msg = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u chunk of %u bytes, header bound to the UPK",
                                                           "%u chunks of %u bytes, header bound to the UPK",
                                                           h.chunk_count),
                                              h.chunk_count, h.chunk_size);
      close (fd);
      add_check (list, "image", TB_CHECK_PASSED, msg);
    }
  g_clear_error (&local);

  if (first_failure != NULL)
    {
      add_check (list, "decrypt", TB_CHECK_SKIPPED, _("not attempted after a failure"));
      goto done;
    }
  if (passphrase == NULL || product_key == NULL)
    {
      add_check (list, "decrypt", TB_CHECK_SKIPPED,
                 _("not checked: without the product key's passphrase the chunks and the plaintext digest are not "
                   "verified"));
      goto done;
    }
  if (unlock_thr != NULL)
    {
      g_thread_join (g_steal_pointer (&unlock_thr));
      if (unlock.error != NULL)
        g_propagate_error (&local, g_steal_pointer (&unlock.error));
    }
  if (local != NULL || unlock.key == NULL)
    {
      if (local == NULL)
        g_set_error (&local, TB_ERROR, TB_ERROR_FAILED, _("Cannot load the product key"));
      FAILED ("decrypt", local->message);
      /* a wrong passphrase says nothing about the files: it is reported as
       * such (exit 1), not as a failed verification (exit 3) */
      if (g_error_matches (local, TB_ERROR, TB_ERROR_PERMISSION))
        unlock_error = g_steal_pointer (&local);
    }
  else
    {
      guint8 digest[32];
      if (tb_image_decrypt (upk, image_path, unlock.key, NULL, digest, progress, &local))
        {
          g_autofree char *digest_hex = tb_hex_encode (digest, 32);
          g_autofree char *msg = g_strdup_printf (_("every chunk authenticates; plaintext SHA-256 %s"), digest_hex);
          add_check (list, "decrypt", TB_CHECK_PASSED, msg);
        }
      else
        FAILED ("decrypt", local->message);
    }
  g_clear_error (&local);

done:
#undef FAILED
  if (unlock_thr != NULL)
    g_thread_join (unlock_thr);
  g_clear_object (&unlock.key);
  g_clear_error (&unlock.error);
  if (checks != NULL)
    *checks = g_ptr_array_ref (list);
  if (unlock_error != NULL)
    {
      g_propagate_error (error, unlock_error);
      return FALSE;
    }
  if (first_failure != NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("Verification failed: %s"), first_failure);
      return FALSE;
    }
  return TRUE;
}
