/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "trustbench.h"

G_BEGIN_DECLS

#define TB_TYPE_PRODUCTION_PAGE (tb_production_page_get_type ())
G_DECLARE_FINAL_TYPE (TbProductionPage, tb_production_page, TB, PRODUCTION_PAGE, AdwBin)

void     tb_production_page_set_context   (TbProductionPage *self,
                                           TbContext        *context);
void     tb_production_page_refresh       (TbProductionPage *self);
void     tb_production_page_import        (TbProductionPage *self,
                                           const char       *path);
gboolean tb_production_page_select_probe  (TbProductionPage *self,
                                           const char       *uri);
void     tb_production_page_program_next  (TbProductionPage *self,
                                           const char       *passphrase);
guint    tb_production_page_get_n_results (TbProductionPage *self);
guint    tb_production_page_get_n_history (TbProductionPage *self);

void     tb_production_page_create_job    (TbProductionPage *self,
                                           const char       *upk_path);
gboolean tb_production_page_is_oem        (TbProductionPage *self);

gboolean tb_production_page_export_records (TbProductionPage *self,
                                           const char       *path,
                                           GError          **error);
gboolean tb_production_page_verify_records (TbProductionPage *self,
                                           const char       *path);

G_END_DECLS
