/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The Keys & certificates page: policy findings, every key (usage,
 * algorithm, where it lives) and every certificate (subject, issuer,
 * validity, chain status), a details pane, and the actions to create the
 * default hierarchy, generate, import and export. Anything that writes
 * the context or does crypto runs through the window's worker (off the
 * main loop) on its own writable TbContext; the page then reloads. */

#include "config.h"

#include "tb-keys-page.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tb-ui-util.h"
#include "tb-form-dialog.h"
#include "tb-work-host.h"

struct _TbKeysPage {
  AdwBin parent_instance;

  AdwSplitButton *add_key_button;
  GtkStack *stack;
  AdwPreferencesGroup *policy_group;
  GtkListBox *policy_list;
  GtkListBox *key_list;
  GtkListBox *token_list;
  GtkLabel *token_note;
  GPtrArray *tokens;            /* TbTokenInfo, for the generate dialog */
  GtkListBox *cert_list;
  GtkRevealer *details_revealer;
  GtkLabel *details_title;
  GtkListBox *details_list;
  GtkButton *export_button;

  TbContext *context;
  GPtrArray *keys;     /* TbKey */
  GPtrArray *certs;    /* TbCert */
  guint n_findings;
  char *selected_kind; /* "key" or "cert" */
  char *selected_name;
};

G_DEFINE_FINAL_TYPE (TbKeysPage, tb_keys_page, ADW_TYPE_BIN)

enum { PROP_0, PROP_CONTEXT, N_PROPS };
static GParamSpec *props[N_PROPS];

static TbWorkHost *
get_host (TbKeysPage *self)
{
  return tb_work_host_find (GTK_WIDGET (self));
}

static void
toast (TbKeysPage *self, const char *message)
{
  TbWorkHost *host = get_host (self);

  if (host != NULL)
    tb_work_host_add_toast (host, message);
}

static char *
format_date (GDateTime *t)
{
  return t != NULL ? g_date_time_format (t, "%Y-%m-%d") : g_strdup ("?");
}

/* ---- details ---- */

static void
add_detail (TbKeysPage *self, const char *field, const char *value)
{
  tb_ui_add_property (self->details_list, field, value != NULL ? value : "—");
}

static TbKey *
find_key (TbKeysPage *self, const char *name)
{
  for (guint i = 0; self->keys != NULL && i < self->keys->len; i++)
    if (g_strcmp0 (tb_key_get_name (g_ptr_array_index (self->keys, i)), name) == 0)
      return g_ptr_array_index (self->keys, i);
  return NULL;
}

static TbCert *
find_cert (TbKeysPage *self, const char *name)
{
  for (guint i = 0; self->certs != NULL && i < self->certs->len; i++)
    if (g_strcmp0 (tb_cert_get_name (g_ptr_array_index (self->certs, i)), name) == 0)
      return g_ptr_array_index (self->certs, i);
  return NULL;
}

static void
show_key_details (TbKeysPage *self, TbKey *key)
{
  g_autofree char *storage = tb_key_describe_storage (key);
  g_autoptr(TbKeyInfo) info = tb_context_lookup_key (self->context, tb_key_get_name (key), NULL);

  gtk_label_set_text (self->details_title, tb_key_get_name (key));
  tb_ui_clear_list (self->details_list);
  add_detail (self, _("Usage"), tb_key_usage_describe (tb_key_get_usage (key)));
  add_detail (self, _("Algorithm"), tb_key_get_algorithm (key));
  add_detail (self, _("Private key lives in"), storage);
  add_detail (self, _("Public key SHA-256"), tb_key_get_public_sha256 (key));
  if (info != NULL)
    add_detail (self, _("Created"), info->created);
  gtk_button_set_label (self->export_button, _("Export Public Key…"));
}

static void
show_cert_details (TbKeysPage *self, TbCert *cert)
{
  g_autofree char *subject = tb_cert_dup_subject (cert);
  g_autofree char *issuer = tb_cert_dup_issuer (cert);
  g_autofree char *serial = tb_cert_dup_serial (cert);
  g_autofree char *from = format_date (tb_cert_get_not_before (cert));
  g_autofree char *until = format_date (tb_cert_get_not_after (cert));
  g_autofree char *validity = g_strdup_printf (_("%s to %s"), from, until);
  g_autofree char *alg = tb_cert_dup_key_algorithm (cert);
  g_autofree char *sig = tb_cert_dup_signature_algorithm (cert);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) chain = NULL;
  g_autofree char *status = NULL;

  if (tb_cert_verify (self->context, cert, &chain, &error))
    status = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Valid, chain of %u certificate to the root",
                                           "Valid, chain of %u certificates to the root", chain->len),
                              chain->len);
  else
    status = g_strdup (error->message);

  gtk_label_set_text (self->details_title, tb_cert_get_name (cert));
  tb_ui_clear_list (self->details_list);
  add_detail (self, _("Status"), status);
  add_detail (self, _("Subject"), subject);
  add_detail (self, _("Issuer"), issuer);
  add_detail (self, _("Validity"), validity);
  add_detail (self, _("Serial number"), serial);
  add_detail (self, _("Certified key"), tb_cert_get_key_name (cert));
  add_detail (self, _("Key algorithm"), alg);
  add_detail (self, _("Signature"), sig);
  add_detail (self, _("Certificate authority"), tb_cert_is_ca (cert) ? _("Yes") : _("No"));
  add_detail (self, _("SHA-256 fingerprint"), tb_cert_get_sha256 (cert));
  gtk_button_set_label (self->export_button, _("Export Chain (PEM)…"));
}

static void
set_selection (TbKeysPage *self, const char *kind, const char *name)
{
  g_free (self->selected_kind);
  g_free (self->selected_name);
  self->selected_kind = g_strdup (kind);
  self->selected_name = g_strdup (name);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "keys.export-selected", name != NULL);
  /* hidden, not only folded: a folded revealer still takes its width */
  gtk_widget_set_visible (GTK_WIDGET (self->details_revealer), name != NULL);
  gtk_revealer_set_reveal_child (self->details_revealer, name != NULL);
}

static void
key_row_selected_cb (TbKeysPage *self, GtkListBoxRow *row)
{
  TbKey *key;

  if (row == NULL)
    return;
  gtk_list_box_unselect_all (self->cert_list);
  key = find_key (self, gtk_widget_get_name (GTK_WIDGET (row)));
  if (key == NULL)
    return;
  set_selection (self, "key", tb_key_get_name (key));
  show_key_details (self, key);
}

static void
cert_row_selected_cb (TbKeysPage *self, GtkListBoxRow *row)
{
  TbCert *cert;

  if (row == NULL)
    return;
  gtk_list_box_unselect_all (self->key_list);
  cert = find_cert (self, gtk_widget_get_name (GTK_WIDGET (row)));
  if (cert == NULL)
    return;
  set_selection (self, "cert", tb_cert_get_name (cert));
  show_cert_details (self, cert);
}

/* ---- lists ---- */

static const char *
severity_icon (TbSeverity severity)
{
  switch (severity)
    {
    case TB_SEVERITY_CRITICAL:
      return "dialog-error-symbolic";
    case TB_SEVERITY_WARNING:
      return "dialog-warning-symbolic";
    case TB_SEVERITY_INFO:
    default:
      return "dialog-information-symbolic";
    }
}

static GtkWidget *
status_badge (const char *text, const char *style)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_widget_add_css_class (label, "caption");
  gtk_widget_add_css_class (label, style);
  gtk_widget_set_valign (label, GTK_ALIGN_CENTER);
  return label;
}

/* What a key of @usage does, in a few words: the row's title is its name,
 * this is what it is for. */
static const char *
role_words (TbKeyUsage usage)
{
  switch (usage)
    {
    case TB_KEY_USAGE_ROOT_CA:
      return _("Certifies the CAs and signing keys");
    case TB_KEY_USAGE_PROVISIONING_CA:
      return _("Issues device certificates");
    case TB_KEY_USAGE_MASTERING:
      return _("Signs firmware images");
    case TB_KEY_USAGE_PRODUCT:
      return _("Wraps the image keys of a product");
    case TB_KEY_USAGE_JOB:
      return _("Signs production jobs");
    case TB_KEY_USAGE_N:
    default:
      return tb_key_usage_to_string (usage);
    }
}

static const char *
algorithm_words (const char *algorithm)
{
  static const struct {
    const char *id;
    const char *words;
  } table[] = {
    { "ec-p256", "ECDSA P-256" }, { "ec-p384", "ECDSA P-384" }, { "ed25519", "Ed25519" }, { "rsa-3072", "RSA 3072" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    if (g_strcmp0 (algorithm, table[i].id) == 0)
      return table[i].words;
  return algorithm;
}

/* The certificate of the key named @key_name: the one that was issued
 * last, or %NULL. */
static TbCert *
find_cert_of_key (TbKeysPage *self, const char *key_name)
{
  for (guint i = self->certs != NULL ? self->certs->len : 0; i > 0; i--)
    if (g_strcmp0 (tb_cert_get_key_name (g_ptr_array_index (self->certs, i - 1)), key_name) == 0)
      return g_ptr_array_index (self->certs, i - 1);
  return NULL;
}

static GtkWidget *
key_row_new (TbKeysPage *self, TbKey *key, GDateTime *now)
{
  GtkWidget *row = adw_action_row_new ();
  gboolean in_file = g_strcmp0 (tb_key_get_storage (key), TB_KEY_STORAGE_FILE) == 0;
  GtkWidget *icon = gtk_image_new_from_icon_name (in_file ? "dialog-password-symbolic" : "channel-secure-symbolic");
  TbCert *cert = find_cert_of_key (self, tb_key_get_name (key));
  g_autofree char *where = NULL;
  g_autofree char *validity = NULL;
  g_autofree char *subtitle = NULL;

  if (in_file)
    where = g_strdup (_("encrypted file"));
  else
    {
      g_autofree char *label = tb_pkcs11_uri_dup_token_label (tb_key_get_storage (key));
      where = g_strdup_printf (_("on token %s"), label != NULL && label[0] != '\0' ? label : "?");
    }
  if (cert == NULL)
    validity = g_strdup (_("no certificate"));
  else
    {
      g_autofree char *until = format_date (tb_cert_get_not_after (cert));
      validity = g_date_time_compare (tb_cert_get_not_after (cert), now) < 0
                   ? g_strdup_printf (_("certificate expired %s"), until)
                   : g_strdup_printf (_("certified until %s"), until);
    }
  /* TRANSLATORS: role · algorithm · where the private key is · validity */
  subtitle = g_strdup_printf (_("%s · %s · %s · %s"), role_words (tb_key_get_usage (key)),
                              algorithm_words (tb_key_get_algorithm (key)), where, validity);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), tb_key_get_name (key));
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_tooltip_text (icon, in_file ? _("Private key in an encrypted file") : _("Private key on a token"));
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("go-next-symbolic"));
  gtk_widget_set_name (row, tb_key_get_name (key));
  return row;
}

static GtkWidget *
cert_row_new (TbKeysPage *self, TbCert *cert, GDateTime *now)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *subject = tb_cert_dup_subject (cert);
  g_autofree char *until = format_date (tb_cert_get_not_after (cert));
  g_autofree char *badge = NULL;
  const char *style = "success";
  gint64 days_left = g_date_time_difference (tb_cert_get_not_after (cert), now) / G_TIME_SPAN_DAY;
  g_autoptr(GError) error = NULL;

  if (!tb_cert_verify (self->context, cert, NULL, &error))
    {
      badge = g_strdup (_("Invalid"));
      style = "error";
      gtk_widget_set_tooltip_text (row, error->message);
    }
  else if (days_left < 0)
    {
      badge = g_strdup (_("Expired"));
      style = "error";
    }
  else if (days_left < TB_POLICY_EXPIRY_WARNING_DAYS)
    {
      badge = g_strdup_printf (_("Expires %s"), until);
      style = "warning";
    }
  else
    badge = g_strdup_printf (_("Valid until %s"), until);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), tb_cert_get_name (cert));
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  {
    g_autofree char *issuer = tb_cert_dup_issuer (cert);
    g_autofree char *line = tb_cert_is_self_signed (cert) ? g_strdup_printf (_("%s · self-signed"), subject)
                                                          : g_strdup_printf (_("%s · issued by %s"), subject, issuer);
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), line);
  }
  adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name (tb_cert_is_ca (cert) ? "security-high-symbolic"
                                                                                  : "application-certificate-symbolic"));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), status_badge (badge, style));
  gtk_widget_set_name (row, tb_cert_get_name (cert));
  return row;
}

/* Lists the PKCS#11 tokens present (p11-kit's configured modules) that can
 * hold a key; the system trust store and the empty slots a module keeps
 * for a new token are only counted, in a dimmed line under the list. */
static void
refresh_tokens (TbKeysPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = NULL;
  guint trust_stores = 0, empty_slots = 0;

  tb_ui_clear_list (self->token_list);
  g_clear_pointer (&self->tokens, g_ptr_array_unref);
  all = tb_pkcs11_list_tokens (NULL, &error);
  self->tokens = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_token_info_free);
  for (guint i = 0; all != NULL && i < all->len; i++)
    {
      TbTokenInfo *t = g_ptr_array_index (all, i);

      if (tb_token_info_is_trust_store (t))
        trust_stores++;
      else if (!t->initialized && t->label[0] == '\0')
        empty_slots++;
      else
        g_ptr_array_add (self->tokens, g_steal_pointer (&all->pdata[i]));
    }
  {
    g_autoptr(GString) note = g_string_new (NULL);

    if (trust_stores > 0)
      g_string_append (note, _("The system trust store is not listed: it holds the operating system’s CA "
                               "certificates, not keys."));
    if (empty_slots > 0)
      {
        if (note->len > 0)
          g_string_append_c (note, ' ');
        g_string_append_printf (note, g_dngettext (GETTEXT_PACKAGE,
                                                   "%u empty slot is not listed: initialize a token in it with its "
                                                   "vendor’s tool to keep keys there.",
                                                   "%u empty slots are not listed: initialize a token in one with "
                                                   "its vendor’s tool to keep keys there.", empty_slots),
                                empty_slots);
      }
    gtk_label_set_text (self->token_note, note->str);
    gtk_widget_set_visible (GTK_WIDGET (self->token_note), note->len > 0);
  }
  if (self->tokens->len == 0)
    {
      tb_ui_add_property (self->token_list, _("No token present"),
                          error != NULL ? error->message
                                        : _("Plug in a token, or configure its PKCS#11 module for p11-kit"));
      return;
    }
  for (guint i = 0; i < self->tokens->len; i++)
    {
      TbTokenInfo *t = g_ptr_array_index (self->tokens, i);
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *subtitle = g_strdup_printf (_("%s %s · serial %s%s"), t->manufacturer, t->model, t->serial,
                                                   t->initialized ? "" : _(" · not initialized"));
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), t->label[0] != '\0' ? t->label : _("(no label)"));
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("channel-secure-symbolic"));
      gtk_widget_set_tooltip_text (row, t->uri);
      gtk_list_box_append (self->token_list, row);
    }
}

/* A "where" choice for a form dialog: a software file, or each token present. */
static void
add_place_choice (TbKeysPage *self, GtkWidget *dialog, const char *title)
{
  g_autoptr(GStrvBuilder) places = g_strv_builder_new ();
  g_auto(GStrv) choices = NULL;

  g_strv_builder_add (places, _("Software file (encrypted)"));
  for (guint i = 0; self->tokens != NULL && i < self->tokens->len; i++)
    {
      TbTokenInfo *t = g_ptr_array_index (self->tokens, i);
      g_autofree char *label = g_strdup_printf (_("Token %s (%s)"), t->label, t->serial);
      if (t->initialized)
        g_strv_builder_add (places, label);
    }
  choices = g_strv_builder_end (places);
  tb_form_dialog_add_choice (dialog, "where", title, (const char *const *) choices, 0);
}

/* The token the "where" choice of a dialog names, or %NULL for a file. */
static const char *
chosen_token (TbKeysPage *self, GtkWidget *dialog)
{
  g_autofree char *where = tb_form_dialog_dup_choice (dialog, "where");

  for (guint i = 0; self->tokens != NULL && i < self->tokens->len; i++)
    {
      TbTokenInfo *t = g_ptr_array_index (self->tokens, i);
      g_autofree char *label = g_strdup_printf (_("Token %s (%s)"), t->label, t->serial);
      if (g_strcmp0 (where, label) == 0)
        return t->uri;
    }
  return NULL;
}

static void
refresh_tokens_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_pkcs11_reset ();
  refresh_tokens (TB_KEYS_PAGE (widget));
}

static void
reload (TbKeysPage *self)
{
  g_auto(GStrv) key_names = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *kind = g_strdup (self->selected_kind);
  g_autofree char *name = g_strdup (self->selected_name);

  tb_ui_clear_list (self->policy_list);
  tb_ui_clear_list (self->key_list);
  tb_ui_clear_list (self->cert_list);
  g_clear_pointer (&self->keys, g_ptr_array_unref);
  g_clear_pointer (&self->certs, g_ptr_array_unref);
  self->n_findings = 0;
  set_selection (self, NULL, NULL);

  if (self->context == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  if (self->tokens == NULL)
    refresh_tokens (self);

  self->keys = g_ptr_array_new_with_free_func (g_object_unref);
  self->certs = g_ptr_array_new_with_free_func (g_object_unref);
  /* the certificates first: a key's row says until when it is certified */
  {
    g_auto(GStrv) cert_names = tb_context_dup_ids (self->context, TB_INVENTORY_CERTIFICATES);
    for (guint i = 0; cert_names[i] != NULL; i++)
      {
        TbCert *cert = tb_cert_load (self->context, cert_names[i], NULL);
        if (cert == NULL)
          continue;
        g_ptr_array_add (self->certs, cert);
        gtk_list_box_append (self->cert_list, cert_row_new (self, cert, now));
      }
  }

  key_names = tb_context_dup_ids (self->context, TB_INVENTORY_KEYS);
  for (guint i = 0; key_names[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      TbKey *key = tb_key_load (self->context, key_names[i], &error);

      if (key == NULL)
        continue; /* reported by the policy findings */
      g_ptr_array_add (self->keys, key);
      gtk_list_box_append (self->key_list, key_row_new (self, key, now));
    }

  findings = tb_policy_check_context (self->context);
  for (guint i = 0; i < findings->len; i++)
    {
      TbPolicyFinding *f = g_ptr_array_index (findings, i);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *icon = gtk_image_new_from_icon_name (severity_icon (f->severity));

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), f->message);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 0);
      if (f->subject != NULL)
        adw_action_row_set_subtitle (ADW_ACTION_ROW (row), f->subject);
      gtk_widget_add_css_class (icon, f->severity == TB_SEVERITY_CRITICAL ? "error"
                                      : f->severity == TB_SEVERITY_WARNING ? "warning" : "accent");
      gtk_widget_set_tooltip_text (icon, tb_severity_to_string (f->severity));
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
      gtk_list_box_append (self->policy_list, row);
      self->n_findings++;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->policy_group), self->n_findings > 0);
  gtk_stack_set_visible_child_name (self->stack, self->keys->len > 0 || self->certs->len > 0 ? "list" : "empty");
  if (name != NULL)
    tb_keys_page_select (self, kind, name);
}

/**
 * tb_keys_page_select:
 * @kind: "key" or "cert"
 *
 * Selects a row and shows its details (also used by keyboard navigation
 * from other pages and by the tests).
 */
gboolean
tb_keys_page_select (TbKeysPage *self, const char *kind, const char *name)
{
  GtkListBox *list = g_strcmp0 (kind, "key") == 0 ? self->key_list : self->cert_list;
  GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (list));

  for (; row != NULL; row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (gtk_widget_get_name (row), name) == 0)
      {
        gtk_list_box_select_row (list, GTK_LIST_BOX_ROW (row));
        return TRUE;
      }
  return FALSE;
}

char *
tb_keys_page_dup_details_title (TbKeysPage *self)
{
  if (!gtk_revealer_get_reveal_child (self->details_revealer))
    return NULL;
  return g_strdup (gtk_label_get_text (self->details_title));
}

guint
tb_keys_page_get_n_tokens (TbKeysPage *self)
{
  return self->tokens != NULL ? self->tokens->len : 0;
}

guint
tb_keys_page_get_n_keys (TbKeysPage *self)
{
  return self->keys != NULL ? self->keys->len : 0;
}

guint
tb_keys_page_get_n_certs (TbKeysPage *self)
{
  return self->certs != NULL ? self->certs->len : 0;
}

guint
tb_keys_page_get_n_findings (TbKeysPage *self)
{
  return self->n_findings;
}

TbContext *
tb_keys_page_get_context (TbKeysPage *self)
{
  g_return_val_if_fail (TB_IS_KEYS_PAGE (self), NULL);
  return self->context;
}

void
tb_keys_page_set_context (TbKeysPage *self, TbContext *context)
{
  g_return_if_fail (TB_IS_KEYS_PAGE (self));

  if (!tb_ui_follow_context (self, &self->context, context, G_CALLBACK (reload)))
    return;
  reload (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CONTEXT]);
}

/* ---- work in the background ---- */

typedef struct {
  char *path;
  char *output;
  char *name;
  char *usage;
  char *algorithm;
  char *file;
  TbSecret *file_passphrase;
  TbSecret *passphrase;
  GStrv products;
  char *token;                  /* generate on this token (its URI) */
  TbSecret *pin;
  guint days;                   /* validity of a certificate issued */
} Job;

static void
job_free (Job *job)
{
  g_free (job->path);
  g_free (job->output);
  g_free (job->name);
  g_free (job->usage);
  g_free (job->algorithm);
  g_free (job->file);
  tb_secret_free (job->file_passphrase);
  tb_secret_free (job->passphrase);
  g_strfreev (job->products);
  g_free (job->token);
  tb_secret_free (job->pin);
  g_free (job);
}

static gboolean
create_hierarchy_work (gpointer data, TbProgress *progress, GError **error)
{
  Job *job = data;
  g_autoptr(TbContext) ctx = tb_context_open (job->path, TB_CONTEXT_OPEN_WRITE, error);

  TbHierarchyTokens tokens = { job->token, job->token, job->token };

  if (job->token != NULL && job->pin != NULL && job->pin[0] != '\0')
    tb_pkcs11_set_pin (job->pin);
  return ctx != NULL &&
         tb_hierarchy_create_on_tokens (ctx, (const char *const *) job->products, job->algorithm, job->passphrase,
                                        job->token != NULL ? &tokens : NULL, progress, error);
}

static gboolean
generate_work (gpointer data, TbProgress *progress, GError **error)
{
  Job *job = data;
  g_autoptr(TbContext) ctx = tb_context_open (job->path, TB_CONTEXT_OPEN_WRITE, error);
  g_autoptr(TbKey) key = NULL;
  TbKeyGenerateOptions options = {
    .name = job->name, .algorithm = job->algorithm, .token_uri = job->token, .pin = job->pin,
    .passphrase = job->passphrase,
  };

  if (ctx == NULL || !tb_key_usage_from_string (job->usage, &options.usage, error))
    return FALSE;
  key = tb_key_workflow_generate (ctx, &options, progress, error);
  return key != NULL;
}

static gboolean
import_work (gpointer data, TbProgress *progress, GError **error)
{
  Job *job = data;
  g_autoptr(TbContext) ctx = tb_context_open (job->path, TB_CONTEXT_OPEN_WRITE, error);
  g_autoptr(TbKey) key = NULL;
  TbKeyImportOptions options = {
    .name = job->name, .file = job->file, .passphrase = job->passphrase,
    .file_passphrase = job->file_passphrase != NULL && job->file_passphrase[0] != '\0' ? job->file_passphrase : NULL,
  };

  if (ctx == NULL || !tb_key_usage_from_string (job->usage, &options.usage, error))
    return FALSE;
  key = tb_key_workflow_import (ctx, &options, NULL, progress, error);
  return key != NULL;
}

/* Ends background work: reports a failure, reloads the context (which
 * refreshes the page through TbContext::changed) and shows the toast whose
 * text the action left on the page. */
static gboolean
issue_csr_work (gpointer data, TbProgress *progress, GError **error)
{
  Job *job = data;
  g_autoptr(TbContext) ctx = tb_context_open (job->path, TB_CONTEXT_OPEN_READ, error);
  g_autoptr(TbCert) cert = NULL;
  const TbCsrIssueOptions options = {
    .issuer = job->name, .csr_path = job->file, .days = job->days, .output = job->output,
    .passphrase = job->passphrase,
  };

  if (ctx == NULL)
    return FALSE;
  cert = tb_cert_workflow_issue_from_csr (ctx, &options, progress, error);
  return cert != NULL;
}

static void
work_done_toast_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TbKeysPage *self = user_data;
  g_autofree char *message = g_strdup (g_object_get_data (G_OBJECT (self), "tb-done-message"));
  g_autoptr(GError) error = NULL;

  if (!tb_work_host_run_work_finish (TB_WORK_HOST (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        tb_ui_show_error (GTK_WIDGET (self), _("The Operation Failed"), error);
      message = NULL;
    }
  if (self->context != NULL)
    {
      g_autoptr(GError) reload_error = NULL;
      if (!tb_context_reload (self->context, &reload_error))
        tb_ui_show_error (GTK_WIDGET (self), _("Cannot Reload the Context"), reload_error);
    }
  if (message != NULL)
    toast (self, message);
  g_object_unref (self);
}

static gboolean
passphrase_ok (TbKeysPage *self, const char *pass, const char *repeat)
{
  const char *problem = NULL;

  if (pass == NULL || g_utf8_strlen (pass, -1) < 8)
    problem = _("The passphrase must have at least 8 characters.");
  else if (repeat != NULL && g_strcmp0 (pass, repeat) != 0)
    problem = _("The passphrases do not match.");
  if (problem != NULL)
    {
      g_autoptr(GError) error = g_error_new_literal (TB_ERROR, TB_ERROR_INVALID_ARGUMENT, problem);
      tb_ui_show_error (GTK_WIDGET (self), _("Passphrase Not Accepted"), error);
      return FALSE;
    }
  return TRUE;
}

static void
hierarchy_response_cb (GtkWidget *dialog, const char *response, TbKeysPage *self)
{
  Job *job;
  g_auto(GStrv) parts = NULL;
  g_autoptr(GStrvBuilder) products = g_strv_builder_new ();
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (response, "accept") != 0 || self->context == NULL)
    {
      tb_form_dialog_clear_secrets (dialog);
      return;
    }
  if (!passphrase_ok (self, tb_form_dialog_get_text (dialog, "pass"), tb_form_dialog_get_text (dialog, "repeat")))
    {
      tb_form_dialog_clear_secrets (dialog);
      return;
    }
  parts = g_strsplit_set (tb_form_dialog_get_text (dialog, "products"), ", ", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      {
        if (!tb_name_is_valid (parts[i], &error))
          {
            tb_ui_show_error (GTK_WIDGET (self), _("Invalid Product Name"), error);
            tb_form_dialog_clear_secrets (dialog);
            return;
          }
        g_strv_builder_add (products, parts[i]);
      }
  job = g_new0 (Job, 1);
  job->path = g_strdup (tb_context_get_path (self->context));
  job->products = g_strv_builder_end (products);
  job->algorithm = tb_form_dialog_dup_choice (dialog, "algorithm");
  job->passphrase = tb_secret_new (tb_form_dialog_get_text (dialog, "pass"));
  job->token = g_strdup (chosen_token (self, dialog));
  job->pin = tb_secret_new (tb_form_dialog_get_text (dialog, "pin"));
  tb_form_dialog_clear_secrets (dialog);
  if (job->products[0] == NULL)
    {
      g_strfreev (job->products);
      job->products = g_strdupv ((char *[]){ (char *) "default", NULL });
    }
  g_object_set_data_full (G_OBJECT (self), "tb-done-message", g_strdup (_("Key hierarchy created")), g_free);
  tb_work_host_run_work (get_host (self), _("Creating the key hierarchy"), create_hierarchy_work, job,
                      (GDestroyNotify) job_free, work_done_toast_cb, g_object_ref (self));
}

static void
create_hierarchy_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbKeysPage *self = TB_KEYS_PAGE (widget);
  GtkWidget *dialog;
  g_auto(GStrv) products = NULL;
  g_autofree char *names = NULL;

  if (self->context == NULL)
    return;
  products = tb_context_dup_ids (self->context, TB_INVENTORY_PRODUCTS);
  names = g_strjoinv (", ", products);
  dialog = tb_form_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), _("Create Default Hierarchy"),
                               _("A root CA, a provisioning CA, a mastering key and one key per product. "
                                 "The passphrase encrypts every private key kept in a file; it cannot be "
                                 "recovered. On a token, the root, mastering and job-signing keys never leave it."),
                               _("C_reate"));
  tb_form_dialog_add_entry (dialog, "products", _("Products (comma separated)"),
                            names[0] != '\0' ? names : "default");
  tb_form_dialog_add_choice (dialog, "algorithm", _("Algorithm"), tb_key_algorithms (), 0);
  add_place_choice (self, dialog, _("Root, Mastering and Job Keys In"));
  tb_form_dialog_add_password (dialog, "pass", _("Passphrase"));
  tb_form_dialog_add_password (dialog, "repeat", _("Repeat Passphrase"));
  tb_form_dialog_add_password (dialog, "pin", _("Token PIN (token)"));
  g_signal_connect (dialog, "response", G_CALLBACK (hierarchy_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static const char *const usages[] = { "root-ca", "provisioning-ca", "mastering", "product", "job", NULL };

/* The answer to a key dialog (generate, import): a job for the context and
 * the named key with the context passphrase, or %NULL (cancelled, a bad
 * name or passphrase, explained; the dialog's secrets are cleared). The
 * caller takes its other fields, then clears the secrets. */
static Job *
begin_key_job (TbKeysPage *self, GtkWidget *dialog, const char *response)
{
  g_autoptr(GError) error = NULL;
  const char *key_name = tb_form_dialog_get_text (dialog, "name");
  Job *job;

  if (g_strcmp0 (response, "accept") != 0 || self->context == NULL)
    {
      tb_form_dialog_clear_secrets (dialog);
      return NULL;
    }
  if (!tb_name_is_valid (key_name, &error))
    {
      tb_ui_show_error (GTK_WIDGET (self), _("Invalid Key Name"), error);
      tb_form_dialog_clear_secrets (dialog);
      return NULL;
    }
  if (!passphrase_ok (self, tb_form_dialog_get_text (dialog, "pass"), NULL))
    {
      tb_form_dialog_clear_secrets (dialog);
      return NULL;
    }
  job = g_new0 (Job, 1);
  job->path = g_strdup (tb_context_get_path (self->context));
  job->name = g_strdup (key_name);
  job->passphrase = tb_secret_new (tb_form_dialog_get_text (dialog, "pass"));
  return job;
}

static void
generate_response_cb (GtkWidget *dialog, const char *response, TbKeysPage *self)
{
  const char *token = g_strcmp0 (response, "accept") == 0 ? chosen_token (self, dialog) : NULL;
  Job *job;

  if (token != NULL)
    {
      /* a token key: no passphrase to check, the PIN opens the token */
      g_autoptr(GError) error = NULL;
      if (!tb_name_is_valid (tb_form_dialog_get_text (dialog, "name"), &error))
        {
          tb_ui_show_error (GTK_WIDGET (self), _("Invalid Key Name"), error);
          tb_form_dialog_clear_secrets (dialog);
          return;
        }
      job = g_new0 (Job, 1);
      job->path = g_strdup (tb_context_get_path (self->context));
      job->name = g_strdup (tb_form_dialog_get_text (dialog, "name"));
      job->token = g_strdup (token);
      job->pin = tb_secret_new (tb_form_dialog_get_text (dialog, "pin"));
    }
  else if ((job = begin_key_job (self, dialog, response)) == NULL)
    return;
  job->usage = tb_form_dialog_dup_choice (dialog, "usage");
  job->algorithm = tb_form_dialog_dup_choice (dialog, "algorithm");
  tb_form_dialog_clear_secrets (dialog);
  g_object_set_data_full (G_OBJECT (self), "tb-done-message", g_strdup_printf (_("Key “%s” generated"), job->name),
                          g_free);
  tb_work_host_run_work (get_host (self), _("Generating a key"), generate_work, job, (GDestroyNotify) job_free,
                      work_done_toast_cb, g_object_ref (self));
}

static void
generate_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbKeysPage *self = TB_KEYS_PAGE (widget);
  GtkWidget *dialog;

  if (self->context == NULL)
    return;
  {
    dialog = tb_form_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), _("Generate a Key"),
                                 _("A software key is encrypted with the context passphrase; a key generated on a "
                                   "token never leaves it and is used with the token's PIN."), _("_Generate"));
    tb_form_dialog_add_entry (dialog, "name", _("Name"), "");
    tb_form_dialog_add_choice (dialog, "usage", _("Usage"), usages, 4);
    tb_form_dialog_add_choice (dialog, "algorithm", _("Algorithm"), tb_key_algorithms (), 0);
    add_place_choice (self, dialog, _("Keep It In"));
    tb_form_dialog_add_password (dialog, "pass", _("Context Passphrase (software file)"));
    tb_form_dialog_add_password (dialog, "pin", _("Token PIN (token)"));
  }
  g_signal_connect (dialog, "response", G_CALLBACK (generate_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
import_response_cb (GtkWidget *dialog, const char *response, TbKeysPage *self)
{
  Job *job = begin_key_job (self, dialog, response);

  if (job == NULL)
    return;
  job->file = g_strdup (g_object_get_data (G_OBJECT (dialog), "file"));
  job->usage = tb_form_dialog_dup_choice (dialog, "usage");
  job->file_passphrase = tb_secret_new (tb_form_dialog_get_text (dialog, "file-pass"));
  tb_form_dialog_clear_secrets (dialog);
  g_object_set_data_full (G_OBJECT (self), "tb-done-message", g_strdup_printf (_("Key “%s” imported"), job->name),
                          g_free);
  tb_work_host_run_work (get_host (self), _("Importing a key"), import_work, job, (GDestroyNotify) job_free,
                      work_done_toast_cb, g_object_ref (self));
}

static void
import_chosen (TbKeysPage *self, const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  GtkWidget *dialog;
  char *dot;

  if ((dot = strchr (base, '.')) != NULL)
    *dot = '\0';
  dialog = tb_form_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), _("Import a Key"), path,
                               _("_Import"));
  g_object_set_data_full (G_OBJECT (dialog), "file", g_strdup (path), g_free);
  tb_form_dialog_add_entry (dialog, "name", _("Name"), base);
  tb_form_dialog_add_choice (dialog, "usage", _("Usage"), usages, 4);
  tb_form_dialog_add_password (dialog, "file-pass", _("File Passphrase (if protected)"));
  tb_form_dialog_add_password (dialog, "pass", _("Context Passphrase"));
  g_signal_connect (dialog, "response", G_CALLBACK (import_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
import_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbKeysPage *self = TB_KEYS_PAGE (widget);

  if (self->context == NULL)
    return;
  tb_ui_choose_file (widget, _("Import a Key"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), NULL, NULL, NULL,
                     (TbUiPathFunc) import_chosen);
}

static void
export_chosen (TbKeysPage *self, const char *path)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = FALSE;

  if (self->selected_name == NULL)
    return;
  if (g_strcmp0 (self->selected_kind, "key") == 0)
    {
      TbKey *key = find_key (self, self->selected_name);
      ok = key != NULL && tb_key_export_public (key, path, &error);
    }
  else
    {
      TbCert *cert = find_cert (self, self->selected_name);
      g_autoptr(GPtrArray) chain = cert != NULL ? tb_cert_build_chain (self->context, cert, &error) : NULL;
      ok = chain != NULL && tb_cert_export (chain, TB_CERT_FORMAT_PEM, NULL, NULL, path, &error);
    }
  if (!ok)
    {
      if (error != NULL)
        tb_ui_show_error (GTK_WIDGET (self), _("Export Failed"), error);
      return;
    }
  toast (self, _("Exported"));
}

static void
export_selected_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbKeysPage *self = TB_KEYS_PAGE (widget);
  g_autofree char *suggested = NULL;

  if (self->selected_name == NULL)
    return;
  suggested = g_strdup_printf (g_strcmp0 (self->selected_kind, "key") == 0 ? "%s.pub.pem" : "%s-chain.pem",
                               self->selected_name);
  tb_ui_choose_file (widget, _("Export"), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), NULL, NULL, suggested,
                     (TbUiPathFunc) export_chosen);
}

/* The validity field: a positive whole number of days, as `cert issue
 * --days` takes it. */
static gboolean
parse_days (const char *text, guint64 *days, GError **error)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (text != NULL ? text : ""));

  if (!g_ascii_string_to_unsigned (trimmed, 10, 1, G_MAXINT, days, NULL))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("The validity must be a positive whole number of days, not “%s”."), trimmed);
      return FALSE;
    }
  return TRUE;
}

static void
issue_csr_response_cb (GtkWidget *dialog, const char *response, TbKeysPage *self)
{
  Job *job;
  const char *csr = g_object_get_data (G_OBJECT (dialog), "file");
  g_autofree char *stem = NULL;
  g_autoptr(GError) error = NULL;
  guint64 days = 0;

  if (g_strcmp0 (response, "accept") != 0 || self->context == NULL)
    {
      tb_form_dialog_clear_secrets (dialog);
      return;
    }
  if (!parse_days (tb_form_dialog_get_text (dialog, "days"), &days, &error))
    {
      tb_ui_show_error (GTK_WIDGET (self), _("Validity Not Accepted"), error);
      tb_form_dialog_clear_secrets (dialog);
      return;
    }
  if (!passphrase_ok (self, tb_form_dialog_get_text (dialog, "pass"), NULL))
    {
      tb_form_dialog_clear_secrets (dialog);
      return;
    }
  stem = g_str_has_suffix (csr, ".csr") || g_str_has_suffix (csr, ".pem") || g_str_has_suffix (csr, ".der")
           ? g_strndup (csr, strlen (csr) - 4) : g_strdup (csr);
  job = g_new0 (Job, 1);
  job->path = g_strdup (tb_context_get_path (self->context));
  job->file = g_strdup (csr);
  job->name = tb_form_dialog_dup_choice (dialog, "issuer");
  job->days = (guint) days;
  job->passphrase = tb_secret_new (tb_form_dialog_get_text (dialog, "pass"));
  tb_form_dialog_clear_secrets (dialog);
  for (guint i = 0; job->output == NULL || g_file_test (job->output, G_FILE_TEST_EXISTS); i++)
    {
      g_free (job->output);
      job->output = i == 0 ? g_strdup_printf ("%s.cert.pem", stem) : g_strdup_printf ("%s-%u.cert.pem", stem, i);
    }
  g_object_set_data_full (G_OBJECT (self), "tb-done-message",
                          g_strdup_printf (_("Certificate written to %s"), job->output), g_free);
  tb_work_host_run_work (get_host (self), _("Issuing a certificate"), issue_csr_work, job, (GDestroyNotify) job_free,
                      work_done_toast_cb, g_object_ref (self));
}

/**
 * tb_keys_page_ask_issue_from_csr:
 * @csr_path: a PKCS#10 request
 *
 * Asks for the issuer, the validity and the passphrase, then issues the
 * certificate in the background (tb_cert_workflow_issue_from_csr(), as
 * `cert issue --csr`) into `NAME.cert.pem` next to the request.
 */
void
tb_keys_page_ask_issue_from_csr (TbKeysPage *self, const char *path)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) issuers = NULL;
  GtkWidget *dialog;

  if (self->certs == NULL)
    return;
  /* the provisioning CAs first: they are the ones allowed to issue */
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < self->certs->len; i++)
      {
        TbCert *cert = g_ptr_array_index (self->certs, i);
        TbKey *key = find_key (self, tb_cert_get_key_name (cert));
        gboolean provisioning = key != NULL && tb_key_get_usage (key) == TB_KEY_USAGE_PROVISIONING_CA;
        if (tb_cert_is_ca (cert) && provisioning == (pass == 0))
          g_strv_builder_add (builder, tb_cert_get_name (cert));
      }
  issuers = g_strv_builder_end (builder);
  if (issuers[0] == NULL)
    {
      g_autoptr(GError) error = g_error_new_literal (TB_ERROR, TB_ERROR_NOT_FOUND,
                                                     _("The context has no CA certificate to issue with."));
      tb_ui_show_error (GTK_WIDGET (self), _("Cannot Issue"), error);
      return;
    }
  dialog = tb_form_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                               _("Issue a Certificate"), path, _("_Issue"));
  g_object_set_data_full (G_OBJECT (dialog), "file", g_strdup (path), g_free);
  tb_form_dialog_add_choice (dialog, "issuer", _("Issuer"), (const char *const *) issuers, 0);
  tb_form_dialog_add_entry (dialog, "days", _("Validity (days)"), G_STRINGIFY (TB_CERT_DAYS_LEAF));
  tb_form_dialog_add_password (dialog, "pass", _("Context Passphrase"));
  g_signal_connect (dialog, "response", G_CALLBACK (issue_csr_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
issue_csr_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbKeysPage *self = TB_KEYS_PAGE (widget);

  if (self->context == NULL)
    return;
  tb_ui_choose_file (widget, _("Choose a Certificate Request"), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), NULL, NULL,
                     NULL, (TbUiPathFunc) tb_keys_page_ask_issue_from_csr);
}

static void
close_details_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbKeysPage *self = TB_KEYS_PAGE (widget);

  gtk_list_box_unselect_all (self->key_list);
  gtk_list_box_unselect_all (self->cert_list);
  set_selection (self, NULL, NULL);
}

/* ---- GObject ---- */

static void
tb_keys_page_dispose (GObject *object)
{
  TbKeysPage *self = TB_KEYS_PAGE (object);

  tb_ui_unfollow_context (self, &self->context);
  g_clear_pointer (&self->keys, g_ptr_array_unref);
  g_clear_pointer (&self->certs, g_ptr_array_unref);
  g_clear_pointer (&self->tokens, g_ptr_array_unref);
  g_clear_pointer (&self->selected_kind, g_free);
  g_clear_pointer (&self->selected_name, g_free);
  G_OBJECT_CLASS (tb_keys_page_parent_class)->dispose (object);
}

static void
tb_keys_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_object (value, TB_KEYS_PAGE (object)->context);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tb_keys_page_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_CONTEXT:
      tb_keys_page_set_context (TB_KEYS_PAGE (object), g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tb_keys_page_class_init (TbKeysPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tb_keys_page_dispose;
  object_class->get_property = tb_keys_page_get_property;
  object_class->set_property = tb_keys_page_set_property;

  props[PROP_CONTEXT] = g_param_spec_object ("context", NULL, NULL, TB_TYPE_CONTEXT,
                                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/trustbench/Trustbench/tb-keys-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TbKeysPage, add_key_button);
  gtk_widget_class_bind_template_child (widget_class, TbKeysPage, stack);
  gtk_widget_class_bind_template_child (widget_class, TbKeysPage, policy_group);
  gtk_widget_class_bind_template_child (widget_class, TbKeysPage, policy_list);
  gtk_widget_class_bind_template_child (widget_class, TbKeysPage, key_list);
  gtk_widget_class_bind_template_child (widget_class, TbKeysPage, token_list);
  gtk_widget_class_bind_template_child (widget_class, TbKeysPage, token_note);
  gtk_widget_class_bind_template_child (widget_class, TbKeysPage, cert_list);
  gtk_widget_class_bind_template_child (widget_class, TbKeysPage, details_revealer);
  gtk_widget_class_bind_template_child (widget_class, TbKeysPage, details_title);
  gtk_widget_class_bind_template_child (widget_class, TbKeysPage, details_list);
  gtk_widget_class_bind_template_child (widget_class, TbKeysPage, export_button);
  gtk_widget_class_bind_template_callback (widget_class, key_row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, cert_row_selected_cb);

  gtk_widget_class_install_action (widget_class, "keys.create-hierarchy", NULL, create_hierarchy_action);
  gtk_widget_class_install_action (widget_class, "keys.generate", NULL, generate_action);
  gtk_widget_class_install_action (widget_class, "keys.refresh-tokens", NULL, refresh_tokens_action);
  gtk_widget_class_install_action (widget_class, "keys.import", NULL, import_action);
  gtk_widget_class_install_action (widget_class, "keys.export-selected", NULL, export_selected_action);
  gtk_widget_class_install_action (widget_class, "keys.close-details", NULL, close_details_action);
  gtk_widget_class_install_action (widget_class, "keys.issue-csr", NULL, issue_csr_action);
}

static void
tb_keys_page_init (TbKeysPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  tb_ui_name_split_button_arrow (self->add_key_button);
  reload (self);
}
