/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-context.h"
#include "tb-firmware.h"
#include "tb-image.h"
#include "tb-key.h"
#include "tb-progress.h"
#include "tb-upk.h"

G_BEGIN_DECLS

typedef struct {
  const char *product;
  const char *const *device_types;
  const char *const *device_uids;
  const char *version;
  guint32 security_counter;
  guint32 chunk_size;            /* 0: TB_IMAGE_DEFAULT_CHUNK_SIZE */
  gboolean sync;                 /* flush the image to disk before returning */
  gboolean replace;              /* replace an existing pair at the destinations */
  gboolean allow_outside_slot;   /* an image outside a known device type's
                                    application slot is a warning (logged
                                    to the progress), not an error */
} TbMasterOptions;

gboolean tb_master_check_destinations (const char      *image_path,
                                       const char      *upk_path,
                                       GError         **error);
TbUpk   *tb_master_image        (TbContext             *ctx,
                                 TbFirmware            *firmware,
                                 const TbMasterOptions *options,
                                 const char            *passphrase,
                                 const char            *image_path,
                                 const char            *upk_path,
                                 TbProgress            *progress,
                                 GError               **error);

G_END_DECLS
