/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The Audit page: the context's hash-chained audit log, newest first, under
 * its verification status — valid, or where and how it was tampered with. */

#include "config.h"

#include "tb-audit-page.h"

#include <glib/gi18n.h>

#include "tb-ui-util.h"

#define MAX_SHOWN 500

struct _TbAuditPage {
  AdwBin parent_instance;

  GtkStack *stack;
  GtkListBox *status_list;
  GtkListBox *entries;
  AdwPreferencesGroup *entries_group;

  TbContext *context;
  gboolean valid;
  guint n_shown;
};

G_DEFINE_FINAL_TYPE (TbAuditPage, tb_audit_page, ADW_TYPE_BIN)

static char *
describe_details (JsonObject *entry)
{
  JsonObject *details = json_object_has_member (entry, "details") ? json_object_get_object_member (entry, "details")
                                                                  : NULL;
  GString *s = g_string_new (NULL);
  GList *members = details != NULL ? json_object_get_members (details) : NULL;

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *v = json_object_get_member (details, l->data);
      g_autofree char *text = NULL;
      if (!JSON_NODE_HOLDS_VALUE (v))
        continue;
      if (json_node_get_value_type (v) == G_TYPE_STRING)
        text = g_strdup (json_node_get_string (v));
      else if (json_node_get_value_type (v) == G_TYPE_INT64)
        text = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (v));
      else if (json_node_get_value_type (v) == G_TYPE_BOOLEAN)
        text = g_strdup (json_node_get_boolean (v) ? "yes" : "no");
      if (text != NULL)
        g_string_append_printf (s, "%s%s %s", s->len > 0 ? " · " : "", (const char *) l->data, text);
    }
  g_list_free (members);
  return g_string_free (s, FALSE);
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
  TbAuditReport report = { 0 };
  GtkWidget *row;
  g_autofree char *title = NULL;

  tb_ui_clear_list (self->status_list);
  tb_ui_clear_list (self->entries);
  self->n_shown = 0;
  self->valid = FALSE;
  if (self->context == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  entries = tb_audit_read (self->context, &error);
  if (entries == NULL || entries->len == 0)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  gtk_stack_set_visible_child_name (self->stack, "log");
  row = adw_action_row_new ();
  if (!tb_audit_verify (self->context, &report, &error))
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("The log cannot be checked"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), error->message);
    }
  else if (report.valid)
    {
      self->valid = TRUE;
      title = g_strdup_printf (_("Valid: %" G_GUINT64_FORMAT " entries, none modified, deleted, reordered or "
                                 "truncated"), report.entries);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("Each entry holds the hash of the one before it; the "
                                                           "head file holds the last one's"));
    }
  else
    {
      title = report.first_bad > 0 ? g_strdup_printf (_("Tampered with at entry %" G_GUINT64_FORMAT), report.first_bad)
                                   : g_strdup (_("Tampered with"));
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), report.problem);
      gtk_widget_add_css_class (row, "error");
    }
  adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name (self->valid ? "emblem-ok-symbolic" : "dialog-error-symbolic"));
  gtk_list_box_append (self->status_list, row);
  tb_audit_report_clear (&report);

  for (guint i = entries->len; i > 0 && self->n_shown < MAX_SHOWN; i--)
    {
      JsonObject *e = g_ptr_array_index (entries, i - 1);
      g_autofree char *details = describe_details (e);
      g_autofree char *entry_title = g_strdup_printf ("%s  %s", json_object_get_string_member_with_default (e, "event", "?"),
                                                      json_object_get_string_member_with_default (e, "subject", ""));
      g_autofree char *subtitle = g_strdup_printf ("#%" G_GINT64_FORMAT " · %s%s%s",
                                                   json_object_get_int_member_with_default (e, "seq", 0),
                                                   json_object_get_string_member_with_default (e, "time", ""),
                                                   details[0] != '\0' ? " · " : "", details);
      row = adw_action_row_new ();
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), entry_title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
      gtk_list_box_append (self->entries, row);
      self->n_shown++;
    }
  if (entries->len > MAX_SHOWN)
    {
      g_autofree char *desc = g_strdup_printf (_("The newest %u of %u entries (trustbench-tool audit show lists them "
                                                 "all)"), MAX_SHOWN, entries->len);
      adw_preferences_group_set_description (self->entries_group, desc);
    }
  else
    adw_preferences_group_set_description (self->entries_group, _("Newest first"));
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

guint
tb_audit_page_get_n_shown (TbAuditPage *self)
{
  return self->n_shown;
}

static void
reload_action (GtkWidget *widget, const char *name, GVariant *param)
{
  tb_audit_page_reload (TB_AUDIT_PAGE (widget));
}

static GtkWidget *
boxed_list (GtkListBox **out)
{
  GtkWidget *box = gtk_list_box_new ();

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (box), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (box, "boxed-list");
  *out = GTK_LIST_BOX (box);
  return box;
}

static void
tb_audit_page_init (TbAuditPage *self)
{
  GtkWidget *empty = adw_status_page_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 24);
  GtkWidget *status_group = adw_preferences_group_new ();
  GtkWidget *refresh = gtk_button_new_from_icon_name ("view-refresh-symbolic");

  self->stack = GTK_STACK (gtk_stack_new ());
  adw_bin_set_child (ADW_BIN (self), GTK_WIDGET (self->stack));
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty), "document-open-recent-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty), _("No Audit Entries"));
  adw_status_page_set_description (ADW_STATUS_PAGE (empty),
                                   _("Every key creation, issuance, mastering, provisioning and production event is "
                                     "recorded here in a hash-chained log."));
  gtk_stack_add_named (self->stack, empty, "empty");

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 800);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_widget_set_margin_top (box, 24);
  gtk_widget_set_margin_bottom (box, 24);
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (status_group), _("Verification"));
  gtk_widget_set_tooltip_text (refresh, _("Verify Again"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (refresh), "audit.reload");
  gtk_widget_add_css_class (refresh, "flat");
  adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (status_group), refresh);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (status_group), boxed_list (&self->status_list));
  self->entries_group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (self->entries_group, _("Entries"));
  adw_preferences_group_add (self->entries_group, boxed_list (&self->entries));
  gtk_box_append (GTK_BOX (box), status_group);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->entries_group));
  adw_clamp_set_child (ADW_CLAMP (clamp), box);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  gtk_stack_add_named (self->stack, scrolled, "log");
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
tb_audit_page_class_init (TbAuditPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = tb_audit_page_dispose;
  gtk_widget_class_install_action (GTK_WIDGET_CLASS (klass), "audit.reload", NULL, reload_action);
}
