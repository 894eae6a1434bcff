/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Renders a realized widget (usually a window) to a PNG file, for the
 * screenshot tests and the README screenshot. */

#include "config.h"

#include "tb-screenshot.h"

#include <glib/gi18n.h>

#include "tb-error.h"

gboolean
tb_widget_save_png (GtkWidget *widget, const char *path, GError **error)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GtkNative *native = gtk_widget_get_native (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  if (native == NULL || width <= 0 || height <= 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                   _("Cannot take a screenshot: the widget is not shown"));
      return FALSE;
    }
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot take a screenshot: nothing was drawn"));
      return FALSE;
    }
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (native), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot write the screenshot %s"), path);
      return FALSE;
    }
  return TRUE;
}
