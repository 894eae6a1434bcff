/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "trustbench.h"

G_BEGIN_DECLS

gboolean tb_ui_follow_context   (gpointer     owner,
                                 TbContext  **slot,
                                 TbContext   *context,
                                 GCallback    on_changed);
void     tb_ui_unfollow_context (gpointer     owner,
                                 TbContext  **slot);

G_END_DECLS
