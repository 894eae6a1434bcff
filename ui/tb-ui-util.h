/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "trustbench.h"

G_BEGIN_DECLS

gboolean tb_ui_follow_context   (gpointer     owner,
                                 TbContext  **slot,
                                 TbContext   *context,
                                 GCallback    on_changed);
void     tb_ui_unfollow_context (gpointer     owner,
                                 TbContext  **slot);
void     tb_ui_show_error       (GtkWidget   *widget,
                                 const char  *heading,
                                 const GError *error);
void     tb_ui_clear_list       (GtkListBox  *list);
GtkWidget *tb_ui_property_row_new (const char *title,
                                 const char  *value);
void     tb_ui_add_property     (GtkListBox  *list,
                                 const char  *title,
                                 const char  *value);

/**
 * TbUiPathFunc:
 * @owner: the widget that asked
 * @path: the file or folder chosen
 */
typedef void (*TbUiPathFunc) (gpointer owner, const char *path);

void     tb_ui_choose_file      (GtkWidget   *owner,
                                 const char  *title,
                                 GtkFileChooserAction action,
                                 const char  *accept_label,
                                 const char  *filter_name,
                                 const char *const *patterns,
                                 const char  *suggested_name,
                                 TbUiPathFunc chosen);

void     tb_ui_name_split_button_arrow (AdwSplitButton *button);

G_END_DECLS
