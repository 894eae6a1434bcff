/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-probe.h"

G_BEGIN_DECLS

GPtrArray *tb_cmsis_dap_usb_list (GError     **error);
TbProbe   *tb_cmsis_dap_usb_open (const char  *serial,
                                  GError     **error);

G_END_DECLS
