/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-adiv5.h"
#include "tb-cmsis-dap.h"
#include "tb-probe.h"

G_BEGIN_DECLS

#define TB_CMSIS_DAP_DEFAULT_CLOCK_HZ 4000000u

#define TB_TYPE_CMSIS_DAP_PROBE (tb_cmsis_dap_probe_get_type ())
G_DECLARE_FINAL_TYPE (TbCmsisDapProbe, tb_cmsis_dap_probe, TB, CMSIS_DAP_PROBE, TbProbe)

TbProbe    *tb_cmsis_dap_probe_new_for_transport (TbDapExchangeFunc exchange,
                                                  gpointer       data,
                                                  GDestroyNotify destroy,
                                                  const char    *uri,
                                                  GError       **error);
TbDap      *tb_cmsis_dap_probe_get_dap     (TbCmsisDapProbe *self);
TbAdiv5    *tb_cmsis_dap_probe_get_adiv5   (TbCmsisDapProbe *self);
const char *tb_cmsis_dap_probe_get_firmware (TbCmsisDapProbe *self);
guint32     tb_cmsis_dap_probe_get_idcode  (TbCmsisDapProbe *self);
guint32     tb_cmsis_dap_probe_get_ap_idr  (TbCmsisDapProbe *self);
guint32     tb_cmsis_dap_probe_get_cpuid   (TbCmsisDapProbe *self);
guint32     tb_cmsis_dap_probe_get_clock   (TbCmsisDapProbe *self);
char       *tb_cmsis_dap_probe_describe    (TbCmsisDapProbe *self);

G_END_DECLS
