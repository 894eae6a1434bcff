/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * TbReceiptKind:
 * @TB_RECEIPT_INSTALL: returned by INSTALL_FINISH ("TBRECEIPT1"): the
 *   image id, plaintext digest, counter and version just committed
 * @TB_RECEIPT_STATUS: returned by RECEIPT ("TBRECEIPT2"): what the device
 *   runs now, over the host's nonce (no image id: the SBM keeps none)
 *
 * Both are signed by the device key; see docs/mailbox.md.
 */
typedef enum {
  TB_RECEIPT_INSTALL = 1,
  TB_RECEIPT_STATUS = 2,
} TbReceiptKind;

typedef struct {
  TbReceiptKind kind;
  char *uid;                    /* hex */
  gboolean has_image_id;
  guint8 image_id[16];
  guint8 plaintext_sha256[32];
  guint32 security_counter;
  char *version;
  guint8 nonce[32];             /* TB_RECEIPT_STATUS only */
} TbReceipt;

TbReceipt  *tb_receipt_parse      (const guint8  *data,
                                   gsize          len,
                                   const guint8  *device_public_key,
                                   GError       **error);
const char *tb_receipt_kind_to_string (TbReceiptKind kind);
void        tb_receipt_free       (TbReceipt     *receipt);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbReceipt, tb_receipt_free)

G_END_DECLS
