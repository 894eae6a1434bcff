/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The review report drawn as PDF or SVG (the JSON form is in tb-trust-graph.c).
 * Part of libtrustbench-render, with the layout and the renderer. */

#include "config.h"

#include "tb-render-module.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <glib/gi18n-lib.h>

#include "tb-error.h"
#include "tb-file.h"
#include "tb-policy.h"
#include "tb-trust-render.h"

static void
rgb_fill (cairo_t *cr, const double c[3])
{
  cairo_set_source_rgb (cr, c[0], c[1], c[2]);
}

/* Splits @text into lines no wider than @max_width at the current font. */
static GPtrArray *
wrap_text (cairo_t *cr, const char *text, double max_width)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) words = g_strsplit (text, " ", -1);
  GString *current = g_string_new (NULL);

  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autofree char *candidate = current->len > 0 ? g_strconcat (current->str, " ", words[i], NULL)
                                                    : g_strdup (words[i]);
      cairo_text_extents_t ext;

      cairo_text_extents (cr, candidate, &ext);
      if (ext.x_advance > max_width && current->len > 0)
        {
          g_ptr_array_add (lines, g_strdup (current->str));
          g_string_assign (current, words[i]);
        }
      else
        g_string_assign (current, candidate);
    }
  g_ptr_array_add (lines, g_string_free (current, FALSE));
  return lines;
}

typedef struct {
  TbOutputFile out;
  GError *error;
} DrawingOutput;

static cairo_status_t
write_drawing_data (void *closure, const unsigned char *data, unsigned int len)
{
  DrawingOutput *d = closure;

  if (d->error != NULL || !tb_output_file_write (&d->out, data, len, &d->error))
    return CAIRO_STATUS_WRITE_ERROR;
  return CAIRO_STATUS_SUCCESS;
}

/**
 * tb_trust_report_draw:
 * @graph: the context's graph
 * @findings: (element-type TbPolicyFinding): the policy findings
 * @path: where the drawing goes
 * @pdf: PDF if %TRUE, else SVG
 *
 * The drawn review report: header lines, the findings, then the graph laid
 * out by graphviz. tb_trust_report_write() reaches it through
 * tb-render-module, so that processes which never draw do not load
 * graphviz and cairo.
 */
gboolean
tb_trust_report_draw (TbContext *ctx, TbTrustGraph *graph, GPtrArray *findings, const char *path, gboolean pdf,
               GError **error)
{
  const double margin = 36, line = 16, max_page = 14000;
  g_autoptr(TbTrustLayout) layout = tb_trust_layout_compute (graph, error);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *generated = g_date_time_format (now, "%Y-%m-%d %H:%M UTC");
  DrawingOutput d = { TB_OUTPUT_FILE_INIT, NULL };
  gboolean ok;
  const TbTrustPalette *p = tb_trust_palette_light ();
  double header, width, height, scale = 1.0;
  cairo_surface_t *surface;
  cairo_t *cr;
  cairo_status_t status;
  TbTrustCounts counts = tb_trust_graph_count (graph);
  guint n_lines = 0;
  g_autoptr(GPtrArray) wrapped = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);

  if (layout == NULL)
    return FALSE;
  width = MAX (layout->width + 2 * margin, 595);
  if (width > max_page)
    {
      scale = (max_page - 2 * margin) / layout->width;
      width = max_page;
    }
  /* the findings, wrapped to the page, measured before the page is made */
  {
    cairo_surface_t *scratch = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
    cairo_t *m = cairo_create (scratch);

    cairo_select_font_face (m, "Cantarell", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size (m, 10);
    for (guint i = 0; i < findings->len; i++)
      {
        TbPolicyFinding *f = g_ptr_array_index (findings, i);
        g_autofree char *text = g_strdup_printf ("%s: %s", tb_severity_to_string (f->severity), f->message);
        g_ptr_array_add (wrapped, wrap_text (m, text, width - 2 * margin));
        n_lines += ((GPtrArray *) g_ptr_array_index (wrapped, i))->len;
      }
    cairo_destroy (m);
    cairo_surface_destroy (scratch);
  }
  header = margin + 4.5 * line + n_lines * line + 1.5 * line;
  height = MIN (header + layout->height * scale + margin, max_page);

  if (!tb_output_file_open (&d.out, path, 0644, TB_OUTPUT_FILE_DURABLE, error))
    {
      tb_output_file_clear (&d.out);
      return FALSE;
    }
  surface = pdf ? cairo_pdf_surface_create_for_stream (write_drawing_data, &d, width, height)
                : cairo_svg_surface_create_for_stream (write_drawing_data, &d, width, height);
  cr = cairo_create (surface);
  rgb_fill (cr, p->background);
  cairo_paint (cr);

  cairo_select_font_face (cr, "Cantarell", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 18);
  rgb_fill (cr, p->text);
  {
    g_autofree char *title = g_strdup_printf (_("Trust chain review — %s"), tb_context_get_name (ctx));
    cairo_move_to (cr, margin, margin + line);
    cairo_show_text (cr, title);
  }
  cairo_select_font_face (cr, "Cantarell", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 10);
  rgb_fill (cr, p->dim_text);
  {
    g_autofree char *l1 = g_strdup_printf (_("Context %s · %s · generated %s"), tb_context_get_id (ctx),
                                           tb_context_get_path (ctx), generated);
    g_autofree char *k = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u key", "%u keys", counts.keys), counts.keys);
    g_autofree char *im = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u mastered image", "%u mastered images",
                                                        counts.images), counts.images);
    g_autofree char *dv = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u device", "%u devices", counts.devices),
                                           counts.devices);
    g_autofree char *fi = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u policy finding", "%u policy findings",
                                                        findings->len), findings->len);
    g_autofree char *l2 = g_strdup_printf ("%s · %s · %s · %s", k, im, dv, fi);
    cairo_move_to (cr, margin, margin + 2.3 * line);
    cairo_show_text (cr, l1);
    cairo_move_to (cr, margin, margin + 3.3 * line);
    cairo_show_text (cr, l2);
  }
  {
    guint y = 0;
    for (guint i = 0; i < findings->len; i++)
      {
        TbPolicyFinding *f = g_ptr_array_index (findings, i);
        GPtrArray *lines = g_ptr_array_index (wrapped, i);
        rgb_fill (cr, f->severity == TB_SEVERITY_CRITICAL ? p->expired
                      : f->severity == TB_SEVERITY_WARNING ? p->warning : p->dim_text);
        for (guint l = 0; l < lines->len; l++, y++)
          {
            cairo_move_to (cr, margin + (l > 0 ? 12 : 0), margin + (4.5 + y) * line);
            cairo_show_text (cr, g_ptr_array_index (lines, l));
          }
      }
  }

  cairo_translate (cr, (width - layout->width * scale) / 2, header);
  cairo_scale (cr, scale, scale);
  tb_trust_render (cr, graph, layout, p, NULL);
  cairo_show_page (cr);
  status = cairo_status (cr);
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (d.error != NULL)
    {
      g_propagate_error (error, d.error);
      ok = FALSE;
    }
  else if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot write the report %s: %s"), path,
                   cairo_status_to_string (status));
      ok = FALSE;
    }
  else
    ok = tb_output_file_commit (&d.out, error);
  tb_output_file_clear (&d.out);
  return ok;
}

