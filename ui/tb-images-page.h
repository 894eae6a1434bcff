/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "trustbench.h"

G_BEGIN_DECLS

#define TB_TYPE_IMAGES_PAGE (tb_images_page_get_type ())
G_DECLARE_FINAL_TYPE (TbImagesPage, tb_images_page, TB, IMAGES_PAGE, AdwBin)

void        tb_images_page_set_context  (TbImagesPage *self,
                                         TbContext    *context);
void        tb_images_page_open_file    (TbImagesPage *self,
                                         const char   *path);
TbFirmware *tb_images_page_get_firmware (TbImagesPage *self);
void        tb_images_page_set_version  (TbImagesPage *self,
                                         const char   *version);
TbUpk      *tb_images_page_get_upk      (TbImagesPage *self);
guint       tb_images_page_count_checks (TbImagesPage *self,
                                         TbCheckStatus status);

guint       tb_images_page_get_n_mastered (TbImagesPage *self);
void        tb_images_page_export_mcuboot (TbImagesPage *self,
                                           const char   *upk_path,
                                           const char   *output);

G_END_DECLS
