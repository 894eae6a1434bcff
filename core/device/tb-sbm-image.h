/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Where the SBM image goes: the start of flash on every supported device
 * (TB_BOARD_FLASH_BASE on the virtual board). */
#define TB_SBM_IMAGE_ADDRESS 0x08000000u

GBytes *tb_sbm_image_build (void);

G_END_DECLS
