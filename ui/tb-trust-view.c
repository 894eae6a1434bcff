/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The trust chain graph, drawn by the core's renderer at a zoom level in
 * the colours of the style (light, dark, high contrast); click or arrow
 * keys select a node. It scrolls itself (GtkScrollable): it knows the
 * size of what is visible, so that until the user zooms it keeps the whole
 * graph fitted to it, whatever opens or closes around it. */
#include "config.h"

#include "tb-trust-view.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

#define MARGIN 24.0
#define MIN_ZOOM 0.2
#define MAX_ZOOM 2.0
#define FIT_SLACK 0.5 /* pixels */

struct _TbTrustView {
  GtkWidget parent_instance;
  TbTrustGraph *graph;
  TbTrustLayout *layout;
  double zoom;
  gboolean fitting;        /* the zoom follows the visible size */
  int fitted_width, fitted_height; /* the size it last followed */
  gboolean centre_pending; /* scroll so that (centre_x, centre_y) is at */
  double centre_x, centre_y; /* (anchor_x, anchor_y), or in the middle when < 0 */
  double anchor_x, anchor_y;
  double pointer_x, pointer_y; /* for Ctrl+scroll, which zooms around it */
  int selected; /* index into graph->nodes, -1 for none */
  GPtrArray *node_widgets; /* one focusable, accessible button per node */
  GtkAdjustment *adjustment[2]; /* horizontal, vertical */
  GtkScrollablePolicy policy[2];
  gboolean allocating; /* the adjustments change under size_allocate */
};

G_DEFINE_FINAL_TYPE_WITH_CODE (TbTrustView, tb_trust_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_SCROLLABLE, NULL))

enum {
  PROP_0,
  PROP_HADJUSTMENT,
  PROP_VADJUSTMENT,
  PROP_HSCROLL_POLICY,
  PROP_VSCROLL_POLICY,
};

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

static void scroll_to_selected (TbTrustView *self);

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
  scroll_to_selected (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[SIGNAL_SELECTION_CHANGED], 0);
}

static void
tb_trust_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum, int *natural,
                       int *minimum_baseline, int *natural_baseline)
{
  TbTrustView *self = TB_TRUST_VIEW (widget);
  double size = 0;

  /* it scrolls: any size will do, the drawing at 100 % is what it would like */
  if (self->layout != NULL)
    size = orientation == GTK_ORIENTATION_HORIZONTAL ? self->layout->width : self->layout->height;
  *minimum = 0;
  *natural = (int) (size + 2 * MARGIN);
}

/* The zoom that shows the whole drawing in @width × @height, never above
 * 100 %, never below what keeps its text readable (there it scrolls). */
static double
fit_zoom (TbTrustView *self, int width, int height)
{
  double zoom = MIN (1.0, MIN ((width - 2 * MARGIN) / self->layout->width,
                               (height - 2 * MARGIN) / self->layout->height));
  return MAX (zoom, TB_TRUST_VIEW_MIN_FIT_ZOOM);
}

/* Where the drawing starts along one axis of @size pixels: centred when it
 * is smaller, else scrolled. */
static double
origin_along (TbTrustView *self, GtkOrientation o, int size)
{
  double drawing = (o == GTK_ORIENTATION_HORIZONTAL ? self->layout->width : self->layout->height) * self->zoom;

  if (drawing + 2 * MARGIN <= size + FIT_SLACK)
    return (size - drawing) / 2;
  return MARGIN - gtk_adjustment_get_value (self->adjustment[o]);
}

static double
origin_x (TbTrustView *self)
{
  return origin_along (self, GTK_ORIENTATION_HORIZONTAL, gtk_widget_get_width (GTK_WIDGET (self)));
}

static double
origin_y (TbTrustView *self)
{
  return origin_along (self, GTK_ORIENTATION_VERTICAL, gtk_widget_get_height (GTK_WIDGET (self)));
}

/* The style's colours, so that dark and high contrast follow the desktop;
 * the built-in palettes fill in a colour the style does not name. */
static void
lookup_palette (TbTrustView *self, TbTrustPalette *palette)
{
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (self));
  gboolean dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  GdkRGBA bg, fg, c;
  const struct {
    const char *name;
    size_t offset;
  } named[] = {
    { "accent_color", G_STRUCT_OFFSET (TbTrustPalette, accent) },
    { "success_color", G_STRUCT_OFFSET (TbTrustPalette, valid) },
    { "warning_color", G_STRUCT_OFFSET (TbTrustPalette, expiring) },
    { "error_color", G_STRUCT_OFFSET (TbTrustPalette, expired) },
    { dark ? "orange_2" : "orange_5", G_STRUCT_OFFSET (TbTrustPalette, warning) },
  };

  *palette = *(dark ? tb_trust_palette_dark () : tb_trust_palette_light ());
  if (!gtk_style_context_lookup_color (style, "window_bg_color", &bg) ||
      !gtk_style_context_lookup_color (style, "window_fg_color", &fg))
    return;
  /* fg and the card may be translucent: composited over the background */
#define OVER(dst, src, alpha, under)                                              \
  G_STMT_START {                                                                  \
    (dst)[0] = (src).red * (alpha) + (under)[0] * (1 - (alpha));                  \
    (dst)[1] = (src).green * (alpha) + (under)[1] * (1 - (alpha));                \
    (dst)[2] = (src).blue * (alpha) + (under)[2] * (1 - (alpha));                 \
  } G_STMT_END
  palette->background[0] = bg.red;
  palette->background[1] = bg.green;
  palette->background[2] = bg.blue;
  OVER (palette->text, fg, fg.alpha, palette->background);
  OVER (palette->dim_text, fg, fg.alpha * 0.68, palette->background);
  OVER (palette->edge, fg, fg.alpha * 0.45, palette->background);
  if (gtk_style_context_lookup_color (style, "card_bg_color", &c))
    OVER (palette->card, c, c.alpha, palette->background);
  for (guint i = 0; i < G_N_ELEMENTS (named); i++)
    if (gtk_style_context_lookup_color (style, named[i].name, &c))
      OVER ((double *) G_STRUCT_MEMBER_P (palette, named[i].offset), c, c.alpha, palette->background);
#undef OVER
  G_GNUC_END_IGNORE_DEPRECATIONS
}

static void
tb_trust_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  TbTrustView *self = TB_TRUST_VIEW (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  TbTrustNode *selected = tb_trust_view_get_selected (self);
  TbTrustPalette palette;
  cairo_t *cr;

  if (self->layout == NULL)
    return;
  lookup_palette (self, &palette);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  cairo_translate (cr, origin_x (self), origin_y (self));
  cairo_scale (cr, self->zoom, self->zoom);
  tb_trust_render (cr, self->graph, self->layout, &palette, selected != NULL ? selected->id : NULL);
  cairo_destroy (cr);
  for (guint i = 0; i < self->node_widgets->len; i++)
    gtk_widget_snapshot_child (widget, g_ptr_array_index (self->node_widgets, i), snapshot);
}

/* One axis of the scrolling: the drawing plus its margins, @size visible. */
static void
configure_adjustment (TbTrustView *self, GtkOrientation o, int size)
{
  GtkAdjustment *adj = self->adjustment[o];
  double drawing = self->layout != NULL
                     ? (o == GTK_ORIENTATION_HORIZONTAL ? self->layout->width : self->layout->height) * self->zoom
                     : 0;
  /* a fitted drawing scrolls by nothing, not by a rounding error */
  double upper = drawing + 2 * MARGIN > size + FIT_SLACK ? drawing + 2 * MARGIN : size;
  double value = gtk_adjustment_get_value (adj);

  if (self->centre_pending && self->layout != NULL)
    {
      double anchor = o == GTK_ORIENTATION_HORIZONTAL ? self->anchor_x : self->anchor_y;
      value = MARGIN + (o == GTK_ORIENTATION_HORIZONTAL ? self->centre_x : self->centre_y) * self->zoom -
              (anchor >= 0 ? anchor : size / 2.0);
    }
  gtk_adjustment_configure (adj, CLAMP (value, 0, upper - size), 0, upper, size * 0.1, size * 0.9, size);
}

/* Each node has a transparent button over its card: it takes the focus
 * (Tab, arrows), the clicks, and carries the node's accessible name. */
static void
tb_trust_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  TbTrustView *self = TB_TRUST_VIEW (widget);
  double ox, oy;

  if (self->layout != NULL && self->fitting && width > 2 * MARGIN && height > 2 * MARGIN &&
      (width != self->fitted_width || height != self->fitted_height))
    {
      TbTrustNode *selected = tb_trust_view_get_selected (self);
      const TbTrustRect *r = selected != NULL ? tb_trust_layout_get_rect (self->layout, selected->id) : NULL;

      self->fitted_width = width;
      self->fitted_height = height;
      self->zoom = fit_zoom (self, width, height);
      /* what does not fit shows the selected node, else the top middle,
       * where the root is */
      self->centre_pending = TRUE;
      self->anchor_x = self->anchor_y = -1;
      self->centre_x = r != NULL ? r->x + r->width / 2 : self->layout->width / 2;
      self->centre_y = r != NULL ? r->y + r->height / 2 : 0;
    }
  self->allocating = TRUE;
  configure_adjustment (self, GTK_ORIENTATION_HORIZONTAL, width);
  configure_adjustment (self, GTK_ORIENTATION_VERTICAL, height);
  self->allocating = FALSE;
  self->centre_pending = FALSE;
  if (self->layout == NULL)
    return;
  ox = origin_along (self, GTK_ORIENTATION_HORIZONTAL, width);
  oy = origin_along (self, GTK_ORIENTATION_VERTICAL, height);
  for (guint i = 0; i < self->node_widgets->len; i++)
    {
      TbTrustNode *n = g_ptr_array_index (self->graph->nodes, i);
      const TbTrustRect *r = tb_trust_layout_get_rect (self->layout, n->id);
      GtkWidget *child = g_ptr_array_index (self->node_widgets, i);
      GtkAllocation a = { 0 };

      if (r != NULL)
        {
          a.x = (int) round (ox + r->x * self->zoom);
          a.y = (int) round (oy + r->y * self->zoom);
          a.width = MAX (1, (int) round (r->width * self->zoom));
          a.height = MAX (1, (int) round (r->height * self->zoom));
        }
      gtk_widget_size_allocate (child, &a, -1);
    }
}

/* Scrolls the selected node into the middle when it is not all visible. */
static void
scroll_to_selected (TbTrustView *self)
{
  TbTrustNode *n = tb_trust_view_get_selected (self);
  const TbTrustRect *r = n != NULL && self->layout != NULL ? tb_trust_layout_get_rect (self->layout, n->id) : NULL;
  double x, y;

  if (r == NULL || !gtk_widget_get_realized (GTK_WIDGET (self)))
    return;
  x = origin_x (self) + r->x * self->zoom;
  y = origin_y (self) + r->y * self->zoom;
  if (x >= 0 && y >= 0 && x + r->width * self->zoom <= gtk_widget_get_width (GTK_WIDGET (self)) &&
      y + r->height * self->zoom <= gtk_widget_get_height (GTK_WIDGET (self)))
    return;
  self->centre_pending = TRUE;
  self->anchor_x = self->anchor_y = -1;
  self->centre_x = r->x + r->width / 2;
  self->centre_y = r->y + r->height / 2;
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

/* Widget coordinates → layout coordinates. */
static void
to_layout (TbTrustView *self, double x, double y, double *lx, double *ly)
{
  *lx = (x - origin_x (self)) / self->zoom;
  *ly = (y - origin_y (self)) / self->zoom;
}

static void
adjustment_value_changed_cb (TbTrustView *self)
{
  /* in size_allocate, the children are placed with the new value; else
   * a resize, not an allocation only: queued from a revealer's or a
   * scrolled window's reaction, an allocation alone was seen not to
   * reach this widget before its next snapshot */
  if (!self->allocating)
    gtk_widget_queue_resize (GTK_WIDGET (self));
}

static void
set_adjustment (TbTrustView *self, GtkOrientation o, GtkAdjustment *adj)
{
  if (adj == NULL)
    adj = gtk_adjustment_new (0, 0, 0, 0, 0, 0);
  if (self->adjustment[o] == adj)
    return;
  if (self->adjustment[o] != NULL)
    {
      g_signal_handlers_disconnect_by_func (self->adjustment[o], adjustment_value_changed_cb, self);
      g_object_unref (self->adjustment[o]);
    }
  self->adjustment[o] = g_object_ref_sink (adj);
  g_signal_connect_swapped (adj, "value-changed", G_CALLBACK (adjustment_value_changed_cb), self);
  g_object_notify (G_OBJECT (self), o == GTK_ORIENTATION_HORIZONTAL ? "hadjustment" : "vadjustment");
}

static void
tb_trust_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TbTrustView *self = TB_TRUST_VIEW (object);

  switch (prop_id)
    {
    case PROP_HADJUSTMENT: g_value_set_object (value, self->adjustment[GTK_ORIENTATION_HORIZONTAL]); break;
    case PROP_VADJUSTMENT: g_value_set_object (value, self->adjustment[GTK_ORIENTATION_VERTICAL]); break;
    case PROP_HSCROLL_POLICY: g_value_set_enum (value, self->policy[GTK_ORIENTATION_HORIZONTAL]); break;
    case PROP_VSCROLL_POLICY: g_value_set_enum (value, self->policy[GTK_ORIENTATION_VERTICAL]); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tb_trust_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TbTrustView *self = TB_TRUST_VIEW (object);

  switch (prop_id)
    {
    case PROP_HADJUSTMENT: set_adjustment (self, GTK_ORIENTATION_HORIZONTAL, g_value_get_object (value)); break;
    case PROP_VADJUSTMENT: set_adjustment (self, GTK_ORIENTATION_VERTICAL, g_value_get_object (value)); break;
    case PROP_HSCROLL_POLICY:
    case PROP_VSCROLL_POLICY:
      {
        GtkOrientation o = prop_id == PROP_HSCROLL_POLICY ? GTK_ORIENTATION_HORIZONTAL : GTK_ORIENTATION_VERTICAL;
        if (self->policy[o] != (GtkScrollablePolicy) g_value_get_enum (value))
          {
            self->policy[o] = g_value_get_enum (value);
            gtk_widget_queue_resize (GTK_WIDGET (self));
            g_object_notify_by_pspec (object, pspec);
          }
      }
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
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
    case GDK_KEY_equal:
    case GDK_KEY_KP_Add:
      tb_trust_view_zoom_in (self);
      return TRUE;
    case GDK_KEY_minus:
    case GDK_KEY_KP_Subtract:
      tb_trust_view_zoom_out (self);
      return TRUE;
    case GDK_KEY_0:
    case GDK_KEY_KP_0:
      tb_trust_view_fit (self);
      return TRUE;
    default:
      return FALSE;
    }
}

static void
pointer_motion_cb (GtkEventControllerMotion *motion, double x, double y, TbTrustView *self)
{
  self->pointer_x = x;
  self->pointer_y = y;
}

/* Ctrl+scroll zooms around the pointer; plain scrolling scrolls. */
static gboolean
scroll_cb (GtkEventControllerScroll *controller, double dx, double dy, TbTrustView *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));

  if ((state & GDK_CONTROL_MASK) == 0 || dy == 0)
    return FALSE;
  tb_trust_view_zoom_at (self, pow (1.1, -dy), self->pointer_x, self->pointer_y);
  return TRUE;
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
  for (guint o = 0; o < G_N_ELEMENTS (self->adjustment); o++)
    if (self->adjustment[o] != NULL)
      {
        g_signal_handlers_disconnect_by_func (self->adjustment[o], adjustment_value_changed_cb, self);
        g_clear_object (&self->adjustment[o]);
      }
  G_OBJECT_CLASS (tb_trust_view_parent_class)->dispose (object);
}

static void
tb_trust_view_class_init (TbTrustViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tb_trust_view_dispose;
  object_class->get_property = tb_trust_view_get_property;
  object_class->set_property = tb_trust_view_set_property;
  g_object_class_override_property (object_class, PROP_HADJUSTMENT, "hadjustment");
  g_object_class_override_property (object_class, PROP_VADJUSTMENT, "vadjustment");
  g_object_class_override_property (object_class, PROP_HSCROLL_POLICY, "hscroll-policy");
  g_object_class_override_property (object_class, PROP_VSCROLL_POLICY, "vscroll-policy");
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
  GtkEventController *motion = gtk_event_controller_motion_new ();
  GtkEventController *scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);

  self->zoom = 1.0;
  self->fitting = TRUE;
  self->selected = -1;
  set_adjustment (self, GTK_ORIENTATION_HORIZONTAL, NULL);
  set_adjustment (self, GTK_ORIENTATION_VERTICAL, NULL);
  self->node_widgets = g_ptr_array_new_with_free_func ((GDestroyNotify) gtk_widget_unparent);
  g_signal_connect (click, "pressed", G_CALLBACK (pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  g_signal_connect (keys, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), keys);
  g_signal_connect (motion, "enter", G_CALLBACK (pointer_motion_cb), self);
  g_signal_connect (motion, "motion", G_CALLBACK (pointer_motion_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
  g_signal_connect_swapped (adw_style_manager_get_default (), "notify::dark", G_CALLBACK (dark_changed_cb), self);
  g_signal_connect_swapped (adw_style_manager_get_default (), "notify::high-contrast", G_CALLBACK (dark_changed_cb),
                            self);
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
 * The first graph (the view showed none) is fitted; a graph that replaces
 * another keeps the zoom the user chose.
 */
void
tb_trust_view_set_graph (TbTrustView *self, TbTrustGraph *graph, TbTrustLayout *layout)
{
  g_autofree char *selected = NULL;
  int index = -1;

  if (tb_trust_view_get_selected (self) != NULL)
    selected = g_strdup (tb_trust_view_get_selected (self)->id);
  /* a first graph is fitted; a graph that changes under the user keeps
   * the zoom they chose, or is fitted again */
  if (self->graph == NULL)
    self->fitting = TRUE;
  self->fitted_width = self->fitted_height = 0;
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

/* Zooms to @zoom keeping what is at (@x, @y) in the view there. */
static void
zoom_around (TbTrustView *self, double zoom, double x, double y)
{
  zoom = CLAMP (zoom, MIN_ZOOM, MAX_ZOOM);
  if (self->layout != NULL && gtk_widget_get_width (GTK_WIDGET (self)) > 0)
    {
      to_layout (self, x, y, &self->centre_x, &self->centre_y);
      self->anchor_x = x;
      self->anchor_y = y;
      self->centre_pending = TRUE;
    }
  self->zoom = zoom;
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

/**
 * tb_trust_view_set_zoom:
 *
 * Zooms to @zoom (1.0 is 100 %); the zoom no longer follows the size.
 */
void
tb_trust_view_set_zoom (TbTrustView *self, double zoom)
{
  self->fitting = FALSE;
  zoom_around (self, zoom, gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
               gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
}

/**
 * tb_trust_view_zoom_at:
 * @factor: how much to zoom in (> 1) or out (< 1)
 * @x: (in the view's coordinates) the point that stays in place
 *
 * Zooms around (@x, @y), as Ctrl+scroll does around the pointer; the zoom
 * no longer follows the size.
 */
void
tb_trust_view_zoom_at (TbTrustView *self, double factor, double x, double y)
{
  self->fitting = FALSE;
  zoom_around (self, self->zoom * factor, x, y);
}

void
tb_trust_view_zoom_in (TbTrustView *self)
{
  tb_trust_view_set_zoom (self, self->zoom * 1.25);
}

void
tb_trust_view_zoom_out (TbTrustView *self)
{
  tb_trust_view_set_zoom (self, self->zoom / 1.25);
}

double
tb_trust_view_get_zoom (TbTrustView *self)
{
  return self->zoom;
}

/**
 * tb_trust_view_fit:
 *
 * Zooms so that the whole graph fits what is visible of the view, and
 * keeps it fitted as that changes (window resized, a pane opened or
 * closed) until the zoom is set. A graph too large to be read whole is
 * shown at %TB_TRUST_VIEW_MIN_FIT_ZOOM, to be scrolled.
 */
void
tb_trust_view_fit (TbTrustView *self)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self)), height = gtk_widget_get_height (GTK_WIDGET (self));

  self->fitting = TRUE;
  self->fitted_width = self->fitted_height = 0;
  /* the zoom at once, the scrolling with the next allocation */
  if (self->layout != NULL && width > 2 * MARGIN && height > 2 * MARGIN)
    self->zoom = fit_zoom (self, width, height);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

gboolean
tb_trust_view_is_fitting (TbTrustView *self)
{
  return self->fitting;
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

/**
 * tb_trust_view_select:
 * @id: (nullable): a node's id, %NULL to select none
 *
 * Returns: whether the node with @id is selected
 */
gboolean
tb_trust_view_select (TbTrustView *self, const char *id)
{
  if (id == NULL)
    {
      set_selected (self, -1);
      return TRUE;
    }
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
