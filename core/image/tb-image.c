/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The encrypted image (.tbimg): its header, and the checks a mastered
 * pair gets before it leaves the workbench (verify, decrypt).
 *
 * The image is encrypted with a fresh AES-256 key in chunks of a few KiB,
 * each sealed with AES-256-GCM under a nonce made of a per-image prefix
 * and the chunk index, and additional data binding the image id, the
 * chunk index, the chunk count and a final-chunk flag. A device streams
 * the image through one chunk-sized RAM buffer and authenticates every
 * chunk before it writes a byte of it to flash; reordering, truncation
 * and extension are detected (see docs/formats/tbimg.md). Decryption
 * reads a block of chunks at a time and hashes on a helper thread
 * (tb-staging.c), as mastering (tb-master.c) does. */

#include "config.h"

#include "tb-image.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb-cert-private.h"
#include "tb-context-private.h"
#include "tb-crypto.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-hierarchy.h"
#include "tb-image-private.h"
#include "tb-json-private.h"
#include "tb-key-private.h"
#include "tb-staging-private.h"

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

gboolean
tb_image_chunk_size_is_valid (guint32 size)
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
  /* rounded up without overflow: a size near 2^64 must not wrap to 0 chunks */
  expected_count = tb_image_chunk_size_is_valid (h->chunk_size)
                     ? h->plaintext_size / h->chunk_size + (h->plaintext_size % h->chunk_size != 0) : 0;
  if (!tb_image_chunk_size_is_valid (h->chunk_size) || h->plaintext_size == 0 || expected_count != h->chunk_count ||
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

void
tb_image_chunk_nonce_aad (const TbImageHeader *h, guint32 index, guint8 nonce[12], guint8 aad[25])
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
  key_name = tb_context_dup_product_key_name (ctx, tb_upk_get_product (upk));
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

      tb_image_chunk_nonce_aad (h, index, nonce, aad);
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
  TbStagingBlock plain[TB_STAGING_N_BUFFERS] = { { 0 } };
  TbStage hasher = { 0 };
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

  per_block = MAX (1u, TB_STAGING_BLOCK_SIZE / h.chunk_size);
  plain_cap = (gsize) per_block * h.chunk_size;
  sealed = g_malloc ((gsize) per_block * (h.chunk_size + TB_IMAGE_TAG_LEN));
  for (guint i = 0; i < TB_STAGING_N_BUFFERS; i++)
    {
      plain[i].data = g_malloc (plain_cap);
      g_async_queue_push (free_plain, &plain[i]);
    }
  tb_stage_start (&hasher, "tb-image-sha256", tb_stage_hash_block, sha, free_plain);

  tb_progress_set_stage (progress,
                         g_dngettext (GETTEXT_PACKAGE, "Decrypting and authenticating %u chunk",
                                      "Decrypting and authenticating %u chunks", h.chunk_count),
                         h.chunk_count);
  for (guint32 first = 0; first < h.chunk_count; first += per_block)
    {
      guint32 count = MIN (per_block, h.chunk_count - first);
      guint64 plain_offset = (guint64) first * h.chunk_size;
      gsize plain_len = (gsize) MIN ((guint64) count * h.chunk_size, h.plaintext_size - plain_offset);
      guint64 offset = TB_IMAGE_HEADER_LEN + (guint64) first * (h.chunk_size + TB_IMAGE_TAG_LEN);
      TbStagingBlock *p = g_async_queue_pop (free_plain);

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
  if (!tb_stage_finish (&hasher, ok ? error : NULL))
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
  for (guint i = 0; i < TB_STAGING_N_BUFFERS; i++)
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
      g_autofree char *key_name = tb_context_dup_product_key_name (ctx, tb_upk_get_product (upk));

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
    if (!tb_context_check_product (ctx, product, &local))
      FAILED ("recipients", local->message);
    else
      {
        key_name = tb_context_dup_product_key_name (ctx, product);
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
      }
    g_clear_error (&local);
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
