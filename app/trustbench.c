/* SPDX-License-Identifier: GPL-3.0-or-later */

/* trustbench: the GTK workbench. All logic is in libtrustbench (core/),
 * all widgets in ui/; this only wires them. */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "tb-application.h"
#include "tb-memory.h"

int
main (int argc, char **argv)
{
  g_autoptr(TbApplication) app = NULL;

  tb_memory_init ();   /* before anything uses OpenSSL */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = tb_application_new (G_APPLICATION_DEFAULT_FLAGS);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
