/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The main window: a welcome page when no context is open, otherwise a
 * sidebar of pages (built from the page stack of the template) and a
 * progress panel for long work, which runs in a GTask thread. */

#include "config.h"

#include "tb-window.h"

#include <glib/gi18n.h>

#include "tb-application.h"
#include "tb-audit-page.h"
#include "tb-devices-page.h"
#include "tb-production-page.h"
#include "tb-trust-chain-page.h"
#include "tb-ui-util.h"
#include "tb-images-page.h"
#include "tb-keys-page.h"
#include "tb-work-host.h"

struct _TbWindow {
  AdwApplicationWindow parent_instance;

  AdwToastOverlay *toast_overlay;
  GtkStack *main_stack;
  AdwLeaflet *leaflet;
  GtkWidget *content;
  GtkListBox *sidebar_list;
  GtkStack *page_stack;
  AdwWindowTitle *window_title;
  AdwPreferencesGroup *recent_group;
  GtkListBox *recent_list;
  GtkRevealer *progress_revealer;
  GtkProgressBar *progress_bar;
  GtkTextView *log_view;
  TbKeysPage *keys_page;
  TbImagesPage *images_page;
  TbDevicesPage *devices_page;
  TbProductionPage *production_page;
  TbAuditPage *audit_page;
  TbTrustChainPage *trust_chain_page;

  TbContext *context;
  GCancellable *operation;       /* non-NULL while long work runs */
  TbProgress *progress;
  GCancellable *open_cancellable;
};

static void tb_window_work_host_init (TbWorkHostInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TbWindow, tb_window, ADW_TYPE_APPLICATION_WINDOW,
                               G_IMPLEMENT_INTERFACE (TB_TYPE_WORK_HOST, tb_window_work_host_init))

enum { PROP_0, PROP_CONTEXT, PROP_BUSY, N_PROPS };
static GParamSpec *props[N_PROPS];

static void update_actions (TbWindow *self);

TbContext *
tb_window_get_context (TbWindow *self)
{
  g_return_val_if_fail (TB_IS_WINDOW (self), NULL);
  return self->context;
}

gboolean
tb_window_is_busy (TbWindow *self)
{
  g_return_val_if_fail (TB_IS_WINDOW (self), FALSE);
  return self->operation != NULL || self->open_cancellable != NULL;
}

void
tb_window_add_toast (TbWindow *self, const char *message)
{
  AdwToast *toast = adw_toast_new (message);

  adw_toast_set_timeout (toast, 4);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* ---- pages ---- */

static void
row_activate_cb (GtkWidget *row)
{
  gtk_widget_activate (row);
}

/* GTK 4.8 gives list rows no accessible action: a row that carries its own
 * "row.activate" action is offered to assistive technologies with it (and
 * activating it selects the row, as a click does). */
static void
make_row_accessible_activatable (GtkWidget *row)
{
  g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new ();
  g_autoptr(GSimpleAction) activate = g_simple_action_new ("activate", NULL);

  g_signal_connect_object (activate, "activate", G_CALLBACK (row_activate_cb), row, G_CONNECT_SWAPPED);
  g_action_map_add_action (G_ACTION_MAP (group), G_ACTION (activate));
  gtk_widget_insert_action_group (row, "row", G_ACTION_GROUP (group));
}

static GtkWidget *
sidebar_row_new (GtkStackPage *page)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *image = gtk_image_new_from_icon_name (gtk_stack_page_get_icon_name (page));
  GtkWidget *label = gtk_label_new (gtk_stack_page_get_title (page));

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (box), image);
  gtk_box_append (GTK_BOX (box), label);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_widget_set_name (row, gtk_stack_page_get_name (page));
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  gtk_stack_page_get_title (page), -1);
  make_row_accessible_activatable (row);
  return row;
}

static void
build_sidebar (TbWindow *self)
{
  g_autoptr(GtkSelectionModel) pages = gtk_stack_get_pages (self->page_stack);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (pages));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (G_LIST_MODEL (pages), i);
      gtk_list_box_append (self->sidebar_list, sidebar_row_new (GTK_STACK_PAGE (item)));
    }
  gtk_list_box_select_row (self->sidebar_list, gtk_list_box_get_row_at_index (self->sidebar_list, 0));
}

static void
sidebar_row_selected_cb (TbWindow *self, GtkListBoxRow *row)
{
  if (row == NULL)
    return;
  gtk_stack_set_visible_child_name (self->page_stack, gtk_widget_get_name (GTK_WIDGET (row)));
  /* images and devices are made by other pages: show the chain as it is now */
  if (g_strcmp0 (gtk_widget_get_name (GTK_WIDGET (row)), "trust-chain") == 0)
    tb_trust_chain_page_refresh (self->trust_chain_page);
}

static void
sidebar_row_activated_cb (TbWindow *self, GtkListBoxRow *row)
{
  adw_leaflet_set_visible_child (self->leaflet, self->content);
}

/**
 * tb_window_dup_page_names:
 *
 * Returns: (transfer full): the names of the pages, in sidebar order
 */
GStrv
tb_window_dup_page_names (TbWindow *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GtkSelectionModel) pages = gtk_stack_get_pages (self->page_stack);

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (pages)); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (G_LIST_MODEL (pages), i);
      g_strv_builder_add (builder, gtk_stack_page_get_name (GTK_STACK_PAGE (item)));
    }
  return g_strv_builder_end (builder);
}

const char *
tb_window_get_visible_page (TbWindow *self)
{
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->main_stack), "context") != 0)
    return gtk_stack_get_visible_child_name (self->main_stack);
  return gtk_stack_get_visible_child_name (self->page_stack);
}

/**
 * tb_window_show_page:
 * @name: a page name ("trust-chain", "keys", "images", "devices",
 *   "production", "audit")
 *
 * Returns: %FALSE if there is no such page or no context is open
 */
gboolean
tb_window_show_page (TbWindow *self, const char *name)
{
  GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->sidebar_list));

  if (self->context == NULL)
    return FALSE;
  for (; row != NULL; row = gtk_widget_get_next_sibling (row))
    if (GTK_IS_LIST_BOX_ROW (row) && g_strcmp0 (gtk_widget_get_name (row), name) == 0)
      {
        gtk_list_box_select_row (self->sidebar_list, GTK_LIST_BOX_ROW (row));
        adw_leaflet_set_visible_child (self->leaflet, self->content);
        return TRUE;
      }
  return FALSE;
}

/* ---- recent contexts ---- */

static void
recent_row_activated_cb (TbWindow *self, GtkListBoxRow *row)
{
  const char *path = g_object_get_data (G_OBJECT (row), "path");

  tb_window_open_context (self, path);
}

static void
rebuild_recent (TbWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  g_auto(GStrv) recent = NULL;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->recent_list))) != NULL)
    gtk_list_box_remove (self->recent_list, child);
  if (TB_IS_APPLICATION (app))
    recent = tb_application_dup_recent (TB_APPLICATION (app));
  for (guint i = 0; recent != NULL && recent[i] != NULL; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *base = g_path_get_basename (recent[i]);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), base);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), recent[i]);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("go-next-symbolic"));
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_widget_set_tooltip_text (row, recent[i]);
      g_object_set_data_full (G_OBJECT (row), "path", g_strdup (recent[i]), g_free);
      make_row_accessible_activatable (row);
      gtk_list_box_append (self->recent_list, row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->recent_group), recent != NULL && recent[0] != NULL);
}

/* ---- context ---- */

/**
 * tb_window_dup_context_subtitle:
 *
 * Returns: (transfer full) (nullable): what the header says under the
 *   context's name: "Demo" for the built-in demo, else the folder's name
 *   (the full path is its tooltip)
 */
char *
tb_window_dup_context_subtitle (TbWindow *self)
{
  g_autofree char *demo = tb_demo_get_default_path ();
  const char *path;

  if (self->context == NULL)
    return NULL;
  path = tb_context_get_path (self->context);
  if (g_strcmp0 (path, demo) == 0)
    return g_strdup (_("Built-in demo"));
  return g_path_get_basename (path);
}

static void
context_name_changed_cb (TbWindow *self)
{
  g_autofree char *subtitle = tb_window_dup_context_subtitle (self);

  adw_window_title_set_title (self->window_title, tb_context_get_name (self->context));
  adw_window_title_set_subtitle (self->window_title, subtitle);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->window_title), tb_context_get_path (self->context));
}

static void
set_context (TbWindow *self, TbContext *context)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  if (self->context == context)
    return;
  if (self->context != NULL)
    g_signal_handlers_disconnect_by_data (self->context, self);
  g_set_object (&self->context, context);
  tb_keys_page_set_context (self->keys_page, context);
  tb_images_page_set_context (self->images_page, context);
  tb_devices_page_set_context (self->devices_page, context);
  tb_production_page_set_context (self->production_page, context);
  tb_audit_page_set_context (self->audit_page, context);
  tb_trust_chain_page_set_context (self->trust_chain_page, context);
  if (context != NULL)
    {
      g_signal_connect_swapped (context, "notify::name", G_CALLBACK (context_name_changed_cb), self);
      context_name_changed_cb (self);
      gtk_window_set_title (GTK_WINDOW (self), tb_context_get_name (context));
      gtk_stack_set_visible_child_name (self->main_stack, "context");
      if (TB_IS_APPLICATION (app))
        tb_application_add_recent (TB_APPLICATION (app), tb_context_get_path (context));
    }
  else
    {
      gtk_window_set_title (GTK_WINDOW (self), _("Trustbench"));
      rebuild_recent (self);
      gtk_stack_set_visible_child_name (self->main_stack, "welcome");
    }
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CONTEXT]);
}

/**
 * tb_window_get_keys_page:
 *
 * Returns: (transfer none): the Keys & certificates page
 */
TbKeysPage *
tb_window_get_keys_page (TbWindow *self)
{
  return self->keys_page;
}

TbImagesPage *
tb_window_get_images_page (TbWindow *self)
{
  return self->images_page;
}

TbDevicesPage *
tb_window_get_devices_page (TbWindow *self)
{
  return self->devices_page;
}

TbProductionPage *
tb_window_get_production_page (TbWindow *self)
{
  return self->production_page;
}

TbAuditPage *
tb_window_get_audit_page (TbWindow *self)
{
  return self->audit_page;
}

TbTrustChainPage *
tb_window_get_trust_chain_page (TbWindow *self)
{
  return self->trust_chain_page;
}

static void
open_failed_response_cb (AdwMessageDialog *dialog, const char *response, TbWindow *self)
{
  if (g_strcmp0 (response, "choose") == 0)
    gtk_widget_activate_action (GTK_WIDGET (self), "win.open-context", NULL);
}

/* A context that cannot be opened: say why, and offer to choose another.
 * A folder that no longer holds a context (moved, deleted) leaves the
 * recent list; a damaged one stays, so that it can be repaired. */
static void
show_open_failed (TbWindow *self, const char *path, const GError *error)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  g_autofree char *json = g_build_filename (path, TB_CONTEXT_FILE_NAME, NULL);
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Cannot Open Context"), error->message);

  if (!g_file_test (json, G_FILE_TEST_EXISTS))
    {
      g_autofree char *body = g_strdup_printf (_("%s\n\nIt was moved or deleted, and is no longer listed in the "
                                                 "recent contexts."), error->message);
      adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog), body);
      if (TB_IS_APPLICATION (app))
        tb_application_remove_recent (TB_APPLICATION (app), path);
      if (self->context == NULL)
        rebuild_recent (self);
    }
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"), "choose",
                                    _("C_hoose Another…"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "choose", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "choose");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "close");
  g_signal_connect_object (dialog, "response", G_CALLBACK (open_failed_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

typedef struct {
  TbWindow *self;
  char *path;
} OpenData;

static void
open_data_free (OpenData *data)
{
  g_object_unref (data->self);
  g_free (data->path);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpenData, open_data_free)

static void
open_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(OpenData) data = user_data;
  TbWindow *self = data->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) context = tb_context_open_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* another context is being opened */
  g_clear_object (&self->open_cancellable);
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BUSY]);
  if (context == NULL)
    {
      show_open_failed (self, data->path, error);
      return;
    }
  set_context (self, context);
}

/**
 * tb_window_open_context:
 * @path: a context directory
 *
 * Opens the context in a worker thread; errors (a broken context.json, a
 * newer schema) are shown in a dialog and change nothing.
 */
void
tb_window_open_context (TbWindow *self, const char *path)
{
  OpenData *data;

  g_return_if_fail (TB_IS_WINDOW (self));
  g_return_if_fail (path != NULL);

  if (self->open_cancellable != NULL)
    g_cancellable_cancel (self->open_cancellable);
  g_clear_object (&self->open_cancellable);
  self->open_cancellable = g_cancellable_new ();
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BUSY]);
  data = g_new0 (OpenData, 1);
  data->self = g_object_ref (self);
  data->path = g_strdup (path);
  tb_context_open_async (path, TB_CONTEXT_OPEN_READ, self->open_cancellable, open_ready_cb, data);
}

void
tb_window_close_context (TbWindow *self)
{
  g_return_if_fail (TB_IS_WINDOW (self));
  set_context (self, NULL);
}

/* ---- long work with progress ---- */

static void
progress_changed_cb (TbProgress *progress, TbWindow *self)
{
  g_autofree char *stage = tb_progress_dup_stage (progress);

  gtk_progress_bar_set_fraction (self->progress_bar, tb_progress_get_fraction (progress));
  gtk_progress_bar_set_text (self->progress_bar, stage);
}

static void
progress_log_cb (TbProgress *progress, const char *line, TbWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->log_view);
  GtkTextIter end;

  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_insert (buffer, &end, line, -1);
  gtk_text_buffer_insert (buffer, &end, "\n", 1);
  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_view_scroll_to_iter (self->log_view, &end, 0.0, FALSE, 0.0, 1.0);
}

static void
work_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *outer = user_data;
  TbWindow *self = g_task_get_source_object (outer);
  GError *error = NULL;

  g_signal_handlers_disconnect_by_data (self->progress, self);
  g_clear_object (&self->progress);
  g_clear_object (&self->operation);
  gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BUSY]);
  if (tb_work_run_finish (result, &error))
    g_task_return_boolean (outer, TRUE);
  else
    g_task_return_error (outer, error);
  g_object_unref (outer);
}

/**
 * tb_window_run_work:
 * @title: stage shown until the work sets one
 * @func: the work, run in a worker thread by tb_work_run_async(); it
 *   reports through its #TbProgress and checks its cancellable
 * @data_free: (nullable): frees @data after @callback has returned
 *
 * Runs long work off the main loop with the progress panel (bar, log,
 * Cancel). One operation at a time: the actions that start another are
 * disabled meanwhile.
 */
void
tb_window_run_work (TbWindow *self, const char *title, TbWindowWorkFunc func, gpointer data,
                    GDestroyNotify data_free, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *outer = g_task_new (self, NULL, callback, user_data);

  g_return_if_fail (self->operation == NULL);

  self->operation = g_cancellable_new ();
  self->progress = tb_progress_new (self->operation);

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->log_view), "", 0);
  gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
  gtk_progress_bar_set_text (self->progress_bar, title);
  gtk_revealer_set_reveal_child (self->progress_revealer, TRUE);
  g_signal_connect (self->progress, "changed", G_CALLBACK (progress_changed_cb), self);
  g_signal_connect (self->progress, "log", G_CALLBACK (progress_log_cb), self);
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BUSY]);

  /* the data lives as long as the outer task, so the caller's callback
   * may still use it */
  if (data_free != NULL)
    g_task_set_task_data (outer, data, data_free);
  tb_work_run_async (func, data, NULL, self->progress, work_done_cb, outer);
}

gboolean
tb_window_run_work_finish (TbWindow *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* TbWorkHost: what the pages see of the window */
static gboolean
work_host_is_busy (TbWorkHost *host)
{
  return tb_window_is_busy (TB_WINDOW (host));
}

static void
work_host_add_toast (TbWorkHost *host, const char *message)
{
  tb_window_add_toast (TB_WINDOW (host), message);
}

static void
work_host_run_work (TbWorkHost *host, const char *title, TbWorkFunc func, gpointer data, GDestroyNotify data_free,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  tb_window_run_work (TB_WINDOW (host), title, func, data, data_free, callback, user_data);
}

static gboolean
work_host_run_work_finish (TbWorkHost *host, GAsyncResult *result, GError **error)
{
  return tb_window_run_work_finish (TB_WINDOW (host), result, error);
}

static void
tb_window_work_host_init (TbWorkHostInterface *iface)
{
  iface->is_busy = work_host_is_busy;
  iface->add_toast = work_host_add_toast;
  iface->run_work = work_host_run_work;
  iface->run_work_finish = work_host_run_work_finish;
}

/* ---- demo ---- */

/* The whole chain, so that every page shows something real: keys, a
 * mastered image, a board that boots it (listed with the user's boards),
 * a job and a station context that made devices under it. */
static gboolean
create_demo_work (gpointer data, TbProgress *progress, GError **error)
{
  g_autofree char *boards = tb_probe_get_boards_dir ();

  if (g_mkdir_with_parents (boards, 0700) != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot create the boards folder %s"), boards);
      return FALSE;
    }
  return tb_demo_run_full (data, boards, progress, error);
}

static void
demo_created_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TbWindow *self = TB_WINDOW (source);
  g_autofree char *path = user_data;
  g_autoptr(GError) error = NULL;

  if (!tb_window_run_work_finish (self, result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        tb_ui_show_error (GTK_WIDGET (self), _("Cannot Create the Demo Context"), error);
      return;
    }
  tb_window_open_context (self, path);
}

/**
 * tb_window_open_demo:
 *
 * Opens the built-in demo context, creating it on first use.
 */
void
tb_window_open_demo (TbWindow *self)
{
  g_autofree char *path = tb_demo_get_default_path ();
  g_autofree char *json = g_build_filename (path, TB_CONTEXT_FILE_NAME, NULL);

  if (g_file_test (json, G_FILE_TEST_EXISTS))
    {
      tb_window_open_context (self, path);
      return;
    }
  gtk_stack_set_visible_child_name (self->main_stack, "context");
  tb_window_run_work (self, _("Creating the demo context"), create_demo_work,
                      g_strdup (path), g_free, demo_created_cb, g_strdup (path));
}

/* ---- actions ---- */

static void
update_actions (TbWindow *self)
{
  gboolean busy = tb_window_is_busy (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.new-context", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-context", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-demo", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.close-context", !busy && self->context != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-operation", self->operation != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.show-page", self->context != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.provision-image", !busy && self->context != NULL);
}

static void
create_context_chosen (TbWindow *self, const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_create (path, NULL, &error);

  if (ctx == NULL)
    {
      tb_ui_show_error (GTK_WIDGET (self), _("Cannot Create Context"), error);
      return;
    }
  tb_context_unlock (ctx);
  set_context (self, ctx);
  tb_window_add_toast (self, _("Context created"));
}

static void
new_context_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_ui_choose_file (widget, _("New Context — Choose an Empty Folder"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                     _("_Create"), NULL, NULL, NULL, (TbUiPathFunc) create_context_chosen);
}

static void
open_context_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_ui_choose_file (widget, _("Open Context"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Open"), NULL, NULL, NULL,
                     (TbUiPathFunc) tb_window_open_context);
}

static void
open_demo_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_window_open_demo (TB_WINDOW (widget));
}

static void
close_context_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_window_close_context (TB_WINDOW (widget));
}

static void
cancel_operation_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbWindow *self = TB_WINDOW (widget);

  if (self->operation != NULL)
    g_cancellable_cancel (self->operation);
}

static void
show_page_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_window_show_page (TB_WINDOW (widget), g_variant_get_string (param, NULL));
}

/* The next steps the Images page offers on a mastered image. */
static void
create_job_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbWindow *self = TB_WINDOW (widget);

  if (tb_window_show_page (self, "production"))
    tb_production_page_create_job (self->production_page, g_variant_get_string (param, NULL));
}

static void
provision_image_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbWindow *self = TB_WINDOW (widget);

  if (tb_window_show_page (self, "devices"))
    tb_devices_page_offer_image (self->devices_page, g_variant_get_string (param, NULL));
}

static void
open_context_path_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_window_open_context (TB_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
show_sidebar_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbWindow *self = TB_WINDOW (widget);

  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

/* ---- GObject ---- */

static void
tb_window_dispose (GObject *object)
{
  TbWindow *self = TB_WINDOW (object);

  if (self->operation != NULL)
    g_cancellable_cancel (self->operation);
  if (self->open_cancellable != NULL)
    g_cancellable_cancel (self->open_cancellable);
  if (self->context != NULL)
    g_signal_handlers_disconnect_by_data (self->context, self);
  if (self->progress != NULL)
    g_signal_handlers_disconnect_by_data (self->progress, self);
  g_clear_object (&self->context);
  g_clear_object (&self->progress);
  g_clear_object (&self->operation);
  g_clear_object (&self->open_cancellable);
  G_OBJECT_CLASS (tb_window_parent_class)->dispose (object);
}

static void
tb_window_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TbWindow *self = TB_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_object (value, self->context);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, tb_window_is_busy (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tb_window_class_init (TbWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const struct {
    guint key;
    const char *page;
  } page_keys[] = {
    { GDK_KEY_1, "trust-chain" }, { GDK_KEY_2, "keys" }, { GDK_KEY_3, "images" },
    { GDK_KEY_4, "devices" }, { GDK_KEY_5, "production" }, { GDK_KEY_6, "audit" },
  };

  g_type_ensure (TB_TYPE_KEYS_PAGE);
  g_type_ensure (TB_TYPE_IMAGES_PAGE);
  g_type_ensure (TB_TYPE_DEVICES_PAGE);
  g_type_ensure (TB_TYPE_PRODUCTION_PAGE);
  g_type_ensure (TB_TYPE_AUDIT_PAGE);
  g_type_ensure (TB_TYPE_TRUST_CHAIN_PAGE);
  object_class->dispose = tb_window_dispose;
  object_class->get_property = tb_window_get_property;

  props[PROP_CONTEXT] = g_param_spec_object ("context", NULL, NULL, TB_TYPE_CONTEXT,
                                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_BUSY] = g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                                           G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/trustbench/Trustbench/tb-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TbWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, content);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, sidebar_list);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, page_stack);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, recent_group);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, recent_list);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, log_view);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, keys_page);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, trust_chain_page);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, images_page);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, devices_page);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, production_page);
  gtk_widget_class_bind_template_child (widget_class, TbWindow, audit_page);
  gtk_widget_class_bind_template_callback (widget_class, sidebar_row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, sidebar_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, recent_row_activated_cb);

  gtk_widget_class_install_action (widget_class, "win.new-context", NULL, new_context_action);
  gtk_widget_class_install_action (widget_class, "win.open-context", NULL, open_context_action);
  gtk_widget_class_install_action (widget_class, "win.open-demo", NULL, open_demo_action);
  gtk_widget_class_install_action (widget_class, "win.close-context", NULL, close_context_action);
  gtk_widget_class_install_action (widget_class, "win.cancel-operation", NULL, cancel_operation_action);
  gtk_widget_class_install_action (widget_class, "win.show-page", "s", show_page_action);
  gtk_widget_class_install_action (widget_class, "win.show-sidebar", NULL, show_sidebar_action);
  gtk_widget_class_install_action (widget_class, "win.create-job", "s", create_job_action);
  gtk_widget_class_install_action (widget_class, "win.open-context-path", "s", open_context_path_action);
  gtk_widget_class_install_action (widget_class, "win.provision-image", "s", provision_image_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "win.new-context", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open-context", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "win.close-context", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.cancel-operation", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (page_keys); i++)
    gtk_widget_class_add_binding_action (widget_class, page_keys[i].key, GDK_ALT_MASK,
                                         "win.show-page", "s", page_keys[i].page);
}

/* GTK 4.8 names a labelled button after both its label property, mnemonic
 * underscore included, and its label child ("_New Context… New Context…"):
 * the label child alone is the name a screen reader should say. */
static void
tidy_button_names (GtkWidget *widget)
{
  if (GTK_IS_BUTTON (widget) && gtk_button_get_use_underline (GTK_BUTTON (widget)) &&
      gtk_button_get_label (GTK_BUTTON (widget)) != NULL)
    gtk_accessible_reset_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL; child = gtk_widget_get_next_sibling (child))
    tidy_button_names (child);
}

static void
tb_window_init (TbWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  tidy_button_names (GTK_WIDGET (self));
  build_sidebar (self);
  update_actions (self);
}

TbWindow *
tb_window_new (AdwApplication *app)
{
  TbWindow *self = g_object_new (TB_TYPE_WINDOW, "application", app, NULL);

  rebuild_recent (self);
  return self;
}
