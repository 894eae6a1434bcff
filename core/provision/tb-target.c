/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The target layer: the SBM mailbox protocol (docs/mailbox.md) spoken
 * through any probe. Every length read back from the device is bounded,
 * a device that does not answer is a timeout, never a hang, and a refusal
 * is an error that says why in plain words. */

#include "config.h"

#include "tb-target.h"

#include <glib/gi18n-lib.h>
#include <openssl/evp.h>
#include <string.h>

#include "sbm/tb-sbm.h"
#include "tb-crypto.h"
#include "tb-error.h"
#include "tb-reader.h"
#include "tb-sbm-image.h"
#include "tb-key-private.h"
#include "tb-master.h"
#include "tb-upk.h"

#define MAILBOX TB_MB_ADDRESS
#define TIMEOUT_US (10 * G_USEC_PER_SEC)

struct _TbTarget {
  TbProbe *probe;
  guint32 sequence;
  guint timeout_ms;
  gboolean sbm_seen;            /* an SBM answered: no need to look for it before each command */
};

void
tb_attestation_free (TbAttestation *att)
{
  if (att == NULL)
    return;
  g_free (att->uid);
  g_free (att->device_type);
  g_free (att->app_version);
  g_free (att);
}

TbTarget *
tb_target_new (TbProbe *probe)
{
  TbTarget *self = g_new0 (TbTarget, 1);

  self->probe = g_object_ref (probe);
  self->timeout_ms = TIMEOUT_US / 1000;
  return self;
}

/**
 * tb_target_set_timeout:
 * @timeout_ms: how long a command may take before it is an error
 */
void
tb_target_set_timeout (TbTarget *self, guint timeout_ms)
{
  self->timeout_ms = timeout_ms;
}

void
tb_target_free (TbTarget *self)
{
  if (self == NULL)
    return;
  g_object_unref (self->probe);
  g_free (self);
}

TbProbe *
tb_target_get_probe (TbTarget *self)
{
  return self->probe;
}

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static void
put_le32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) v;
  p[1] = (guint8) (v >> 8);
  p[2] = (guint8) (v >> 16);
  p[3] = (guint8) (v >> 24);
}

/* Whether the flash is erased where the SBM's vector table goes: such a
 * device will never answer, however long one waits. A read the device
 * refuses (a locked one) says nothing, nor does anything but erased words. */
static gboolean
sbm_flash_erased (TbTarget *self)
{
  guint8 vectors[8];

  if (!tb_probe_read_memory (self->probe, TB_SBM_IMAGE_ADDRESS, vectors, sizeof vectors, NULL, NULL))
    return FALSE;
  return le32 (vectors) == 0xffffffffu && le32 (vectors + 4) == 0xffffffffu;
}

static void
set_blank_error (GError **error)
{
  g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND,
               _("The device is blank: its flash holds no secure boot manager at 0x%08x (provision it first)"),
               TB_SBM_IMAGE_ADDRESS);
}

/**
 * tb_target_has_sbm:
 *
 * Whether an SBM answers in the mailbox. A device whose flash holds no
 * SBM is blank (%TB_ERROR_NOT_FOUND) even when its RAM still shows an
 * earlier SBM's mailbox (erased without a power cycle).
 *
 * Returns: whether an SBM answers in the mailbox
 */
gboolean
tb_target_has_sbm (TbTarget *self, GError **error)
{
  guint8 magic[4];

  if (!tb_probe_read_memory (self->probe, MAILBOX + TB_MB_OFF_MAGIC, magic, 4, NULL, error))
    return FALSE;
  if (le32 (magic) != TB_MB_MAGIC)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND,
                   _("No secure boot manager answers on this device (it is blank, or its SBM is not genuine)"));
      return FALSE;
    }
  if (sbm_flash_erased (self))
    {
      set_blank_error (error);
      return FALSE;
    }
  return TRUE;
}

/**
 * tb_target_wait_ready:
 *
 * Waits until an SBM answers in the mailbox (its magic word written, not
 * busy), for the command timeout: a core that has just been reset or
 * powered up checks its image (and makes its key, the first time) before
 * it answers. A device whose flash holds no SBM at all (its vector table
 * erased) is reported at once with %TB_ERROR_NOT_FOUND.
 */
gboolean
tb_target_wait_ready (TbTarget *self, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) self->timeout_ms * 1000;
  guint8 head[TB_MB_HEADER];

  /* blank: its RAM may show an earlier SBM's mailbox, but nothing will
   * come up */
  if (sbm_flash_erased (self))
    {
      set_blank_error (error);
      return FALSE;
    }
  for (;;)
    {
      if (!tb_probe_read_memory (self->probe, MAILBOX, head, sizeof head, NULL, error))
        return FALSE;
      if (le32 (head + TB_MB_OFF_MAGIC) == TB_MB_MAGIC && le32 (head + TB_MB_OFF_STATUS) != TB_MB_STATUS_BUSY)
        return self->sbm_seen = TRUE;
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                       _("No secure boot manager came up on the device within %.1f seconds"),
                       self->timeout_ms / 1000.0);
          return FALSE;
        }
      g_usleep (2000);
    }
}

/**
 * tb_target_reset:
 *
 * Resets the device and waits until its SBM is back up: a real core
 * checks the signature table (and may install a staged update) before it
 * answers, which takes a while. The SBM writes the mailbox's magic word
 * once its boot checks are done, so the host clears it first (the mailbox
 * is open even on a locked device) and waits for it after the reset
 * (tb_target_wait_ready()).
 */
gboolean
tb_target_reset (TbTarget *self, GError **error)
{
  const guint8 cleared[4] = { 0 };

  self->sbm_seen = FALSE;
  return tb_probe_write_memory (self->probe, MAILBOX + TB_MB_OFF_MAGIC, cleared, sizeof cleared, NULL, error) &&
         tb_probe_reset (self->probe, FALSE, error) && tb_target_wait_ready (self, error);
}

static const char *
refusal (guint32 status)
{
  switch (status)
    {
    case TB_MB_ERR_BAD_COMMAND: return _("the SBM does not know this command");
    case TB_MB_ERR_BAD_REQUEST: return _("the SBM refused a malformed request");
    case TB_MB_ERR_STATE: return _("the device is not in the right lifecycle state for this");
    case TB_MB_ERR_SIGNATURE: return _("the update's signature does not verify against the mastering key the device trusts");
    case TB_MB_ERR_PRODUCT: return _("the image is for another product");
    case TB_MB_ERR_DEVICE: return _("the image is bound to other devices or device types");
    case TB_MB_ERR_ROLLBACK: return _("the image's security counter is not above the installed one (rollback)");
    case TB_MB_ERR_RECIPIENT: return _("the image key is not wrapped for this device's product key");
    case TB_MB_ERR_CHUNK: return _("a chunk of the image does not authenticate: the image was altered or reordered");
    case TB_MB_ERR_DIGEST: return _("the installed image does not match its digest");
    case TB_MB_ERR_FLASH: return _("the device could not write its flash");
    case TB_MB_ERR_CRYPTO: return _("the device's cryptography failed");
    case TB_MB_ERR_TOO_LARGE: return _("the image does not fit the device");
    case TB_MB_ERR_ADDRESS: return _("the image is linked for another address than the device's application slot");
    default: return _("the device answered with an unknown status");
    }
}

/**
 * tb_target_command:
 * @response: (out) (optional): the response payload
 *
 * Runs one mailbox command. A refusal is %TB_ERROR_VERIFY_FAILED.
 */
gboolean
tb_target_command (TbTarget *self, guint32 command, const guint8 *request, gsize len, GByteArray **response,
                   GError **error)
{
  guint8 head[TB_MB_HEADER];
  gint64 deadline = g_get_monotonic_time () + (gint64) self->timeout_ms * 1000;
  guint32 status, out_len;

  if (len > TB_MB_PAYLOAD_MAX)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("A request of %" G_GSIZE_FORMAT " bytes does not fit "
                                                                 "the %u-byte mailbox"), len, TB_MB_PAYLOAD_MAX);
      return FALSE;
    }
  if (!self->sbm_seen && !tb_target_has_sbm (self, error))
    return FALSE;
  self->sbm_seen = TRUE;
  /* length, sequence and payload in one write (one stop of the core, full
   * packets), the header's reserved words cleared */
  {
    g_autofree guint8 *block = g_malloc0 (TB_MB_HEADER - TB_MB_OFF_LENGTH + len);
    put_le32 (block, (guint32) len);
    put_le32 (block + TB_MB_OFF_SEQUENCE - TB_MB_OFF_LENGTH, ++self->sequence);
    if (len > 0)
      memcpy (block + TB_MB_HEADER - TB_MB_OFF_LENGTH, request, len);
    if (!tb_probe_write_memory (self->probe, MAILBOX + TB_MB_OFF_LENGTH, block,
                                TB_MB_HEADER - TB_MB_OFF_LENGTH + len, NULL, error))
      return FALSE;
  }
  memset (head, 0, sizeof head);
  put_le32 (head + TB_MB_OFF_COMMAND, command);
  /* the command word last: it rings the doorbell */
  if (!tb_probe_write_memory (self->probe, MAILBOX + TB_MB_OFF_COMMAND, head + TB_MB_OFF_COMMAND, 4, NULL, error))
    return FALSE;

  for (;;)
    {
      if (!tb_probe_read_memory (self->probe, MAILBOX, head, sizeof head, NULL, error))
        return FALSE;
      if (le32 (head + TB_MB_OFF_MAGIC) != TB_MB_MAGIC)
        {
          self->sbm_seen = FALSE;
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                       _("The device's secure boot manager stopped answering (it was reset, or its mailbox was "
                         "overwritten)"));
          return FALSE;
        }
      status = le32 (head + TB_MB_OFF_STATUS);
      if (status != TB_MB_STATUS_BUSY && le32 (head + TB_MB_OFF_COMMAND) == TB_MB_CMD_NONE)
        break;
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                       _("The device did not answer within %.1f seconds (is its core halted?)"),
                       self->timeout_ms / 1000.0);
          return FALSE;
        }
      g_usleep (1000);
    }
  if (status != TB_MB_STATUS_OK)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("The device refused: %s (status 0x%02x)"),
                   refusal (status), status);
      return FALSE;
    }
  out_len = le32 (head + TB_MB_OFF_LENGTH);
  if (out_len > TB_MB_PAYLOAD_MAX)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("The device answered with %u bytes, more than its mailbox holds"), out_len);
      return FALSE;
    }
  if (response != NULL)
    {
      *response = g_byte_array_sized_new (out_len);
      g_byte_array_set_size (*response, out_len);
      if (out_len > 0 &&
          !tb_probe_read_memory (self->probe, MAILBOX + TB_MB_HEADER, (*response)->data, out_len, NULL, error))
        {
          g_clear_pointer (response, g_byte_array_unref);
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * tb_target_attest:
 *
 * Asks the SBM for its attestation over a fresh nonce and checks the
 * signature with the device key it reports.
 */
TbAttestation *
tb_target_attest (TbTarget *self, GError **error)
{
  g_autoptr(GByteArray) resp = NULL;
  g_autoptr(TbAttestation) att = g_new0 (TbAttestation, 1);
  guint8 nonce[32];
  TbReader c;
  const guint8 *uid_len, *uid, *type_len, *type, *lc, *ver, *pub, *boot, *app_len, *app, *counter, *sig_len, *sig;
  gsize signed_len;
  GString *hex = g_string_new (NULL);

  if (!tb_crypto_random_bytes (nonce, sizeof nonce, error) ||
      !tb_target_command (self, TB_MB_CMD_ATTEST, nonce, sizeof nonce, &resp, error))
    {
      g_string_free (hex, TRUE);
      return NULL;
    }
  c = (TbReader) { resp->data, resp->len, FALSE };
  uid_len = tb_reader_take (&c, 1);
  uid = uid_len != NULL ? tb_reader_take (&c, *uid_len) : NULL;
  type_len = tb_reader_take (&c, 1);
  type = type_len != NULL ? tb_reader_take (&c, *type_len) : NULL;
  lc = tb_reader_take (&c, 1);
  ver = tb_reader_take (&c, 4);
  pub = tb_reader_take (&c, 65);
  boot = tb_reader_take (&c, 1);
  app_len = tb_reader_take (&c, 1);
  app = app_len != NULL ? tb_reader_take (&c, *app_len) : NULL;
  counter = tb_reader_take (&c, 4);
  signed_len = resp->len - c.left;
  sig_len = tb_reader_take (&c, 2);
  sig = sig_len != NULL ? tb_reader_take (&c, (gsize) (sig_len[0] << 8 | sig_len[1])) : NULL;
  if (c.bad || c.left != 0 || *uid_len == 0 || *lc > 3)
    {
      g_string_free (hex, TRUE);
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("The device's attestation is malformed"));
      return NULL;
    }
  if (!tb_crypto_verify_device_signature (pub, "TBATTEST1", nonce, 32, resp->data, signed_len, sig,
                                (gsize) (sig_len[0] << 8 | sig_len[1])))
    {
      g_string_free (hex, TRUE);
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The device's attestation is not signed by the device key it reports"));
      return NULL;
    }
  for (guint i = 0; i < *uid_len; i++)
    g_string_append_printf (hex, "%02x", uid[i]);
  att->uid = g_string_free (hex, FALSE);
  att->device_type = g_strndup ((const char *) type, *type_len);
  att->lifecycle = *lc;
  att->sbm_version = (guint32) ver[0] << 24 | (guint32) ver[1] << 16 | (guint32) ver[2] << 8 | ver[3];
  memcpy (att->device_public_key, pub, 65);
  att->boot = *boot;
  att->app_version = g_strndup ((const char *) app, *app_len);
  att->app_counter = (guint32) counter[0] << 24 | (guint32) counter[1] << 16 | (guint32) counter[2] << 8 | counter[3];
  return g_steal_pointer (&att);
}

/**
 * tb_target_install:
 * @receipt: (out) (optional): the install receipt signed by the device
 *
 * Streams a mastered pair to the SBM: the UPK, the image header, then
 * each chunk; the SBM authenticates every chunk before it writes it.
 */
gboolean
tb_target_install (TbTarget *self, const char *upk_path, const char *image_path, GBytes **receipt,
                   TbProgress *progress, GError **error)
{
  g_autofree char *upk = NULL;
  gsize upk_len = 0;
  g_autoptr(GFile) file = g_file_new_for_path (image_path);
  g_autoptr(GFileInputStream) in = NULL;
  guint8 header[TB_IMAGE_HEADER_LEN];
  TbImageHeader h;
  g_autofree guint8 *buf = NULL;
  g_autoptr(GByteArray) resp = NULL;
  gsize got = 0;

  if (!g_file_get_contents (upk_path, &upk, &upk_len, error))
    return FALSE;
  in = g_file_read (file, NULL, error);
  if (in == NULL)
    return FALSE;
  if (!g_input_stream_read_all (G_INPUT_STREAM (in), header, sizeof header, &got, NULL, error))
    return FALSE;
  if (got != sizeof header || !tb_image_header_decode (header, &h, image_path, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is truncated"), image_path);
      return FALSE;
    }
  tb_progress_set_stage (progress, _("Sending the update protection key"));
  if (!tb_target_command (self, TB_MB_CMD_INSTALL_BEGIN, (const guint8 *) upk, upk_len, NULL, error) ||
      !tb_target_command (self, TB_MB_CMD_INSTALL_HEADER, header, sizeof header, NULL, error))
    return FALSE;
  tb_progress_set_stage (progress, _("Streaming %u chunks"), h.chunk_count);
  buf = g_malloc (4 + h.chunk_size + TB_IMAGE_TAG_LEN);
  for (guint32 i = 0; i < h.chunk_count; i++)
    {
      gsize n = (gsize) MIN ((guint64) h.chunk_size, h.plaintext_size - (guint64) i * h.chunk_size) + TB_IMAGE_TAG_LEN;
      buf[0] = (guint8) (i >> 24);
      buf[1] = (guint8) (i >> 16);
      buf[2] = (guint8) (i >> 8);
      buf[3] = (guint8) i;
      if (tb_progress_set_error_if_cancelled (progress, error) ||
          !g_input_stream_read_all (G_INPUT_STREAM (in), buf + 4, n, &got, NULL, error))
        return FALSE;
      if (got != n)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is truncated at chunk %u"), image_path, i + 1);
          return FALSE;
        }
      if (!tb_target_command (self, TB_MB_CMD_INSTALL_CHUNK, buf, 4 + n, NULL, error))
        return FALSE;
      tb_progress_set_fraction (progress, (double) (i + 1) / h.chunk_count);
    }
  tb_progress_set_stage (progress, _("Committing the image"));
  if (!tb_target_command (self, TB_MB_CMD_INSTALL_FINISH, NULL, 0, &resp, error))
    return FALSE;
  if (receipt != NULL)
    *receipt = g_bytes_new (resp->data, resp->len);
  return TRUE;
}

/**
 * tb_target_get_receipt:
 * @nonce: 32 fresh random bytes, echoed in the receipt
 *
 * Asks the SBM for the receipt of the application it runs now (command
 * RECEIPT): what a host that lost the install receipt uses to reconcile.
 * The caller verifies it with tb_receipt_parse().
 *
 * Returns: (transfer full): the receipt bytes, or %NULL with @error
 */
/**
 * tb_target_get_app_slot:
 * @slot: (out): where the device runs its application from
 *
 * Asks the SBM for its application slot (LAYOUT), so that an image can be
 * checked against it before the device is provisioned and locked.
 */
gboolean
tb_target_get_app_slot (TbTarget *self, TbAppSlot *slot, GError **error)
{
  g_autoptr(GByteArray) resp = NULL;
  const guint8 *p;

  if (!tb_target_command (self, TB_MB_CMD_LAYOUT, NULL, 0, &resp, error))
    return FALSE;
  if (resp->len != 12)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("The device's layout answer is %u bytes, not 12"), resp->len);
      return FALSE;
    }
  p = resp->data;
  slot->address = (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
  slot->size_bytes = (guint32) p[4] << 24 | (guint32) p[5] << 16 | (guint32) p[6] << 8 | p[7];
  return TRUE;
}

GBytes *
tb_target_get_receipt (TbTarget *self, const guint8 nonce[32], GError **error)
{
  g_autoptr(GByteArray) resp = NULL;

  if (!tb_target_command (self, TB_MB_CMD_RECEIPT, nonce, 32, &resp, error))
    return NULL;
  return g_bytes_new (resp->data, resp->len);
}
