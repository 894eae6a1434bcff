/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-probe.h"
#include "tb-lifecycle.h"

G_BEGIN_DECLS

/* the simulated board itself (device/tb-virtual-board.h), for core and tests */
typedef struct _TbVirtualBoard TbVirtualBoard;

#define TB_TYPE_VIRTUAL_PROBE (tb_virtual_probe_get_type ())
G_DECLARE_FINAL_TYPE (TbVirtualProbe, tb_virtual_probe, TB, VIRTUAL_PROBE, TbProbe)

TbProbe        *tb_virtual_probe_open      (const char     *board_path,
                                            GError        **error);
TbVirtualBoard *tb_virtual_probe_get_board (TbVirtualProbe *self);
TbProbeInfo    *tb_virtual_probe_peek      (const char     *board_path,
                                            GError        **error);

/**
 * TbBoardInfo:
 * @uri: the board's probe URI ("virtual:PATH")
 * @path: its directory
 * @uid: its unique ID, hex
 * @device_type: its device type
 * @lifecycle: its lifecycle
 * @device_public_key: its device key's public point, hex
 *
 * What a front end learns of a virtual board it made or acted on.
 */
typedef struct {
  char *uri;
  char *path;
  char *uid;
  char *device_type;
  TbLifecycle lifecycle;
  char *device_public_key;
} TbBoardInfo;

void            tb_board_info_free         (TbBoardInfo    *info);
TbBoardInfo    *tb_virtual_probe_create_board (const char  *path,
                                            const char     *device_type,
                                            guint32         flash_size,
                                            guint32         page_size,
                                            const char     *uid_hex,
                                            GError        **error);
TbBoardInfo    *tb_virtual_probe_stage_update (const char  *path,
                                            const guint8   *upk,
                                            gsize           upk_len,
                                            const guint8   *image,
                                            gsize           image_len,
                                            GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbBoardInfo, tb_board_info_free)

G_END_DECLS
