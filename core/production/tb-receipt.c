/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Receipts signed by a device's own key: the proof, kept in production
 * records and verifiable anywhere later, that a given device committed a
 * given image. Two forms (docs/mailbox.md):
 *
 *   install  uid_len u8, uid, image_id[16], plaintext_sha256[32],
 *            security_counter u32, version_len u8, version, sig
 *            over SHA-256("TBRECEIPT1" ‖ all before sig)
 *   status   nonce[32], uid_len u8, uid, plaintext_sha256[32],
 *            security_counter u32, version_len u8, version, sig
 *            over SHA-256("TBRECEIPT2" ‖ all before sig)
 *
 * sig = u16 length ‖ DER ECDSA P-256. The two forms are told apart by
 * trying the install form first: a status receipt never parses as one
 * whose signature verifies, since the labels differ. */

#include "config.h"

#include "tb-receipt.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tb-crypto.h"
#include "tb-error.h"
#include "tb-reader.h"

#define TB_RECEIPT_MAX_LEN 1024

void
tb_receipt_free (TbReceipt *receipt)
{
  if (receipt == NULL)
    return;
  g_free (receipt->uid);
  g_free (receipt->version);
  g_free (receipt);
}

const char *
tb_receipt_kind_to_string (TbReceiptKind kind)
{
  return kind == TB_RECEIPT_STATUS ? "status" : "install";
}

static TbReceipt *
try_parse (const guint8 *data, gsize len, const guint8 *pub, TbReceiptKind kind)
{
  TbReader c = { data, len, FALSE };
  const guint8 *nonce = NULL, *uid_len, *uid, *image_id = NULL, *digest, *counter, *ver_len, *ver, *sig_len, *sig;
  gsize signed_len, slen;
  g_autoptr(TbReceipt) r = NULL;
  GString *hex;

  if (kind == TB_RECEIPT_STATUS)
    nonce = tb_reader_take (&c, 32);
  uid_len = tb_reader_take (&c, 1);
  uid = uid_len != NULL ? tb_reader_take (&c, *uid_len) : NULL;
  if (kind == TB_RECEIPT_INSTALL)
    image_id = tb_reader_take (&c, 16);
  digest = tb_reader_take (&c, 32);
  counter = tb_reader_take (&c, 4);
  ver_len = tb_reader_take (&c, 1);
  ver = ver_len != NULL ? tb_reader_take (&c, *ver_len) : NULL;
  signed_len = len - c.left;
  sig_len = tb_reader_take (&c, 2);
  slen = sig_len != NULL ? (gsize) (sig_len[0] << 8 | sig_len[1]) : 0;
  sig = tb_reader_take (&c, slen);
  if (c.bad || c.left != 0 || *uid_len == 0 || slen == 0)
    return NULL;
  if (!tb_crypto_verify_device_signature (pub, kind == TB_RECEIPT_STATUS ? "TBRECEIPT2" : "TBRECEIPT1", NULL, 0,
                                          data, signed_len, sig, slen))
    return NULL;
  r = g_new0 (TbReceipt, 1);
  r->kind = kind;
  hex = g_string_new (NULL);
  for (guint i = 0; i < *uid_len; i++)
    g_string_append_printf (hex, "%02x", uid[i]);
  r->uid = g_string_free (hex, FALSE);
  if (image_id != NULL)
    {
      r->has_image_id = TRUE;
      memcpy (r->image_id, image_id, 16);
    }
  if (nonce != NULL)
    memcpy (r->nonce, nonce, 32);
  memcpy (r->plaintext_sha256, digest, 32);
  r->security_counter = (guint32) counter[0] << 24 | (guint32) counter[1] << 16 | (guint32) counter[2] << 8 | counter[3];
  r->version = g_strndup ((const char *) ver, *ver_len);
  if (strlen (r->version) != *ver_len)
    return NULL;
  return g_steal_pointer (&r);
}

/**
 * tb_receipt_parse:
 * @device_public_key: the device's uncompressed P-256 point (65 bytes),
 *   from its certificate or attestation
 *
 * Parses a receipt and checks its signature by @device_public_key.
 *
 * Returns: (transfer full): the receipt, or %NULL with
 *   %TB_ERROR_VERIFY_FAILED (bad signature, malformed, another device)
 */
TbReceipt *
tb_receipt_parse (const guint8 *data, gsize len, const guint8 *device_public_key, GError **error)
{
  TbReceipt *r;

  if (data == NULL || len == 0 || len > TB_RECEIPT_MAX_LEN)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("The receipt is empty or too large (%" G_GSIZE_FORMAT
                                                              " bytes)"), len);
      return NULL;
    }
  r = try_parse (data, len, device_public_key, TB_RECEIPT_INSTALL);
  if (r == NULL)
    r = try_parse (data, len, device_public_key, TB_RECEIPT_STATUS);
  if (r == NULL)
    g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                 _("The receipt is malformed or not signed by this device's key"));
  return r;
}
