/* SPDX-License-Identifier: GPL-3.0-or-later */

/* trustbench-tool demo: the whole chain on a fresh context. */

#include "config.h"

#include <glib/gi18n.h>

#include "tb-cli.h"

static gboolean
demo_work (gpointer data, TbProgress *progress, GError **error)
{
  return tb_demo_run (data, progress, error);
}

int
tb_cli_cmd_demo (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(TbContext) ctx = NULL;

  if (!tb_cli_parse_options (cli, &argc, &argv, _("[DIR]"),
                             _("Run the whole chain on a fresh security context in DIR "
                               "(default: a new temporary directory), one line per step."),
                             NULL, &error))
    return tb_cli_fail (cli, error);
  if (argc > 2)
    return tb_cli_usage_error (cli, _("“demo” takes at most one directory"));
  if (argc == 2)
    dir = g_strdup (argv[1]);
  else
    {
      dir = g_dir_make_tmp ("trustbench-demo-XXXXXX", &error);
      if (dir == NULL)
        return tb_cli_fail (cli, error);
    }

  tb_cli_message (cli, _("Trustbench demo: building a chain of trust in %s"), dir);
  if (!tb_cli_run_work (cli, demo_work, dir, &error))
    return tb_cli_fail (cli, error);
  ctx = tb_context_open (dir, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  tb_cli_message (cli, _("Demo finished. Inspect it with “%s -C %s show” or open it in the workbench."),
                  cli->prog, dir);

  json_builder_begin_object (b);
  tb_cli_add_context_summary (b, ctx);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}
