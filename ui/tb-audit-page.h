/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "trustbench.h"

G_BEGIN_DECLS

#define TB_TYPE_AUDIT_PAGE (tb_audit_page_get_type ())
G_DECLARE_FINAL_TYPE (TbAuditPage, tb_audit_page, TB, AUDIT_PAGE, AdwBin)

void     tb_audit_page_set_context (TbAuditPage *self,
                                    TbContext   *context);
void     tb_audit_page_reload      (TbAuditPage *self);
gboolean tb_audit_page_is_valid    (TbAuditPage *self);
guint    tb_audit_page_get_n_shown (TbAuditPage *self);
const char *tb_audit_page_get_status (TbAuditPage *self);

G_END_DECLS
