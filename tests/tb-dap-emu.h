/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "trustbench.h"
#include "tb-virtual-board.h"

G_BEGIN_DECLS

typedef struct _TbDapEmu TbDapEmu;

TbDapEmu *tb_dap_emu_new          (TbVirtualBoard *board,
                                   guint16         packet_size,
                                   guint8          packet_count,
                                   const char     *serial);
void      tb_dap_emu_free         (TbDapEmu       *emu);
guint64   tb_dap_emu_get_commands (TbDapEmu       *emu);
gsize     tb_dap_emu_command      (TbDapEmu       *emu,
                                   const guint8   *request,
                                   gsize           len,
                                   guint8         *response);
gboolean  tb_dap_emu_exchange     (gpointer        data,
                                   const guint8   *request,
                                   gsize           request_len,
                                   guint8         *response,
                                   gsize           cap,
                                   gsize          *response_len,
                                   guint           timeout_ms,
                                   GError        **error);

gboolean  tb_dap_emu_send         (gpointer        data,
                                   const guint8   *request,
                                   gsize           request_len,
                                   guint           timeout_ms,
                                   GError        **error);
gboolean  tb_dap_emu_receive      (gpointer        data,
                                   guint8         *response,
                                   gsize           cap,
                                   gsize          *response_len,
                                   guint           timeout_ms,
                                   GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbDapEmu, tb_dap_emu_free)

G_END_DECLS
