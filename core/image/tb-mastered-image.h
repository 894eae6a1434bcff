/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-context.h"

G_BEGIN_DECLS

/**
 * TbMasteredImage:
 * @image_id: the image's id (32 hex digits)
 * @product: the product whose key the image key is wrapped for
 * @version: the image version (MAJOR.MINOR.PATCH)
 * @security_counter: the anti-rollback counter
 * @created: when it was mastered (UTC)
 * @signer: (nullable): the subject of the certificate that signed the UPK,
 *   when the UPK can still be read
 * @image_path: the encrypted image (.tbimg), absolute
 * @upk_path: the update protection key (.tbupk), absolute
 * @plaintext_sha256: the SHA-256 of the firmware that was mastered
 * @files_present: both files are still where mastering wrote them
 *
 * An image mastered in this context, as its audit log records it.
 */
typedef struct {
  char *image_id;
  char *product;
  char *version;
  guint32 security_counter;
  GDateTime *created;
  char *signer;
  char *image_path;
  char *upk_path;
  char *plaintext_sha256;
  gboolean files_present;
} TbMasteredImage;

void       tb_mastered_image_free (TbMasteredImage *image);
GPtrArray *tb_mastered_image_list (TbContext       *ctx,
                                   GError         **error);
char      *tb_mastered_image_dup_title (const TbMasteredImage *image);
void       tb_mastered_image_build_paths (const char   *output_dir,
                                          const char   *input_path,
                                          const char   *version,
                                          const char   *name,
                                          char        **image_path,
                                          char        **upk_path);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbMasteredImage, tb_mastered_image_free)

G_END_DECLS
