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

static void
choose_file_cb (GtkNativeDialog *chooser, int response, GtkWidget *owner)
{
  TbUiPathFunc chosen = (TbUiPathFunc) g_object_get_data (G_OBJECT (chooser), "tb-chosen");
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  if (file != NULL && (path = g_file_get_path (file)) != NULL)
    chosen (owner, path);
  g_object_unref (chooser);
  g_object_unref (owner);
}

/**
 * tb_ui_choose_file:
 * @filter_name: (nullable): the name of a filter made of @patterns
 * @suggested_name: (nullable): the name proposed when saving
 * @chosen: called with the path when the user accepts
 *
 * Runs a modal native file chooser for @owner.
 */
void
tb_ui_choose_file (GtkWidget *owner, const char *title, GtkFileChooserAction action, const char *accept_label,
                   const char *filter_name, const char *const *patterns, const char *suggested_name,
                   TbUiPathFunc chosen)
{
  GtkRoot *root = gtk_widget_get_root (owner);
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                               action, accept_label, _("_Cancel"));

  if (filter_name != NULL)
    {
      GtkFileFilter *filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (filter, filter_name);
      for (const char *const *p = patterns; p != NULL && *p != NULL; p++)
        gtk_file_filter_add_pattern (filter, *p);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
      g_object_unref (filter);
    }
  if (suggested_name != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), suggested_name);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_object_set_data (G_OBJECT (chooser), "tb-chosen", (gpointer) chosen);
  g_signal_connect (chooser, "response", G_CALLBACK (choose_file_cb), g_object_ref (owner));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/**
 * tb_ui_name_split_button_arrow:
 *
 * Gives the arrow of @button (a menu button inside it) its dropdown
 * tooltip as accessible name: GTK 4.8 reads a tooltip to no one, and
 * libadwaita 1.2 names the arrow nothing, so a screen reader heard
 * "GtkMenuButton".
 */
void
tb_ui_name_split_button_arrow (AdwSplitButton *button)
{
  const char *name = adw_split_button_get_dropdown_tooltip (button);

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (button)); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_MENU_BUTTON (child) && name != NULL)
      gtk_accessible_update_property (GTK_ACCESSIBLE (child), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
}
