/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The Images page: drop or choose a firmware file, pick the product and
 * the version, master it (in the background, with the window's progress
 * panel), then see the update protection key's fields and verify the
 * pair. Reading, mastering and verifying all run off the main loop. */

#include "config.h"

#include "tb-images-page.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "tb-mastered-image.h"
#include "tb-mcuboot.h"
#include "tb-ui-util.h"
#include "tb-form-dialog.h"
#include "tb-work-host.h"

struct _TbImagesPage {
  AdwBin parent_instance;

  GtkScrolledWindow *scroller;
  GtkWidget *drop_zone;
  GtkLabel *drop_label;
  GtkLabel *context_hint;
  AdwPreferencesGroup *mastered_group;
  GtkListBox *mastered_list;
  AdwPreferencesGroup *input_group;
  AdwActionRow *file_row;
  AdwEntryRow *load_address_row;
  AdwComboRow *product_row;
  AdwEntryRow *version_row;
  GtkSpinButton *counter_spin;
  AdwActionRow *output_row;
  GtkWidget *master_button;
  GtkWidget *verify_button;
  AdwPreferencesGroup *result_group;
  GtkListBox *result_list;
  AdwPreferencesGroup *checks_group;
  GtkListBox *checks_list;

  TbContext *context;
  char *path;
  char *output_dir;
  TbFirmware *firmware;
  char *image_path;
  char *upk_path;
  TbUpk *upk;
  GPtrArray *checks;
  GPtrArray *mastered;          /* TbMasteredImage, newest first */
  char *export_upk;             /* the image an MCUboot export is for */
};

G_DEFINE_FINAL_TYPE (TbImagesPage, tb_images_page, ADW_TYPE_BIN)

static void reload_mastered (TbImagesPage *self);

static TbWorkHost *
get_host (TbImagesPage *self)
{
  return tb_work_host_find (GTK_WIDGET (self));
}

static char *
hex (const guint8 *data, gsize len)
{
  GString *s = g_string_sized_new (len * 2);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
  return g_string_free (s, FALSE);
}

static char *
selected_product (TbImagesPage *self)
{
  GObject *item = adw_combo_row_get_selected_item (self->product_row);

  return item != NULL ? g_strdup (gtk_string_object_get_string (GTK_STRING_OBJECT (item))) : NULL;
}

static gboolean
parse_address (const char *text, guint64 *out)
{
  char *end = NULL;

  if (text == NULL || text[0] == '\0')
    return FALSE;
  *out = g_ascii_strtoull (text, &end, 0);
  return end != NULL && *end == '\0';
}

static void
update_form (TbImagesPage *self)
{
  g_autofree char *product = selected_product (self);
  gboolean ready = self->firmware != NULL && product != NULL &&
                   tb_semver_is_valid (gtk_editable_get_text (GTK_EDITABLE (self->version_row)), NULL) &&
                   self->output_dir != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "images.master", ready);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "images.verify", self->upk != NULL);
}

static void
form_changed_cb (TbImagesPage *self)
{
  update_form (self);
}

static void
show_firmware (TbImagesPage *self)
{
  g_autofree char *base = g_path_get_basename (self->path);
  g_autofree char *size = g_format_size (tb_firmware_get_size (self->firmware));
  g_autofree char *subtitle = NULL;

  subtitle = g_strdup_printf (_("%s · %s · 0x%08" G_GINT64_MODIFIER "x, %s in %u segment(s)"), base,
                              tb_firmware_format_to_string (tb_firmware_get_format (self->firmware)),
                              tb_firmware_get_base_address (self->firmware), size,
                              tb_firmware_get_n_segments (self->firmware));
  adw_action_row_set_subtitle (self->file_row, subtitle);
  gtk_label_set_text (self->drop_label, base);
  gtk_widget_set_visible (GTK_WIDGET (self->input_group), TRUE);
  gtk_widget_set_visible (self->master_button, TRUE);
  if (self->output_dir == NULL)
    {
      self->output_dir = g_path_get_dirname (self->path);
      adw_action_row_set_subtitle (self->output_row, self->output_dir);
    }
  if (gtk_editable_get_text (GTK_EDITABLE (self->version_row))[0] == '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->version_row), "1.0.0");
  update_form (self);
}

/* ---- reading a file ---- */

typedef struct {
  char *path;
  guint64 load_address;
  TbFirmware *firmware;
  char *ctx_path;
  char *passphrase;
  char *product;
  char *version;
  guint32 counter;
  gboolean replace;
  char *image_path;
  char *upk_path;
  char *output;
  TbUpk *upk;
  GPtrArray *checks;
} Job;

static void
job_free (Job *job)
{
  g_free (job->path);
  g_clear_object (&job->firmware);
  g_free (job->ctx_path);
  tb_secret_free (job->passphrase);
  g_free (job->product);
  g_free (job->version);
  g_free (job->image_path);
  g_free (job->upk_path);
  g_free (job->output);
  g_clear_object (&job->upk);
  g_clear_pointer (&job->checks, g_ptr_array_unref);
  g_free (job);
}

/* Work on a mastered pair, with the passphrase the dialog asked for (its
 * entries emptied once copied). */
static Job *
job_new_for_pair (TbImagesPage *self, GtkWidget *dialog, const char *upk_path, const char *image_path)
{
  Job *job = g_new0 (Job, 1);

  job->ctx_path = g_strdup (tb_context_get_path (self->context));
  job->passphrase = tb_secret_new (tb_form_dialog_get_text (dialog, "pass"));
  tb_form_dialog_clear_secrets (dialog);
  job->upk_path = g_strdup (upk_path);
  job->image_path = g_strdup (image_path);
  return job;
}

static gboolean
read_work (gpointer data, TbProgress *progress, GError **error)
{
  Job *job = data;

  tb_progress_set_stage (progress, _("Reading %s"), job->path);
  job->firmware = tb_firmware_load_file (job->path, TB_FIRMWARE_FORMAT_AUTO, job->load_address, error);
  return job->firmware != NULL;
}

static void
read_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(TbImagesPage) self = user_data;
  Job *job = g_object_get_data (G_OBJECT (self), "tb-job");
  g_autoptr(GError) error = NULL;

  if (!tb_work_host_run_work_finish (TB_WORK_HOST (source), result, &error))
    {
      /* a raw binary needs its load address: ask for it in the form */
      if (g_error_matches (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT) && g_str_has_suffix (self->path, ".bin"))
        {
          gtk_widget_set_visible (GTK_WIDGET (self->load_address_row), TRUE);
          gtk_widget_set_visible (GTK_WIDGET (self->input_group), TRUE);
          adw_action_row_set_subtitle (self->file_row, error->message);
          gtk_widget_grab_focus (GTK_WIDGET (self->load_address_row));
          return;
        }
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        tb_ui_show_error (GTK_WIDGET (self), _("Cannot Read the Firmware"), error);
      return;
    }
  g_set_object (&self->firmware, job->firmware);
  show_firmware (self);
}

/**
 * tb_images_page_open_file:
 * @path: a firmware file
 *
 * Reads the file in the background and fills the mastering form.
 */
void
tb_images_page_open_file (TbImagesPage *self, const char *path)
{
  TbWorkHost *host = get_host (self);
  Job *job;
  guint64 address = TB_FIRMWARE_NO_ADDRESS;

  if (host == NULL || tb_work_host_is_busy (host))
    return;
  if (g_strcmp0 (self->path, path) != 0)
    {
      g_clear_object (&self->firmware);
      g_free (self->path);
      self->path = g_strdup (path);
      gtk_editable_set_text (GTK_EDITABLE (self->load_address_row), "");
    }
  parse_address (gtk_editable_get_text (GTK_EDITABLE (self->load_address_row)), &address);
  job = g_new0 (Job, 1);
  job->path = g_strdup (path);
  job->load_address = address;
  /* the window's task owns the job; the page keeps a borrowed pointer for
   * the completion, which runs before the task frees it */
  g_object_set_data (G_OBJECT (self), "tb-job", job);
  tb_work_host_run_work (host, _("Reading the firmware"), read_work, job, (GDestroyNotify) job_free, read_done_cb,
                      g_object_ref (self));
}

TbFirmware *
tb_images_page_get_firmware (TbImagesPage *self)
{
  return self->firmware;
}

void
tb_images_page_set_version (TbImagesPage *self, const char *version)
{
  gtk_editable_set_text (GTK_EDITABLE (self->version_row), version);
}

TbUpk *
tb_images_page_get_upk (TbImagesPage *self)
{
  return self->upk;
}

guint
tb_images_page_count_checks (TbImagesPage *self, TbCheckStatus status)
{
  guint n = 0;

  for (guint i = 0; self->checks != NULL && i < self->checks->len; i++)
    if (((TbCheck *) g_ptr_array_index (self->checks, i))->status == status)
      n++;
  return n;
}

static void
choose_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_ui_choose_file (widget, _("Choose a Firmware File"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"),
                     _("Firmware (BIN, HEX, SREC, ELF)"),
                     (const char *const[]){ "*.bin", "*.hex", "*.ihex", "*.srec", "*.s19", "*.s28", "*.s37", "*.mot",
                                            "*.elf", "*.axf", NULL },
                     NULL, (TbUiPathFunc) tb_images_page_open_file);
}

static void
output_chosen (TbImagesPage *self, const char *path)
{
  g_free (self->output_dir);
  self->output_dir = g_strdup (path);
  adw_action_row_set_subtitle (self->output_row, self->output_dir);
  update_form (self);
}

static void
choose_output_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_ui_choose_file (widget, _("Output Folder"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Select"), NULL, NULL,
                     NULL, (TbUiPathFunc) output_chosen);
}

static gboolean
drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, TbImagesPage *self)
{
  GFile *file = g_value_get_object (value);
  g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

  if (path == NULL)
    return FALSE;
  tb_images_page_open_file (self, path);
  return TRUE;
}

/* ---- mastering ---- */

/* Brings the result into view: the viewport scrolls to the focused
 * widget (GTK 4.8 has no gtk_viewport_scroll_to()), once it is laid out. */
static gboolean
focus_idle (gpointer data)
{
  gtk_widget_grab_focus (GTK_WIDGET (data));
  return G_SOURCE_REMOVE;
}

static void
bring_into_view (GtkWidget *target)
{
  g_timeout_add_full (G_PRIORITY_DEFAULT_IDLE, 50, focus_idle, g_object_ref (target), g_object_unref);
}

static void
show_upk (TbImagesPage *self)
{
  TbUpk *upk = self->upk;
  g_autofree char *counter = g_strdup_printf ("%u", tb_upk_get_security_counter (upk));
  g_autofree char *size = g_format_size_full (tb_upk_get_image_size (upk), G_FORMAT_SIZE_LONG_FORMAT);
  g_autofree char *load = g_strdup_printf ("0x%08" G_GINT64_MODIFIER "x", tb_upk_get_load_address (upk));
  g_autofree char *sha = hex (tb_upk_get_plaintext_sha256 (upk), 32);
  g_autofree char *signer = tb_cert_dup_subject (tb_upk_get_signer_cert (upk));
  g_autoptr(GString) recipients = g_string_new (NULL);

  for (guint i = 0; i < tb_upk_get_n_recipients (upk); i++)
    {
      const TbUpkRecipient *r = tb_upk_get_recipient (upk, i);
      g_string_append_printf (recipients, "%s%s “%s”", i > 0 ? ", " : "",
                              r->kind == TB_UPK_RECIPIENT_PRODUCT ? _("product") : _("device"), r->id);
    }
  tb_ui_clear_list (self->result_list);
  tb_ui_add_property (self->result_list, _("Product"), tb_upk_get_product (upk));
  tb_ui_add_property (self->result_list, _("Version"), tb_upk_get_version (upk));
  tb_ui_add_property (self->result_list, _("Security counter"), counter);
  tb_ui_add_property (self->result_list, _("Load address"), load);
  tb_ui_add_property (self->result_list, _("Size"), size);
  tb_ui_add_property (self->result_list, _("Plaintext SHA-256"), sha);
  tb_ui_add_property (self->result_list, _("Image key wrapped for"), recipients->str);
  tb_ui_add_property (self->result_list, _("Signed by"), signer);
  tb_ui_add_property (self->result_list, _("Encrypted image"), self->image_path);
  tb_ui_add_property (self->result_list, _("Update protection key"), self->upk_path);
  gtk_widget_set_visible (GTK_WIDGET (self->result_group), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->checks_group), FALSE);
  update_form (self);
  bring_into_view (self->verify_button);
}

static gboolean
master_work (gpointer data, TbProgress *progress, GError **error)
{
  Job *job = data;
  g_autoptr(TbContext) ctx = tb_context_open (job->ctx_path, TB_CONTEXT_OPEN_READ, error);
  TbMasterOptions options = { job->product, NULL, NULL, job->version, job->counter, 0 };

  if (ctx == NULL)
    return FALSE;
  options.replace = job->replace;
  job->upk = tb_master_image (ctx, job->firmware, &options, job->passphrase, job->image_path, job->upk_path, progress,
                              error);
  return job->upk != NULL;
}

static void
master_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(TbImagesPage) self = user_data;
  Job *job = g_object_get_data (G_OBJECT (self), "tb-job");
  g_autoptr(GError) error = NULL;

  if (!tb_work_host_run_work_finish (TB_WORK_HOST (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        tb_ui_show_error (GTK_WIDGET (self), _("Mastering Failed"), error);
      return;
    }
  g_set_object (&self->upk, job->upk);
  g_free (self->image_path);
  g_free (self->upk_path);
  self->image_path = g_strdup (job->image_path);
  self->upk_path = g_strdup (job->upk_path);
  show_upk (self);
  reload_mastered (self);
  tb_work_host_add_toast (TB_WORK_HOST (source), _("Image mastered"));
}

/* Where mastering the open file as @version writes its pair. */
static void
build_output_paths (TbImagesPage *self, const char *version, char **image_path, char **upk_path)
{
  tb_mastered_image_build_paths (self->output_dir, self->path, version, NULL, image_path, upk_path);
}

static void
master_response_cb (GtkWidget *dialog, const char *response, TbImagesPage *self)
{
  Job *job;

  if (g_strcmp0 (response, "accept") != 0 || self->context == NULL || self->firmware == NULL)
    {
      tb_form_dialog_clear_secrets (dialog);
      return;
    }
  job = g_new0 (Job, 1);
  job->ctx_path = g_strdup (tb_context_get_path (self->context));
  job->firmware = g_object_ref (self->firmware);
  job->passphrase = tb_secret_new (tb_form_dialog_get_text (dialog, "pass"));
  tb_form_dialog_clear_secrets (dialog);
  job->product = selected_product (self);
  job->version = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->version_row)));
  job->counter = (guint32) gtk_spin_button_get_value (self->counter_spin);
  /* the user agreed to replace what was there when asked */
  job->replace = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "tb-replace"));
  build_output_paths (self, job->version, &job->image_path, &job->upk_path);
  g_object_set_data (G_OBJECT (self), "tb-job", job);
  tb_work_host_run_work (get_host (self), _("Mastering the image"), master_work, job, (GDestroyNotify) job_free,
                      master_done_cb, g_object_ref (self));
}

static GtkWidget *
ask_passphrase (TbImagesPage *self, const char *heading, const char *body, const char *accept, GCallback callback)
{
  GtkWidget *dialog = tb_form_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), heading, body, accept);

  tb_form_dialog_add_password (dialog, "pass", _("Context Passphrase"));
  g_signal_connect (dialog, "response", callback, self);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

static gboolean
path_exists (const char *path)
{
  GStatBuf st;

  return g_lstat (path, &st) == 0;
}

/* An image mastered earlier under the same name (perhaps with another key,
 * perhaps already on devices) is replaced only when the user says so. */
static void
master_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbImagesPage *self = TB_IMAGES_PAGE (widget);
  g_autofree char *image_path = NULL;
  g_autofree char *upk_path = NULL;
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  if (self->firmware == NULL || self->context == NULL)
    return;
  build_output_paths (self, gtk_editable_get_text (GTK_EDITABLE (self->version_row)), &image_path, &upk_path);
  if (!path_exists (image_path) && !path_exists (upk_path))
    {
      ask_passphrase (self, _("Master the Image"), _("The mastering key signs the update protection key."),
                      _("_Master"), G_CALLBACK (master_response_cb));
      return;
    }
  body = g_strdup_printf (_("%s already exists: an image of this name and version was mastered before, perhaps "
                            "with another key and already on devices. Mastering again replaces it and its update "
                            "protection key. The mastering key signs the new one."),
                          path_exists (image_path) ? image_path : upk_path);
  dialog = ask_passphrase (self, _("Replace the Mastered Image?"), body, _("_Replace"),
                           G_CALLBACK (master_response_cb));
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "accept", ADW_RESPONSE_DESTRUCTIVE);
  g_object_set_data (G_OBJECT (dialog), "tb-replace", GINT_TO_POINTER (TRUE));
}

/* ---- verifying ---- */

static gboolean
verify_work (gpointer data, TbProgress *progress, GError **error)
{
  Job *job = data;
  g_autoptr(TbContext) ctx = tb_context_open (job->ctx_path, TB_CONTEXT_OPEN_READ, error);
  g_autoptr(GError) local = NULL;

  if (ctx == NULL)
    return FALSE;
  /* a failed check is a result to show, not an error of the operation */
  tb_image_verify (ctx, job->upk_path, job->image_path, job->passphrase, &job->checks, progress, &local);
  return TRUE;
}

static const char *
check_icon (TbCheckStatus status)
{
  switch (status)
    {
    case TB_CHECK_PASSED:
      return "emblem-ok-symbolic";
    case TB_CHECK_FAILED:
      return "dialog-error-symbolic";
    case TB_CHECK_SKIPPED:
    default:
      return "action-unavailable-symbolic";
    }
}

static void
verify_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(TbImagesPage) self = user_data;
  Job *job = g_object_get_data (G_OBJECT (self), "tb-job");
  g_autoptr(GError) error = NULL;
  guint failed = 0;

  if (!tb_work_host_run_work_finish (TB_WORK_HOST (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        tb_ui_show_error (GTK_WIDGET (self), _("Verification Failed"), error);
      return;
    }
  g_clear_pointer (&self->checks, g_ptr_array_unref);
  self->checks = g_ptr_array_ref (job->checks);
  tb_ui_clear_list (self->checks_list);
  for (guint i = 0; i < self->checks->len; i++)
    {
      TbCheck *c = g_ptr_array_index (self->checks, i);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *icon = gtk_image_new_from_icon_name (check_icon (c->status));

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), c->name);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), c->message);
      gtk_widget_add_css_class (icon, c->status == TB_CHECK_PASSED ? "success"
                                      : c->status == TB_CHECK_FAILED ? "error" : "dim-label");
      gtk_widget_set_tooltip_text (icon, tb_check_status_to_string (c->status));
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
      gtk_list_box_append (self->checks_list, row);
      failed += c->status == TB_CHECK_FAILED;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->checks_group), TRUE);
  bring_into_view (GTK_WIDGET (gtk_widget_get_last_child (GTK_WIDGET (self->checks_list))));
  tb_work_host_add_toast (TB_WORK_HOST (source), failed == 0 ? _("The image and its UPK are valid")
                                                       : _("Verification failed"));
}

static void
verify_response_cb (GtkWidget *dialog, const char *response, TbImagesPage *self)
{
  Job *job;

  if (g_strcmp0 (response, "accept") != 0 || self->context == NULL || self->upk_path == NULL)
    {
      tb_form_dialog_clear_secrets (dialog);
      return;
    }
  job = job_new_for_pair (self, dialog, self->upk_path, self->image_path);
  g_object_set_data (G_OBJECT (self), "tb-job", job);
  tb_work_host_run_work (get_host (self), _("Verifying the image"), verify_work, job, (GDestroyNotify) job_free,
                      verify_done_cb, g_object_ref (self));
}

static void
verify_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbImagesPage *self = TB_IMAGES_PAGE (widget);

  if (self->upk == NULL)
    return;
  ask_passphrase (self, _("Verify the Image"),
                  _("With the product key the image is decrypted and every chunk checked, as a device does."),
                  _("_Verify"), G_CALLBACK (verify_response_cb));
}

/* ---- the mastered images and their next steps ---- */

static const TbMasteredImage *
find_mastered (TbImagesPage *self, const char *upk_path)
{
  for (guint i = 0; self->mastered != NULL && i < self->mastered->len; i++)
    {
      const TbMasteredImage *m = g_ptr_array_index (self->mastered, i);
      if (g_strcmp0 (m->upk_path, upk_path) == 0)
        return m;
    }
  return NULL;
}

static GMenuModel *
next_steps_menu (const TbMasteredImage *m)
{
  GMenu *menu = g_menu_new ();
  GMenu *other = g_menu_new ();
  const struct { GMenu *section; const char *label; const char *action; } items[] = {
    { menu, N_("_Provision a Board With It…"), "images.provision" },
    { menu, N_("Create a Production _Job…"), "images.create-job" },
    { other, N_("_Export for MCUboot…"), "images.export-mcuboot" },
    { other, N_("_Verify…"), "images.verify-mastered" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      g_autoptr(GMenuItem) item = g_menu_item_new (_(items[i].label), NULL);
      g_menu_item_set_action_and_target_value (item, items[i].action, g_variant_new_string (m->upk_path));
      g_menu_append_item (items[i].section, item);
    }
  g_menu_append_section (menu, NULL, G_MENU_MODEL (other));
  g_object_unref (other);
  return G_MENU_MODEL (menu);
}

static GtkWidget *
mastered_row_new (const TbMasteredImage *m)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button = gtk_menu_button_new ();
  g_autofree char *title = tb_mastered_image_dup_title (m);
  g_autoptr(GDateTime) local = m->created != NULL ? g_date_time_to_local (m->created) : NULL;
  g_autofree char *when = local != NULL ? g_date_time_format (local, "%Y-%m-%d %H:%M") : g_strdup ("?");
  g_autofree char *subtitle = NULL;
  g_autofree char *tooltip = g_strdup_printf (_("Next Steps for %s"), title);
  g_autoptr(GMenuModel) menu = next_steps_menu (m);

  if (m->files_present)
    subtitle = g_strdup_printf (_("Security counter %u · mastered %s · signed by %s\n%s"), m->security_counter, when,
                                m->signer != NULL ? m->signer : _("the mastering key"), m->upk_path);
  else
    subtitle = g_strdup_printf (_("Security counter %u · mastered %s\nFiles no longer there: %s"),
                                m->security_counter, when, m->upk_path);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name (m->files_present ? "application-x-firmware-symbolic"
                                                                            : "dialog-warning-symbolic"));
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (button), "view-more-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (button), menu);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_sensitive (button, m->files_present);
  gtk_widget_add_css_class (button, "flat");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  g_object_set_data_full (G_OBJECT (row), "upk", g_strdup (m->upk_path), g_free);
  return row;
}

static void
reload_mastered (TbImagesPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *description = NULL;

  tb_ui_clear_list (self->mastered_list);
  g_clear_pointer (&self->mastered, g_ptr_array_unref);
  if (self->context == NULL)
    return;
  self->mastered = tb_mastered_image_list (self->context, &error);
  if (self->mastered == NULL)
    {
      tb_ui_add_property (self->mastered_list, _("Cannot read the audit log"), error->message);
      return;
    }
  for (guint i = 0; i < self->mastered->len; i++)
    gtk_list_box_append (self->mastered_list, mastered_row_new (g_ptr_array_index (self->mastered, i)));
  if (self->mastered->len > 0)
    description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                "%u image, newest first. Its menu leads to the next step.",
                                                "%u images, newest first. Their menus lead to the next step.",
                                                self->mastered->len),
                                   self->mastered->len);
  adw_preferences_group_set_description (self->mastered_group, description);
}

/* What mastering will do here, said before a file is dropped. */
static void
update_context_hint (TbImagesPage *self, guint n_products, const char *products)
{
  g_autoptr(TbCert) signer = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *text = NULL;

  if (self->context == NULL)
    return;
  signer = tb_cert_load (self->context, TB_KEY_NAME_MASTERING, NULL);
  subject = signer != NULL ? tb_cert_dup_subject (signer) : NULL;
  if (n_products == 0 || subject == NULL)
    text = g_strdup (_("This context has no product or mastering key yet: create the key hierarchy on the "
                       "<a href=\"keys\">Keys &amp; Certificates</a> page first."));
  else
    {
      g_autofree char *p = g_markup_escape_text (products, -1);
      g_autofree char *s = g_markup_escape_text (subject, -1);
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "For the product %s. The mastering key (%s) signs.",
                                           "For one of the products %s. The mastering key (%s) signs.", n_products),
                              p, s);
    }
  gtk_label_set_markup (self->context_hint, text);
}

static gboolean
hint_link_cb (TbImagesPage *self, const char *uri)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.show-page", "s", uri);
  return TRUE;
}

static void
provision_action (GtkWidget *widget, const char *name, GVariant *param)
{
  gtk_widget_activate_action (widget, "win.provision-image", "s", g_variant_get_string (param, NULL));
}

static void
create_job_action (GtkWidget *widget, const char *name, GVariant *param)
{
  gtk_widget_activate_action (widget, "win.create-job", "s", g_variant_get_string (param, NULL));
}

static void
verify_mastered_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbImagesPage *self = TB_IMAGES_PAGE (widget);
  const TbMasteredImage *m = find_mastered (self, g_variant_get_string (param, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(TbUpk) upk = NULL;

  if (m == NULL)
    return;
  upk = tb_upk_load_file (m->upk_path, &error);
  if (upk == NULL)
    {
      tb_ui_show_error (widget, _("Cannot Read the Update Protection Key"), error);
      return;
    }
  g_set_object (&self->upk, upk);
  g_free (self->image_path);
  g_free (self->upk_path);
  self->image_path = g_strdup (m->image_path);
  self->upk_path = g_strdup (m->upk_path);
  show_upk (self);
  gtk_widget_activate_action (widget, "images.verify", NULL);
}

static gboolean
export_work (gpointer data, TbProgress *progress, GError **error)
{
  Job *job = data;
  g_autoptr(TbContext) ctx = tb_context_open (job->ctx_path, TB_CONTEXT_OPEN_READ, error);

  return ctx != NULL &&
         tb_mcuboot_export_mastered (ctx, job->upk_path, job->image_path, job->passphrase, job->output, progress,
                                     error);
}

static void
export_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(TbImagesPage) self = user_data;
  Job *job = g_object_get_data (G_OBJECT (self), "tb-job");
  g_autoptr(GError) error = NULL;
  g_autofree char *base = NULL;
  g_autofree char *message = NULL;

  if (!tb_work_host_run_work_finish (TB_WORK_HOST (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        tb_ui_show_error (GTK_WIDGET (self), _("MCUboot Export Failed"), error);
      return;
    }
  base = g_path_get_basename (job->output);
  message = g_strdup_printf (_("Exported %s for MCUboot"), base);
  tb_work_host_add_toast (TB_WORK_HOST (source), message);
}

static void
export_response_cb (GtkWidget *dialog, const char *response, TbImagesPage *self)
{
  const TbMasteredImage *m = find_mastered (self, self->export_upk);
  const char *output = g_object_get_data (G_OBJECT (dialog), "output");
  Job *job;

  if (g_strcmp0 (response, "accept") != 0 || self->context == NULL || m == NULL)
    {
      tb_form_dialog_clear_secrets (dialog);
      return;
    }
  job = job_new_for_pair (self, dialog, m->upk_path, m->image_path);
  job->output = g_strdup (output);
  g_object_set_data (G_OBJECT (self), "tb-job", job);
  tb_work_host_run_work (get_host (self), _("Exporting for MCUboot"), export_work, job, (GDestroyNotify) job_free,
                      export_done_cb, g_object_ref (self));
}

static void
export_chosen (TbImagesPage *self, const char *path)
{
  GtkWidget *dialog = tb_form_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                          _("Export for MCUboot"),
                                          _("The image is decrypted with the product key and signed again, as a "
                                            "standard MCUboot image, by the mastering key."),
                                          _("_Export"));

  tb_form_dialog_add_password (dialog, "pass", _("Context Passphrase"));
  g_object_set_data_full (G_OBJECT (dialog), "output", g_strdup (path), g_free);
  g_signal_connect (dialog, "response", G_CALLBACK (export_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

/**
 * tb_images_page_export_mcuboot:
 * @upk_path: a mastered image listed on the page
 * @output: the MCUboot image to write
 *
 * Asks for the passphrase and exports @upk_path's image for MCUboot.
 */
void
tb_images_page_export_mcuboot (TbImagesPage *self, const char *upk_path, const char *output)
{
  g_free (self->export_upk);
  self->export_upk = g_strdup (upk_path);
  export_chosen (self, output);
}

static void
export_mcuboot_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbImagesPage *self = TB_IMAGES_PAGE (widget);
  const TbMasteredImage *m = find_mastered (self, g_variant_get_string (param, NULL));
  g_autofree char *suggested = NULL;

  if (m == NULL)
    return;
  g_free (self->export_upk);
  self->export_upk = g_strdup (m->upk_path);
  suggested = g_strdup_printf ("%s-%s-mcuboot.bin", m->product, m->version);
  tb_ui_choose_file (widget, _("Export for MCUboot"), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"),
                     _("MCUboot images"), (const char *const[]){ "*.bin", "*.img", NULL }, suggested,
                     (TbUiPathFunc) export_chosen);
}

/**
 * tb_images_page_get_n_mastered:
 *
 * Returns: how many mastered images the page lists
 */
guint
tb_images_page_get_n_mastered (TbImagesPage *self)
{
  return self->mastered != NULL ? self->mastered->len : 0;
}

/* ---- context ---- */

static void
reload_products (TbImagesPage *self)
{
  g_auto(GStrv) names = NULL;
  GtkStringList *model;

  names = self->context != NULL ? tb_context_dup_ids (self->context, TB_INVENTORY_PRODUCTS)
                                : g_new0 (char *, 1);
  {
    g_autofree char *list = g_strjoinv (", ", names);
    update_context_hint (self, g_strv_length (names), list);
  }
  reload_mastered (self);
  model = gtk_string_list_new ((const char *const *) names);
  adw_combo_row_set_model (self->product_row, G_LIST_MODEL (model));
  g_object_unref (model);
  update_form (self);
}

void
tb_images_page_set_context (TbImagesPage *self, TbContext *context)
{
  if (!tb_ui_follow_context (self, &self->context, context, G_CALLBACK (reload_products)))
    return;
  reload_products (self);
}

static void
tb_images_page_dispose (GObject *object)
{
  TbImagesPage *self = TB_IMAGES_PAGE (object);

  tb_ui_unfollow_context (self, &self->context);
  g_clear_object (&self->firmware);
  g_clear_object (&self->upk);
  g_clear_pointer (&self->checks, g_ptr_array_unref);
  g_clear_pointer (&self->mastered, g_ptr_array_unref);
  g_clear_pointer (&self->export_upk, g_free);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->output_dir, g_free);
  g_clear_pointer (&self->image_path, g_free);
  g_clear_pointer (&self->upk_path, g_free);
  G_OBJECT_CLASS (tb_images_page_parent_class)->dispose (object);
}

static void
tb_images_page_class_init (TbImagesPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tb_images_page_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/trustbench/Trustbench/tb-images-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, scroller);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, drop_zone);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, drop_label);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, context_hint);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, mastered_group);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, mastered_list);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, input_group);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, file_row);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, load_address_row);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, product_row);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, version_row);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, counter_spin);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, output_row);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, master_button);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, verify_button);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, result_group);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, result_list);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, checks_group);
  gtk_widget_class_bind_template_child (widget_class, TbImagesPage, checks_list);
  gtk_widget_class_bind_template_callback (widget_class, form_changed_cb);

  gtk_widget_class_install_action (widget_class, "images.choose", NULL, choose_action);
  gtk_widget_class_install_action (widget_class, "images.choose-output", NULL, choose_output_action);
  gtk_widget_class_install_action (widget_class, "images.master", NULL, master_action);
  gtk_widget_class_install_action (widget_class, "images.verify", NULL, verify_action);
  gtk_widget_class_install_action (widget_class, "images.provision", "s", provision_action);
  gtk_widget_class_install_action (widget_class, "images.create-job", "s", create_job_action);
  gtk_widget_class_install_action (widget_class, "images.export-mcuboot", "s", export_mcuboot_action);
  gtk_widget_class_install_action (widget_class, "images.verify-mastered", "s", verify_mastered_action);
}

static void
load_address_activate_cb (TbImagesPage *self)
{
  if (self->path != NULL && self->firmware == NULL)
    tb_images_page_open_file (self, self->path);
}

static void
tb_images_page_init (TbImagesPage *self)
{
  GtkDropTarget *drop;

  gtk_widget_init_template (GTK_WIDGET (self));
  drop = gtk_drop_target_new (G_TYPE_FILE, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
  adw_entry_row_set_show_apply_button (self->load_address_row, TRUE);
  g_signal_connect_swapped (self->load_address_row, "apply", G_CALLBACK (load_address_activate_cb), self);
  g_signal_connect_swapped (self->context_hint, "activate-link", G_CALLBACK (hint_link_cb), self);
  update_form (self);
}
