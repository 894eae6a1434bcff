/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "trustbench.h"

G_BEGIN_DECLS

#define TB_TYPE_KEYS_PAGE (tb_keys_page_get_type ())
G_DECLARE_FINAL_TYPE (TbKeysPage, tb_keys_page, TB, KEYS_PAGE, AdwBin)

TbContext *tb_keys_page_get_context     (TbKeysPage *self);
void       tb_keys_page_set_context     (TbKeysPage *self,
                                         TbContext  *context);
guint      tb_keys_page_get_n_keys      (TbKeysPage *self);
guint      tb_keys_page_get_n_tokens    (TbKeysPage *self);
guint      tb_keys_page_get_n_certs     (TbKeysPage *self);
guint      tb_keys_page_get_n_findings  (TbKeysPage *self);
gboolean   tb_keys_page_select          (TbKeysPage *self,
                                         const char *kind,
                                         const char *name);
char      *tb_keys_page_dup_details_title (TbKeysPage *self);
void       tb_keys_page_ask_issue_from_csr (TbKeysPage *self,
                                            const char *csr_path);

G_END_DECLS
