/* SPDX-License-Identifier: GPL-3.0-or-later */

/* trustbench-tool device create, probe list/info/read/write/reset. */

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

#include "tb-cli.h"

static void
add_string (JsonBuilder *b, const char *member, const char *value)
{
  json_builder_set_member_name (b, member);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static gboolean
parse_u32 (const char *text, const char *what, guint32 *out, GError **error)
{
  char *end = NULL;
  guint64 v;

  errno = 0;
  v = text != NULL ? g_ascii_strtoull (text, &end, 0) : 0;
  if (text == NULL || text[0] == '\0' || errno != 0 || end == NULL || *end != '\0' || v > G_MAXUINT32)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("“%s” is not a valid %s"), text != NULL ? text : "",
                   what);
      return FALSE;
    }
  *out = (guint32) v;
  return TRUE;
}

int
tb_cli_cmd_device_create (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *device_type = NULL;
  g_autofree char *flash_text = NULL;
  g_autofree char *page_text = NULL;
  g_autofree char *uid = NULL;
  guint32 flash_size = 0, page_size = 0;
  g_autoptr(TbVirtualBoard) board = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const GOptionEntry entries[] = {
    { "device-type", 0, 0, G_OPTION_ARG_STRING, &device_type, N_("Device type (default tb-vmcu-m4)"), N_("TYPE") },
    { "flash-size", 0, 0, G_OPTION_ARG_STRING, &flash_text, N_("Flash size in bytes (default 1 MiB)"), N_("BYTES") },
    { "page-size", 0, 0, G_OPTION_ARG_STRING, &page_text, N_("Flash erase page in bytes (default 4096)"), N_("BYTES") },
    { "uid", 0, 0, G_OPTION_ARG_STRING, &uid, N_("Unique ID, hex (default: random)"), N_("HEX") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("PATH"),
                             _("Make a new virtual board in PATH, born blank with its UID and device key."), entries,
                             &error))
    return tb_cli_fail (cli, error);
  if (argc != 2)
    return tb_cli_usage_error (cli, _("“device create” takes one PATH"));
  if ((flash_text != NULL && !parse_u32 (flash_text, _("flash size"), &flash_size, &error)) ||
      (page_text != NULL && !parse_u32 (page_text, _("page size"), &page_size, &error)))
    return tb_cli_fail (cli, error);
  board = tb_virtual_board_create (argv[1], device_type, flash_size, page_size, uid, &error);
  if (board == NULL)
    return tb_cli_fail (cli, error);
  tb_cli_message (cli, _("Created virtual board %s in %s (probe URI virtual:%s)"), tb_virtual_board_get_uid (board),
                  tb_virtual_board_get_path (board), tb_virtual_board_get_path (board));
  json_builder_begin_object (b);
  add_string (b, "uid", tb_virtual_board_get_uid (board));
  add_string (b, "device_type", tb_virtual_board_get_device_type (board));
  add_string (b, "lifecycle", tb_lifecycle_to_string (tb_virtual_board_get_lifecycle (board)));
  {
    g_autofree char *uri = g_strconcat ("virtual:", tb_virtual_board_get_path (board), NULL);
    add_string (b, "probe", uri);
  }
  add_string (b, "device_public_key", tb_virtual_board_get_public_key (board));
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

int
tb_cli_cmd_probe_list (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) probes = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *dir = tb_probe_get_boards_dir ();

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL,
                             _("List the probes found: the virtual boards in $TRUSTBENCH_BOARDS (default "
                               "~/.local/share/trustbench/boards)."),
                             NULL, &error))
    return tb_cli_fail (cli, error);
  probes = tb_probe_list (&error);
  if (probes == NULL)
    return tb_cli_fail (cli, error);
  if (!cli->json)
    {
      if (probes->len == 0)
        tb_cli_message (cli, _("No probes found (virtual boards are looked for in %s)"), dir);
      for (guint i = 0; i < probes->len; i++)
        {
          TbProbeInfo *p = g_ptr_array_index (probes, i);
          tb_cli_message (cli, "%s  %s", p->uri, p->description);
        }
      return TB_EXIT_OK;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "probes");
  json_builder_begin_array (b);
  for (guint i = 0; i < probes->len; i++)
    {
      TbProbeInfo *p = g_ptr_array_index (probes, i);
      json_builder_begin_object (b);
      add_string (b, "uri", p->uri);
      add_string (b, "kind", p->kind);
      add_string (b, "serial", p->serial);
      add_string (b, "description", p->description);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

static TbProbe *
open_probe (TbCli *cli, const char *uri, GError **error)
{
  if (uri == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("Give the probe with --probe URI (see “probe list”)"));
      return NULL;
    }
  return tb_probe_open (uri, error);
}

int
tb_cli_cmd_probe_read (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *output = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autofree guint8 *buf = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  guint32 address = 0, length = 0;
  const GOptionEntry entries[] = {
    { "probe", 0, 0, G_OPTION_ARG_STRING, &uri, N_("Probe URI"), N_("URI") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Write the bytes to FILE"), N_("FILE") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("ADDRESS LENGTH"),
                             _("Read target memory through the probe (refused by a locked device)."), entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 3 || output == NULL)
    return tb_cli_usage_error (cli, _("“probe read” takes ADDRESS, LENGTH and -o FILE"));
  if (!parse_u32 (argv[1], _("address"), &address, &error) || !parse_u32 (argv[2], _("length"), &length, &error))
    return tb_cli_fail (cli, error);
  if (length == 0 || length > 64 * 1024 * 1024)
    return tb_cli_usage_error (cli, _("LENGTH must be 1 byte to 64 MiB"));
  probe = open_probe (cli, uri, &error);
  if (probe == NULL)
    return tb_cli_fail (cli, error);
  buf = g_malloc (length);
  if (!tb_probe_read_memory (probe, address, buf, length, NULL, &error) ||
      !tb_file_write_atomic (output, buf, length, 0644, &error))
    return tb_cli_fail (cli, error);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "address");
  json_builder_add_int_value (b, address);
  json_builder_set_member_name (b, "length");
  json_builder_add_int_value (b, length);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

int
tb_cli_cmd_probe_write (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  guint32 address = 0;
  const GOptionEntry entries[] = {
    { "probe", 0, 0, G_OPTION_ARG_STRING, &uri, N_("Probe URI"), N_("URI") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("ADDRESS FILE"),
                             _("Write a file to target memory through the probe (refused by a locked device)."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 3)
    return tb_cli_usage_error (cli, _("“probe write” takes ADDRESS and FILE"));
  if (!parse_u32 (argv[1], _("address"), &address, &error) ||
      !tb_file_read_bounded (argv[2], 64 * 1024 * 1024, &data, &len, &error))
    return tb_cli_fail (cli, error);
  probe = open_probe (cli, uri, &error);
  if (probe == NULL || !tb_probe_write_memory (probe, address, (const guint8 *) data, len, NULL, &error))
    return tb_cli_fail (cli, error);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "address");
  json_builder_add_int_value (b, address);
  json_builder_set_member_name (b, "length");
  json_builder_add_int_value (b, (gint64) len);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

int
tb_cli_cmd_probe_reset (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  gboolean halt = FALSE;
  g_autoptr(TbProbe) probe = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const GOptionEntry entries[] = {
    { "probe", 0, 0, G_OPTION_ARG_STRING, &uri, N_("Probe URI"), N_("URI") },
    { "halt", 0, 0, G_OPTION_ARG_NONE, &halt, N_("Halt the core after the reset"), NULL },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL, _("Reset the target."), entries, &error))
    return tb_cli_fail (cli, error);
  probe = open_probe (cli, uri, &error);
  if (probe == NULL || !tb_probe_reset (probe, halt, &error))
    return tb_cli_fail (cli, error);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "halted");
  json_builder_add_boolean_value (b, halt);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}
