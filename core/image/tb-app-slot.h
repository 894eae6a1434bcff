/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * TbAppSlot:
 * @address: the slot's first byte in the device's memory map; images are
 *   linked to start exactly here
 * @size_bytes: the largest image the slot holds
 *
 * A device's application slot, as its SBM defines it (docs/mailbox.md):
 * an image linked anywhere else is refused (status 0x8d), one larger than
 * the slot too (0x8c).
 */
typedef struct {
  guint32 address;
  guint32 size_bytes;
} TbAppSlot;

gboolean tb_app_slot_for_device_type (const char      *device_type,
                                      TbAppSlot       *slot);
gboolean tb_app_slot_check_image     (const TbAppSlot *slot,
                                      const char      *device,
                                      const char      *image,
                                      guint64          load_address,
                                      guint64          size_bytes,
                                      GError         **error);

G_END_DECLS
