/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Small pieces the pages share. */
#include "config.h"

#include "tb-ui-util.h"

#include <glib/gi18n.h>

/**
 * tb_ui_follow_context:
 * @owner: the page; @on_changed is called with it when the context changes
 * @slot: where the page keeps its context
 *
 * Makes the page show @context: drops the old one's "changed" handler,
 * keeps a reference to the new one and connects @on_changed to it.
 *
 * Returns: %FALSE if @context was already the page's (nothing to reload)
 */
gboolean
tb_ui_follow_context (gpointer owner, TbContext **slot, TbContext *context, GCallback on_changed)
{
  if (*slot == context)
    return FALSE;
  tb_ui_unfollow_context (owner, slot);
  g_set_object (slot, context);
  if (context != NULL)
    g_signal_connect_swapped (context, "changed", on_changed, owner);
  return TRUE;
}

/**
 * tb_ui_unfollow_context:
 *
 * Disconnects the page from its context and drops it (for dispose).
 */
void
tb_ui_unfollow_context (gpointer owner, TbContext **slot)
{
  if (*slot != NULL)
    g_signal_handlers_disconnect_by_data (*slot, owner);
  g_clear_object (slot);
}

/**
 * tb_ui_show_error:
 *
 * Explains @error in a dialog over @widget's window.
 */
void
tb_ui_show_error (GtkWidget *widget, const char *heading, const GError *error)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), heading, error->message);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

void
tb_ui_clear_list (GtkListBox *list)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, child);
}

/**
 * tb_ui_property_row_new:
 *
 * Returns: (transfer floating): a row showing @title over @value (plain
 *   text, never markup)
 */
GtkWidget *
tb_ui_property_row_new (const char *title, const char *value)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), value);
  gtk_widget_add_css_class (row, "property");
  return row;
}

void
tb_ui_add_property (GtkListBox *list, const char *title, const char *value)
{
  gtk_list_box_append (list, tb_ui_property_row_new (title, value));
}
