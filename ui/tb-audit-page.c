/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The Audit page: the context's hash-chained audit log, newest first, each
 * entry one sentence (tb_audit_entry_describe()) at local time, under the
 * chain's verification status — every entry verified, or the first one
 * that is not and why. A search entry (Ctrl+F) filters the entries by
 * their words; an entry expands to its raw fields and its hash. */

#include "config.h"

#include "tb-audit-page.h"

#include <glib/gi18n.h>

#include "tb-ui-util.h"

#define MAX_SHOWN 500

struct _TbAuditPage {
  AdwBin parent_instance;

  GtkStack *stack;
  AdwActionRow *status_row;
  GtkImage *status_icon;
  GtkButton *show_bad_button;
  AdwPreferencesGroup *entries_group;
  GtkSearchEntry *search_entry;
  GtkListBox *entries;

  TbContext *context;
  gboolean valid;
  guint64 first_bad;
  guint n_rows;
  guint n_shown;
  char *query; /* casefolded, or NULL */
  char *group_description;
};

G_DEFINE_FINAL_TYPE (TbAuditPage, tb_audit_page, ADW_TYPE_BIN)

/* What a row holds: its entry, for the details, and the words a search
 * looks in. */
typedef struct {
  TbAuditEntry *entry;
  char *hash;
  char *haystack;
} RowData;

static void
row_data_free (RowData *data)
{
  tb_audit_entry_unref (data->entry);
  g_free (data->hash);
  g_free (data->haystack);
  g_free (data);
}

static char *
fold (const char *text)
{
  g_autofree char *normal = g_utf8_normalize (text, -1, G_NORMALIZE_ALL);

  return g_utf8_casefold (normal != NULL ? normal : text, -1);
}

/* An entry's time ("2026-12-04T15:29:57Z") in the local time zone. */
static char *
format_local_time (const char *iso)
{
  g_autoptr(GDateTime) utc = iso != NULL ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
  g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_local (utc) : NULL;

  if (local == NULL)
    return g_strdup (iso != NULL ? iso : "?");
  /* TRANSLATORS: when an audit entry was recorded, in g_date_time_format() notation */
  return g_date_time_format (local, _("%-d %b %Y, %H:%M:%S"));
}

static const char *
kind_icon (const char *event)
{
  static const struct {
    const char *prefix;
    const char *icon;
  } table[] = {
    { "key.", "dialog-password-symbolic" },       { "cert.", "application-certificate-symbolic" },
    { "image.", "application-x-firmware-symbolic" }, { "device.", "media-flash-symbolic" },
    { "job.", "system-run-symbolic" },              { "production.", "system-run-symbolic" },
  };

  for (guint i = 0; event != NULL && i < G_N_ELEMENTS (table); i++)
    if (g_str_has_prefix (event, table[i].prefix))
      return table[i].icon;
  return "document-open-recent-symbolic";
}

/* @text, or @missing when the entry lacks it */
static const char *
or_missing (const char *text, const char *missing)
{
  return text != NULL ? text : missing;
}

/* Fills an expander row with its entry's raw fields the first time it is
 * opened: 500 entries make 500 rows, not 5 000. */
static void
row_expanded_cb (AdwExpanderRow *row, GParamSpec *pspec, gpointer user_data)
{
  RowData *data = g_object_get_data (G_OBJECT (row), "tb-audit-row");
  TbAuditEntry *e = data->entry;
  g_auto(GStrv) names = NULL;
  g_autofree char *seq = NULL;

  if (!adw_expander_row_get_expanded (row) || g_object_get_data (G_OBJECT (row), "tb-filled") != NULL)
    return;
  g_object_set_data (G_OBJECT (row), "tb-filled", GINT_TO_POINTER (TRUE));
  seq = g_strdup_printf ("%" G_GUINT64_FORMAT, tb_audit_entry_get_seq (e));
  adw_expander_row_add_row (row, tb_ui_property_row_new (_("Entry number"), seq));
  adw_expander_row_add_row (row, tb_ui_property_row_new (_("Recorded (UTC)"),
                                                         or_missing (tb_audit_entry_get_time (e), "?")));
  adw_expander_row_add_row (row, tb_ui_property_row_new (_("Event"), or_missing (tb_audit_entry_get_event (e), "?")));
  adw_expander_row_add_row (row, tb_ui_property_row_new (_("Subject"),
                                                         or_missing (tb_audit_entry_get_subject (e), "")));
  names = tb_audit_entry_dup_detail_names (e);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *value = tb_audit_entry_dup_detail_text (e, names[i]);
      adw_expander_row_add_row (row, tb_ui_property_row_new (names[i], value));
    }
  adw_expander_row_add_row (row, tb_ui_property_row_new (_("Entry hash (SHA-256)"), data->hash));
  adw_expander_row_add_row (row, tb_ui_property_row_new (_("Previous entry’s hash"),
                                                         or_missing (tb_audit_entry_get_prev (e), "?")));
}

static GtkWidget *
entry_row_new (TbAuditPage *self, TbAuditEntry *e, const char *hash)
{
  GtkWidget *row = adw_expander_row_new ();
  const char *event = or_missing (tb_audit_entry_get_event (e), "?");
  const char *kind = tb_audit_event_get_kind (event);
  guint64 seq = tb_audit_entry_get_seq (e);
  g_autofree char *sentence = tb_audit_entry_describe (e);
  g_autofree char *when = format_local_time (tb_audit_entry_get_time (e));
  g_autofree char *subtitle = g_strdup_printf ("%s · %s · #%" G_GUINT64_FORMAT, kind != NULL ? kind : event, when, seq);
  g_autofree char *title_markup = g_markup_escape_text (sentence, -1);
  g_autofree char *subtitle_markup = g_markup_escape_text (subtitle, -1);
  g_autofree char *words = g_strjoin (" ", sentence, subtitle, event, or_missing (tb_audit_entry_get_subject (e), ""),
                                      NULL);
  GtkWidget *icon = gtk_image_new_from_icon_name (kind_icon (event));
  RowData *data = g_new0 (RowData, 1);

  /* escaped rather than use-markup off: an expander row's header follows
   * that property only in newer libadwaita */
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title_markup);
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row), subtitle_markup);
  gtk_widget_set_tooltip_text (icon, kind != NULL ? kind : event);
  adw_expander_row_add_prefix (ADW_EXPANDER_ROW (row), icon);
  if (self->first_bad > 0 && seq == self->first_bad)
    {
      GtkWidget *bad = gtk_image_new_from_icon_name ("dialog-error-symbolic");
      gtk_widget_add_css_class (bad, "error");
      gtk_widget_set_tooltip_text (bad, _("The chain breaks at this entry"));
      adw_expander_row_add_action (ADW_EXPANDER_ROW (row), bad);
      gtk_widget_set_name (row, "first-bad");
    }
  data->entry = tb_audit_entry_ref (e);
  data->hash = g_strdup (hash);
  data->haystack = fold (words);
  g_object_set_data_full (G_OBJECT (row), "tb-audit-row", data, (GDestroyNotify) row_data_free);
  g_signal_connect (row, "notify::expanded", G_CALLBACK (row_expanded_cb), NULL);
  return row;
}

static gboolean
row_matches (TbAuditPage *self, GtkWidget *row)
{
  RowData *data = g_object_get_data (G_OBJECT (row), "tb-audit-row");

  return self->query == NULL || (data != NULL && strstr (data->haystack, self->query) != NULL);
}

static gboolean
filter_func (GtkListBoxRow *row, gpointer user_data)
{
  return row_matches (TB_AUDIT_PAGE (user_data), GTK_WIDGET (row));
}

static void
update_shown (TbAuditPage *self)
{
  g_autofree char *desc = NULL;

  self->n_shown = 0;
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->entries)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (g_object_get_data (G_OBJECT (row), "tb-audit-row") != NULL && row_matches (self, row))
      self->n_shown++;
  if (self->query != NULL)
    desc = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u of %u entries matches", "%u of %u entries match",
                                         self->n_shown),
                            self->n_shown, self->n_rows);
  adw_preferences_group_set_description (self->entries_group, desc != NULL ? desc : self->group_description);
}

static void
search_changed_cb (TbAuditPage *self, GtkSearchEntry *entry)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  g_autofree char *stripped = g_strstrip (g_strdup (text));

  g_clear_pointer (&self->query, g_free);
  if (stripped[0] != '\0')
    self->query = fold (stripped);
  gtk_list_box_invalidate_filter (self->entries);
  update_shown (self);
}

static void
stop_search_cb (TbAuditPage *self, GtkSearchEntry *entry)
{
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
}

static void
set_status (TbAuditPage *self, const char *icon, const char *style, const char *title, const char *subtitle)
{
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->status_row), title);
  adw_action_row_set_subtitle (self->status_row, subtitle);
  gtk_image_set_from_icon_name (self->status_icon, icon);
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_icon), "success");
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_icon), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_icon), "warning");
  gtk_widget_add_css_class (GTK_WIDGET (self->status_icon), style);
}

/* The chain's verification, at the top of the page. */
static void
show_verification (TbAuditPage *self)
{
  g_autoptr(GError) error = NULL;
  TbAuditReport report = { 0 };
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;

  if (!tb_audit_verify (self->context, &report, &error))
    {
      set_status (self, "dialog-warning-symbolic", "warning", _("The log cannot be checked"), error->message);
      return;
    }
  if (report.valid)
    {
      self->valid = TRUE;
      title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%" G_GUINT64_FORMAT " entry verified, chain intact",
                                            "All %" G_GUINT64_FORMAT " entries verified, chain intact",
                                            (gulong) report.entries),
                               report.entries);
      subtitle = report.anchored < report.entries
                   ? g_strdup_printf (_("Each entry holds the hash of the one before it. The last %" G_GUINT64_FORMAT
                                        " were appended by a writer that stopped before recording them in the head; "
                                        "they chain correctly."),
                                      report.entries - report.anchored)
                   : g_strdup (_("Each entry holds the hash of the one before it and the head file the last one’s: "
                                 "none was modified, deleted, reordered or cut off."));
      set_status (self, "emblem-ok-symbolic", "success", title, subtitle);
    }
  else
    {
      self->first_bad = report.first_bad;
      title = report.first_bad > 0
                ? g_strdup_printf (_("Chain broken at entry %" G_GUINT64_FORMAT), report.first_bad)
                : g_strdup (_("Chain broken"));
      g_autofree char *first = g_utf8_strup (report.problem, g_utf8_next_char (report.problem) - report.problem);

      subtitle = g_strdup_printf (_("%s%s. Entries from there on cannot be trusted; the log was changed outside "
                                    "Trustbench."),
                                  first, g_utf8_next_char (report.problem));
      set_status (self, "dialog-error-symbolic", "error", title, subtitle);
    }
  tb_audit_report_clear (&report);
}

/**
 * tb_audit_page_reload:
 *
 * Verifies the log and lists its newest entries.
 */
void
tb_audit_page_reload (TbAuditPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_auto(GStrv) hashes = NULL;

  tb_ui_clear_list (self->entries);
  self->n_rows = 0;
  self->valid = FALSE;
  self->first_bad = 0;
  if (self->context == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      update_shown (self);
      return;
    }
  entries = tb_audit_read_with_hashes (self->context, &hashes, &error);
  if (entries == NULL || entries->len == 0)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      update_shown (self);
      return;
    }
  gtk_stack_set_visible_child_name (self->stack, "log");
  show_verification (self);

  for (guint i = entries->len; i > 0 && self->n_rows < MAX_SHOWN; i--)
    {
      gtk_list_box_append (self->entries, entry_row_new (self, g_ptr_array_index (entries, i - 1), hashes[i - 1]));
      self->n_rows++;
    }
  g_free (self->group_description);
  if (entries->len > MAX_SHOWN)
    self->group_description = g_strdup_printf (_("The newest %u of %u entries, newest first (trustbench-tool audit "
                                                 "show lists them all)"), MAX_SHOWN, entries->len);
  else
    self->group_description = g_strdup (_("Newest first; open an entry for its fields and hash"));
  gtk_widget_set_visible (GTK_WIDGET (self->show_bad_button),
                          !self->valid && self->first_bad > 0 &&
                            self->first_bad + MAX_SHOWN > (guint64) entries->len);
  update_shown (self);
}

void
tb_audit_page_set_context (TbAuditPage *self, TbContext *context)
{
  if (!tb_ui_follow_context (self, &self->context, context, G_CALLBACK (tb_audit_page_reload)))
    return;
  tb_audit_page_reload (self);
}

gboolean
tb_audit_page_is_valid (TbAuditPage *self)
{
  return self->valid;
}

/**
 * tb_audit_page_get_n_shown:
 *
 * Returns: how many entries are listed (those the search lets through)
 */
guint
tb_audit_page_get_n_shown (TbAuditPage *self)
{
  return self->n_shown;
}

/**
 * tb_audit_page_get_status:
 *
 * Returns: the verification status the page shows at its top
 */
const char *
tb_audit_page_get_status (TbAuditPage *self)
{
  return adw_preferences_row_get_title (ADW_PREFERENCES_ROW (self->status_row));
}

static void
reload_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_audit_page_reload (TB_AUDIT_PAGE (widget));
}

static void
search_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbAuditPage *self = TB_AUDIT_PAGE (widget);

  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "log") == 0)
    gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
show_first_bad_action (GtkWidget *widget, const char *name, GVariant *param)
{
  TbAuditPage *self = TB_AUDIT_PAGE (widget);

  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->entries)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (gtk_widget_get_name (row), "first-bad") == 0)
      {
        adw_expander_row_set_expanded (ADW_EXPANDER_ROW (row), TRUE);
        gtk_widget_child_focus (row, GTK_DIR_TAB_FORWARD);
        return;
      }
}

static void
tb_audit_page_init (TbAuditPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_list_box_set_filter_func (self->entries, filter_func, self, NULL);
  gtk_search_entry_set_key_capture_widget (self->search_entry, GTK_WIDGET (self));
  gtk_stack_set_visible_child_name (self->stack, "empty");
}

static void
tb_audit_page_dispose (GObject *object)
{
  TbAuditPage *self = TB_AUDIT_PAGE (object);

  tb_ui_unfollow_context (self, &self->context);
  G_OBJECT_CLASS (tb_audit_page_parent_class)->dispose (object);
}

static void
tb_audit_page_finalize (GObject *object)
{
  TbAuditPage *self = TB_AUDIT_PAGE (object);

  g_free (self->query);
  g_free (self->group_description);
  G_OBJECT_CLASS (tb_audit_page_parent_class)->finalize (object);
}

static void
tb_audit_page_class_init (TbAuditPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = tb_audit_page_dispose;
  G_OBJECT_CLASS (klass)->finalize = tb_audit_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/trustbench/Trustbench/tb-audit-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TbAuditPage, stack);
  gtk_widget_class_bind_template_child (widget_class, TbAuditPage, status_row);
  gtk_widget_class_bind_template_child (widget_class, TbAuditPage, status_icon);
  gtk_widget_class_bind_template_child (widget_class, TbAuditPage, show_bad_button);
  gtk_widget_class_bind_template_child (widget_class, TbAuditPage, entries_group);
  gtk_widget_class_bind_template_child (widget_class, TbAuditPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, TbAuditPage, entries);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, stop_search_cb);

  gtk_widget_class_install_action (widget_class, "audit.reload", NULL, reload_action);
  gtk_widget_class_install_action (widget_class, "audit.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "audit.show-first-bad", NULL, show_first_bad_action);
}
