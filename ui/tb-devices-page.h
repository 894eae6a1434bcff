/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "trustbench.h"

G_BEGIN_DECLS

#define TB_TYPE_DEVICES_PAGE (tb_devices_page_get_type ())
G_DECLARE_FINAL_TYPE (TbDevicesPage, tb_devices_page, TB, DEVICES_PAGE, AdwBin)

void           tb_devices_page_set_context  (TbDevicesPage *self,
                                             TbContext     *context);
void           tb_devices_page_refresh      (TbDevicesPage *self);
char          *tb_devices_page_new_board    (TbDevicesPage *self,
                                             GError       **error);
gboolean       tb_devices_page_select       (TbDevicesPage *self,
                                             const char    *uri);
void           tb_devices_page_program      (TbDevicesPage *self,
                                             const char    *upk_path);
TbAttestation *tb_devices_page_get_attestation (TbDevicesPage *self);
guint          tb_devices_page_get_n_probes (TbDevicesPage *self);
gboolean       tb_devices_page_watches_usb  (TbDevicesPage *self);

void           tb_devices_page_offer_image  (TbDevicesPage *self,
                                             const char    *upk_path);
const char    *tb_devices_page_get_offered_image (TbDevicesPage *self);

G_END_DECLS
