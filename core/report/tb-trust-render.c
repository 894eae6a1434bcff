/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Draws a laid-out trust graph with cairo: the same drawing for the
 * workbench's Trust Chain page and the PDF/SVG review report. */
#include "config.h"

#include "tb-trust-render.h"

#include <glib/gi18n-lib.h>
#include <math.h>

/* libadwaita's named colours (light and dark): window, card, text, green,
 * yellow, red, orange, blue */
static const TbTrustPalette light = {
  { 0.980, 0.980, 0.980 }, { 1.0, 1.0, 1.0 },       { 0.0, 0.0, 0.0 },       { 0.40, 0.40, 0.40 },
  { 0.55, 0.55, 0.55 },    { 0.180, 0.761, 0.494 }, { 0.898, 0.647, 0.039 }, { 0.753, 0.110, 0.157 },
  { 0.902, 0.380, 0.0 },   { 0.208, 0.518, 0.894 },
};

static const TbTrustPalette dark = {
  { 0.141, 0.141, 0.141 }, { 0.188, 0.188, 0.188 }, { 1.0, 1.0, 1.0 },       { 0.70, 0.70, 0.70 },
  { 0.55, 0.55, 0.55 },    { 0.561, 0.941, 0.643 }, { 0.973, 0.894, 0.361 }, { 1.0, 0.482, 0.388 },
  { 1.0, 0.639, 0.282 },   { 0.471, 0.682, 0.929 },
};

const TbTrustPalette *
tb_trust_palette_light (void)
{
  return &light;
}

const TbTrustPalette *
tb_trust_palette_dark (void)
{
  return &dark;
}

static void
rgb (cairo_t *cr, const double c[3])
{
  cairo_set_source_rgb (cr, c[0], c[1], c[2]);
}

static const double *
status_colour (const TbTrustPalette *p, TbTrustStatus status)
{
  switch (status)
    {
    case TB_TRUST_STATUS_EXPIRING: return p->expiring;
    case TB_TRUST_STATUS_EXPIRED:
    case TB_TRUST_STATUS_REVOKED: return p->expired;
    case TB_TRUST_STATUS_WARNING: return p->warning;
    case TB_TRUST_STATUS_VALID:
    default: return p->valid;
    }
}

static const char *
kind_label (TbTrustNodeKind kind)
{
  switch (kind)
    {
    case TB_TRUST_NODE_ROOT_CA: return _("Root CA");
    case TB_TRUST_NODE_CA: return _("Intermediate CA");
    case TB_TRUST_NODE_MASTERING: return _("Mastering key");
    case TB_TRUST_NODE_PRODUCT: return _("Product key");
    case TB_TRUST_NODE_JOB: return _("Job key");
    case TB_TRUST_NODE_IMAGE: return _("Mastered image");
    case TB_TRUST_NODE_DEVICE: return _("Device");
    case TB_TRUST_NODE_DEVICE_GROUP: return _("Devices");
    default: return "";
    }
}

static void
rounded_rect (cairo_t *cr, double x, double y, double w, double h, double r)
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

/* The sizes (points, that is pixels at scale 1) of the drawing's texts:
 * none below the desktop's body text (11 pt Cantarell is 14.7 px; the
 * smallest here stay readable when the graph is fitted to a window). */
static const struct {
  double size;
  cairo_font_slant_t slant;
  cairo_font_weight_t weight;
} fonts[TB_TRUST_N_TEXTS] = {
  [TB_TRUST_TEXT_KIND] = { 12.5, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL },
  [TB_TRUST_TEXT_NAME] = { 15.0, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD },
  [TB_TRUST_TEXT_DETAIL] = { 12.5, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL },
  [TB_TRUST_TEXT_EDGE] = { TB_TRUST_EDGE_LABEL_SIZE, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL },
};

/**
 * tb_trust_render_get_font_size:
 *
 * Returns: the size in points (pixels at scale 1) @text is drawn at
 */
double
tb_trust_render_get_font_size (TbTrustText text)
{
  g_return_val_if_fail (text < TB_TRUST_N_TEXTS, 0);
  return fonts[text].size;
}

/**
 * tb_trust_render_set_font:
 *
 * Selects on @cr the font @text is drawn with.
 */
void
tb_trust_render_set_font (cairo_t *cr, TbTrustText text)
{
  cairo_font_options_t *options = cairo_font_options_create ();

  g_return_if_fail (text < TB_TRUST_N_TEXTS);
  /* the same advances at every zoom: no metrics rounded at the font size */
  cairo_get_font_options (cr, options);
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  cairo_set_font_options (cr, options);
  cairo_font_options_destroy (options);
  cairo_select_font_face (cr, "Cantarell", fonts[text].slant, fonts[text].weight);
  cairo_set_font_size (cr, fonts[text].size);
}

/* Shows @text from (x, y), cut with an ellipsis to @max_width. */
static void
show_fitted (cairo_t *cr, double x, double y, const char *text, double max_width)
{
  cairo_text_extents_t ext;
  g_autofree char *buf = g_strdup (text != NULL ? text : "");
  glong len = g_utf8_strlen (buf, -1);

  cairo_text_extents (cr, buf, &ext);
  while (ext.x_advance > max_width && len > 1)
    {
      g_autofree char *head = NULL;
      len--;
      head = g_utf8_substring (text, 0, len);
      g_free (buf);
      buf = g_strconcat (g_strchomp (head), "…", NULL);
      cairo_text_extents (cr, buf, &ext);
    }
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, buf);
}

static char *
node_detail (TbTrustNode *n)
{
  switch (n->kind)
    {
    case TB_TRUST_NODE_DEVICE_GROUP:
      return g_strdup_printf (_("%u devices, keys in the devices"), n->count);
    case TB_TRUST_NODE_DEVICE:
      return g_strdup (_("key in the device"));
    case TB_TRUST_NODE_IMAGE:
      {
        g_autofree char *grouped = tb_trust_fingerprint_group (n->fingerprint);
        return grouped != NULL ? g_strdup_printf ("SHA-256 %s", grouped) : g_strdup ("");
      }
    default:
      {
        g_autofree char *until = n->not_after != NULL ? g_strndup (n->not_after, 10) : NULL;
        return g_strdup_printf ("%s · %s%s%s", n->algorithm != NULL ? n->algorithm : "?",
                                n->storage != NULL ? n->storage : "?", until != NULL ? _(" · until ") : "",
                                until != NULL ? until : "");
      }
    }
}

/**
 * tb_trust_render_node_text:
 *
 * The text of one of @node's lines as drawn (before it is cut to the box):
 * @TB_TRUST_TEXT_KIND, @TB_TRUST_TEXT_NAME or @TB_TRUST_TEXT_DETAIL. The
 * findings and revoked badges are drawn shapes, not characters.
 *
 * Returns: (transfer full):
 */
char *
tb_trust_render_node_text (TbTrustNode *n, TbTrustText text)
{
  switch (text)
    {
    case TB_TRUST_TEXT_KIND:
      return g_strdup (kind_label (n->kind));
    case TB_TRUST_TEXT_NAME:
      return g_strdup (n->name);
    case TB_TRUST_TEXT_DETAIL:
      if (n->status == TB_TRUST_STATUS_REVOKED)
        return g_strdup (_("revoked"));
      if (n->warnings->len > 0)
        return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u policy finding", "%u policy findings",
                                             n->warnings->len), n->warnings->len);
      return node_detail (n);
    case TB_TRUST_TEXT_EDGE:
    case TB_TRUST_N_TEXTS:
    default:
      return g_strdup ("");
    }
}

/* A small chip with pins: the private key lives on a hardware token. */
static void
draw_token_badge (cairo_t *cr, double x, double y, const TbTrustPalette *p)
{
  rgb (cr, p->accent);
  cairo_set_line_width (cr, 1.2);
  rounded_rect (cr, x + 3, y + 3, 12, 10, 2);
  cairo_stroke (cr);
  for (guint i = 0; i < 3; i++)
    {
      double px = x + 5.5 + i * 3.5;
      cairo_move_to (cr, px, y);
      cairo_line_to (cr, px, y + 3);
      cairo_move_to (cr, px, y + 13);
      cairo_line_to (cr, px, y + 16);
    }
  cairo_stroke (cr);
  cairo_rectangle (cr, x + 6.5, y + 5.5, 5, 5);
  cairo_fill (cr);
}

/* The badge before a finding (a warning triangle with "!") or a
 * revocation (a disc with a cross), @size points high, its bottom at
 * @baseline: drawn, so it never depends on a font having the glyph. */
static void
draw_status_badge (cairo_t *cr, double x, double baseline, double size, gboolean revoked, const double mark[3])
{
  double top = baseline - size + 1;

  cairo_save (cr);
  if (revoked)
    {
      double r = size / 2, cx = x + r, cy = top + r, d = r * 0.45;
      cairo_arc (cr, cx, cy, r, 0, 2 * G_PI);
      cairo_fill (cr);
      rgb (cr, mark);
      cairo_set_line_width (cr, 1.6);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
      cairo_move_to (cr, cx - d, cy - d);
      cairo_line_to (cr, cx + d, cy + d);
      cairo_move_to (cr, cx + d, cy - d);
      cairo_line_to (cr, cx - d, cy + d);
      cairo_stroke (cr);
    }
  else
    {
      double w = size * 1.1;
      cairo_move_to (cr, x + w / 2, top);
      cairo_line_to (cr, x + w, top + size);
      cairo_line_to (cr, x, top + size);
      cairo_close_path (cr);
      cairo_fill (cr);
      rgb (cr, mark);
      cairo_set_line_width (cr, 1.6);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
      cairo_move_to (cr, x + w / 2, top + size * 0.38);
      cairo_line_to (cr, x + w / 2, top + size * 0.68);
      cairo_stroke (cr);
      cairo_arc (cr, x + w / 2, top + size * 0.84, 0.9, 0, 2 * G_PI);
      cairo_fill (cr);
    }
  cairo_restore (cr);
}

static void
draw_node (cairo_t *cr, TbTrustNode *n, const TbTrustRect *r, const TbTrustPalette *p, gboolean selected)
{
  const double *status = status_colour (p, n->status);
  const double left = r->x + 18, text_width = r->width - 18 - 12;
  g_autofree char *kind = tb_trust_render_node_text (n, TB_TRUST_TEXT_KIND);
  g_autofree char *detail = tb_trust_render_node_text (n, TB_TRUST_TEXT_DETAIL);
  gboolean badge = n->status == TB_TRUST_STATUS_REVOKED || n->warnings->len > 0;

  /* group nodes look stacked */
  if (n->kind == TB_TRUST_NODE_DEVICE_GROUP)
    {
      rounded_rect (cr, r->x + 6, r->y - 6, r->width - 6, r->height - 6, 10);
      rgb (cr, p->card);
      cairo_fill_preserve (cr);
      rgb (cr, p->edge);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);
    }
  rounded_rect (cr, r->x, r->y, r->width, r->height, 10);
  rgb (cr, p->card);
  cairo_fill_preserve (cr);
  if (selected)
    {
      rgb (cr, p->accent);
      cairo_set_line_width (cr, 3);
    }
  else
    {
      rgb (cr, p->edge);
      cairo_set_line_width (cr, 1);
    }
  cairo_stroke (cr);
  /* the status stripe */
  cairo_save (cr);
  rounded_rect (cr, r->x, r->y, r->width, r->height, 10);
  cairo_clip (cr);
  cairo_rectangle (cr, r->x, r->y, 6, r->height);
  rgb (cr, status);
  cairo_fill (cr);
  cairo_restore (cr);

  /* room on the first line for the token badge */
  tb_trust_render_set_font (cr, TB_TRUST_TEXT_KIND);
  rgb (cr, p->dim_text);
  show_fitted (cr, left, r->y + 24, kind, text_width - (n->on_token ? 22 : 0));
  tb_trust_render_set_font (cr, TB_TRUST_TEXT_NAME);
  rgb (cr, p->text);
  show_fitted (cr, left, r->y + 46, n->name, text_width);
  tb_trust_render_set_font (cr, TB_TRUST_TEXT_DETAIL);
  rgb (cr, badge ? status : p->dim_text);
  if (badge)
    {
      double size = tb_trust_render_get_font_size (TB_TRUST_TEXT_DETAIL);
      draw_status_badge (cr, left, r->y + 68, size, n->status == TB_TRUST_STATUS_REVOKED, p->card);
      rgb (cr, status);
      show_fitted (cr, left + size * 1.1 + 5, r->y + 68, detail, text_width - size * 1.1 - 5);
    }
  else
    show_fitted (cr, left, r->y + 68, detail, text_width);
  if (n->on_token)
    draw_token_badge (cr, r->x + r->width - 28, r->y + 10, p);
}

static void
draw_edge (cairo_t *cr, GArray *path, const TbTrustPalette *p)
{
  const double *v = (const double *) path->data;
  guint n = path->len / 2;
  double ex, ey, dx, dy, len;

  if (n < 4)
    return;
  rgb (cr, p->edge);
  cairo_set_line_width (cr, 1.4);
  cairo_move_to (cr, v[0], v[1]);
  for (guint i = 1; i + 2 < n; i += 3)
    cairo_curve_to (cr, v[2 * i], v[2 * i + 1], v[2 * i + 2], v[2 * i + 3], v[2 * i + 4], v[2 * i + 5]);
  cairo_stroke (cr);
  /* arrowhead along the last segment */
  ex = v[2 * (n - 1)];
  ey = v[2 * (n - 1) + 1];
  dx = ex - v[2 * (n - 2)];
  dy = ey - v[2 * (n - 2) + 1];
  len = sqrt (dx * dx + dy * dy);
  if (len > 0.01)
    {
      dx /= len;
      dy /= len;
      cairo_move_to (cr, ex, ey);
      cairo_line_to (cr, ex - 10 * dx - 5 * dy, ey - 10 * dy + 5 * dx);
      cairo_line_to (cr, ex - 10 * dx + 5 * dy, ey - 10 * dy - 5 * dx);
      cairo_close_path (cr);
      cairo_fill (cr);
    }
}

/* The relation where graphviz placed it, on a pill of the background
 * colour so that the lines it lies on do not cross its text. */
static void
draw_edge_label (cairo_t *cr, const TbTrustRect *place, const char *relation, const TbTrustPalette *p)
{
  cairo_text_extents_t ext;
  cairo_font_extents_t font;
  double cx = place->x + place->width / 2, cy = place->y + place->height / 2, w, h;

  if (place->width <= 0 || relation == NULL || relation[0] == '\0')
    return;
  tb_trust_render_set_font (cr, TB_TRUST_TEXT_EDGE);
  cairo_text_extents (cr, relation, &ext);
  cairo_font_extents (cr, &font);
  w = ext.x_advance + 12;
  h = font.ascent + font.descent + 4;
  rounded_rect (cr, cx - w / 2, cy - h / 2, w, h, h / 2);
  rgb (cr, p->background);
  cairo_fill_preserve (cr);
  rgb (cr, p->edge);
  cairo_set_line_width (cr, 0.8);
  cairo_stroke (cr);
  rgb (cr, p->dim_text);
  cairo_move_to (cr, cx - ext.x_advance / 2, cy + (font.ascent - font.descent) / 2);
  cairo_show_text (cr, relation);
}

/**
 * tb_trust_render:
 * @selected_id: (nullable): the node drawn as selected
 *
 * Draws @graph as laid out, in layout coordinates (points): the caller
 * scales and translates @cr.
 */
void
tb_trust_render (cairo_t *cr, TbTrustGraph *graph, TbTrustLayout *layout, const TbTrustPalette *palette,
                 const char *selected_id)
{
  cairo_save (cr);
  for (guint i = 0; i < layout->paths->len; i++)
    draw_edge (cr, g_ptr_array_index (layout->paths, i), palette);
  /* the labels over every line */
  for (guint i = 0; i < graph->edges->len && i < layout->labels->len; i++)
    {
      TbTrustEdge *e = g_ptr_array_index (graph->edges, i);
      draw_edge_label (cr, &g_array_index (layout->labels, TbTrustRect, i), e->relation, palette);
    }
  for (guint i = 0; i < graph->nodes->len; i++)
    {
      TbTrustNode *n = g_ptr_array_index (graph->nodes, i);
      const TbTrustRect *r = tb_trust_layout_get_rect (layout, n->id);
      if (r != NULL)
        draw_node (cr, n, r, palette, g_strcmp0 (selected_id, n->id) == 0);
    }
  cairo_restore (cr);
}
