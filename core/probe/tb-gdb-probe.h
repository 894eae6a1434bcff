/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-gdb-remote.h"
#include "tb-probe.h"

G_BEGIN_DECLS

#define TB_TYPE_GDB_PROBE (tb_gdb_probe_get_type ())
G_DECLARE_FINAL_TYPE (TbGdbProbe, tb_gdb_probe, TB, GDB_PROBE, TbProbe)

TbProbe     *tb_gdb_probe_open           (const char  *address,
                                          GError     **error);
TbProbe     *tb_gdb_probe_new_for_stream (GIOStream   *stream,
                                          const char  *address,
                                          GError     **error);
TbGdbRemote *tb_gdb_probe_get_remote     (TbGdbProbe  *self);
guint32      tb_gdb_probe_get_cpuid      (TbGdbProbe  *self);
gboolean     tb_gdb_probe_has_monitor_reset (TbGdbProbe *self);
char        *tb_gdb_probe_describe       (TbGdbProbe  *self);

G_END_DECLS
