/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "tb-form-dialog.h"

#include <glib/gi18n.h>

static GtkListBox *
get_list (GtkWidget *dialog)
{
  return g_object_get_data (G_OBJECT (dialog), "tb-form-list");
}

/**
 * tb_form_dialog_new:
 *
 * Returns: (transfer floating): a dialog with the responses "cancel" and
 *   "accept"; connect to #AdwMessageDialog::response and present it
 */
GtkWidget *
tb_form_dialog_new (GtkWindow *parent, const char *heading, const char *body, const char *accept_label)
{
  GtkWidget *dialog = adw_message_dialog_new (parent, heading, body);
  GtkWidget *list = gtk_list_box_new ();

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  gtk_widget_set_size_request (list, 360, -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), list);
  g_object_set_data (G_OBJECT (dialog), "tb-form-list", list);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "accept", accept_label, NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "accept", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "accept");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  return dialog;
}

void
tb_form_dialog_add_entry (GtkWidget *dialog, const char *id, const char *title, const char *text)
{
  GtkWidget *row = adw_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (text != NULL)
    gtk_editable_set_text (GTK_EDITABLE (row), text);
  gtk_list_box_append (get_list (dialog), row);
  g_object_set_data (G_OBJECT (dialog), id, row);
}

void
tb_form_dialog_add_password (GtkWidget *dialog, const char *id, const char *title)
{
  GtkWidget *row = adw_password_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_list_box_append (get_list (dialog), row);
  g_object_set_data (G_OBJECT (dialog), id, row);
}

void
tb_form_dialog_add_choice (GtkWidget *dialog, const char *id, const char *title, const char *const *choices,
                           guint selected)
{
  GtkWidget *row = adw_combo_row_new ();
  GtkStringList *model = gtk_string_list_new (choices);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (model));
  adw_combo_row_set_selected (ADW_COMBO_ROW (row), selected);
  g_object_unref (model);
  gtk_list_box_append (get_list (dialog), row);
  g_object_set_data (G_OBJECT (dialog), id, row);
}

const char *
tb_form_dialog_get_text (GtkWidget *dialog, const char *id)
{
  GtkEditable *row = g_object_get_data (G_OBJECT (dialog), id);

  g_return_val_if_fail (row != NULL, NULL);
  return gtk_editable_get_text (row);
}

char *
tb_form_dialog_dup_choice (GtkWidget *dialog, const char *id)
{
  AdwComboRow *row = g_object_get_data (G_OBJECT (dialog), id);
  GObject *item;

  g_return_val_if_fail (row != NULL, NULL);
  item = adw_combo_row_get_selected_item (row);
  return item != NULL ? g_strdup (gtk_string_object_get_string (GTK_STRING_OBJECT (item))) : NULL;
}

/**
 * tb_form_dialog_get_selected:
 *
 * Returns: the position of the choice @id's selected item
 */
guint
tb_form_dialog_get_selected (GtkWidget *dialog, const char *id)
{
  AdwComboRow *row = g_object_get_data (G_OBJECT (dialog), id);

  g_return_val_if_fail (row != NULL, GTK_INVALID_LIST_POSITION);
  return adw_combo_row_get_selected (row);
}

/**
 * tb_form_dialog_clear_secrets:
 *
 * Empties every passphrase entry (call once their text is copied).
 */
void
tb_form_dialog_clear_secrets (GtkWidget *dialog)
{
  GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (get_list (dialog)));

  for (; row != NULL; row = gtk_widget_get_next_sibling (row))
    if (ADW_IS_PASSWORD_ENTRY_ROW (row))
      gtk_editable_set_text (GTK_EDITABLE (row), "");
}
