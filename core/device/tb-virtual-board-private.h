/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What the pieces of TbVirtualBoard share (tb-virtual-board.c: board.json,
 * identity; tb-virtual-board-flash.c: the flash and debug access;
 * tb-virtual-board-sbm.c: the SBM running on the board): its fields. */

#include "tb-virtual-board.h"

#include "sbm/tb-sbm.h"
#include "tb-file.h"

G_BEGIN_DECLS

struct _TbVirtualBoard {
  GObject parent_instance;

  char *path;
  char *json_path;
  TbLock *lock;               /* held while the object lives: one user at a time */
  JsonObject *root;
  guint8 *flash;
  guint32 flash_size;
  guint32 page_size;
  int flash_fd;
  guint8 *ram;                /* TB_BOARD_RAM_SIZE bytes, not persisted */
  guint64 flash_ops;
  gint64 power_loss_after;    /* ops left before power is lost; -1 = never */
  TbPowerCut power_cut;       /* how the operation that loses power ends */
  guint32 power_cut_seed;     /* draws what a torn operation leaves */
  gboolean powered;

  /* the SBM, running "on" the board once a genuine SBM image is in flash */
  TbSbm *sbm;
  TbSbmPlatform platform;
  gboolean sbm_running;
  gboolean halted;            /* the core is stopped by the debugger */
  gboolean boot_pending;      /* halted at reset: the ROM has not run yet */
  gboolean doorbell_pending;  /* the command word was written while halted */
  gboolean otp_dirty;
};

G_END_DECLS
