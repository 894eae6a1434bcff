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
      buf = g_strconcat (head, "…", NULL);
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
      return n->fingerprint != NULL ? g_strdup_printf ("SHA-256 %.16s…", n->fingerprint) : g_strdup ("");
    default:
      {
        g_autofree char *until = n->not_after != NULL ? g_strndup (n->not_after, 10) : NULL;
        return g_strdup_printf ("%s · %s%s%s", n->algorithm != NULL ? n->algorithm : "?",
                                n->storage != NULL ? n->storage : "?", until != NULL ? _(" · until ") : "",
                                until != NULL ? until : "");
      }
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

static void
draw_node (cairo_t *cr, TbTrustNode *n, const TbTrustRect *r, const TbTrustPalette *p, gboolean selected)
{
  const double *status = status_colour (p, n->status);
  g_autofree char *detail = node_detail (n);

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

  cairo_select_font_face (cr, "Cantarell", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 10);
  rgb (cr, p->dim_text);
  show_fitted (cr, r->x + 16, r->y + 17, kind_label (n->kind), r->width - 24);
  cairo_select_font_face (cr, "Cantarell", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 13);
  rgb (cr, p->text);
  show_fitted (cr, r->x + 16, r->y + 35, n->name, r->width - 24);
  cairo_select_font_face (cr, "Cantarell", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 10);
  rgb (cr, n->warnings->len > 0 || n->status == TB_TRUST_STATUS_REVOKED ? status : p->dim_text);
  if (n->status == TB_TRUST_STATUS_REVOKED)
    show_fitted (cr, r->x + 16, r->y + 53, _("✕ revoked"), r->width - 24);
  else if (n->warnings->len > 0)
    {
      g_autofree char *w = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "⚠ %u policy finding", "⚠ %u policy findings",
                                                         n->warnings->len), n->warnings->len);
      show_fitted (cr, r->x + 16, r->y + 53, w, r->width - 24);
    }
  else
    show_fitted (cr, r->x + 16, r->y + 53, detail, r->width - 24);
  if (n->on_token)
    draw_token_badge (cr, r->x + r->width - 26, r->y + 8, p);
}

static void
draw_edge (cairo_t *cr, GArray *path, const char *relation, const TbTrustPalette *p)
{
  const double *v = (const double *) path->data;
  guint n = path->len / 2;
  double ex, ey, dx, dy, len;

  if (n < 4)
    return;
  rgb (cr, p->edge);
  cairo_set_line_width (cr, 1.2);
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
      cairo_line_to (cr, ex - 8 * dx - 4 * dy, ey - 8 * dy + 4 * dx);
      cairo_line_to (cr, ex - 8 * dx + 4 * dy, ey - 8 * dy - 4 * dx);
      cairo_close_path (cr);
      cairo_fill (cr);
    }
  /* the relation, at the middle control point */
  {
    guint mid = (n / 2) / 3 * 3;
    cairo_text_extents_t ext;
    cairo_select_font_face (cr, "Cantarell", CAIRO_FONT_SLANT_ITALIC, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size (cr, 9);
    cairo_text_extents (cr, relation, &ext);
    rgb (cr, p->background);
    cairo_rectangle (cr, v[2 * mid] + 3, v[2 * mid + 1] - ext.height - 2, ext.x_advance + 4, ext.height + 4);
    cairo_fill (cr);
    rgb (cr, p->dim_text);
    cairo_move_to (cr, v[2 * mid] + 5, v[2 * mid + 1]);
    cairo_show_text (cr, relation);
  }
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
  for (guint i = 0; i < graph->edges->len && i < layout->paths->len; i++)
    {
      TbTrustEdge *e = g_ptr_array_index (graph->edges, i);
      draw_edge (cr, g_ptr_array_index (layout->paths, i), e->relation, palette);
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
