/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Trust Chain page: the context's chain of trust as a graph laid out
 * by graphviz, with zoom, fit and a details pane for the selected node. */
#include "config.h"

#include "tb-trust-chain-page.h"

#include <glib/gi18n.h>

#include "tb-ui-util.h"
#include "tb-window.h"

struct _TbTrustChainPage {
  AdwBin parent_instance;
  TbContext *context;
  GtkStack *stack;
  GtkLabel *error_label;
  GtkScrolledWindow *scroller;
  TbTrustView *view;
  GtkBox *details;
  GtkWidget *details_group;
  GtkWidget *actions_box;
  GtkWidget *findings_group;
  double drag_h, drag_v;
  gboolean fitted;              /* fitted once for this context */
  guint fit_tick;
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

static GtkWidget *
action_button (const char *label, const char *page)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.show-page");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", page);
  gtk_widget_add_css_class (button, "pill");
  return button;
}

/* What one can do from a node: go where it is managed. */
static GtkWidget *
node_actions (TbTrustNode *n)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);

  switch (n->kind)
    {
    case TB_TRUST_NODE_MASTERING:
    case TB_TRUST_NODE_PRODUCT:
      gtk_box_append (GTK_BOX (box), action_button (_("_Master an Image…"), "images"));
      G_GNUC_FALLTHROUGH;
    case TB_TRUST_NODE_ROOT_CA:
    case TB_TRUST_NODE_CA:
    case TB_TRUST_NODE_JOB:
      gtk_box_append (GTK_BOX (box), action_button (_("Export or Issue in _Keys & Certificates"), "keys"));
      break;
    case TB_TRUST_NODE_IMAGE:
      gtk_box_append (GTK_BOX (box), action_button (_("Open _Images"), "images"));
      break;
    case TB_TRUST_NODE_DEVICE:
    case TB_TRUST_NODE_DEVICE_GROUP:
    default:
      gtk_box_append (GTK_BOX (box), action_button (_("Open _Devices"), "devices"));
      break;
    }
  return box;
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
export_response_cb (GtkNativeDialog *chooser, int response, TbTrustChainPage *self)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      path = g_file_get_path (file);
      if (!g_str_has_suffix (path, ".pdf") && !g_str_has_suffix (path, ".svg") && !g_str_has_suffix (path, ".json"))
        {
          char *with_pdf = g_strconcat (path, ".pdf", NULL);
          g_free (path);
          path = with_pdf;
        }
      if (TB_IS_WINDOW (root))
        {
          if (tb_trust_chain_page_export_report (self, path, &error))
            {
              g_autofree char *done = g_strdup_printf (_("Review report written to %s"), path);
              tb_window_add_toast (TB_WINDOW (root), done);
            }
          else
            tb_window_add_toast (TB_WINDOW (root), error->message);
        }
    }
  g_object_unref (chooser);
}

static void
export_clicked_cb (TbTrustChainPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (_("Export Review Report"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                 GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  g_autofree char *name = g_strdup_printf ("%s-review.pdf", self->context != NULL
                                                              ? tb_context_get_name (self->context)
                                                              : "trustbench");
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("PDF, SVG or JSON report"));
  gtk_file_filter_add_suffix (filter, "pdf");
  gtk_file_filter_add_suffix (filter, "svg");
  gtk_file_filter_add_suffix (filter, "json");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  g_signal_connect (chooser, "response", G_CALLBACK (export_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* A sentence fragment for an edge seen from its source or its target. */
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

  if (self->details_group != NULL)
    gtk_box_remove (self->details, self->details_group);
  if (self->actions_box != NULL)
    gtk_box_remove (self->details, self->actions_box);
  self->actions_box = NULL;
  group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  self->details_group = GTK_WIDGET (group);
  gtk_box_prepend (self->details, self->details_group);
  if (n != NULL)
    {
      self->actions_box = node_actions (n);
      gtk_box_insert_child_after (self->details, self->actions_box, self->details_group);
    }
  if (n == NULL)
    {
      adw_preferences_group_set_title (group, _("Details"));
      adw_preferences_group_set_description (group, _("Select a node in the graph (click it, or use the arrow "
                                                      "keys) to see its details."));
      return;
    }
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
  add_row (group, n->kind == TB_TRUST_NODE_IMAGE ? _("Plaintext SHA-256") : _("Fingerprint (SHA-256)"),
           n->fingerprint);
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

static void
show_findings (TbTrustChainPage *self)
{
  g_autoptr(GPtrArray) findings = tb_policy_check_context (self->context);
  AdwPreferencesGroup *group;

  if (self->findings_group != NULL)
    gtk_box_remove (self->details, self->findings_group);
  group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  self->findings_group = GTK_WIDGET (group);
  gtk_box_append (self->details, self->findings_group);
  adw_preferences_group_set_title (group, _("Policy Findings"));
  {
    GtkWidget *export = gtk_button_new_with_mnemonic (_("_Export Review Report…"));
    gtk_widget_set_tooltip_text (export, _("Write what a security officer signs off on, as PDF, SVG or JSON"));
    gtk_widget_add_css_class (export, "pill");
    gtk_widget_set_margin_top (export, 12);
    g_signal_connect_swapped (export, "clicked", G_CALLBACK (export_clicked_cb), self);
    adw_preferences_group_add (group, export);
  }
  if (findings->len == 0)
    adw_preferences_group_set_description (group, _("None: the hierarchy follows the policy."));
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
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), f->subject != NULL ? f->subject : _("Context"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), f->message);
      adw_preferences_group_add (group, row);
    }
}

/* Fits the graph once the scroller knows its size. */
static gboolean
fit_tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  TbTrustChainPage *self = data;

  if (gtk_widget_get_width (GTK_WIDGET (self->scroller)) <= 0)
    return G_SOURCE_CONTINUE;
  self->fit_tick = 0;
  self->fitted = TRUE;
  tb_trust_chain_page_fit (self);
  /* a large chain opens readable, to be panned; Fit shows it whole */
  if (tb_trust_view_get_zoom (self->view) < 0.75)
    tb_trust_view_set_zoom (self->view, 0.75);
  gtk_adjustment_set_value (gtk_scrolled_window_get_hadjustment (self->scroller), 0);
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->scroller), 0);
  return G_SOURCE_REMOVE;
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
  keys = tb_context_get_entries (self->context, TB_INVENTORY_KEYS);
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
  if (!self->fitted && self->fit_tick == 0)
    self->fit_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self->scroller), fit_tick_cb, self, NULL);
}

void
tb_trust_chain_page_set_context (TbTrustChainPage *self, TbContext *context)
{
  if (!tb_ui_follow_context (self, &self->context, context, G_CALLBACK (tb_trust_chain_page_refresh)))
    return;
  self->fitted = FALSE;
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

void
tb_trust_chain_page_fit (TbTrustChainPage *self)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self->scroller)), h = gtk_widget_get_height (GTK_WIDGET (self->scroller));

  if (w > 0 && h > 0)
    tb_trust_view_fit (self->view, w, h);
}

static void
zoom_in_cb (TbTrustChainPage *self)
{
  tb_trust_view_set_zoom (self->view, tb_trust_view_get_zoom (self->view) * 1.25);
}

static void
zoom_out_cb (TbTrustChainPage *self)
{
  tb_trust_view_set_zoom (self->view, tb_trust_view_get_zoom (self->view) / 1.25);
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

static GtkWidget *
osd_button (const char *icon, const char *tooltip, GCallback cb, gpointer data)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  gtk_widget_add_css_class (button, "circular");
  gtk_widget_add_css_class (button, "osd");
  g_signal_connect_swapped (button, "clicked", cb, data);
  return button;
}

static void
tb_trust_chain_page_dispose (GObject *object)
{
  TbTrustChainPage *self = TB_TRUST_CHAIN_PAGE (object);

  tb_ui_unfollow_context (self, &self->context);
  if (self->fit_tick != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self->scroller), self->fit_tick);
      self->fit_tick = 0;
    }
  G_OBJECT_CLASS (tb_trust_chain_page_parent_class)->dispose (object);
}

static void
tb_trust_chain_page_class_init (TbTrustChainPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = tb_trust_chain_page_dispose;
}

static void
tb_trust_chain_page_init (TbTrustChainPage *self)
{
  GtkWidget *empty = adw_status_page_new ();
  GtkWidget *error_page = adw_status_page_new ();
  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  GtkWidget *overlay = gtk_overlay_new ();
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *details_scroller = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkGesture *drag = gtk_gesture_drag_new ();

  self->stack = GTK_STACK (gtk_stack_new ());
  gtk_stack_set_transition_type (self->stack, GTK_STACK_TRANSITION_TYPE_CROSSFADE);

  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty), "security-high-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty), _("No Trust Chain Yet"));
  adw_status_page_set_description (ADW_STATUS_PAGE (empty),
                                   _("The chain of trust appears here as a graph: root CA, intermediate CAs, mastering "
                                     "and product keys, images and devices. Create the key hierarchy to start it."));
  gtk_stack_add_named (self->stack, empty, "empty");

  adw_status_page_set_icon_name (ADW_STATUS_PAGE (error_page), "dialog-error-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (error_page), _("The Trust Chain Cannot Be Drawn"));
  self->error_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->error_label, TRUE);
  adw_status_page_set_child (ADW_STATUS_PAGE (error_page), GTK_WIDGET (self->error_label));
  gtk_stack_add_named (self->stack, error_page, "error");

  self->view = TB_TRUST_VIEW (tb_trust_view_new ());
  self->scroller = GTK_SCROLLED_WINDOW (gtk_scrolled_window_new ());
  gtk_scrolled_window_set_child (self->scroller, GTK_WIDGET (self->view));
  gtk_widget_set_hexpand (GTK_WIDGET (self->scroller), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self->scroller), TRUE);
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_PRIMARY);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->scroller), GTK_EVENT_CONTROLLER (drag));
  gtk_overlay_set_child (GTK_OVERLAY (overlay), GTK_WIDGET (self->scroller));
  gtk_box_append (GTK_BOX (buttons), osd_button ("zoom-out-symbolic", _("Zoom Out"), G_CALLBACK (zoom_out_cb), self));
  gtk_box_append (GTK_BOX (buttons), osd_button ("zoom-fit-best-symbolic", _("Fit to Window"),
                                                 G_CALLBACK (tb_trust_chain_page_fit), self));
  gtk_box_append (GTK_BOX (buttons), osd_button ("zoom-in-symbolic", _("Zoom In"), G_CALLBACK (zoom_in_cb), self));
  gtk_widget_set_halign (buttons, GTK_ALIGN_END);
  gtk_widget_set_valign (buttons, GTK_ALIGN_END);
  gtk_widget_set_margin_end (buttons, 12);
  gtk_widget_set_margin_bottom (buttons, 12);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), buttons);

  self->details = GTK_BOX (gtk_box_new (GTK_ORIENTATION_VERTICAL, 18));
  gtk_widget_set_margin_top (GTK_WIDGET (self->details), 18);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->details), 18);
  gtk_widget_set_margin_start (GTK_WIDGET (self->details), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (self->details), 12);
  adw_clamp_set_child (ADW_CLAMP (clamp), GTK_WIDGET (self->details));
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (details_scroller), clamp);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (details_scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_size_request (details_scroller, 300, -1);

  gtk_paned_set_start_child (GTK_PANED (paned), overlay);
  gtk_paned_set_end_child (GTK_PANED (paned), details_scroller);
  gtk_paned_set_resize_end_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_shrink_end_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_shrink_start_child (GTK_PANED (paned), FALSE);
  gtk_stack_add_named (self->stack, paned, "graph");

  g_signal_connect_swapped (self->view, "selection-changed", G_CALLBACK (show_details), self);
  show_details (self);
  adw_bin_set_child (ADW_BIN (self), GTK_WIDGET (self->stack));
}
