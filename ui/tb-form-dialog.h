/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* A message dialog holding a short form (entries, passphrases, choices),
 * for the workbench's small questions: which name, which usage, which
 * passphrase. Passphrase entries never show their text. */

GtkWidget  *tb_form_dialog_new          (GtkWindow   *parent,
                                         const char  *heading,
                                         const char  *body,
                                         const char  *accept_label);
void        tb_form_dialog_add_entry    (GtkWidget   *dialog,
                                         const char  *id,
                                         const char  *title,
                                         const char  *text);
void        tb_form_dialog_add_password (GtkWidget   *dialog,
                                         const char  *id,
                                         const char  *title);
void        tb_form_dialog_add_choice   (GtkWidget   *dialog,
                                         const char  *id,
                                         const char  *title,
                                         const char *const *choices,
                                         guint        selected);
const char *tb_form_dialog_get_text     (GtkWidget   *dialog,
                                         const char  *id);
char       *tb_form_dialog_dup_choice   (GtkWidget   *dialog,
                                         const char  *id);
guint       tb_form_dialog_get_selected (GtkWidget   *dialog,
                                         const char  *id);
void        tb_form_dialog_clear_secrets (GtkWidget  *dialog);

G_END_DECLS
