/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The application slot of a device: where the SBM runs an image from.
 *
 * Mastering checks an image against the slot of each device type it
 * knows, so that firmware linked for the wrong address is refused on the
 * developer's desk rather than by the device (status 0x8d), and
 * provisioning checks it against the slot the device itself reports
 * (tb_target_get_app_slot()) before it locks the device. */

#include "config.h"

#include "tb-app-slot.h"

#include <glib/gi18n-lib.h>

#include "sbm/tb-sbm.h"
#include "tb-error.h"

/* The device types whose memory map Trustbench knows: the virtual board's
 * (docs/board.md) and the QEMU board's (docs/qemu.md). The slot follows
 * from the flash the way the reference SBM lays it out. */
static const struct {
  const char *device_type;
  guint32 flash_base;
  guint32 flash_size;
  guint32 page_size;
} known_types[] = {
  { "tb-vmcu-m4", 0x08000000u, 1024u * 1024u, 4096u },
  /* the SBM on QEMU's mps2-an386, flash in its PSRAM (docs/qemu.md) */
  { "tb-qemu-an386", 0x21000000u, 1024u * 1024u, 4096u },
};

/**
 * tb_app_slot_for_device_type:
 * @slot: (out): the slot
 *
 * Returns: whether the memory map of @device_type is known
 */
gboolean
tb_app_slot_for_device_type (const char *device_type, TbAppSlot *slot)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_types); i++)
    if (g_strcmp0 (device_type, known_types[i].device_type) == 0)
      {
        TbSbmPlatform p = { 0 };

        p.flash_base = known_types[i].flash_base;
        p.flash_size = known_types[i].flash_size;
        p.page_size = known_types[i].page_size;
        slot->address = p.flash_base + tb_sbm_app_offset (&p);
        slot->size_bytes = tb_sbm_slot_size (&p);
        return TRUE;
      }
  return FALSE;
}

/**
 * tb_app_slot_check_image:
 * @device: names the slot's owner in the message: a device type or UID
 * @image: names the image in the message
 * @load_address: where the image is linked to start
 *
 * Checks that an image starts at the slot and fits in it.
 * %TB_ERROR_INVALID_DATA, naming both address ranges, when it does not.
 */
gboolean
tb_app_slot_check_image (const TbAppSlot *slot, const char *device, const char *image, guint64 load_address,
                         guint64 size_bytes, GError **error)
{
  guint64 slot_end = (guint64) slot->address + slot->size_bytes;

  if (load_address != slot->address)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("%s is linked at 0x%08" G_GINT64_MODIFIER "x–0x%08" G_GINT64_MODIFIER "x, but %s runs its "
                     "application from the slot 0x%08x–0x%08" G_GINT64_MODIFIER "x and refuses an image linked "
                     "anywhere else (status 0x8d): link it for 0x%08x"),
                   image, load_address, load_address + MAX (size_bytes, 1) - 1, device, slot->address, slot_end - 1,
                   slot->address);
      return FALSE;
    }
  if (size_bytes > slot->size_bytes)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("%s is %" G_GUINT64_FORMAT " bytes (0x%08" G_GINT64_MODIFIER "x–0x%08" G_GINT64_MODIFIER "x), "
                     "larger than the application slot of %s, 0x%08x–0x%08" G_GINT64_MODIFIER "x (%u bytes)"),
                   image, size_bytes, load_address, load_address + size_bytes - 1, device, slot->address,
                   slot_end - 1, slot->size_bytes);
      return FALSE;
    }
  return TRUE;
}
