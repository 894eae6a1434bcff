/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Loads libtrustbench-render on first use (tb-render-module.h says why). */

#include "config.h"

#include "tb-render-module.h"

#include <dlfcn.h>
#include <glib/gi18n-lib.h>
#include <gmodule.h>

#include "tb-error.h"

/* Next to libtrustbench itself: the build tree's core/ or the installed
 * libdir. */
static char *
module_path (void)
{
  Dl_info info;

  if (dladdr ((void *) tb_render_module_get_report_draw, &info) != 0 && info.dli_fname != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (info.dli_fname);
      return g_build_filename (dir, TB_RENDER_MODULE_NAME, NULL);
    }
  return g_strdup (TB_RENDER_MODULE_NAME);
}

typedef struct {
  TbTrustReportDrawFunc draw;
  char *error;
} Loaded;

static gpointer
load_module (gpointer data)
{
  Loaded *l = data;
  GModule *self = g_module_open (NULL, G_MODULE_BIND_LAZY); /* GModule has no autoptr before GLib 2.76 */
  g_autofree char *path = NULL;
  GModule *module;
  gpointer sym = NULL;

  /* a program linked with the library (the GUI) has it already */
  if (self != NULL)
    {
      gboolean linked = g_module_symbol (self, "tb_trust_report_draw", &sym) && sym != NULL;

      g_module_close (self);
      if (linked)
        {
          l->draw = (TbTrustReportDrawFunc) sym;
          return l;
        }
    }
  path = module_path ();
  module = g_module_open (path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (module == NULL)
    {
      l->error = g_strdup (g_module_error ());
      return l;
    }
  if (!g_module_symbol (module, "tb_trust_report_draw", &sym) || sym == NULL)
    {
      l->error = g_strdup (g_module_error ());
      g_module_close (module);
      return l;
    }
  g_module_make_resident (module);
  l->draw = (TbTrustReportDrawFunc) sym;
  return l;
}

/**
 * tb_render_module_get_report_draw:
 *
 * Loads libtrustbench-render once per process.
 *
 * Returns: (nullable): tb_trust_report_draw(), or %NULL with
 *   %TB_ERROR_UNSUPPORTED saying why the library cannot be loaded
 */
TbTrustReportDrawFunc
tb_render_module_get_report_draw (GError **error)
{
  static Loaded loaded;
  static GOnce once = G_ONCE_INIT;

  g_once (&once, load_module, &loaded);
  if (loaded.draw == NULL)
    g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED,
                 _("Cannot draw the report: the drawing library %s does not load (%s); it comes with Trustbench — "
                   "reinstall it, or write the report as .json"),
                 TB_RENDER_MODULE_NAME, loaded.error);
  return loaded.draw;
}
