/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The Devices page: the probes and virtual boards, the selected device's
 * identity (attested by the device itself), and Provision, Program and
 * Reset, each run in the background with the window's progress panel
 * (every step in its log); a refusal is shown in the device's own words. */

#include "config.h"

#include "tb-devices-page.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tb-ui-util.h"
#include "tb-form-dialog.h"
#include "tb-work-host.h"

struct _TbDevicesPage {
  AdwBin parent_instance;

  GtkListBox *probe_list;
  GtkWidget *new_board_button;
  GtkWidget *master_first_button;
  AdwStatusPage *no_probe;
  AdwPreferencesGroup *device_group;
  GtkWidget *provision_button;
  GtkWidget *update_button;
  GtkListBox *device_list;

  TbContext *context;
  char *uri;                  /* the selected probe */
  TbAttestation *att;
  guint n_probes;
  gboolean refreshing;
  char *probe_details;        /* a hardware probe's firmware, packets, clock */
  char *probe_uris;           /* the probes listed, to notice hot-plugging */
  char *board_uris;           /* the virtual boards among them */
  guint poll_id;
  TbUsbWatch *usb_watch;      /* libusb hotplug, where there is */
  guint hotplug_id;
  char *offered_upk;          /* an image the Images page sent here to provision */
};

G_DEFINE_FINAL_TYPE (TbDevicesPage, tb_devices_page, ADW_TYPE_BIN)

static TbWorkHost *
get_host (TbDevicesPage *self)
{
  return tb_work_host_find (GTK_WIDGET (self));
}

/* ---- mastered images ---- */

/* The encrypted image mastering wrote beside a UPK: app.tbupk → app.tbimg */
static char *
image_path_for_upk (const char *upk_path)
{
  g_autofree char *stem = g_str_has_suffix (upk_path, ".tbupk")
                            ? g_strndup (upk_path, strlen (upk_path) - strlen (".tbupk"))
                            : g_strdup (upk_path);

  return g_strconcat (stem, ".tbimg", NULL);
}

/* The images this context mastered whose files are still where mastering
 * wrote them, newest first (an unreadable audit log lists none: the
 * Audit page says why). */
static GPtrArray *
list_mastered_images (TbContext *context)
{
  g_autoptr(GPtrArray) all = context != NULL ? tb_mastered_image_list (context, NULL) : NULL;
  GPtrArray *images = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_mastered_image_free);

  for (guint i = 0; all != NULL && i < all->len; i++)
    if (((TbMasteredImage *) g_ptr_array_index (all, i))->files_present)
      g_ptr_array_add (images, g_ptr_array_steal_index (all, i--));
  return images;
}

static const char *
boot_text (guint boot)
{
  switch (boot)
    {
    case 0: return _("runs");
    case 1: return _("no application installed");
    default: return _("refused at boot: the application was modified");
    }
}

/* "board-1" for virtual:/…/boards/board-1; a probe's URI otherwise */
static char *
device_display_name (const char *uri)
{
  if (g_str_has_prefix (uri, "virtual:"))
    return g_path_get_basename (uri + strlen ("virtual:"));
  return g_strdup (uri);
}

static char *
describe_application (TbDevicesPage *self, const TbAttestation *att)
{
  g_autoptr(GPtrArray) images = NULL;

  if (att->boot != 0)
    return g_strdup (boot_text (att->boot));
  images = list_mastered_images (self->context);
  for (guint i = 0; i < images->len; i++)
    {
      TbMasteredImage *image = g_ptr_array_index (images, i);
      if (g_strcmp0 (image->version, att->app_version) == 0 && image->security_counter == att->app_counter)
        return g_strdup_printf (_("%s %s runs: the secure boot manager checked it at reset (security counter %u)"),
                                image->product, att->app_version, att->app_counter);
    }
  return g_strdup_printf (_("%s runs: the secure boot manager checked it at reset (security counter %u)"),
                          att->app_version, att->app_counter);
}

static void
add_application_row (TbDevicesPage *self, const TbAttestation *att)
{
  g_autofree char *app = describe_application (self, att);
  GtkWidget *row = tb_ui_property_row_new (_("Application"), app);
  GtkWidget *icon = gtk_image_new_from_icon_name (att->boot == 0 ? "emblem-ok-symbolic" : "dialog-warning-symbolic");

  gtk_widget_add_css_class (icon, att->boot == 0 ? "success" : "warning");
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  att->boot == 0 ? _("Boots") : _("Does not boot"), -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), icon);
  gtk_widget_set_name (row, "application");
  gtk_list_box_append (self->device_list, row);
}

static void
show_device (TbDevicesPage *self)
{
  TbAttestation *att = self->att;
  g_autofree char *sbm = NULL;
  g_autofree char *pub = NULL;
  gboolean blank = att == NULL || att->lifecycle <= TB_LIFECYCLE_SBM_INSTALLED;

  tb_ui_clear_list (self->device_list);
  gtk_widget_set_visible (GTK_WIDGET (self->device_group), self->uri != NULL);
  if (self->uri != NULL)
    {
      g_autofree char *title = device_display_name (self->uri);
      adw_preferences_group_set_title (self->device_group, title);
    }
  /* a blank device is provisioned, a provisioned one updated */
  gtk_widget_set_visible (self->provision_button, blank);
  gtk_widget_set_visible (self->update_button, !blank);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "devices.provision",
                                 self->uri != NULL && blank && self->context != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "devices.program", att != NULL && !blank);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "devices.reset", self->uri != NULL);
  if (self->probe_details != NULL)
    tb_ui_add_property (self->device_list, _("Probe"), self->probe_details);
  if (att == NULL)
    {
      if (self->uri != NULL)
        tb_ui_add_property (self->device_list, _("Device"),
                            _("Blank: no secure boot manager answers. Provision it to install one, with its identity "
                              "and a mastered image."));
      return;
    }
  sbm = g_strdup_printf ("%u.%u.%u", att->sbm_version >> 16, (att->sbm_version >> 8) & 0xff, att->sbm_version & 0xff);
  pub = tb_hex_encode (att->device_public_key, sizeof att->device_public_key);
  add_application_row (self, att);
  tb_ui_add_property (self->device_list, _("Lifecycle"), tb_lifecycle_to_string (att->lifecycle));
  tb_ui_add_property (self->device_list, _("Unique ID"), att->uid);
  tb_ui_add_property (self->device_list, _("Device type"), att->device_type);
  tb_ui_add_property (self->device_list, _("Secure boot manager"), sbm);
  tb_ui_add_property (self->device_list, _("Device key (attestation verified)"), pub);
}

/* ---- background work ---- */

typedef struct {
  char *uri;
  char *ctx_path;
  TbSecret *passphrase;
  char *product;
  gboolean lock;
  char *upk;
  char *image;
  int kind;                    /* 0 identify, 1 provision, 2 program, 3 reset */
  TbAttestation *att;
  char *probe_details;
} Job;

static void
job_free (Job *job)
{
  g_free (job->uri);
  g_free (job->ctx_path);
  tb_secret_free (job->passphrase);
  g_free (job->product);
  g_free (job->upk);
  g_free (job->image);
  tb_attestation_free (job->att);
  g_free (job->probe_details);
  g_free (job);
}

static gboolean
device_work (gpointer data, TbProgress *progress, GError **error)
{
  Job *job = data;
  g_autoptr(TbProbe) probe = tb_probe_open (job->uri, error);
  g_autoptr(TbTarget) target = NULL;
  g_autoptr(GError) local = NULL;

  if (probe == NULL)
    return FALSE;
  if (TB_IS_CMSIS_DAP_PROBE (probe))
    job->probe_details = tb_cmsis_dap_probe_describe (TB_CMSIS_DAP_PROBE (probe));
  if (job->kind == 1)
    {
      g_autoptr(TbContext) ctx = tb_context_open (job->ctx_path, TB_CONTEXT_OPEN_READ, error);
      TbProvisionOptions options = { job->product, job->upk, job->image, !job->lock };
      TbProvisionResult result = { 0 };
      g_autofree char *record = NULL;

      if (ctx == NULL || !tb_provision_device_and_record (ctx, probe, &options, job->passphrase, &result, &record,
                                                          progress, error))
        return FALSE;
      tb_provision_result_clear (&result);
    }
  else if (job->kind == 2)
    {
      if (!tb_program_device (probe, job->upk, job->image, NULL, NULL, progress, error))
        return FALSE;
    }
  target = tb_target_new (probe);
  if (job->kind == 3)
    {
      g_autoptr(GError) no_sbm = NULL;
      tb_progress_set_stage (progress, _("Resetting the device"));
      /* a device with an SBM is waited for until the SBM is back up */
      gboolean reset = tb_target_has_sbm (target, &no_sbm) ? tb_target_reset (target, error)
                                                           : tb_probe_reset (probe, FALSE, error);
      if (!reset)
        return FALSE;
    }
  tb_progress_set_stage (progress, _("Asking the device who it is"));
  if (!tb_target_has_sbm (target, &local))
    {
      /* a blank device has no SBM to ask: that is an answer, not an error */
      if (g_error_matches (local, TB_ERROR, TB_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  job->att = tb_target_attest (target, error);
  return job->att != NULL;
}

static void
device_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(TbDevicesPage) self = user_data;
  Job *job = g_object_get_data (G_OBJECT (self), "tb-job");
  g_autoptr(GError) error = NULL;
  static const char *const done[] = { NULL, N_("Device provisioned"), N_("Image installed"), N_("Device reset") };
  gboolean ok = tb_work_host_run_work_finish (TB_WORK_HOST (source), result, &error);

  if (!ok)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        tb_ui_show_error (GTK_WIDGET (self), job->kind == 2 ? _("The Device Refused the Image") : _("The Operation Failed"), error);
    }
  else if (job->kind == 1 && job->att != NULL && job->att->boot == 0 && job->att->app_version[0] != '\0')
    {
      g_autofree char *toast = g_strdup_printf (_("Device provisioned: %s %s boots"),
                                                job->product != NULL ? job->product : "", job->att->app_version);
      tb_work_host_add_toast (TB_WORK_HOST (source), toast);
    }
  else if (done[job->kind] != NULL)
    tb_work_host_add_toast (TB_WORK_HOST (source), _(done[job->kind]));
  /* a refusal leaves the device as it was: keep showing what it said */
  if (g_strcmp0 (job->uri, self->uri) == 0 && job->probe_details != NULL)
    {
      g_free (self->probe_details);
      self->probe_details = g_steal_pointer (&job->probe_details);
    }
  if (g_strcmp0 (job->uri, self->uri) == 0 && (ok || job->att != NULL))
    {
      g_clear_pointer (&self->att, tb_attestation_free);
      self->att = g_steal_pointer (&job->att);
      show_device (self);
    }
  tb_devices_page_refresh (self);
}

static void
run_job (TbDevicesPage *self, Job *job, const char *title)
{
  TbWorkHost *host = get_host (self);

  if (host == NULL || tb_work_host_is_busy (host))
    {
      if (host != NULL && job->kind != 0)
        tb_work_host_add_toast (host, _("Another operation is running: try again when it ends"));
      job_free (job);
      return;
    }
  job->uri = g_strdup (self->uri);
  g_object_set_data (G_OBJECT (self), "tb-job", job);
  tb_work_host_run_work (host, title, device_work, job, (GDestroyNotify) job_free, device_done_cb, g_object_ref (self));
}

/* ---- probes ---- */

static GtkWidget *
probe_row_new (TbProbeInfo *info)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), info->description);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), info->uri);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("media-flash-symbolic"));
  gtk_widget_set_name (row, info->uri);
  return row;
}

static char *
join_uris_of_kind (GPtrArray *probes, const char *kind)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; probes != NULL && i < probes->len; i++)
    {
      TbProbeInfo *info = g_ptr_array_index (probes, i);
      if (kind == NULL || g_strcmp0 (info->kind, kind) == 0)
        g_string_append_printf (s, "%s\n", info->uri);
    }
  return g_string_free (s, FALSE);
}

static char *
join_uris (GPtrArray *probes)
{
  return join_uris_of_kind (probes, NULL);
}

static char *
join_board_uris (GPtrArray *probes)
{
  return join_uris_of_kind (probes, "virtual");
}

/* With no device, the status page is the only "New Virtual Board" (the
 * header's button comes back with the list), and it links the step before
 * when this context has mastered no image yet. */
static void
update_empty_state (TbDevicesPage *self)
{
  gboolean empty = self->n_probes == 0;

  gtk_widget_set_visible (GTK_WIDGET (self->no_probe), empty);
  gtk_widget_set_visible (GTK_WIDGET (self->probe_list), !empty);
  gtk_widget_set_visible (self->new_board_button, !empty);
  if (empty)
    {
      g_autoptr(GPtrArray) images = list_mastered_images (self->context);
      gtk_widget_set_visible (self->master_first_button, self->context != NULL && images->len == 0);
    }
}

/**
 * tb_devices_page_refresh:
 *
 * Lists the probes again, keeping the selection.
 */
void
tb_devices_page_refresh (TbDevicesPage *self)
{
  g_autoptr(GPtrArray) probes = tb_probe_list (NULL);
  g_autofree char *selected = g_strdup (self->uri);

  self->refreshing = TRUE;
  tb_ui_clear_list (self->probe_list);
  self->n_probes = probes != NULL ? probes->len : 0;
  g_free (self->probe_uris);
  self->probe_uris = join_uris (probes);
  g_free (self->board_uris);
  self->board_uris = join_board_uris (probes);
  for (guint i = 0; probes != NULL && i < probes->len; i++)
    {
      GtkWidget *row = probe_row_new (g_ptr_array_index (probes, i));
      gtk_list_box_append (self->probe_list, row);
      if (g_strcmp0 (gtk_widget_get_name (row), selected) == 0)
        gtk_list_box_select_row (self->probe_list, GTK_LIST_BOX_ROW (row));
    }
  self->refreshing = FALSE;
  update_empty_state (self);
}

static void
probe_selected_cb (TbDevicesPage *self, GtkListBoxRow *row)
{
  if (self->refreshing || row == NULL || g_strcmp0 (gtk_widget_get_name (GTK_WIDGET (row)), self->uri) == 0)
    return;
  g_free (self->uri);
  self->uri = g_strdup (gtk_widget_get_name (GTK_WIDGET (row)));
  g_clear_pointer (&self->att, tb_attestation_free);
  g_clear_pointer (&self->probe_details, g_free);
  show_device (self);
  run_job (self, g_new0 (Job, 1), _("Identifying the device"));
}

/**
 * tb_devices_page_select:
 * @uri: a probe URI
 *
 * Selects the probe and identifies its device in the background.
 */
gboolean
tb_devices_page_select (TbDevicesPage *self, const char *uri)
{
  GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->probe_list));

  for (; row != NULL; row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (gtk_widget_get_name (row), uri) == 0)
      {
        gtk_list_box_select_row (self->probe_list, GTK_LIST_BOX_ROW (row));
        return TRUE;
      }
  return FALSE;
}

/**
 * tb_devices_page_new_board:
 *
 * Makes a virtual board in the boards directory.
 *
 * Returns: (transfer full): its probe URI
 */
char *
tb_devices_page_new_board (TbDevicesPage *self, GError **error)
{
  g_autofree char *dir = tb_probe_get_boards_dir ();
  g_autofree char *path = NULL;
  g_autoptr(TbBoardInfo) board = NULL;

  for (guint i = 1; path == NULL || g_file_test (path, G_FILE_TEST_EXISTS); i++)
    {
      g_free (path);
      path = g_strdup_printf ("%s/board-%u", dir, i);
    }
  board = tb_virtual_probe_create_board (path, NULL, 0, 0, NULL, error);
  if (board == NULL)
    return NULL;
  tb_devices_page_refresh (self);
  return g_steal_pointer (&board->uri);
}

static void
new_board_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbDevicesPage *self = TB_DEVICES_PAGE (widget);
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = tb_devices_page_new_board (self, &error);

  if (uri == NULL)
    {
      tb_ui_show_error (GTK_WIDGET (self), _("Cannot Make a Virtual Board"), error);
      return;
    }
  tb_devices_page_select (self, uri);
  tb_work_host_add_toast (get_host (self), _("Virtual board created"));
}

static void
refresh_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_devices_page_refresh (TB_DEVICES_PAGE (widget));
}

static void
reset_action (GtkWidget *widget, const char *name, GVariant *param)
{
  Job *job = g_new0 (Job, 1);

  job->kind = 3;
  run_job (TB_DEVICES_PAGE (widget), job, _("Resetting the device"));
}

/* ---- provisioning: the board selected, the image picked in its dialog ---- */

/* The dialog's image choices: the mastered images, files chosen with
 * "Choose File…", and last "no image" (identity only). */
typedef struct {
  GPtrArray *images;           /* TbMasteredImage, in the combo's order */
  GtkStringList *labels;
  AdwComboRow *image_row;
  AdwComboRow *product_row;
} ImageChoices;

static void
image_choices_free (ImageChoices *choices)
{
  g_ptr_array_unref (choices->images);
  g_object_unref (choices->labels);
  g_free (choices);
}

static char *
image_label (const TbMasteredImage *image)
{
  return g_strdup_printf (_("%s %s · counter %u"), image->product, image->version, image->security_counter);
}

static void
select_product (AdwComboRow *row, const char *product)
{
  GListModel *model = adw_combo_row_get_model (row);

  for (guint i = 0; product != NULL && i < g_list_model_get_n_items (model); i++)
    if (g_strcmp0 (gtk_string_list_get_string (GTK_STRING_LIST (model), i), product) == 0)
      adw_combo_row_set_selected (row, i);
}

static void
image_selected_cb (AdwComboRow *row, GParamSpec *pspec, ImageChoices *choices)
{
  guint i = adw_combo_row_get_selected (row);

  /* the image says which product the device is made for */
  if (i < choices->images->len)
    select_product (choices->product_row, ((TbMasteredImage *) g_ptr_array_index (choices->images, i))->product);
}

static void
image_file_chosen (GtkWidget *dialog, const char *path)
{
  ImageChoices *choices = g_object_get_data (G_OBJECT (dialog), "tb-images");
  g_autoptr(GError) error = NULL;
  g_autoptr(TbUpk) upk = tb_upk_load_file (path, &error);
  TbMasteredImage *image;
  g_autofree char *label = NULL;
  guint at = choices->images->len;

  if (upk == NULL)
    {
      tb_ui_show_error (dialog, _("Not a Mastered Image"), error);
      return;
    }
  image = g_new0 (TbMasteredImage, 1);
  image->upk_path = g_strdup (path);
  image->image_path = image_path_for_upk (path);
  image->product = g_strdup (tb_upk_get_product (upk));
  image->version = g_strdup (tb_upk_get_version (upk));
  image->security_counter = tb_upk_get_security_counter (upk);
  label = image_label (image);
  g_ptr_array_add (choices->images, image);
  gtk_string_list_splice (choices->labels, at, 0, (const char *const[]){ label, NULL });
  adw_combo_row_set_selected (choices->image_row, at);
}

static void
choose_image_file_cb (GtkWidget *dialog)
{
  tb_ui_choose_file (dialog, _("Choose a Mastered Image (.tbupk)"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"),
                     _("Update protection keys"), (const char *const[]){ "*.tbupk", NULL }, NULL,
                     (TbUiPathFunc) image_file_chosen);
}

static void
provision_response_cb (GtkWidget *dialog, const char *response, TbDevicesPage *self)
{
  ImageChoices *choices = g_object_get_data (G_OBJECT (dialog), "tb-images");
  guint picked = adw_combo_row_get_selected (choices->image_row);
  g_autofree char *lock = NULL;
  Job *job;

  if (g_strcmp0 (response, "accept") != 0 || self->context == NULL || self->uri == NULL)
    {
      tb_form_dialog_clear_secrets (dialog);
      return;
    }
  job = g_new0 (Job, 1);
  job->kind = 1;
  job->ctx_path = g_strdup (tb_context_get_path (self->context));
  job->passphrase = tb_secret_new (tb_form_dialog_get_text (dialog, "pass"));
  tb_form_dialog_clear_secrets (dialog);
  job->product = tb_form_dialog_dup_choice (dialog, "product");
  if (picked < choices->images->len)
    {
      TbMasteredImage *image = g_ptr_array_index (choices->images, picked);
      job->upk = g_strdup (image->upk_path);
      job->image = g_strdup (image->image_path);
    }
  lock = tb_form_dialog_dup_choice (dialog, "lock");
  job->lock = g_strcmp0 (lock, _("Lock (production)")) == 0;
  run_job (self, job, _("Provisioning the device"));
}

static GtkWidget *
provision_dialog_new (TbDevicesPage *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  g_auto(GStrv) names = NULL;
  const char *locks[] = { N_("Lock (production)"), N_("Keep open (lab)"), NULL };
  const char *translated[3] = { _(locks[0]), _(locks[1]), NULL };
  ImageChoices *choices;
  GtkWidget *dialog;
  GtkWidget *choose;
  g_autofree char *body = NULL;
  g_autofree char *device_name = NULL;

  device_name = device_display_name (self->uri);
  names = tb_context_dup_ids (self->context, TB_INVENTORY_PRODUCTS);
  body = g_strdup_printf (_("“%s” gets a certificate for its own key, the product key wrapped to that key and the "
                            "mastering key to trust; then the image is installed and the device reset, to check "
                            "that it boots."), device_name);
  dialog = tb_form_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), _("Provision the Device"), body,
                               _("_Provision"));

  choices = g_new0 (ImageChoices, 1);
  choices->images = list_mastered_images (self->context);
  choices->labels = gtk_string_list_new (NULL);
  for (guint i = 0; i < choices->images->len; i++)
    {
      g_autofree char *label = image_label (g_ptr_array_index (choices->images, i));
      gtk_string_list_append (choices->labels, label);
    }
  gtk_string_list_append (choices->labels, _("No image: identity only"));
  tb_form_dialog_add_choice (dialog, "image", _("Image"), NULL, 0);
  choices->image_row = g_object_get_data (G_OBJECT (dialog), "image");
  adw_combo_row_set_model (choices->image_row, G_LIST_MODEL (choices->labels));
  adw_combo_row_set_selected (choices->image_row, 0);
  choose = gtk_button_new_from_icon_name ("document-open-symbolic");
  gtk_widget_set_valign (choose, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (choose, "flat");
  gtk_widget_set_tooltip_text (choose, _("Choose a Mastered Image File…"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (choose), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Choose a Mastered Image File…"), -1);
  g_signal_connect_swapped (choose, "clicked", G_CALLBACK (choose_image_file_cb), dialog);
  adw_action_row_add_suffix (ADW_ACTION_ROW (choices->image_row), choose);
  g_object_set_data (G_OBJECT (dialog), "choose-image", choose);

  tb_form_dialog_add_choice (dialog, "product", _("Product"), (const char *const *) names, 0);
  choices->product_row = g_object_get_data (G_OBJECT (dialog), "product");
  g_object_set_data_full (G_OBJECT (dialog), "tb-images", choices, (GDestroyNotify) image_choices_free);
  g_signal_connect (choices->image_row, "notify::selected", G_CALLBACK (image_selected_cb), choices);
  image_selected_cb (choices->image_row, NULL, choices);

  tb_form_dialog_add_choice (dialog, "lock", _("Debug Access"), translated, 0);
  tb_form_dialog_add_password (dialog, "pass", _("Context Passphrase"));
  g_signal_connect (dialog, "response", G_CALLBACK (provision_response_cb), self);
  return dialog;
}

static void
provision_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbDevicesPage *self = TB_DEVICES_PAGE (widget);
  ImageChoices *choices;
  GtkWidget *dialog;
  guint i;

  if (self->context == NULL || self->uri == NULL)
    return;
  dialog = provision_dialog_new (self);
  /* the image the Images page sent here, else the newest */
  if (self->offered_upk != NULL)
    {
      choices = g_object_get_data (G_OBJECT (dialog), "tb-images");
      for (i = 0; i < choices->images->len; i++)
        if (g_strcmp0 (((TbMasteredImage *) g_ptr_array_index (choices->images, i))->upk_path, self->offered_upk) == 0)
          break;
      if (i < choices->images->len)
        adw_combo_row_set_selected (choices->image_row, i);
      else
        image_file_chosen (dialog, self->offered_upk);
    }
  gtk_window_present (GTK_WINDOW (dialog));
}


/**
 * tb_devices_page_program:
 * @upk_path: a `.tbupk`; the image is the `.tbimg` beside it
 *
 * Installs the image on the selected device in the background.
 */
void
tb_devices_page_program (TbDevicesPage *self, const char *upk_path)
{
  Job *job;

  if (self->uri == NULL)
    return;
  job = g_new0 (Job, 1);
  job->kind = 2;
  job->upk = g_strdup (upk_path);
  job->image = image_path_for_upk (upk_path);
  run_job (self, job, _("Programming the device"));
}

static void
program_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_ui_choose_file (widget, _("Choose a Mastered Image (.tbupk)"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Program"),
                     _("Update protection keys"), (const char *const[]){ "*.tbupk", NULL }, NULL,
                     (TbUiPathFunc) tb_devices_page_program);
}

/**
 * tb_devices_page_offer_image:
 * @upk_path: a mastered image (.tbupk)
 *
 * The image to provision or program the next board with, chosen on the
 * Images page.
 */
void
tb_devices_page_offer_image (TbDevicesPage *self, const char *upk_path)
{
  g_free (self->offered_upk);
  self->offered_upk = g_strdup (upk_path);
}

const char *
tb_devices_page_get_offered_image (TbDevicesPage *self)
{
  return self->offered_upk;
}

TbAttestation *
tb_devices_page_get_attestation (TbDevicesPage *self)
{
  return self->att;
}

guint
tb_devices_page_get_n_probes (TbDevicesPage *self)
{
  return self->n_probes;
}

void
tb_devices_page_set_context (TbDevicesPage *self, TbContext *context)
{
  g_set_object (&self->context, context);
  show_device (self);
  update_empty_state (self);
}

/* Hot-plug: with libusb hotplug, a USB probe plugged in or out is listed
 * half a second later (time for udev to set its permissions); without it,
 * and for virtual boards made elsewhere, the list is polled every two
 * seconds. It is rebuilt only when it changed. */
static gboolean
poll_probes (gpointer data)
{
  TbDevicesPage *self = data;
  g_autoptr(GPtrArray) probes = NULL;
  g_autofree char *uris = NULL;

  if (self->refreshing || !gtk_widget_get_mapped (GTK_WIDGET (self)))
    return G_SOURCE_CONTINUE;
  if (self->usb_watch != NULL)
    {
      probes = tb_probe_list_boards ();
      uris = join_board_uris (probes);
      if (g_strcmp0 (uris, self->board_uris) != 0)
        tb_devices_page_refresh (self);
      return G_SOURCE_CONTINUE;
    }
  probes = tb_probe_list (NULL);
  uris = join_uris (probes);
  if (g_strcmp0 (uris, self->probe_uris) != 0)
    tb_devices_page_refresh (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
hotplug_refresh (gpointer data)
{
  TbDevicesPage *self = data;

  self->hotplug_id = 0;
  if (!self->refreshing)
    tb_devices_page_refresh (self);
  return G_SOURCE_REMOVE;
}

static void
usb_changed_cb (gpointer data)
{
  TbDevicesPage *self = data;

  g_clear_handle_id (&self->hotplug_id, g_source_remove);
  self->hotplug_id = g_timeout_add (500, hotplug_refresh, self);
}

/**
 * tb_devices_page_watches_usb:
 *
 * Returns: whether USB probes are noticed through libusb hotplug events
 *   (else by polling)
 */
gboolean
tb_devices_page_watches_usb (TbDevicesPage *self)
{
  return self->usb_watch != NULL;
}

static void
tb_devices_page_dispose (GObject *object)
{
  TbDevicesPage *self = TB_DEVICES_PAGE (object);

  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_pointer (&self->usb_watch, tb_usb_watch_free);
  g_clear_handle_id (&self->hotplug_id, g_source_remove);
  g_clear_pointer (&self->probe_details, g_free);
  g_clear_pointer (&self->probe_uris, g_free);
  g_clear_pointer (&self->offered_upk, g_free);
  g_clear_pointer (&self->board_uris, g_free);

  g_clear_object (&self->context);
  g_clear_pointer (&self->uri, g_free);
  g_clear_pointer (&self->att, tb_attestation_free);
  G_OBJECT_CLASS (tb_devices_page_parent_class)->dispose (object);
}

static void
tb_devices_page_class_init (TbDevicesPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tb_devices_page_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/trustbench/Trustbench/tb-devices-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TbDevicesPage, provision_button);
  gtk_widget_class_bind_template_child (widget_class, TbDevicesPage, update_button);
  gtk_widget_class_bind_template_child (widget_class, TbDevicesPage, probe_list);
  gtk_widget_class_bind_template_child (widget_class, TbDevicesPage, new_board_button);
  gtk_widget_class_bind_template_child (widget_class, TbDevicesPage, master_first_button);
  gtk_widget_class_bind_template_child (widget_class, TbDevicesPage, no_probe);
  gtk_widget_class_bind_template_child (widget_class, TbDevicesPage, device_group);
  gtk_widget_class_bind_template_child (widget_class, TbDevicesPage, device_list);
  gtk_widget_class_bind_template_callback (widget_class, probe_selected_cb);
  gtk_widget_class_install_action (widget_class, "devices.refresh", NULL, refresh_action);
  gtk_widget_class_install_action (widget_class, "devices.new-board", NULL, new_board_action);
  gtk_widget_class_install_action (widget_class, "devices.reset", NULL, reset_action);
  gtk_widget_class_install_action (widget_class, "devices.provision", NULL, provision_action);
  gtk_widget_class_install_action (widget_class, "devices.program", NULL, program_action);
}

static void
tb_devices_page_init (TbDevicesPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* images are mastered on another page: look again when this one shows */
  g_signal_connect (self, "map", G_CALLBACK (update_empty_state), NULL);
  tb_devices_page_refresh (self);
  self->usb_watch = tb_usb_watch_new (usb_changed_cb, self, NULL);
  self->poll_id = g_timeout_add_seconds (2, poll_probes, self);
}
