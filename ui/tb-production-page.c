/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The Production page: the operator's view of a station.
 *
 * The job card (product, image version, made / reserved / limit, expiry,
 * the OEM root it is signed by), the slots a crash left open and what to do
 * about them, the probe to use, one large "Program Next Device" button, and
 * the result of every device of this session, failures explained, and the
 * job's last records from its journal (whoever made them, whenever). Jobs are
 * imported from a package after the operator compares the OEM root's
 * fingerprint. All production work (tb_produce(), tb_job_import()) runs in
 * the background through the window's progress panel. */

#include "config.h"

#include "tb-production-page.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tb-form-dialog.h"
#include "tb-ui-util.h"
#include "tb-work-host.h"

struct _TbProductionPage {
  AdwBin parent_instance;

  GtkStack *stack;
  AdwStatusPage *empty;
  GtkWidget *empty_create;
  GtkWidget *empty_import;
  GtkWidget *empty_master;
  AdwActionRow *role_row;
  GtkWidget *station_group;
  GtkWidget *oem_buttons;
  AdwComboRow *job_row;
  GtkStringList *job_ids;
  GtkListBox *card;
  GtkLevelBar *level;
  GtkLabel *count_label;
  AdwPreferencesGroup *interrupted_group;
  GtkListBox *interrupted_list;
  AdwComboRow *probe_row;
  GtkStringList *probe_uris;
  AdwEntryRow *operator_row;
  GtkButton *program_button;
  GtkListBox *results;
  AdwPreferencesGroup *results_group;
  GtkListBox *history;
  AdwPreferencesGroup *history_group;

  TbContext *context;
  TbSecret *passphrase;         /* the station's, kept for the session once it worked */
  GPtrArray *images;            /* TbMasteredImage offered by the Create Job dialog */
  guint n_results;
  guint n_history;
  gboolean reloading;
};

G_DEFINE_FINAL_TYPE (TbProductionPage, tb_production_page, ADW_TYPE_BIN)

static TbWorkHost *
get_host (TbProductionPage *self)
{
  return tb_work_host_find (GTK_WIDGET (self));
}

static const char *
selected_job (TbProductionPage *self)
{
  guint i = adw_combo_row_get_selected (self->job_row);

  return i != GTK_INVALID_LIST_POSITION ? gtk_string_list_get_string (self->job_ids, i) : NULL;
}

static const char *
selected_probe (TbProductionPage *self)
{
  guint i = adw_combo_row_get_selected (self->probe_row);

  return i != GTK_INVALID_LIST_POSITION ? gtk_string_list_get_string (self->probe_uris, i) : NULL;
}

/* ---- showing the job ---- */

/* A device row: its title, what happened (up to three lines), and a tick
 * or an error sign. */
static GtkWidget *
device_row_new (const char *title, const char *subtitle, gboolean ok)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name (ok ? "emblem-ok-symbolic" : "dialog-error-symbolic"));
  if (!ok)
    gtk_widget_add_css_class (row, "error");
  return row;
}

#define HISTORY_ROWS 20

/* The job's last records, from its journal: what this station made before
 * this session too. */
static void
show_history (TbProductionPage *self, const char *job_id, const TbJobCounts *c)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) recent = NULL;
  g_autofree char *description = NULL;

  tb_ui_clear_list (self->history);
  self->n_history = 0;
  recent = tb_job_recent_records (self->context, job_id, HISTORY_ROWS, &error);
  if (recent == NULL)
    {
      tb_ui_add_property (self->history, _("The job's journal cannot be read"), error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->history_group), TRUE);
      return;
    }
  for (guint i = 0; i < recent->len; i++)
    {
      TbDeviceRecord *r = g_ptr_array_index (recent, i);
      const char *uid = r->uid != NULL ? r->uid : _("unknown device");
      g_autoptr(GDateTime) utc = r->time != NULL ? g_date_time_new_from_iso8601 (r->time, NULL) : NULL;
      g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_local (utc) : NULL;
      g_autofree char *when = local != NULL ? g_date_time_format (local, "%Y-%m-%d %H:%M:%S") : g_strdup ("?");
      const char *operator_name = r->operator_name != NULL ? r->operator_name : "?";
      g_autofree char *title = NULL;
      g_autofree char *subtitle = NULL;

      if (r->made)
        {
          title = g_strdup_printf (_("%s — %s, slot %" G_GUINT64_FORMAT), uid, r->result, r->slot);
          subtitle = g_strdup_printf (_("%s · %s · by %s · certificate %s"), when,
                                      r->image_version != NULL ? r->image_version : "?", operator_name,
                                      r->device_certificate_serial != NULL ? r->device_certificate_serial : "?");
        }
      else
        {
          title = g_strdup_printf (_("Not made — %s"), uid);
          subtitle = g_strdup_printf (_("%s · by %s · %s"), when, operator_name, r->reason != NULL ? r->reason : "");
        }
      gtk_list_box_append (self->history, device_row_new (title, subtitle, r->made));
      self->n_history++;
    }
  description = g_strdup_printf (_("The last %u of %" G_GUINT64_FORMAT " records, newest first; "
                                   "“trustbench-tool records export” writes them all"),
                                 recent->len, c->made + c->failed);
  adw_preferences_group_set_description (self->history_group, description);
  gtk_widget_set_visible (GTK_WIDGET (self->history_group), recent->len > 0);
}

static void
show_job (TbProductionPage *self)
{
  const char *job_id = selected_job (self);
  g_autoptr(TbJobInfo) job = job_id != NULL && self->context != NULL
                               ? tb_job_lookup (self->context, job_id, NULL) : NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) open = NULL;
  g_autofree char *counts_text = NULL;
  g_autofree char *product = NULL;
  TbJobCounts c = { 0 };
  gboolean station;

  tb_ui_clear_list (self->card);
  tb_ui_clear_list (self->interrupted_list);
  gtk_widget_set_visible (GTK_WIDGET (self->interrupted_group), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->history_group), FALSE);
  if (job == NULL)
    return;
  station = job->role == TB_JOB_ROLE_STATION;
  if (!tb_job_get_counts (self->context, job_id, &c, &error))
    {
      tb_ui_add_property (self->card, _("Job"), error->message);
      gtk_widget_set_sensitive (GTK_WIDGET (self->program_button), FALSE);
      return;
    }
  product = g_strdup_printf (_("%s %s"), job->product != NULL ? job->product : "?",
                             job->image_version != NULL ? job->image_version : "?");
  tb_ui_add_property (self->card, _("Product and image"), product);
  /* a station's job says which slice it holds; the OEM's lists them all */
  if (job->role == TB_JOB_ROLE_OEM)
    {
      guint n = job->slices;
      g_autofree char *slices = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u package, for one station",
                                                              "%u packages, one per station", n), n);
      tb_ui_add_property (self->card, _("Slices"), slices);
    }
  else if (job->slices > 1)
    {
      g_autofree char *slice = g_strdup_printf (_("%u of %u (the whole job makes %" G_GUINT64_FORMAT ")"), job->slice,
                                                job->slices, job->total_count);
      tb_ui_add_property (self->card, _("Slice"), slice);
    }
  tb_ui_add_property (self->card, _("Expires"), job->not_after != NULL ? job->not_after : _("never"));
  if (job->root_sha256 != NULL)
    tb_ui_add_property (self->card, _("Signed by the OEM root"), job->root_sha256);

  if (station)
    counts_text = g_strdup_printf (_("%" G_GUINT64_FORMAT " made · %" G_GUINT64_FORMAT " reserved · limit %"
                                     G_GUINT64_FORMAT " · %" G_GUINT64_FORMAT " remaining"),
                                   c.made, c.reserved, c.count, c.remaining);
  else
    counts_text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Limit %" G_GUINT64_FORMAT " device, made by stations",
                                                "Limit %" G_GUINT64_FORMAT " devices, made by stations",
                                                (gulong) c.count), c.count);
  gtk_widget_set_visible (GTK_WIDGET (self->level), station);
  gtk_widget_set_visible (GTK_WIDGET (self->program_button), station);
  gtk_widget_set_visible (self->station_group, station);
  if (!station && tb_context_is_demo (self->context))
    {
      g_autofree char *station_dir = g_build_filename (tb_context_get_path (self->context), TB_DEMO_STATION_DIR, NULL);

      if (g_file_test (station_dir, G_FILE_TEST_IS_DIR))
        {
          GtkWidget *row = adw_action_row_new ();
          GtkWidget *open_button = gtk_button_new_with_mnemonic (_("_Open Station"));
          g_autofree char *subtitle = g_strdup_printf (_("“%s” imported this job and made devices under it: open it "
                                                         "to see the operator's view. Its records are in %s: "
                                                         "Verify Records… checks every device's receipt."),
                                                       TB_DEMO_STATION_NAME, TB_DEMO_RECORDS_FILE);

          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("The demo's station"));
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
          gtk_widget_set_valign (open_button, GTK_ALIGN_CENTER);
          gtk_actionable_set_action_target (GTK_ACTIONABLE (open_button), "s", station_dir);
          gtk_actionable_set_action_name (GTK_ACTIONABLE (open_button), "win.open-context-path");
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), open_button);
          gtk_list_box_append (self->card, row);
        }
    }
  gtk_label_set_text (self->count_label, counts_text);
  gtk_level_bar_set_max_value (self->level, MAX (c.count, 1));
  gtk_level_bar_set_value (self->level, (double) (c.made + c.reserved));
  gtk_widget_set_sensitive (GTK_WIDGET (self->program_button),
                            station && (c.remaining > 0 || c.reserved > 0) && selected_probe (self) != NULL);

  if (station)
    {
      show_history (self, job_id, &c);
      open = tb_job_list_interrupted (self->context, job_id, NULL);
    }
  for (guint i = 0; open != NULL && i < open->len; i++)
    {
      TbOpenSlot *o = g_ptr_array_index (open, i);
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *title = g_strdup_printf (_("Slot %" G_GUINT64_FORMAT ": device %s"), o->slot,
                                                o->uid != NULL ? o->uid : _("unknown"));
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                                   o->identity_sent
                                     ? _("Interrupted after the device got its identity: it stays counted. Connect "
                                         "this device and press Program Next Device to finish it.")
                                     : _("Interrupted before the device got anything: released at the next device."));
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("dialog-warning-symbolic"));
      gtk_list_box_append (self->interrupted_list, row);
      gtk_widget_set_visible (GTK_WIDGET (self->interrupted_group), TRUE);
    }
}

/* ---- the role of this context ---- */

/**
 * tb_production_page_is_oem:
 *
 * Returns: whether the context holds the OEM root key (it creates jobs);
 *   otherwise it is a station (it imports jobs and makes devices)
 */
gboolean
tb_production_page_is_oem (TbProductionPage *self)
{
  return self->context != NULL && tb_context_has_entry (self->context, TB_INVENTORY_KEYS, TB_KEY_NAME_ROOT_CA);
}

static void
show_role (TbProductionPage *self, guint n_jobs)
{
  gboolean oem = tb_production_page_is_oem (self);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->role_row),
                                 oem ? _("This context is the OEM") : _("This context is a production station"));
  adw_action_row_set_subtitle (self->role_row,
                               oem ? _("It creates jobs from mastered images, signed by its root: how many devices, "
                                       "which image. A station context imports a job and makes the devices.")
                                   : _("It imports jobs signed by the OEM root it trusts and makes devices under "
                                       "their count limit, one signed record per device."));
  adw_status_page_set_description (self->empty,
                                   oem ? _("This context is the OEM. Create a job from a mastered image: it says "
                                           "which image a station installs and how many devices it may make. Give "
                                           "the package to a station context, which imports it and produces.")
                                       : _("This context is a production station. A job from the OEM says what it "
                                           "may make and how many. Import its package to start; every device made "
                                           "is recorded with its own signed receipt."));
  /* an OEM with nothing mastered yet: the step before is on the Images page */
  {
    g_autoptr(GPtrArray) images = oem ? tb_mastered_image_list (self->context, NULL) : NULL;
    gboolean none = oem && images != NULL && images->len == 0;

    gtk_widget_set_visible (self->empty_master, none);
    gtk_widget_set_visible (self->empty_create, oem && !none);
  }
  gtk_widget_remove_css_class (self->empty_import, "suggested-action");
  if (!oem)
    gtk_widget_add_css_class (self->empty_import, "suggested-action");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "production.create-job", oem);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "production.verify-records", oem);
  gtk_widget_set_visible (self->oem_buttons, oem);
  (void) n_jobs;
}

static void
reload (TbProductionPage *self)
{
  g_autoptr(GPtrArray) jobs = NULL;
  g_autofree char *keep = g_strdup (selected_job (self));
  guint select = 0;

  self->reloading = TRUE;
  gtk_string_list_splice (self->job_ids, 0, g_list_model_get_n_items (G_LIST_MODEL (self->job_ids)), NULL);
  jobs = self->context != NULL ? tb_job_list (self->context) : NULL;
  for (guint i = 0; jobs != NULL && i < jobs->len; i++)
    {
      const char *id = ((TbJobInfo *) g_ptr_array_index (jobs, i))->job_id;
      gtk_string_list_append (self->job_ids, id);
      if (g_strcmp0 (id, keep) == 0)
        select = i;
    }
  if (jobs != NULL && jobs->len > 0)
    adw_combo_row_set_selected (self->job_row, select);
  self->reloading = FALSE;
  gtk_stack_set_visible_child_name (self->stack, jobs != NULL && jobs->len > 0 ? "job" : "empty");
  show_role (self, jobs != NULL ? jobs->len : 0);
  show_job (self);
}

static void
refresh_probes (TbProductionPage *self)
{
  g_autoptr(GPtrArray) probes = tb_probe_list (NULL);
  g_autofree char *keep = g_strdup (selected_probe (self));
  guint select = 0;

  gtk_string_list_splice (self->probe_uris, 0, g_list_model_get_n_items (G_LIST_MODEL (self->probe_uris)), NULL);
  for (guint i = 0; probes != NULL && i < probes->len; i++)
    {
      TbProbeInfo *info = g_ptr_array_index (probes, i);
      gtk_string_list_append (self->probe_uris, info->uri);
      if (g_strcmp0 (info->uri, keep) == 0)
        select = i;
    }
  if (probes != NULL && probes->len > 0)
    adw_combo_row_set_selected (self->probe_row, select);
  show_job (self);
}

/* ---- producing ---- */

typedef struct {
  char *ctx_path;
  char *job_id;
  char *uri;
  char *operator_name;
  TbSecret *passphrase;
  TbProduceResult result;
  GError *failure;              /* kept for the result list */
} Work;

static void
work_free (Work *w)
{
  g_free (w->ctx_path);
  g_free (w->job_id);
  g_free (w->uri);
  g_free (w->operator_name);
  tb_secret_free (w->passphrase);
  tb_produce_result_clear (&w->result);
  g_clear_error (&w->failure);
  g_free (w);
}

static gboolean
produce_work (gpointer data, TbProgress *progress, GError **error)
{
  Work *w = data;
  g_autoptr(TbContext) ctx = tb_context_open (w->ctx_path, TB_CONTEXT_OPEN_READ, error);
  g_autoptr(TbProbe) probe = ctx != NULL ? tb_probe_open (w->uri, error) : NULL;
  TbProduceOptions o = { w->job_id, w->operator_name, FALSE };

  return probe != NULL && tb_produce (ctx, probe, &o, w->passphrase, &w->result, progress, error);
}

static void
add_result (TbProductionPage *self, Work *w, const GError *error)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *when = g_date_time_format (now, "%H:%M:%S");
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;

  if (error == NULL)
    {
      title = g_strdup_printf (_("%s — %s, slot %" G_GUINT64_FORMAT), w->result.uid, w->result.result, w->result.slot);
      subtitle = g_strdup_printf (_("%s · %s · certificate %s · receipt verified"), when, w->result.app_version,
                                  w->result.device_certificate_serial);
    }
  else
    {
      title = g_strdup (_("Not made"));
      subtitle = g_strdup_printf ("%s · %s", when, error->message);
    }
  gtk_list_box_prepend (self->results, device_row_new (title, subtitle, error == NULL));
  self->n_results++;
  gtk_widget_set_visible (GTK_WIDGET (self->results_group), TRUE);
}

static const char *
failure_heading (const GError *error)
{
  if (g_error_matches (error, TB_ERROR, TB_ERROR_LIMIT_REACHED))
    return _("No More Devices Under This Job");
  if (g_error_matches (error, TB_ERROR, TB_ERROR_VERIFY_FAILED))
    return _("The Device Was Refused");
  if (g_error_matches (error, TB_ERROR, TB_ERROR_PERMISSION))
    return _("Wrong Station Passphrase");
  if (g_error_matches (error, TB_ERROR, TB_ERROR_BUSY))
    return _("The Job Is Busy");
  return _("The Device Was Not Made");
}

static void
produce_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(TbProductionPage) self = user_data;
  Work *w = g_object_get_data (G_OBJECT (self), "tb-work");
  g_autoptr(GError) error = NULL;

  if (!tb_work_host_run_work_finish (TB_WORK_HOST (source), result, &error))
    {
      if (g_error_matches (error, TB_ERROR, TB_ERROR_PERMISSION))
        g_clear_pointer (&self->passphrase, tb_secret_free);
      add_result (self, w, error);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        tb_ui_show_error (GTK_WIDGET (self), failure_heading (error), error);
    }
  else
    {
      g_autofree char *toast = g_strdup_printf (_("Device %s made: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT),
                                                w->result.uid, w->result.made, w->result.limit);
      if (self->passphrase == NULL)
        self->passphrase = tb_secret_new (w->passphrase);
      add_result (self, w, NULL);
      tb_work_host_add_toast (TB_WORK_HOST (source), toast);
    }
  show_job (self);
}

static void
start_produce (TbProductionPage *self, const char *passphrase)
{
  TbWorkHost *host = get_host (self);
  Work *w;

  if (host == NULL || tb_work_host_is_busy (host) || self->context == NULL || selected_job (self) == NULL ||
      selected_probe (self) == NULL)
    return;
  w = g_new0 (Work, 1);
  w->ctx_path = g_strdup (tb_context_get_path (self->context));
  w->job_id = g_strdup (selected_job (self));
  w->uri = g_strdup (selected_probe (self));
  w->operator_name = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->operator_row)));
  if (w->operator_name[0] == '\0')
    g_clear_pointer (&w->operator_name, g_free);
  w->passphrase = tb_secret_new (passphrase);
  g_object_set_data_full (G_OBJECT (self), "tb-work", w, NULL);
  tb_work_host_run_work (host, _("Programming the next device"), produce_work, w, (GDestroyNotify) work_free,
                      produce_done_cb, g_object_ref (self));
}

static void
passphrase_response_cb (GtkWidget *dialog, const char *response, TbProductionPage *self)
{
  if (g_strcmp0 (response, "accept") == 0)
    start_produce (self, tb_form_dialog_get_text (dialog, "pass"));
  tb_form_dialog_clear_secrets (dialog);
}

static void
program_next_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbProductionPage *self = TB_PRODUCTION_PAGE (widget);
  GtkWidget *dialog;

  if (self->passphrase != NULL)
    {
      start_produce (self, self->passphrase);
      return;
    }
  dialog = tb_form_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), _("Unlock the Station"),
                               _("The station's passphrase unlocks the job's keys for this session."),
                               _("_Program"));
  tb_form_dialog_add_password (dialog, "pass", _("Station Passphrase"));
  g_signal_connect (dialog, "response", G_CALLBACK (passphrase_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- importing a job ---- */

typedef struct {
  char *ctx_path;
  char *file;
  char *fingerprint;
  TbSecret *job_passphrase;
  TbSecret *passphrase;
} ImportWork;

static void
import_work_free (ImportWork *w)
{
  g_free (w->ctx_path);
  g_free (w->file);
  g_free (w->fingerprint);
  tb_secret_free (w->job_passphrase);
  tb_secret_free (w->passphrase);
  g_free (w);
}

static gboolean
import_work (gpointer data, TbProgress *progress, GError **error)
{
  ImportWork *w = data;
  g_autoptr(TbContext) ctx = tb_context_open (w->ctx_path, TB_CONTEXT_OPEN_WRITE, error);
  g_autoptr(TbJobPackage) p = ctx != NULL ? tb_job_package_load (w->file, error) : NULL;

  tb_progress_set_stage (progress, _("Checking the job and storing its keys"));
  return p != NULL && tb_job_import (ctx, p, w->fingerprint, w->job_passphrase, w->passphrase, error);
}

static void
import_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(TbProductionPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tb_work_host_run_work_finish (TB_WORK_HOST (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        tb_ui_show_error (GTK_WIDGET (self), _("The Job Was Not Imported"), error);
      return;
    }
  if (self->context != NULL && !tb_context_reload (self->context, &error))
    tb_ui_show_error (GTK_WIDGET (self), _("Cannot Reload the Context"), error);
  tb_work_host_add_toast (TB_WORK_HOST (source), _("Job imported"));
}

static void
import_response_cb (GtkWidget *dialog, const char *response, TbProductionPage *self)
{
  ImportWork *w = g_object_steal_data (G_OBJECT (dialog), "tb-import");
  TbWorkHost *host = get_host (self);

  if (g_strcmp0 (response, "accept") != 0 || host == NULL || tb_work_host_is_busy (host))
    {
      tb_form_dialog_clear_secrets (dialog);
      import_work_free (w);
      return;
    }
  w->job_passphrase = tb_secret_new (tb_form_dialog_get_text (dialog, "job-pass"));
  w->passphrase = tb_secret_new (tb_form_dialog_get_text (dialog, "pass"));
  tb_form_dialog_clear_secrets (dialog);
  tb_work_host_run_work (host, _("Importing the job"), import_work, w, (GDestroyNotify) import_work_free,
                      import_done_cb, g_object_ref (self));
}

/**
 * tb_production_page_import:
 * @path: a job package
 *
 * Checks the package, then asks the operator to compare the OEM root's
 * fingerprint (first import) and for the passphrases, and imports it.
 */
void
tb_production_page_import (TbProductionPage *self, const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbJobPackage) p = tb_job_package_load (path, &error);
  g_autoptr(TbCert) pinned = NULL;
  g_autofree char *body = NULL;
  const TbJobInfo *man;
  ImportWork *w;
  GtkWidget *dialog;

  if (p == NULL || self->context == NULL)
    {
      if (error != NULL)
        tb_ui_show_error (GTK_WIDGET (self), _("This Job Package Is Refused"), error);
      return;
    }
  pinned = tb_job_get_pinned_root (self->context, NULL);
  man = tb_job_package_get_info (p);
  if (pinned != NULL)
    body = g_strdup_printf (_("Job %s: %" G_GUINT64_FORMAT " devices of %s %s, signed by the OEM root this station "
                              "trusts."), man->job_id, man->count, man->product, man->image_version);
  else
    body = g_strdup_printf (_("Job %s: %" G_GUINT64_FORMAT " devices of %s %s.\n\nThis station trusts no OEM root yet. "
                              "The job is signed by the root with the SHA-256 fingerprint\n\n%s\n\nCompare it with "
                              "the fingerprint the OEM gave you by another channel. Import only if they match: this "
                              "root is then trusted for every later job."),
                            man->job_id, man->count, man->product, man->image_version, man->root_sha256);
  dialog = tb_form_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), _("Import the Job?"), body,
                               pinned != NULL ? _("_Import") : _("Fingerprints Match, _Import"));
  tb_form_dialog_add_password (dialog, "job-pass", _("Job Passphrase"));
  tb_form_dialog_add_password (dialog, "pass", _("Station Passphrase"));
  w = g_new0 (ImportWork, 1);
  w->ctx_path = g_strdup (tb_context_get_path (self->context));
  w->file = g_strdup (path);
  w->fingerprint = pinned == NULL ? g_strdup (tb_job_package_get_root_sha256 (p)) : NULL;
  g_object_set_data (G_OBJECT (dialog), "tb-import", w);
  g_signal_connect (dialog, "response", G_CALLBACK (import_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
import_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_ui_choose_file (widget, _("Choose a Job Package"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("Job packages"),
                     (const char *const[]){ "*.tbjob", NULL }, NULL, (TbUiPathFunc) tb_production_page_import);
}

/* ---- creating a job (OEM) ---- */

typedef struct {
  char *ctx_path;
  char *upk_path;
  char *image_path;
  char *output;
  guint64 count;
  guint slices;
  TbSecret *passphrase;
  TbSecret *job_passphrase;
  char *job_id;
  GPtrArray *files;
  char *root_sha256;
} CreateWork;

static void
create_work_free (CreateWork *w)
{
  g_free (w->ctx_path);
  g_free (w->upk_path);
  g_free (w->image_path);
  g_free (w->output);
  tb_secret_free (w->passphrase);
  tb_secret_free (w->job_passphrase);
  g_free (w->job_id);
  g_clear_pointer (&w->files, g_ptr_array_unref);
  g_free (w->root_sha256);
  g_free (w);
}

static gboolean
create_work (gpointer data, TbProgress *progress, GError **error)
{
  CreateWork *w = data;
  g_autoptr(TbContext) ctx = tb_context_open (w->ctx_path, TB_CONTEXT_OPEN_WRITE, error);
  TbJobCreateOptions o = { 0 };

  if (ctx == NULL)
    return FALSE;
  o.upk_path = w->upk_path;
  o.image_path = w->image_path;
  o.count = w->count;
  o.slices = w->slices;
  o.output = w->output;
  tb_progress_set_stage (progress, _("Signing the job with the OEM root"));
  if (!tb_job_create (ctx, &o, w->passphrase, w->job_passphrase, &w->job_id, &w->files, error))
    return FALSE;
  {
    g_autoptr(TbCert) root = tb_cert_load (ctx, TB_KEY_NAME_ROOT_CA, NULL);
    w->root_sha256 = root != NULL ? g_strdup (tb_cert_get_sha256 (root)) : NULL;
  }
  return TRUE;
}

static void
create_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(TbProductionPage) self = user_data;
  CreateWork *w = g_object_get_data (G_OBJECT (self), "tb-create");
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) body = g_string_new (NULL);
  GtkWidget *dialog;

  if (!tb_work_host_run_work_finish (TB_WORK_HOST (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        tb_ui_show_error (GTK_WIDGET (self), _("The Job Was Not Created"), error);
      return;
    }
  if (self->context != NULL && !tb_context_reload (self->context, &error))
    tb_ui_show_error (GTK_WIDGET (self), _("Cannot Reload the Context"), error);
  g_string_append_printf (body, g_dngettext (GETTEXT_PACKAGE, "Job %s may make %" G_GUINT64_FORMAT " device. Its package:",
                                             "Job %s may make %" G_GUINT64_FORMAT " devices. Its packages, one per "
                                             "station:", (gulong) w->count),
                          w->job_id, w->count);
  for (guint i = 0; i < w->files->len; i++)
    g_string_append_printf (body, "\n%s", (const char *) g_ptr_array_index (w->files, i));
  if (w->root_sha256 != NULL)
    g_string_append_printf (body, _("\n\nGive the station the package and, by another channel (phone, paper), the "
                                    "OEM root's fingerprint it must confirm on import:\n\n%s"), w->root_sha256);
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), _("Job Created"), body->str);
  adw_message_dialog_set_body_use_markup (ADW_MESSAGE_DIALOG (dialog), FALSE);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
  tb_work_host_add_toast (TB_WORK_HOST (source), _("Job created"));
}

/* A file name for the package that is not there yet: a job is never
 * written over another one. */
static char *
free_package_path (const TbMasteredImage *m)
{
  g_autofree char *dir = g_path_get_dirname (m->upk_path);

  for (guint n = 1; n < 1000; n++)
    {
      g_autofree char *base = n == 1 ? g_strdup_printf ("%s-%s.tbjob", m->product, m->version)
                                     : g_strdup_printf ("%s-%s-%u.tbjob", m->product, m->version, n);
      char *path = g_build_filename (dir, base, NULL);
      g_autofree char *first_slice = g_strdup_printf ("%.*s-s1.tbjob", (int) (strlen (path) - strlen (".tbjob")), path);

      if (!g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (first_slice, G_FILE_TEST_EXISTS))
        return path;
      g_free (path);
    }
  return g_build_filename (dir, "job.tbjob", NULL);
}

static void
create_response_cb (GtkWidget *dialog, const char *response, TbProductionPage *self)
{
  TbWorkHost *host = get_host (self);
  guint index = tb_form_dialog_get_selected (dialog, "image");
  const TbMasteredImage *m = self->images != NULL && index < self->images->len ? g_ptr_array_index (self->images, index)
                                                                                : NULL;
  g_autoptr(GError) error = NULL;
  guint64 count = 0, slices = 1;
  const char *output = tb_form_dialog_get_text (dialog, "output");
  CreateWork *w;

  if (g_strcmp0 (response, "accept") != 0 || host == NULL || tb_work_host_is_busy (host) || m == NULL ||
      self->context == NULL)
    {
      tb_form_dialog_clear_secrets (dialog);
      return;
    }
  if (!g_ascii_string_to_unsigned (tb_form_dialog_get_text (dialog, "count"), 10, 1, TB_JOB_MAX_COUNT, &count, NULL))
    g_set_error (&error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("The count must be a number from 1 to %u"),
                 TB_JOB_MAX_COUNT);
  else if (!g_ascii_string_to_unsigned (tb_form_dialog_get_text (dialog, "slices"), 10, 1, TB_JOB_MAX_SLICES, &slices,
                                        NULL) || slices > count)
    g_set_error (&error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                 _("The stations must be a number from 1 to %u, and not more than the count"), TB_JOB_MAX_SLICES);
  else if (g_strcmp0 (tb_form_dialog_get_text (dialog, "job-pass"), tb_form_dialog_get_text (dialog, "job-pass2")) != 0)
    g_set_error (&error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("The two job passphrases differ"));
  else if (output[0] == '\0' || g_file_test (output, G_FILE_TEST_EXISTS))
    g_set_error (&error, TB_ERROR, TB_ERROR_EXISTS, _("%s: choose a package file that does not exist yet"), output);
  if (error != NULL)
    {
      tb_form_dialog_clear_secrets (dialog);
      tb_ui_show_error (GTK_WIDGET (self), _("The Job Was Not Created"), error);
      return;
    }
  w = g_new0 (CreateWork, 1);
  w->ctx_path = g_strdup (tb_context_get_path (self->context));
  w->upk_path = g_strdup (m->upk_path);
  w->image_path = g_strdup (m->image_path);
  w->output = g_strdup (output);
  w->count = count;
  w->slices = (guint) slices;
  w->passphrase = tb_secret_new (tb_form_dialog_get_text (dialog, "pass"));
  w->job_passphrase = tb_secret_new (tb_form_dialog_get_text (dialog, "job-pass"));
  tb_form_dialog_clear_secrets (dialog);
  g_object_set_data (G_OBJECT (self), "tb-create", w);
  tb_work_host_run_work (host, _("Creating the job"), create_work, w, (GDestroyNotify) create_work_free,
                      create_done_cb, g_object_ref (self));
}

/**
 * tb_production_page_create_job:
 * @upk_path: (nullable): the mastered image to offer first
 *
 * Opens the Create Job dialog (OEM contexts): the image among those
 * mastered here, the count, the number of stations, the package file and
 * the passphrases.
 */
void
tb_production_page_create_job (TbProductionPage *self, const char *upk_path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GStrvBuilder) titles = g_strv_builder_new ();
  g_auto(GStrv) choices = NULL;
  g_autofree char *output = NULL;
  guint selected = 0;
  GtkWidget *dialog;

  if (self->context == NULL)
    return;
  g_clear_pointer (&self->images, g_ptr_array_unref);
  self->images = tb_mastered_image_list (self->context, &error);
  if (self->images == NULL)
    {
      tb_ui_show_error (GTK_WIDGET (self), _("Cannot List the Mastered Images"), error);
      return;
    }
  for (guint i = self->images->len; i-- > 0;)
    if (!((TbMasteredImage *) g_ptr_array_index (self->images, i))->files_present)
      g_ptr_array_remove_index (self->images, i);
  if (self->images->len == 0)
    {
      g_set_error (&error, TB_ERROR, TB_ERROR_NOT_FOUND,
                   _("A job installs a mastered image, and none is here yet: master one on the Images page first."));
      tb_ui_show_error (GTK_WIDGET (self), _("No Mastered Image"), error);
      return;
    }
  for (guint i = 0; i < self->images->len; i++)
    {
      TbMasteredImage *m = g_ptr_array_index (self->images, i);
      g_autofree char *base = g_path_get_basename (m->upk_path);
      g_autofree char *title = g_strdup_printf (_("%s %s (%s)"), m->product, m->version, base);
      g_strv_builder_add (titles, title);
      if (g_strcmp0 (m->upk_path, upk_path) == 0)
        selected = i;
    }
  choices = g_strv_builder_end (titles);
  output = free_package_path (g_ptr_array_index (self->images, selected));
  dialog = tb_form_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), _("Create a Production Job"),
                               _("The job package carries the image, the count a station may make and a key of its "
                                 "own for the device certificates, all signed by the OEM root. The job passphrase "
                                 "protects that key: give it to the station with the package."),
                               _("_Create Job"));
  tb_form_dialog_add_choice (dialog, "image", _("Image"), (const char *const *) choices, selected);
  tb_form_dialog_add_entry (dialog, "count", _("Devices (count limit)"), "100");
  tb_form_dialog_add_entry (dialog, "slices", _("Stations (one signed slice each)"), "1");
  tb_form_dialog_add_entry (dialog, "output", _("Package File"), output);
  tb_form_dialog_add_password (dialog, "pass", _("Context Passphrase"));
  tb_form_dialog_add_password (dialog, "job-pass", _("New Job Passphrase"));
  tb_form_dialog_add_password (dialog, "job-pass2", _("Job Passphrase Again"));
  g_signal_connect (dialog, "response", G_CALLBACK (create_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
create_job_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_production_page_create_job (TB_PRODUCTION_PAGE (widget), NULL);
}

/* ---- records: a station exports them, the OEM verifies them ---- */

/**
 * tb_production_page_export_records:
 * @path: where to write; CSV when it ends in .csv, else JSON
 *
 * Writes the selected job's records (a station hands them to the OEM).
 */
gboolean
tb_production_page_export_records (TbProductionPage *self, const char *path, GError **error)
{
  guint n = 0;
  g_autofree char *message = NULL;
  TbRecordsFormat format = g_str_has_suffix (path, ".csv") ? TB_RECORDS_FORMAT_CSV : TB_RECORDS_FORMAT_JSON;
  TbWorkHost *host = get_host (self);

  if (self->context == NULL || selected_job (self) == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("No job is selected"));
      return FALSE;
    }
  if (!tb_records_export (self->context, selected_job (self), format, path, &n, error))
    return FALSE;
  message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u record exported", "%u records exported", n), n);
  if (host != NULL)
    tb_work_host_add_toast (host, message);
  return TRUE;
}

static void
export_records_chosen (TbProductionPage *self, const char *path)
{
  g_autoptr(GError) error = NULL;

  if (!tb_production_page_export_records (self, path, &error))
    tb_ui_show_error (GTK_WIDGET (self), _("The Records Were Not Exported"), error);
}

static void
export_records_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbProductionPage *self = TB_PRODUCTION_PAGE (widget);
  g_autofree char *suggested = g_strdup_printf ("%s-records.json", selected_job (self) != NULL ? selected_job (self)
                                                                                               : "job");

  tb_ui_choose_file (widget, _("Export the Job's Records"), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"),
                     _("Records (JSON for the OEM, CSV for a spreadsheet)"),
                     (const char *const[]){ "*.json", "*.csv", NULL }, suggested,
                     (TbUiPathFunc) export_records_chosen);
}

/**
 * tb_production_page_verify_records:
 * @path: records a station exported
 *
 * Checks every device's signed receipt against the OEM root (in an OEM
 * context) and shows what was made, or what is wrong.
 *
 * Returns: whether every record verified
 */
gboolean
tb_production_page_verify_records (TbProductionPage *self, const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbCert) root = NULL;
  g_autoptr(GString) body = g_string_new (NULL);
  const char *files[] = { path, NULL };
  TbReceiptsReport report = { 0 };
  GtkWidget *dialog;
  gboolean valid;

  if (self->context == NULL)
    return FALSE;
  root = tb_production_page_is_oem (self) ? tb_cert_load (self->context, TB_KEY_NAME_ROOT_CA, &error)
                                          : tb_job_get_pinned_root (self->context, &error);
  if (root == NULL && error == NULL)
    g_set_error (&error, TB_ERROR, TB_ERROR_NOT_FOUND, _("This context holds no OEM root to check receipts with"));
  if (root == NULL || !tb_receipts_verify (root, files, &report, &error))
    {
      tb_ui_show_error (GTK_WIDGET (self), _("The Records Cannot Be Checked"), error);
      return FALSE;
    }
  if (report.valid)
    g_string_append_printf (body, _("Every receipt verifies: %u devices in %u records, each signed by the device "
                                    "itself."), report.devices, report.records);
  else
    g_string_append_printf (body, _("%u problems in %u records:"), report.bad->len, report.records);
  for (guint i = 0; i < report.bad->len; i++)
    {
      TbReceiptProblem *o = g_ptr_array_index (report.bad, i);
      g_string_append_printf (body, "\n• %s (%s): %s", o->record_id, o->uid, o->problem);
    }
  for (guint i = 0; i < report.jobs->len; i++)
    {
      TbReceiptJob *o = g_ptr_array_index (report.jobs, i);
      g_string_append_printf (body, _("\nJob %s: %" G_GUINT64_FORMAT " devices of %" G_GUINT64_FORMAT " allowed."),
                              o->job_id, o->devices, o->total_count);
    }
  valid = report.valid;
  tb_receipts_report_clear (&report);
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                   valid ? _("Records Verified") : _("Records Do Not Verify"), body->str);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
  return valid;
}

static void
verify_records_chosen (TbProductionPage *self, const char *path)
{
  tb_production_page_verify_records (self, path);
}

static void
verify_records_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_ui_choose_file (widget, _("Verify a Station's Records"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Verify"),
                     _("Exported records (JSON)"), (const char *const[]){ "*.json", NULL }, NULL,
                     (TbUiPathFunc) verify_records_chosen);
}

static void
refresh_action (GtkWidget *widget, const char *name, GVariant *param)
{
  refresh_probes (TB_PRODUCTION_PAGE (widget));
}

/* ---- public ---- */

void
tb_production_page_set_context (TbProductionPage *self, TbContext *context)
{
  if (self->context != context)
    g_clear_pointer (&self->passphrase, tb_secret_free);
  if (!tb_ui_follow_context (self, &self->context, context, G_CALLBACK (reload)))
    return;
  reload (self);
}

void
tb_production_page_refresh (TbProductionPage *self)
{
  refresh_probes (self);
}

gboolean
tb_production_page_select_probe (TbProductionPage *self, const char *uri)
{
  refresh_probes (self);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->probe_uris)); i++)
    if (g_strcmp0 (gtk_string_list_get_string (self->probe_uris, i), uri) == 0)
      {
        adw_combo_row_set_selected (self->probe_row, i);
        show_job (self);
        return TRUE;
      }
  return FALSE;
}

void
tb_production_page_program_next (TbProductionPage *self, const char *passphrase)
{
  if (passphrase != NULL && self->passphrase == NULL)
    self->passphrase = tb_secret_new (passphrase);
  gtk_widget_activate_action (GTK_WIDGET (self), "production.program-next", NULL);
}

/* Rows of the Job History group (for tests). */
guint
tb_production_page_get_n_history (TbProductionPage *self)
{
  return self->n_history;
}

guint
tb_production_page_get_n_results (TbProductionPage *self)
{
  return self->n_results;
}

/* ---- construction ---- */

static void
job_selected_cb (TbProductionPage *self)
{
  if (!self->reloading)
    show_job (self);
}

static void
tb_production_page_dispose (GObject *object)
{
  TbProductionPage *self = TB_PRODUCTION_PAGE (object);

  tb_ui_unfollow_context (self, &self->context);
  g_clear_pointer (&self->passphrase, tb_secret_free);
  g_clear_pointer (&self->images, g_ptr_array_unref);
  g_clear_object (&self->job_ids);
  g_clear_object (&self->probe_uris);
  G_OBJECT_CLASS (tb_production_page_parent_class)->dispose (object);
}

static void
tb_production_page_class_init (TbProductionPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tb_production_page_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/trustbench/Trustbench/tb-production-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, stack);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, empty);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, empty_create);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, empty_import);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, empty_master);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, role_row);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, station_group);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, oem_buttons);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, job_row);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, card);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, level);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, count_label);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, interrupted_group);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, interrupted_list);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, probe_row);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, operator_row);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, program_button);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, results);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, results_group);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, history);
  gtk_widget_class_bind_template_child (widget_class, TbProductionPage, history_group);

  gtk_widget_class_install_action (widget_class, "production.program-next", NULL, program_next_action);
  gtk_widget_class_install_action (widget_class, "production.import", NULL, import_action);
  gtk_widget_class_install_action (widget_class, "production.create-job", NULL, create_job_action);
  gtk_widget_class_install_action (widget_class, "production.export-records", NULL, export_records_action);
  gtk_widget_class_install_action (widget_class, "production.verify-records", NULL, verify_records_action);
  gtk_widget_class_install_action (widget_class, "production.refresh", NULL, refresh_action);
}

static void
tb_production_page_init (TbProductionPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  /* the lists the combo rows choose from, filled by reload() and
   * refresh_probes() */
  self->job_ids = gtk_string_list_new (NULL);
  adw_combo_row_set_model (self->job_row, G_LIST_MODEL (self->job_ids));
  g_signal_connect_swapped (self->job_row, "notify::selected", G_CALLBACK (job_selected_cb), self);
  self->probe_uris = gtk_string_list_new (NULL);
  adw_combo_row_set_model (self->probe_row, G_LIST_MODEL (self->probe_uris));
  g_signal_connect_swapped (self->probe_row, "notify::selected", G_CALLBACK (job_selected_cb), self);
  gtk_editable_set_text (GTK_EDITABLE (self->operator_row), g_get_user_name ());
  /* one colour for the whole bar: the count, not a threshold */
  gtk_level_bar_remove_offset_value (self->level, GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value (self->level, GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value (self->level, GTK_LEVEL_BAR_OFFSET_FULL);

  refresh_probes (self);
  reload (self);
}
