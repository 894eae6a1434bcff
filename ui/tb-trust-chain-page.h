/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "tb-trust-view.h"

G_BEGIN_DECLS

#define TB_TYPE_TRUST_CHAIN_PAGE (tb_trust_chain_page_get_type ())
G_DECLARE_FINAL_TYPE (TbTrustChainPage, tb_trust_chain_page, TB, TRUST_CHAIN_PAGE, AdwBin)

void         tb_trust_chain_page_set_context (TbTrustChainPage *self,
                                              TbContext        *context);
void         tb_trust_chain_page_refresh     (TbTrustChainPage *self);
TbTrustView *tb_trust_chain_page_get_view    (TbTrustChainPage *self);
gboolean     tb_trust_chain_page_has_graph   (TbTrustChainPage *self);
void         tb_trust_chain_page_fit         (TbTrustChainPage *self);
GtkWidget   *tb_trust_chain_page_get_findings (TbTrustChainPage *self);
GtkRevealer *tb_trust_chain_page_get_details (TbTrustChainPage *self);
gboolean     tb_trust_chain_page_export_report (TbTrustChainPage *self,
                                              const char       *path,
                                              GError          **error);

G_END_DECLS
