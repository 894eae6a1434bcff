/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-probe.h"

G_BEGIN_DECLS

GPtrArray *tb_cmsis_dap_usb_list (GError     **error);
TbProbe   *tb_cmsis_dap_usb_open (const char  *serial,
                                  GError     **error);

/**
 * TbUsbWatch:
 *
 * Notices USB devices plugged in or out through libusb's hotplug events.
 */
typedef struct _TbUsbWatch TbUsbWatch;
typedef void (*TbUsbChangedFunc) (gpointer user_data);

TbUsbWatch *tb_usb_watch_new  (TbUsbChangedFunc  changed,
                               gpointer          user_data,
                               GError          **error);
void        tb_usb_watch_free (TbUsbWatch       *watch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbUsbWatch, tb_usb_watch_free)

G_END_DECLS
