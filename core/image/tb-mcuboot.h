/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-context.h"
#include "tb-firmware.h"
#include "tb-progress.h"

G_BEGIN_DECLS

/* MCUboot image format constants (docs/mcuboot.md). */
#define TB_MCUBOOT_IMAGE_MAGIC 0x96f3b83du
#define TB_MCUBOOT_TLV_INFO_MAGIC 0x6907u
#define TB_MCUBOOT_TLV_PROT_INFO_MAGIC 0x6908u
#define TB_MCUBOOT_TLV_KEYHASH 0x01u
#define TB_MCUBOOT_TLV_SHA256 0x10u
#define TB_MCUBOOT_TLV_ECDSA_SIG 0x22u
#define TB_MCUBOOT_TLV_ENC_EC256 0x32u
#define TB_MCUBOOT_TLV_SEC_CNT 0x50u
#define TB_MCUBOOT_F_ENCRYPTED_AES128 0x04u
#define TB_MCUBOOT_DEFAULT_HEADER_SIZE 0x200u

typedef struct {
  const char *version;          /* MAJOR.MINOR.PATCH[+BUILD] */
  guint32 security_counter;
  guint32 header_size;          /* 0: TB_MCUBOOT_DEFAULT_HEADER_SIZE */
  const char *encrypt_for;      /* product whose key receives the image key, or NULL */
} TbMcubootOptions;

gboolean tb_mcuboot_export (TbContext              *ctx,
                            TbFirmware             *firmware,
                            const TbMcubootOptions *options,
                            const char             *passphrase,
                            const char             *output,
                            TbProgress             *progress,
                            GError                **error);

gboolean tb_mcuboot_export_mastered (TbContext      *ctx,
                                     const char     *upk_path,
                                     const char     *image_path,
                                     const char     *passphrase,
                                     const char     *output,
                                     TbProgress     *progress,
                                     GError        **error);

G_END_DECLS
