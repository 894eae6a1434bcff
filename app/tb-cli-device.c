/* SPDX-License-Identifier: GPL-3.0-or-later */

/* trustbench-tool device create, probe list/info/read/write/reset. */

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

#include "tb-cli.h"

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
  g_autoptr(TbBoardInfo) board = NULL;
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
  board = tb_virtual_probe_create_board (argv[1], device_type, flash_size, page_size, uid, &error);
  if (board == NULL)
    return tb_cli_fail (cli, error);
  tb_cli_message (cli, _("Created virtual board %s in %s (probe URI %s)"), board->uid, board->path, board->uri);
  json_builder_begin_object (b);
  tb_cli_add_string (b, "uid", board->uid);
  tb_cli_add_string (b, "device_type", board->device_type);
  tb_cli_add_string (b, "lifecycle", tb_lifecycle_to_string (board->lifecycle));
  tb_cli_add_string (b, "probe", board->uri);
  tb_cli_add_string (b, "device_public_key", board->device_public_key);
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
          if (p->firmware != NULL)
            tb_cli_message (cli, "%s  %s (firmware %s)", p->uri, p->description, p->firmware);
          else
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
      tb_cli_add_string (b, "uri", p->uri);
      tb_cli_add_string (b, "kind", p->kind);
      tb_cli_add_string (b, "serial", p->serial);
      tb_cli_add_string (b, "description", p->description);
      tb_cli_add_string (b, "vendor", p->vendor);
      tb_cli_add_string (b, "product", p->product);
      tb_cli_add_string (b, "firmware", p->firmware);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

TbProbe *
tb_cli_open_probe (TbCli *cli, const char *uri, GError **error)
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
  if (!tb_cli_claim_output (cli, output, &error))
    return tb_cli_fail (cli, error);
  if (!parse_u32 (argv[1], _("address"), &address, &error) || !parse_u32 (argv[2], _("length"), &length, &error))
    return tb_cli_fail (cli, error);
  if (length == 0 || length > 64 * 1024 * 1024)
    return tb_cli_usage_error (cli, _("LENGTH must be 1 byte to 64 MiB"));
  probe = tb_cli_open_probe (cli, uri, &error);
  if (probe == NULL)
    return tb_cli_fail (cli, error);
  buf = g_malloc (length);
  if (!tb_probe_read_memory (probe, address, buf, length, NULL, &error) ||
      !tb_file_write_output (output, buf, length, 0644, &error))
    return tb_cli_fail (cli, error);
  json_builder_begin_object (b);
  tb_cli_add_int (b, "address", address);
  tb_cli_add_int (b, "length", length);
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
  probe = tb_cli_open_probe (cli, uri, &error);
  if (probe == NULL || !tb_probe_write_memory (probe, address, (const guint8 *) data, len, NULL, &error))
    return tb_cli_fail (cli, error);
  json_builder_begin_object (b);
  tb_cli_add_int (b, "address", address);
  tb_cli_add_int (b, "length", (gint64) len);
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
  probe = tb_cli_open_probe (cli, uri, &error);
  if (probe == NULL || !tb_probe_reset (probe, halt, &error))
    return tb_cli_fail (cli, error);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "halted");
  json_builder_add_boolean_value (b, halt);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

/* The numbers a hardware probe reports as hex strings, null elsewhere. */
static void
add_hex (JsonBuilder *b, const char *member, gboolean known, guint32 value)
{
  g_autofree char *text = known ? g_strdup_printf ("0x%08x", value) : NULL;

  tb_cli_add_string (b, member, text);
}

int
tb_cli_cmd_probe_info (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  TbCmsisDapProbe *dap = NULL;
  TbGdbProbe *gdb = NULL;
  guint32 cpuid;
  const GOptionEntry entries[] = {
    { "probe", 0, 0, G_OPTION_ARG_STRING, &uri, N_("Probe URI"), N_("URI") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL,
                             _("Connect, identify the probe and the target's debug port and core (halts nothing)."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  probe = tb_cli_open_probe (cli, uri, &error);
  if (probe == NULL)
    return tb_cli_fail (cli, error);
  if (TB_IS_CMSIS_DAP_PROBE (probe))
    dap = TB_CMSIS_DAP_PROBE (probe);
  if (TB_IS_GDB_PROBE (probe))
    gdb = TB_GDB_PROBE (probe);
  cpuid = dap != NULL ? tb_cmsis_dap_probe_get_cpuid (dap) : gdb != NULL ? tb_gdb_probe_get_cpuid (gdb) : 0;
  tb_cli_message (cli, _("Probe        %s"), tb_probe_get_description (probe));
  tb_cli_message (cli, _("URI          %s"), tb_probe_get_uri (probe));
  if (dap != NULL)
    {
      TbDap *d = tb_cmsis_dap_probe_get_dap (dap);
      tb_cli_message (cli, _("Firmware     %s"), tb_cmsis_dap_probe_get_firmware (dap));
      tb_cli_message (cli, _("Packets      %u × %u bytes"), tb_dap_get_packet_count (d), tb_dap_get_packet_size (d));
      tb_cli_message (cli, _("SWD clock    %u Hz"), tb_cmsis_dap_probe_get_clock (dap));
      tb_cli_message (cli, _("DP IDCODE    0x%08x"), tb_cmsis_dap_probe_get_idcode (dap));
      tb_cli_message (cli, _("AP IDR       0x%08x"), tb_cmsis_dap_probe_get_ap_idr (dap));
    }
  if (gdb != NULL)
    {
      TbGdbRemote *remote = tb_gdb_probe_get_remote (gdb);
      tb_cli_message (cli, _("Server       %s"), tb_gdb_remote_get_features (remote));
      tb_cli_message (cli, _("PacketSize   %zu bytes, %s"), tb_gdb_remote_get_packet_size (remote),
                      tb_gdb_remote_is_no_ack (remote) ? _("no-ack mode") : _("acknowledged packets"));
    }
  if (dap != NULL || gdb != NULL)
    tb_cli_message (cli, _("Core         %s (CPUID 0x%08x)"), tb_cortex_m_core_name (cpuid), cpuid);
  json_builder_begin_object (b);
  tb_cli_add_string (b, "uri", tb_probe_get_uri (probe));
  tb_cli_add_string (b, "kind", tb_probe_get_kind (probe));
  tb_cli_add_string (b, "serial", tb_probe_get_serial (probe));
  tb_cli_add_string (b, "description", tb_probe_get_description (probe));
  tb_cli_add_string (b, "firmware", dap != NULL ? tb_cmsis_dap_probe_get_firmware (dap) : NULL);
  json_builder_set_member_name (b, "packet_size");
  if (dap != NULL)
    json_builder_add_int_value (b, tb_dap_get_packet_size (tb_cmsis_dap_probe_get_dap (dap)));
  else if (gdb != NULL)
    json_builder_add_int_value (b, (gint64) tb_gdb_remote_get_packet_size (tb_gdb_probe_get_remote (gdb)));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "packet_count");
  if (dap != NULL)
    json_builder_add_int_value (b, tb_dap_get_packet_count (tb_cmsis_dap_probe_get_dap (dap)));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "swd_clock_hz");
  if (dap != NULL)
    json_builder_add_int_value (b, tb_cmsis_dap_probe_get_clock (dap));
  else
    json_builder_add_null_value (b);
  add_hex (b, "dp_idcode", dap != NULL, dap != NULL ? tb_cmsis_dap_probe_get_idcode (dap) : 0);
  add_hex (b, "ap_idr", dap != NULL, dap != NULL ? tb_cmsis_dap_probe_get_ap_idr (dap) : 0);
  add_hex (b, "cpuid", dap != NULL || gdb != NULL, cpuid);
  tb_cli_add_string (b, "core", dap != NULL || gdb != NULL ? tb_cortex_m_core_name (cpuid)
                                                          : _("virtual board (no debug port)"));
  if (gdb != NULL)
    {
      TbGdbRemote *remote = tb_gdb_probe_get_remote (gdb);
      g_auto(GStrv) features = g_strsplit (tb_gdb_remote_get_features (remote), ";", -1);
      json_builder_set_member_name (b, "server_features");
      json_builder_begin_array (b);
      for (guint i = 0; features[i] != NULL; i++)
        if (features[i][0] != '\0')
          json_builder_add_string_value (b, features[i]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "no_ack_mode");
      json_builder_add_boolean_value (b, tb_gdb_remote_is_no_ack (remote));
    }
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

/* ---- device info / reset, provision, program ---- */

static void
add_app (JsonBuilder *b, const TbAttestation *att)
{
  json_builder_set_member_name (b, "app");
  if (att->boot != 0 || att->app_version == NULL || att->app_version[0] == '\0')
    {
      json_builder_add_null_value (b);
      return;
    }
  json_builder_begin_object (b);
  tb_cli_add_string (b, "name", "application");
  tb_cli_add_string (b, "version", att->app_version);
  tb_cli_add_int (b, "security_counter", att->app_counter);
  json_builder_end_object (b);
}

static const char *
boot_reason (guint boot)
{
  switch (boot)
    {
    case 0: return _("the application's digest matches the signature table");
    case 1: return _("no application is installed");
    default: return _("the application was modified: its digest does not match the signature table");
    }
}

int
tb_cli_cmd_device_info (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autoptr(TbTarget) target = NULL;
  g_autoptr(TbAttestation) att = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *pub = NULL;
  const GOptionEntry entries[] = {
    { "probe", 0, 0, G_OPTION_ARG_STRING, &uri, N_("Probe URI"), N_("URI") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL,
                             _("Identify the device and check its attestation (signed by its own key)."), entries,
                             &error))
    return tb_cli_fail (cli, error);
  probe = tb_cli_open_probe (cli, uri, &error);
  if (probe == NULL)
    return tb_cli_fail (cli, error);
  target = tb_target_new (probe);
  att = tb_target_attest (target, &error);
  if (att == NULL)
    return tb_cli_fail (cli, error);
  {
    GString *s = g_string_new (NULL);
    for (guint i = 0; i < 65; i++)
      g_string_append_printf (s, "%02x", att->device_public_key[i]);
    pub = g_string_free (s, FALSE);
  }
  if (!cli->json)
    {
      tb_cli_message (cli, _("UID          %s"), att->uid);
      tb_cli_message (cli, _("Device type  %s"), att->device_type);
      tb_cli_message (cli, _("Lifecycle    %s"), tb_lifecycle_to_string (att->lifecycle));
      tb_cli_message (cli, _("SBM          %u.%u.%u"), att->sbm_version >> 16, (att->sbm_version >> 8) & 0xff,
                      att->sbm_version & 0xff);
      tb_cli_message (cli, _("Attestation  valid (signed by the device key %.16s…)"), pub);
      tb_cli_message (cli, _("Application  %s"), att->boot == 0 ? att->app_version : boot_reason (att->boot));
      return TB_EXIT_OK;
    }
  json_builder_begin_object (b);
  tb_cli_add_string (b, "uid", att->uid);
  tb_cli_add_string (b, "device_type", att->device_type);
  tb_cli_add_string (b, "lifecycle", tb_lifecycle_to_string (att->lifecycle));
  {
    g_autofree char *v = g_strdup_printf ("%u.%u.%u", att->sbm_version >> 16, (att->sbm_version >> 8) & 0xff,
                                          att->sbm_version & 0xff);
    tb_cli_add_string (b, "sbm_version", v);
  }
  tb_cli_add_string (b, "device_public_key", pub);
  json_builder_set_member_name (b, "attestation_valid");
  json_builder_add_boolean_value (b, TRUE);
  add_app (b, att);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

int
tb_cli_cmd_device_reset (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autoptr(TbTarget) target = NULL;
  g_autoptr(TbAttestation) att = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const GOptionEntry entries[] = {
    { "probe", 0, 0, G_OPTION_ARG_STRING, &uri, N_("Probe URI"), N_("URI") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL,
                             _("Reset the device: the SBM re-checks the application against its signature table."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  probe = tb_cli_open_probe (cli, uri, &error);
  if (probe == NULL)
    return tb_cli_fail (cli, error);
  target = tb_target_new (probe);
  if (!tb_target_reset (target, &error))
    return tb_cli_fail (cli, error);
  att = tb_target_attest (target, &error);
  if (att == NULL)
    return tb_cli_fail (cli, error);
  tb_cli_message (cli, att->boot == 0 ? _("Boot: ok, running %s") : _("Boot: %s"),
                  att->boot == 0 ? att->app_version : boot_reason (att->boot));
  json_builder_begin_object (b);
  tb_cli_add_string (b, "boot", att->boot == 0 ? "ok" : att->boot == 1 ? "no-application" : "refused");
  add_app (b, att);
  tb_cli_add_string (b, "reason", boot_reason (att->boot));
  json_builder_end_object (b);
  tb_cli_print_result (cli, b);
  return att->boot == 2 ? TB_EXIT_VERIFY : TB_EXIT_OK;
}

int
tb_cli_cmd_device_stage_update (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbBoardInfo) board = NULL;
  g_autoptr(GMappedFile) upk = NULL;
  g_autoptr(GMappedFile) image = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();

  if (!tb_cli_parse_options (cli, &argc, &argv, _("PATH UPK IMAGE"),
                             _("Play the application of the virtual board in PATH: write an update it downloaded "
                               "into the update region. The SBM installs it, with every check, at the next reset."),
                             NULL, &error))
    return tb_cli_fail (cli, error);
  if (argc != 4)
    return tb_cli_usage_error (cli, _("“device stage-update” takes the board PATH, the UPK and the image"));
  if ((upk = g_mapped_file_new (argv[2], FALSE, &error)) == NULL ||
      (image = g_mapped_file_new (argv[3], FALSE, &error)) == NULL ||
      (board = tb_virtual_probe_stage_update (argv[1], (const guint8 *) g_mapped_file_get_contents (upk),
                                              g_mapped_file_get_length (upk),
                                              (const guint8 *) g_mapped_file_get_contents (image),
                                              g_mapped_file_get_length (image), &error)) == NULL)
    return tb_cli_fail (cli, error);
  tb_cli_message (cli, _("Update staged on %s; it installs at the next reset (device reset --probe %s)"), board->uid,
                  board->uri);
  json_builder_begin_object (b);
  tb_cli_add_string (b, "uid", board->uid);
  tb_cli_add_int (b, "staged_bytes", (gint64) (g_mapped_file_get_length (upk) + g_mapped_file_get_length (image)));
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

typedef struct {
  TbContext *ctx;
  TbProbe *probe;
  TbProvisionOptions options;
  const char *passphrase;
  TbProvisionResult result;
  char *record_id;
} ProvisionWork;

static gboolean
provision_work (gpointer data, TbProgress *progress, GError **error)
{
  ProvisionWork *w = data;

  return tb_provision_device_and_record (w->ctx, w->probe, &w->options, w->passphrase, &w->result, &w->record_id,
                                         progress, error);
}

int
tb_cli_cmd_provision (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *upk = NULL;
  g_autofree char *product = NULL;
  gboolean no_lock = FALSE;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autoptr(TbSecret) pass = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *record_id = NULL;
  ProvisionWork w = { 0 };
  const GOptionEntry entries[] = {
    { "probe", 0, 0, G_OPTION_ARG_STRING, &uri, N_("Probe URI"), N_("URI") },
    { "image", 0, 0, G_OPTION_ARG_FILENAME, &upk, N_("Program this mastered image too (UPK, then IMAGE as argument)"),
      N_("UPK") },
    { "product", 0, 0, G_OPTION_ARG_STRING, &product, N_("The device's product (default: the only one)"),
      N_("PRODUCT") },
    { "no-lock", 0, 0, G_OPTION_ARG_NONE, &no_lock, N_("Leave debug access open (lab boards)"), NULL },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("[IMAGE]"),
                             _("Provision a device: install the SBM if blank, attest, issue its certificate, wrap the "
                               "product key to the device key, lock, program the image if given, reset and record."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if ((upk != NULL) != (argc == 2) || argc > 2)
    return tb_cli_usage_error (cli, _("--image takes the UPK, followed by the IMAGE file"));
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  probe = tb_cli_open_probe (cli, uri, &error);
  if (probe == NULL)
    return tb_cli_fail (cli, error);
  pass = tb_cli_get_passphrase (cli, tb_context_get_name (ctx), FALSE, &error);
  if (pass == NULL)
    return tb_cli_fail (cli, error);
  w.ctx = ctx;
  w.probe = probe;
  w.options.product = product;
  w.options.upk_path = upk;
  w.options.image_path = upk != NULL ? argv[1] : NULL;
  w.options.no_lock = no_lock;
  w.passphrase = pass;
  if (!tb_cli_run_work (cli, provision_work, &w, &error))
    return tb_cli_fail (cli, error);
  record_id = g_steal_pointer (&w.record_id);
  tb_cli_message (cli, _("Provisioned device %s: %s, certificate serial %s%s%s"), w.result.uid, w.result.lifecycle,
                  w.result.device_certificate_serial, w.result.app_version != NULL ? _(", running ") : "",
                  w.result.app_version != NULL ? w.result.app_version : "");
  json_builder_begin_object (b);
  tb_cli_add_string (b, "uid", w.result.uid);
  tb_cli_add_string (b, "device_certificate", w.result.device_certificate);
  tb_cli_add_string (b, "device_certificate_serial", w.result.device_certificate_serial);
  tb_cli_add_string (b, "lifecycle", w.result.lifecycle);
  json_builder_set_member_name (b, "app");
  if (w.result.app_version != NULL)
    {
      json_builder_begin_object (b);
      tb_cli_add_string (b, "version", w.result.app_version);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);
  tb_cli_add_string (b, "record_id", record_id);
  json_builder_end_object (b);
  tb_provision_result_clear (&w.result);
  return tb_cli_print_result (cli, b);
}

typedef struct {
  TbProbe *probe;
  const char *upk;
  const char *image;
  char *version;
  GBytes *receipt;
} ProgramWork;

static gboolean
program_work (gpointer data, TbProgress *progress, GError **error)
{
  ProgramWork *w = data;

  return tb_program_device (w->probe, w->upk, w->image, &w->version, &w->receipt, progress, error);
}

int
tb_cli_cmd_program (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  ProgramWork w = { 0 };
  const GOptionEntry entries[] = {
    { "probe", 0, 0, G_OPTION_ARG_STRING, &uri, N_("Probe URI"), N_("URI") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("UPK IMAGE"),
                             _("Install or update a mastered image through the device's SBM, which authenticates "
                               "every chunk before it writes it; exit 3 when the device refuses."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 3)
    return tb_cli_usage_error (cli, _("“program” takes UPK and IMAGE"));
  probe = tb_cli_open_probe (cli, uri, &error);
  if (probe == NULL)
    return tb_cli_fail (cli, error);
  w.probe = probe;
  w.upk = argv[1];
  w.image = argv[2];
  if (!tb_cli_run_work (cli, program_work, &w, &error))
    return tb_cli_fail (cli, error);
  tb_cli_message (cli, _("The device runs %s"), w.version);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "app");
  json_builder_begin_object (b);
  tb_cli_add_string (b, "version", w.version);
  json_builder_end_object (b);
  {
    g_autofree char *receipt = g_base64_encode (g_bytes_get_data (w.receipt, NULL), g_bytes_get_size (w.receipt));
    tb_cli_add_string (b, "receipt", receipt);
  }
  json_builder_end_object (b);
  g_free (w.version);
  g_bytes_unref (w.receipt);
  return tb_cli_print_result (cli, b);
}
