/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * TbFirmwareFormat:
 * @TB_FIRMWARE_FORMAT_AUTO: guess from the file name, then the contents
 * @TB_FIRMWARE_FORMAT_BIN: raw binary; needs a load address
 * @TB_FIRMWARE_FORMAT_IHEX: Intel HEX (record types 00–05)
 * @TB_FIRMWARE_FORMAT_SREC: Motorola S-records (S0–S9)
 * @TB_FIRMWARE_FORMAT_ELF: ELF32/ELF64, PT_LOAD segments at their
 *   physical address
 */
typedef enum {
  TB_FIRMWARE_FORMAT_AUTO,
  TB_FIRMWARE_FORMAT_BIN,
  TB_FIRMWARE_FORMAT_IHEX,
  TB_FIRMWARE_FORMAT_SREC,
  TB_FIRMWARE_FORMAT_ELF,
} TbFirmwareFormat;

/* Gaps up to this size are filled with the erased value; segments farther
 * apart (flash plus a configuration block, say) are refused. */
#define TB_FIRMWARE_MAX_GAP_BYTES (16u * 1024u * 1024u)
/* Largest flat image accepted. */
#define TB_FIRMWARE_MAX_IMAGE_BYTES (G_GUINT64_CONSTANT (1) << 30)
/* Largest text (HEX/SREC) or ELF file parsed in memory. */
#define TB_FIRMWARE_MAX_FILE_BYTES (512u * 1024u * 1024u)
#define TB_FIRMWARE_ERASED_VALUE 0xFF
#define TB_FIRMWARE_NO_ADDRESS G_MAXUINT64
/* The devices are 32-bit: every loaded byte lies below this address. */
#define TB_FIRMWARE_ADDRESS_LIMIT (G_GUINT64_CONSTANT (1) << 32)

#define TB_TYPE_FIRMWARE (tb_firmware_get_type ())
G_DECLARE_FINAL_TYPE (TbFirmware, tb_firmware, TB, FIRMWARE, GObject)

TbFirmware      *tb_firmware_load_file        (const char        *path,
                                               TbFirmwareFormat   format,
                                               guint64            load_address,
                                               GError           **error);
TbFirmware      *tb_firmware_parse            (const guint8      *data,
                                               gsize              len,
                                               TbFirmwareFormat   format,
                                               const char        *origin,
                                               GError           **error);

TbFirmwareFormat tb_firmware_get_format       (TbFirmware        *self);
const char      *tb_firmware_get_origin       (TbFirmware        *self);
guint64          tb_firmware_get_base_address (TbFirmware        *self);
guint64          tb_firmware_get_size         (TbFirmware        *self);
guint            tb_firmware_get_n_segments   (TbFirmware        *self);
gboolean         tb_firmware_get_segment      (TbFirmware        *self,
                                               guint              index,
                                               guint64           *address,
                                               guint64           *size);
gboolean         tb_firmware_has_entry_point  (TbFirmware        *self);
guint64          tb_firmware_get_entry_point  (TbFirmware        *self);
gboolean         tb_firmware_read             (TbFirmware        *self,
                                               guint64            offset,
                                               guint8            *buf,
                                               gsize              len,
                                               GError           **error);
char            *tb_firmware_compute_sha256   (TbFirmware        *self,
                                               GCancellable      *cancellable,
                                               GError           **error);

const char      *tb_firmware_format_to_string (TbFirmwareFormat   format);
gboolean         tb_firmware_format_from_string (const char      *text,
                                               TbFirmwareFormat  *format,
                                               GError           **error);
TbFirmwareFormat tb_firmware_guess_format     (const char        *path,
                                               const guint8      *head,
                                               gsize              head_len);

G_END_DECLS
