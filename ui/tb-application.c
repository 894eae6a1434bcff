/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The workbench application: one window, the about window, shortcuts,
 * recent contexts in GSettings. `trustbench DIR` opens DIR; with no
 * argument it opens the last context or offers the demo; `--demo` opens
 * the built-in demo context. */

#include "config.h"

#include "tb-application.h"

#include <glib/gi18n.h>

#include "tb-form-dialog.h"
#include "tb-window.h"

struct _TbApplication {
  AdwApplication parent_instance;

  GSettings *settings;
  gboolean open_demo;
};

G_DEFINE_FINAL_TYPE (TbApplication, tb_application, ADW_TYPE_APPLICATION)

static GSettings *
settings_new (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema == NULL)
    {
      g_warning ("GSettings schema %s is not installed; recent contexts will not be remembered", APP_ID);
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}

/**
 * tb_application_dup_recent:
 *
 * Returns: (transfer full): recent context paths, most recent first,
 *   only those that still exist
 */
GStrv
tb_application_dup_recent (TbApplication *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) stored = NULL;

  if (self->settings != NULL)
    stored = g_settings_get_strv (self->settings, "recent-contexts");
  for (guint i = 0; stored != NULL && stored[i] != NULL; i++)
    {
      g_autofree char *json = g_build_filename (stored[i], "context.json", NULL);
      if (g_file_test (json, G_FILE_TEST_IS_REGULAR))
        g_strv_builder_add (builder, stored[i]);
    }
  return g_strv_builder_end (builder);
}

static void
store_recent (TbApplication *self, const char *first, const char *drop)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) stored = NULL;
  g_auto(GStrv) list = NULL;
  guint n = 0;

  if (self->settings == NULL)
    return;
  stored = g_settings_get_strv (self->settings, "recent-contexts");
  if (first != NULL)
    {
      g_strv_builder_add (builder, first);
      n++;
    }
  for (guint i = 0; stored[i] != NULL && n < TB_RECENT_MAX; i++)
    if (g_strcmp0 (stored[i], first) != 0 && g_strcmp0 (stored[i], drop) != 0)
      {
        g_strv_builder_add (builder, stored[i]);
        n++;
      }
  list = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "recent-contexts", (const char *const *) list);
}

void
tb_application_add_recent (TbApplication *self, const char *path)
{
  store_recent (self, path, NULL);
}

void
tb_application_remove_recent (TbApplication *self, const char *path)
{
  store_recent (self, NULL, path);
}

static TbWindow *
get_window (TbApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (tb_window_new (ADW_APPLICATION (self)));
  return TB_WINDOW (window);
}

static void
tb_application_activate (GApplication *app)
{
  TbApplication *self = TB_APPLICATION (app);
  TbWindow *window = get_window (self);
  g_auto(GStrv) recent = tb_application_dup_recent (self);

  if (self->open_demo)
    tb_window_open_demo (window);
  else if (tb_window_get_context (window) == NULL && recent[0] != NULL)
    tb_window_open_context (window, recent[0]);
  gtk_window_present (GTK_WINDOW (window));
}

static void
tb_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  TbApplication *self = TB_APPLICATION (app);
  TbWindow *window = get_window (self);
  g_autofree char *path = g_file_get_path (files[0]);

  if (path != NULL)
    tb_window_open_context (window, path);
  gtk_window_present (GTK_WINDOW (window));
}

static int
tb_application_handle_local_options (GApplication *app, GVariantDict *options)
{
  TbApplication *self = TB_APPLICATION (app);

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("trustbench %s\n", PACKAGE_VERSION);
      return 0;
    }
  self->open_demo = g_variant_dict_contains (options, "demo");
  return -1;
}

static void
about_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  const char *developers[] = { "The Trustbench developers", NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (app),
                        "application-name", _("Trustbench"),
                        "application-icon", APP_ID,
                        "developer-name", _("The Trustbench developers"),
                        "version", PACKAGE_VERSION,
                        "comments", _("Build a chain of trust for IoT microcontrollers: key hierarchies, "
                                      "certificates, mastered firmware images and provisioned devices."),
                        "developers", developers,
                        "license-type", GTK_LICENSE_GPL_3_0,
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
quit_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  GList *windows = gtk_application_get_windows (app);

  /* close windows properly so that running work is cancelled */
  while (windows != NULL)
    {
      gtk_window_destroy (GTK_WINDOW (windows->data));
      windows = gtk_application_get_windows (app);
    }
}

/* ---- the token PIN, asked in a dialog ----
 *
 * Token logins happen in the background work; the PIN dialog must run on
 * the main thread, so the worker posts a request there and waits for the
 * answer. */

typedef struct {
  GMutex lock;
  GCond answered;
  gboolean done;
  char *label;
  TbSecret *pin;
} PinRequest;

static void
pin_response_cb (GtkWidget *dialog, const char *response, PinRequest *req)
{
  g_mutex_lock (&req->lock);
  if (g_strcmp0 (response, "accept") == 0)
    req->pin = tb_secret_new (tb_form_dialog_get_text (dialog, "pin"));
  req->done = TRUE;
  g_cond_signal (&req->answered);
  g_mutex_unlock (&req->lock);
  tb_form_dialog_clear_secrets (dialog);
}

static gboolean
show_pin_dialog (gpointer data)
{
  PinRequest *req = data;
  GtkApplication *app = GTK_APPLICATION (g_application_get_default ());
  GtkWindow *parent = app != NULL ? gtk_application_get_active_window (app) : NULL;
  g_autofree char *body = g_strdup_printf (_("Token “%s” holds a key this operation uses. Its PIN unlocks it for "
                                             "this session; the PIN is never stored."), req->label);
  GtkWidget *dialog = tb_form_dialog_new (parent, _("Token PIN"), body, _("_Unlock"));

  tb_form_dialog_add_password (dialog, "pin", _("PIN"));
  g_signal_connect (dialog, "response", G_CALLBACK (pin_response_cb), req);
  gtk_window_present (GTK_WINDOW (dialog));
  return G_SOURCE_REMOVE;
}

static char *
ask_pin (const char *token_label, gpointer data, GError **error)
{
  PinRequest req = { 0 };
  char *out = NULL;

  if (g_main_context_is_owner (g_main_context_default ()))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION, _("Token “%s” needs its PIN"), token_label);
      return NULL;
    }
  g_mutex_init (&req.lock);
  g_cond_init (&req.answered);
  req.label = g_strdup (token_label);
  g_main_context_invoke (NULL, show_pin_dialog, &req);
  g_mutex_lock (&req.lock);
  while (!req.done)
    g_cond_wait (&req.answered, &req.lock);
  g_mutex_unlock (&req.lock);
  if (req.pin != NULL)
    out = g_strdup (req.pin);
  tb_secret_free (req.pin);
  g_free (req.label);
  g_mutex_clear (&req.lock);
  g_cond_clear (&req.answered);
  return out;
}

static void
tb_application_startup (GApplication *app)
{
  static const GActionEntry entries[] = {
    { "about", about_action },
    { "quit", quit_action },
  };
  static const struct {
    const char *action;
    const char *accels[2];
  } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "win.new-context", { "<Control>n", NULL } },
    { "win.open-context", { "<Control>o", NULL } },
    { "win.close-context", { "<Control>w", NULL } },
    { "win.show-help-overlay", { "<Control>question", NULL } },
  };

  G_APPLICATION_CLASS (tb_application_parent_class)->startup (app);
  TB_APPLICATION (app)->settings = settings_new ();
  tb_pkcs11_set_pin_func (ask_pin, NULL);
  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action, accels[i].accels);
}

static void
tb_application_finalize (GObject *object)
{
  TbApplication *self = TB_APPLICATION (object);

  g_clear_object (&self->settings);
  G_OBJECT_CLASS (tb_application_parent_class)->finalize (object);
}

static void
tb_application_class_init (TbApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = tb_application_finalize;
  app_class->activate = tb_application_activate;
  app_class->open = tb_application_open;
  app_class->startup = tb_application_startup;
  app_class->handle_local_options = tb_application_handle_local_options;
}

static void
tb_application_init (TbApplication *self)
{
  const GOptionEntry options[] = {
    { "demo", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Open the built-in demo context"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Show the version"), NULL },
    { NULL },
  };

  g_application_add_main_option_entries (G_APPLICATION (self), options);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[CONTEXT-DIR]"));
}

/**
 * tb_application_new:
 * @flags: extra flags (tests pass %G_APPLICATION_NON_UNIQUE)
 */
TbApplication *
tb_application_new (GApplicationFlags flags)
{
  return g_object_new (TB_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "resource-base-path", "/org/trustbench/Trustbench",
                       "flags", flags | G_APPLICATION_HANDLES_OPEN,
                       NULL);
}
