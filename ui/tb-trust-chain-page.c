/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Trust Chain page: the context's chain of trust as a graph laid out
 * by graphviz, with zoom and fit, the policy findings and the review
 * report under it, and a details pane for the selected node. */
#include "config.h"

#include "tb-trust-chain-page.h"

#include <glib/gi18n.h>

#include "tb-ui-util.h"
#include "tb-work-host.h"

struct _TbTrustChainPage {
  AdwBin parent_instance;
  TbContext *context;
  GtkStack *stack;
  GtkLabel *error_label;
  GtkScrolledWindow *scroller;
  TbTrustView *view;
  GtkRevealer *details_revealer;
  GtkBox *details;
  GtkWidget *details_group;     /* the selected node's properties */
  GtkWidget *master_button;
  GtkWidget *keys_button;
  GtkWidget *images_button;
  GtkWidget *devices_button;
  GtkWidget *findings_box;
  GtkLabel *findings_title;
  GtkWidget *findings_none;
  GtkWidget *findings_scroller;
  GtkListBox *findings_list;
  double drag_h, drag_v;
};

G_DEFINE_FINAL_TYPE (TbTrustChainPage, tb_trust_chain_page, ADW_TYPE_BIN)

static void
add_row (AdwPreferencesGroup *group, const char *title, const char *value)
{
  if (value != NULL && value[0] != '\0')
    adw_preferences_group_add (group, tb_ui_property_row_new (title, value));
}

static const char *
kind_title (TbTrustNodeKind kind)
{
  switch (kind)
    {
    case TB_TRUST_NODE_ROOT_CA: return _("Root CA");
    case TB_TRUST_NODE_CA: return _("Intermediate CA");
    case TB_TRUST_NODE_MASTERING: return _("Mastering Key");
    case TB_TRUST_NODE_PRODUCT: return _("Product Key");
    case TB_TRUST_NODE_JOB: return _("Job Key");
    case TB_TRUST_NODE_IMAGE: return _("Mastered Image");
    case TB_TRUST_NODE_DEVICE: return _("Device");
    case TB_TRUST_NODE_DEVICE_GROUP: return _("Devices");
    default: return "";
    }
}

static const char *
status_text (TbTrustStatus status)
{
  switch (status)
    {
    case TB_TRUST_STATUS_EXPIRING: return _("Expires within 90 days");
    case TB_TRUST_STATUS_EXPIRED: return _("Expired");
    case TB_TRUST_STATUS_REVOKED: return _("Revoked");
    case TB_TRUST_STATUS_WARNING: return _("Policy findings");
    case TB_TRUST_STATUS_VALID:
    default: return _("Valid");
    }
}

/* What one can do from a node: go where it is managed. */
static void
show_node_actions (TbTrustChainPage *self, TbTrustNode *n)
{
  gboolean master = FALSE, keys = FALSE, images = FALSE, devices = FALSE;

  switch (n->kind)
    {
    case TB_TRUST_NODE_MASTERING:
    case TB_TRUST_NODE_PRODUCT:
      master = TRUE;
      G_GNUC_FALLTHROUGH;
    case TB_TRUST_NODE_ROOT_CA:
    case TB_TRUST_NODE_CA:
    case TB_TRUST_NODE_JOB:
      keys = TRUE;
      break;
    case TB_TRUST_NODE_IMAGE:
      images = TRUE;
      break;
    case TB_TRUST_NODE_DEVICE:
    case TB_TRUST_NODE_DEVICE_GROUP:
    default:
      devices = TRUE;
      break;
    }
  gtk_widget_set_visible (self->master_button, master);
  gtk_widget_set_visible (self->keys_button, keys);
  gtk_widget_set_visible (self->images_button, images);
  gtk_widget_set_visible (self->devices_button, devices);
}

/**
 * tb_trust_chain_page_export_report:
 * @path: a .pdf, .svg or .json file
 *
 * Writes the review report of the page's context.
 */
gboolean
tb_trust_chain_page_export_report (TbTrustChainPage *self, const char *path, GError **error)
{
  if (self->context == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("No security context is open"));
      return FALSE;
    }
  return tb_trust_report_write (self->context, path, error);
}

static void
export_chosen_cb (gpointer owner, const char *chosen)
{
  TbTrustChainPage *self = TB_TRUST_CHAIN_PAGE (owner);
  TbWorkHost *host = tb_work_host_find (GTK_WIDGET (owner));
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (g_str_has_suffix (chosen, ".pdf") || g_str_has_suffix (chosen, ".svg") || g_str_has_suffix (chosen, ".json"))
    path = g_strdup (chosen);
  else
    path = g_strconcat (chosen, ".pdf", NULL);
  if (host == NULL)
    return;
  if (tb_trust_chain_page_export_report (self, path, &error))
    {
      g_autofree char *done = g_strdup_printf (_("Review report written to %s"), path);
      tb_work_host_add_toast (host, done);
    }
  else
    tb_work_host_add_toast (host, error->message);
}

static void
export_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TbTrustChainPage *self = TB_TRUST_CHAIN_PAGE (widget);
  const char *const patterns[] = { "*.pdf", "*.svg", "*.json", NULL };
  g_autofree char *name = g_strdup_printf ("%s-review.pdf", self->context != NULL
                                                              ? tb_context_get_name (self->context)
                                                              : "trustbench");

  tb_ui_choose_file (widget, _("Export Review Report"), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"),
                     _("PDF, SVG or JSON report"), patterns, name, export_chosen_cb);
}

static char *
relation_text (const char *relation, gboolean outgoing, const char *other)
{
  if (g_strcmp0 (relation, "issues") == 0)
    return outgoing ? g_strdup_printf (_("issues the certificate of %s"), other)
                    : g_strdup_printf (_("certificate issued by %s"), other);
  if (g_strcmp0 (relation, "signs") == 0)
    return outgoing ? g_strdup_printf (_("signs %s"), other) : g_strdup_printf (_("signed by %s"), other);
  if (g_strcmp0 (relation, "wraps") == 0)
    return outgoing ? g_strdup_printf (_("wraps the image key of %s"), other)
                    : g_strdup_printf (_("image key wrapped for %s"), other);
  if (g_strcmp0 (relation, "provisioned into") == 0)
    return outgoing ? g_strdup_printf (_("provisioned into %s"), other)
                    : g_strdup_printf (_("provisioned with %s"), other);
  return g_strdup_printf (outgoing ? "→ %s" : "← %s", other);
}

static void
show_details (TbTrustChainPage *self)
{
  TbTrustNode *n = tb_trust_view_get_selected (self->view);
  TbTrustGraph *graph = tb_trust_view_get_graph (self->view);
  AdwPreferencesGroup *group;

  /* the pane opens with a selection and closes without one (sliding out
   * with what it showed); the graph refits to the room left */
  gtk_revealer_set_reveal_child (self->details_revealer, n != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "trust.close-details", n != NULL);
  if (n == NULL)
    return;
  if (self->details_group != NULL)
    gtk_box_remove (self->details, self->details_group);
  group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  self->details_group = GTK_WIDGET (group);
  gtk_box_prepend (self->details, self->details_group);
  show_node_actions (self, n);
  adw_preferences_group_set_title (group, kind_title (n->kind));
  adw_preferences_group_set_description (group, n->name);
  add_row (group, _("Status"), status_text (n->status));
  add_row (group, _("Algorithm"), n->algorithm);
  add_row (group, _("Private key lives in"), g_strcmp0 (n->storage, "file") == 0
                                               ? _("a file in the context, encrypted")
                                               : n->storage);
  add_row (group, _("Subject"), n->subject);
  add_row (group, _("Serial"), n->serial);
  add_row (group, _("Valid until"), n->not_after);
  {
    g_autofree char *grouped = tb_trust_fingerprint_group (n->fingerprint);
    add_row (group, n->kind == TB_TRUST_NODE_IMAGE ? _("Plaintext SHA-256") : _("Fingerprint (SHA-256)"), grouped);
  }
  if (n->kind == TB_TRUST_NODE_DEVICE_GROUP)
    {
      g_autofree char *count = g_strdup_printf ("%u", n->count);
      add_row (group, _("Devices"), count);
    }
  for (guint i = 0; i < n->warnings->len; i++)
    add_row (group, _("Policy finding"), g_ptr_array_index (n->warnings, i));
  for (guint i = 0; i < graph->edges->len; i++)
    {
      TbTrustEdge *e = g_ptr_array_index (graph->edges, i);
      TbTrustNode *other = NULL;
      g_autofree char *text = NULL;

      if (g_str_equal (e->from, n->id))
        {
          other = tb_trust_graph_find (graph, e->to);
          text = relation_text (e->relation, TRUE, other != NULL ? other->name : e->to);
        }
      else if (g_str_equal (e->to, n->id))
        {
          other = tb_trust_graph_find (graph, e->from);
          text = relation_text (e->relation, FALSE, other != NULL ? other->name : e->from);
        }
      if (text != NULL)
        add_row (group, _("Relation"), text);
    }
}

/* The findings under the graph, with the report export next to them:
 * there whatever is selected. */
static void
show_findings (TbTrustChainPage *self)
{
  g_autoptr(GPtrArray) findings = tb_policy_check_context (self->context);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->findings_list))) != NULL)
    gtk_list_box_remove (self->findings_list, child);
  if (findings->len == 0)
    gtk_label_set_text (self->findings_title, _("No Policy Findings"));
  else
    {
      g_autofree char *title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u Policy Finding",
                                                             "%u Policy Findings", findings->len), findings->len);
      gtk_label_set_text (self->findings_title, title);
    }
  gtk_widget_set_visible (self->findings_none, findings->len == 0);
  gtk_widget_set_visible (self->findings_scroller, findings->len > 0);
  for (guint i = 0; i < findings->len; i++)
    {
      TbPolicyFinding *f = g_ptr_array_index (findings, i);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *icon = gtk_image_new_from_icon_name (f->severity == TB_SEVERITY_INFO ? "dialog-information-symbolic"
                                                                                      : "dialog-warning-symbolic");
      if (f->severity == TB_SEVERITY_CRITICAL)
        gtk_widget_add_css_class (icon, "error");
      else if (f->severity == TB_SEVERITY_WARNING)
        gtk_widget_add_css_class (icon, "warning");
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      tb_severity_to_string (f->severity), -1);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), f->subject != NULL ? f->subject : _("Context"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), f->message);
      gtk_list_box_append (self->findings_list, row);
    }
}

/**
 * tb_trust_chain_page_refresh:
 *
 * Rebuilds the graph from the context (keys, audit log, device records).
 */
void
tb_trust_chain_page_refresh (TbTrustChainPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbTrustGraph) graph = NULL;
  g_autoptr(TbTrustLayout) layout = NULL;
  g_autoptr(GPtrArray) keys = NULL;

  if (self->context == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  keys = tb_context_list_keys (self->context);
  if (keys->len == 0)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  graph = tb_trust_graph_new_from_context (self->context, TB_TRUST_GRAPH_GROUP_DEVICES, &error);
  if (graph != NULL)
    layout = tb_trust_layout_compute (graph, &error);
  if (layout == NULL)
    {
      gtk_label_set_text (self->error_label, error->message);
      gtk_stack_set_visible_child_name (self->stack, "error");
      return;
    }
  tb_trust_view_set_graph (self->view, g_steal_pointer (&graph), g_steal_pointer (&layout));
  show_findings (self);
  gtk_stack_set_visible_child_name (self->stack, "graph");
}

void
tb_trust_chain_page_set_context (TbTrustChainPage *self, TbContext *context)
{
  if (!tb_ui_follow_context (self, &self->context, context, G_CALLBACK (tb_trust_chain_page_refresh)))
    return;
  /* another context opens with nothing selected, fitted */
  tb_trust_view_set_graph (self->view, NULL, NULL);
  tb_trust_chain_page_refresh (self);
}

TbTrustView *
tb_trust_chain_page_get_view (TbTrustChainPage *self)
{
  return self->view;
}

gboolean
tb_trust_chain_page_has_graph (TbTrustChainPage *self)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "graph") == 0;
}


/**
 * tb_trust_chain_page_fit:
 *
 * Fits the whole graph to the page, and keeps it fitted as the window or
 * the details pane changes, until the user zooms.
 */
void
tb_trust_chain_page_fit (TbTrustChainPage *self)
{
  tb_trust_view_fit (self->view);
}

/**
 * tb_trust_chain_page_get_findings:
 *
 * Returns: (transfer none): the findings and the report export, which
 *   stay on screen whatever is selected
 */
GtkWidget *
tb_trust_chain_page_get_findings (TbTrustChainPage *self)
{
  return self->findings_box;
}

/**
 * tb_trust_chain_page_get_details:
 *
 * Returns: (transfer none): the details pane, revealed with a selection
 */
GtkRevealer *
tb_trust_chain_page_get_details (TbTrustChainPage *self)
{
  return self->details_revealer;
}

static void
zoom_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TbTrustChainPage *self = TB_TRUST_CHAIN_PAGE (widget);

  if (g_str_equal (action_name, "trust.zoom-in"))
    tb_trust_view_zoom_in (self->view);
  else if (g_str_equal (action_name, "trust.zoom-out"))
    tb_trust_view_zoom_out (self->view);
  else
    tb_trust_view_fit (self->view);
}

static void
close_details_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  TbTrustChainPage *self = TB_TRUST_CHAIN_PAGE (widget);
  TbTrustNode *n = tb_trust_view_get_selected (self->view);
  GtkWidget *node = n != NULL ? tb_trust_view_get_node_widget (self->view, n->id) : NULL;

  /* the focus goes back to the node the pane was about (focusing a node
   * selects it: before the selection is cleared) */
  if (node != NULL)
    gtk_widget_grab_focus (node);
  tb_trust_view_select (self->view, NULL);
}

static void
selection_changed_cb (TbTrustChainPage *self)
{
  show_details (self);
}

/* Dragging the background pans. */
static void
drag_begin_cb (GtkGestureDrag *gesture, double x, double y, TbTrustChainPage *self)
{
  self->drag_h = gtk_adjustment_get_value (gtk_scrolled_window_get_hadjustment (self->scroller));
  self->drag_v = gtk_adjustment_get_value (gtk_scrolled_window_get_vadjustment (self->scroller));
}

static void
drag_update_cb (GtkGestureDrag *gesture, double dx, double dy, TbTrustChainPage *self)
{
  gtk_adjustment_set_value (gtk_scrolled_window_get_hadjustment (self->scroller), self->drag_h - dx);
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->scroller), self->drag_v - dy);
}

static void
tb_trust_chain_page_dispose (GObject *object)
{
  TbTrustChainPage *self = TB_TRUST_CHAIN_PAGE (object);

  tb_ui_unfollow_context (self, &self->context);
  G_OBJECT_CLASS (tb_trust_chain_page_parent_class)->dispose (object);
}

static void
tb_trust_chain_page_class_init (TbTrustChainPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const struct {
    guint key;
    const char *action;
  } zoom_keys[] = {
    { GDK_KEY_plus, "trust.zoom-in" },       { GDK_KEY_equal, "trust.zoom-in" }, { GDK_KEY_KP_Add, "trust.zoom-in" },
    { GDK_KEY_minus, "trust.zoom-out" },     { GDK_KEY_KP_Subtract, "trust.zoom-out" },
    { GDK_KEY_0, "trust.fit" },              { GDK_KEY_KP_0, "trust.fit" },
  };

  G_OBJECT_CLASS (klass)->dispose = tb_trust_chain_page_dispose;
  g_type_ensure (TB_TYPE_TRUST_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/trustbench/Trustbench/tb-trust-chain-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, stack);
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, scroller);
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, view);
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, details_revealer);
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, details);
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, master_button);
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, keys_button);
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, images_button);
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, devices_button);
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, findings_box);
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, findings_title);
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, findings_none);
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, findings_scroller);
  gtk_widget_class_bind_template_child (widget_class, TbTrustChainPage, findings_list);
  gtk_widget_class_bind_template_callback (widget_class, selection_changed_cb);

  gtk_widget_class_install_action (widget_class, "trust.zoom-in", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "trust.zoom-out", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "trust.fit", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "trust.export", NULL, export_action);
  gtk_widget_class_install_action (widget_class, "trust.close-details", NULL, close_details_action);
  for (guint i = 0; i < G_N_ELEMENTS (zoom_keys); i++)
    gtk_widget_class_add_binding_action (widget_class, zoom_keys[i].key, GDK_CONTROL_MASK, zoom_keys[i].action, NULL);
}

static void
tb_trust_chain_page_init (TbTrustChainPage *self)
{
  GtkGesture *drag = gtk_gesture_drag_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_PRIMARY);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->scroller), GTK_EVENT_CONTROLLER (drag));
  show_details (self);
}
