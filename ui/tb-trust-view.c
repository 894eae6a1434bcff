/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The trust chain graph, drawn by the core's renderer at a zoom level;
 * click or arrow keys select a node. */
#include "config.h"

#include "tb-trust-view.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#define MARGIN 24.0
#define MIN_ZOOM 0.2
#define MAX_ZOOM 2.0

struct _TbTrustView {
  GtkWidget parent_instance;
  TbTrustGraph *graph;
  TbTrustLayout *layout;
  double zoom;
  int selected; /* index into graph->nodes, -1 for none */
  GPtrArray *node_widgets; /* one focusable, accessible button per node */
};

G_DEFINE_FINAL_TYPE (TbTrustView, tb_trust_view, GTK_TYPE_WIDGET)

enum {
  SIGNAL_SELECTION_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
update_accessible (TbTrustView *self)
{
  TbTrustNode *n = tb_trust_view_get_selected (self);
  g_autofree char *description = NULL;

  if (n != NULL)
    description = g_strdup_printf (_("%s “%s”, %s, %u of %u"), tb_trust_node_kind_to_string (n->kind), n->name,
                                   tb_trust_status_to_string (n->status), (guint) self->selected + 1,
                                   self->graph->nodes->len);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  description != NULL ? description : _("No node selected"), -1);
}

static void
set_selected (TbTrustView *self, int index)
{
  /* keyboard moves carry the focus along */
  if (index >= 0 && (guint) index < self->node_widgets->len && gtk_widget_get_focus_child (GTK_WIDGET (self)) != NULL)
    gtk_widget_grab_focus (g_ptr_array_index (self->node_widgets, index));
  if (self->selected == index)
    return;
  self->selected = index;
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[SIGNAL_SELECTION_CHANGED], 0);
}

static void
tb_trust_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum, int *natural,
                       int *minimum_baseline, int *natural_baseline)
{
  TbTrustView *self = TB_TRUST_VIEW (widget);
  double size = 0;

  if (self->layout != NULL)
    size = (orientation == GTK_ORIENTATION_HORIZONTAL ? self->layout->width : self->layout->height) * self->zoom;
  *minimum = *natural = (int) (size + 2 * MARGIN);
}

/* Where the drawing starts in a widget of @width × @height: centred when
 * the widget is larger than the drawing. */
static double
origin_for (TbTrustView *self, int size, double drawing)
{
  return MAX (MARGIN, (size - drawing * self->zoom) / 2);
}

static double
origin_x (TbTrustView *self)
{
  return origin_for (self, gtk_widget_get_width (GTK_WIDGET (self)), self->layout->width);
}

static double
origin_y (TbTrustView *self)
{
  return origin_for (self, gtk_widget_get_height (GTK_WIDGET (self)), self->layout->height);
}

static void
tb_trust_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  TbTrustView *self = TB_TRUST_VIEW (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  const TbTrustPalette *palette = adw_style_manager_get_dark (adw_style_manager_get_default ())
                                    ? tb_trust_palette_dark ()
                                    : tb_trust_palette_light ();
  TbTrustNode *selected = tb_trust_view_get_selected (self);
  cairo_t *cr;

  if (self->layout == NULL)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  /* centred when the view is larger than the drawing */
  cairo_translate (cr, origin_x (self), origin_y (self));
  cairo_scale (cr, self->zoom, self->zoom);
  tb_trust_render (cr, self->graph, self->layout, palette, selected != NULL ? selected->id : NULL);
  cairo_destroy (cr);
  for (guint i = 0; i < self->node_widgets->len; i++)
    gtk_widget_snapshot_child (widget, g_ptr_array_index (self->node_widgets, i), snapshot);
}

/* Each node has a transparent button over its card: it takes the focus
 * (Tab, arrows), the clicks, and carries the node's accessible name. */
static void
tb_trust_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  TbTrustView *self = TB_TRUST_VIEW (widget);

  for (guint i = 0; self->layout != NULL && i < self->node_widgets->len; i++)
    {
      TbTrustNode *n = g_ptr_array_index (self->graph->nodes, i);
      const TbTrustRect *r = tb_trust_layout_get_rect (self->layout, n->id);
      GtkWidget *child = g_ptr_array_index (self->node_widgets, i);
      GtkAllocation a = { 0 };

      if (r != NULL)
        {
          a.x = (int) (origin_for (self, width, self->layout->width) + r->x * self->zoom);
          a.y = (int) (origin_for (self, height, self->layout->height) + r->y * self->zoom);
          a.width = MAX (1, (int) (r->width * self->zoom));
          a.height = MAX (1, (int) (r->height * self->zoom));
        }
      gtk_widget_size_allocate (child, &a, -1);
    }
}

/* Widget coordinates → layout coordinates. */
static void
to_layout (TbTrustView *self, double x, double y, double *lx, double *ly)
{
  *lx = (x - origin_x (self)) / self->zoom;
  *ly = (y - origin_y (self)) / self->zoom;
}

static void
pressed_cb (GtkGestureClick *gesture, int n_press, double x, double y, TbTrustView *self)
{
  double lx, ly;

  if (self->layout == NULL)
    return;
  gtk_widget_grab_focus (GTK_WIDGET (self));
  to_layout (self, x, y, &lx, &ly);
  for (guint i = 0; i < self->graph->nodes->len; i++)
    {
      TbTrustNode *n = g_ptr_array_index (self->graph->nodes, i);
      const TbTrustRect *r = tb_trust_layout_get_rect (self->layout, n->id);
      if (r != NULL && lx >= r->x && lx <= r->x + r->width && ly >= r->y && ly <= r->y + r->height)
        {
          set_selected (self, (int) i);
          return;
        }
    }
  set_selected (self, -1);
}

static gboolean
key_pressed_cb (GtkEventControllerKey *controller, guint keyval, guint keycode, GdkModifierType state,
                TbTrustView *self)
{
  switch (keyval)
    {
    case GDK_KEY_Right:
    case GDK_KEY_Down:
      tb_trust_view_move_selection (self, 1);
      return TRUE;
    case GDK_KEY_Left:
    case GDK_KEY_Up:
      tb_trust_view_move_selection (self, -1);
      return TRUE;
    case GDK_KEY_Home:
      if (self->graph != NULL && self->graph->nodes->len > 0)
        set_selected (self, 0);
      return TRUE;
    case GDK_KEY_plus:
    case GDK_KEY_KP_Add:
      tb_trust_view_set_zoom (self, self->zoom * 1.25);
      return TRUE;
    case GDK_KEY_minus:
    case GDK_KEY_KP_Subtract:
      tb_trust_view_set_zoom (self, self->zoom / 1.25);
      return TRUE;
    default:
      return FALSE;
    }
}

static void
dark_changed_cb (TbTrustView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
tb_trust_view_dispose (GObject *object)
{
  TbTrustView *self = TB_TRUST_VIEW (object);

  g_signal_handlers_disconnect_by_data (adw_style_manager_get_default (), self);
  g_clear_pointer (&self->node_widgets, g_ptr_array_unref);
  g_clear_pointer (&self->layout, tb_trust_layout_free);
  g_clear_pointer (&self->graph, tb_trust_graph_free);
  G_OBJECT_CLASS (tb_trust_view_parent_class)->dispose (object);
}

static void
tb_trust_view_class_init (TbTrustViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = tb_trust_view_dispose;
  widget_class->measure = tb_trust_view_measure;
  widget_class->snapshot = tb_trust_view_snapshot;
  widget_class->size_allocate = tb_trust_view_size_allocate;
  signals[SIGNAL_SELECTION_CHANGED] = g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass),
                                                    G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
  gtk_widget_class_set_css_name (widget_class, "trustview");
}

static void
tb_trust_view_init (TbTrustView *self)
{
  GtkGesture *click = gtk_gesture_click_new ();
  GtkEventController *keys = gtk_event_controller_key_new ();

  self->zoom = 1.0;
  self->selected = -1;
  self->node_widgets = g_ptr_array_new_with_free_func ((GDestroyNotify) gtk_widget_unparent);
  g_signal_connect (click, "pressed", G_CALLBACK (pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  g_signal_connect (keys, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), keys);
  g_signal_connect_swapped (adw_style_manager_get_default (), "notify::dark", G_CALLBACK (dark_changed_cb), self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Trust chain graph"), -1);
}

static void
node_clicked_cb (GtkButton *button, TbTrustView *self)
{
  set_selected (self, GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "tb-index")));
}

static void
node_focus_cb (GtkEventControllerFocus *controller, TbTrustView *self)
{
  GtkWidget *button = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (controller));
  set_selected (self, GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "tb-index")));
}

static GtkWidget *
make_node_widget (TbTrustView *self, TbTrustNode *n, guint index)
{
  GtkWidget *button = gtk_button_new ();
  GtkEventController *focus = gtk_event_controller_focus_new ();
  g_autofree char *label = g_strdup_printf ("%s %s", tb_trust_node_kind_to_string (n->kind), n->name);
  g_autofree char *description = g_strdup_printf (_("status %s%s%s"), tb_trust_status_to_string (n->status),
                                                  n->warnings->len > 0 ? ", " : "",
                                                  n->warnings->len > 0 ? (char *) n->warnings->pdata[0] : "");

  gtk_widget_add_css_class (button, "flat");
  gtk_widget_add_css_class (button, "trust-node");
  gtk_widget_set_tooltip_text (button, n->name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description, -1);
  g_object_set_data (G_OBJECT (button), "tb-index", GINT_TO_POINTER ((int) index));
  g_signal_connect (button, "clicked", G_CALLBACK (node_clicked_cb), self);
  g_signal_connect (focus, "enter", G_CALLBACK (node_focus_cb), self);
  gtk_widget_add_controller (button, focus);
  gtk_widget_set_parent (button, GTK_WIDGET (self));
  return button;
}

/**
 * tb_trust_view_get_node_widget:
 *
 * Returns: (transfer none) (nullable): the focusable, accessible widget of
 *   the node with @id
 */
GtkWidget *
tb_trust_view_get_node_widget (TbTrustView *self, const char *id)
{
  for (guint i = 0; self->graph != NULL && i < self->graph->nodes->len; i++)
    if (g_str_equal (((TbTrustNode *) self->graph->nodes->pdata[i])->id, id))
      return g_ptr_array_index (self->node_widgets, i);
  return NULL;
}

GtkWidget *
tb_trust_view_new (void)
{
  return g_object_new (TB_TYPE_TRUST_VIEW, NULL);
}

/**
 * tb_trust_view_set_graph:
 * @graph: (transfer full) (nullable):
 * @layout: (transfer full) (nullable):
 *
 * Shows @graph; the selected node stays selected if it is still there.
 */
void
tb_trust_view_set_graph (TbTrustView *self, TbTrustGraph *graph, TbTrustLayout *layout)
{
  g_autofree char *selected = NULL;
  int index = -1;

  if (tb_trust_view_get_selected (self) != NULL)
    selected = g_strdup (tb_trust_view_get_selected (self)->id);
  g_ptr_array_set_size (self->node_widgets, 0);
  g_clear_pointer (&self->layout, tb_trust_layout_free);
  g_clear_pointer (&self->graph, tb_trust_graph_free);
  self->graph = graph;
  self->layout = layout;
  self->selected = -1;
  for (guint i = 0; graph != NULL && i < graph->nodes->len; i++)
    g_ptr_array_add (self->node_widgets, make_node_widget (self, g_ptr_array_index (graph->nodes, i), i));
  for (guint i = 0; selected != NULL && graph != NULL && i < graph->nodes->len; i++)
    if (g_str_equal (((TbTrustNode *) graph->nodes->pdata[i])->id, selected))
      index = (int) i;
  set_selected (self, index);
  g_signal_emit (self, signals[SIGNAL_SELECTION_CHANGED], 0);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

TbTrustGraph *
tb_trust_view_get_graph (TbTrustView *self)
{
  return self->graph;
}

void
tb_trust_view_set_zoom (TbTrustView *self, double zoom)
{
  self->zoom = CLAMP (zoom, MIN_ZOOM, MAX_ZOOM);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

double
tb_trust_view_get_zoom (TbTrustView *self)
{
  return self->zoom;
}

/**
 * tb_trust_view_fit:
 *
 * Zooms so that the whole graph fits @width × @height pixels.
 */
void
tb_trust_view_fit (TbTrustView *self, int width, int height)
{
  if (self->layout == NULL || width <= 2 * MARGIN || height <= 2 * MARGIN)
    return;
  tb_trust_view_set_zoom (self, MIN (1.0, MIN ((width - 2 * MARGIN) / self->layout->width,
                                               (height - 2 * MARGIN) / self->layout->height)));
}

/**
 * tb_trust_view_get_selected:
 *
 * Returns: (transfer none) (nullable): the selected node
 */
TbTrustNode *
tb_trust_view_get_selected (TbTrustView *self)
{
  if (self->graph == NULL || self->selected < 0 || (guint) self->selected >= self->graph->nodes->len)
    return NULL;
  return g_ptr_array_index (self->graph->nodes, self->selected);
}

gboolean
tb_trust_view_select (TbTrustView *self, const char *id)
{
  for (guint i = 0; self->graph != NULL && i < self->graph->nodes->len; i++)
    if (g_str_equal (((TbTrustNode *) self->graph->nodes->pdata[i])->id, id))
      {
        set_selected (self, (int) i);
        return TRUE;
      }
  return FALSE;
}

/**
 * tb_trust_view_move_selection:
 * @delta: +1 the next node, -1 the previous one (wrapping)
 */
void
tb_trust_view_move_selection (TbTrustView *self, int delta)
{
  int n;

  if (self->graph == NULL || (n = (int) self->graph->nodes->len) == 0)
    return;
  set_selected (self, self->selected < 0 ? (delta > 0 ? 0 : n - 1) : ((self->selected + delta) % n + n) % n);
}
