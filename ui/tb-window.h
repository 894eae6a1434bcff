/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "tb-audit-page.h"
#include "tb-devices-page.h"
#include "tb-production-page.h"
#include "tb-trust-chain-page.h"
#include "tb-images-page.h"
#include "tb-keys-page.h"
#include "trustbench.h"

G_BEGIN_DECLS

#define TB_TYPE_WINDOW (tb_window_get_type ())
G_DECLARE_FINAL_TYPE (TbWindow, tb_window, TB, WINDOW, AdwApplicationWindow)

typedef TbWorkFunc TbWindowWorkFunc;

TbWindow   *tb_window_new              (AdwApplication *app);
void        tb_window_open_context     (TbWindow       *self,
                                        const char     *path);
void        tb_window_open_demo        (TbWindow       *self);
void        tb_window_close_context    (TbWindow       *self);
TbContext  *tb_window_get_context      (TbWindow       *self);
char       *tb_window_dup_context_subtitle (TbWindow   *self);
gboolean    tb_window_is_busy          (TbWindow       *self);
TbKeysPage *tb_window_get_keys_page    (TbWindow       *self);
TbImagesPage *tb_window_get_images_page (TbWindow     *self);
TbDevicesPage *tb_window_get_devices_page (TbWindow   *self);
TbProductionPage *tb_window_get_production_page (TbWindow *self);
TbAuditPage *tb_window_get_audit_page (TbWindow   *self);
TbTrustChainPage *tb_window_get_trust_chain_page (TbWindow *self);
GStrv       tb_window_dup_page_names   (TbWindow       *self);
const char *tb_window_get_visible_page (TbWindow       *self);
gboolean    tb_window_show_page        (TbWindow       *self,
                                        const char     *name);
void        tb_window_add_toast        (TbWindow       *self,
                                        const char     *message);
void        tb_window_run_work         (TbWindow       *self,
                                        const char     *title,
                                        TbWindowWorkFunc func,
                                        gpointer        data,
                                        GDestroyNotify  data_free,
                                        GAsyncReadyCallback callback,
                                        gpointer        user_data);
gboolean    tb_window_run_work_finish  (TbWindow       *self,
                                        GAsyncResult   *result,
                                        GError        **error);

G_END_DECLS
