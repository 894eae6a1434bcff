/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-probe.h"
#include "tb-virtual-board.h"

G_BEGIN_DECLS

#define TB_TYPE_VIRTUAL_PROBE (tb_virtual_probe_get_type ())
G_DECLARE_FINAL_TYPE (TbVirtualProbe, tb_virtual_probe, TB, VIRTUAL_PROBE, TbProbe)

TbProbe        *tb_virtual_probe_open      (const char     *board_path,
                                            GError        **error);
TbVirtualBoard *tb_virtual_probe_get_board (TbVirtualProbe *self);
TbProbeInfo    *tb_virtual_probe_peek      (const char     *board_path,
                                            GError        **error);

G_END_DECLS
