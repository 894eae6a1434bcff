/* SPDX-License-Identifier: GPL-3.0-or-later */

/* trustbench-tool: the command-line face of libtrustbench.
 * The contract (commands, JSON keys, exit codes) is docs/cli.md. */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

#include "tb-cli.h"

static const TbCliCommand key_commands[] = {
  { "list", N_("List the keys of the context"), tb_cli_cmd_key_list, NULL },
  { "generate", N_("Generate a key pair"), tb_cli_cmd_key_generate, NULL },
  { "import", N_("Import an existing private key (PEM, DER, PKCS#8, PKCS#12)"), tb_cli_cmd_key_import, NULL },
  { "export-public", N_("Export a public key as PEM"), tb_cli_cmd_key_export_public, NULL },
  { NULL },
};

static const TbCliCommand cert_commands[] = {
  { "list", N_("List the certificates of the context"), tb_cli_cmd_cert_list, NULL },
  { "show", N_("Show a certificate"), tb_cli_cmd_cert_show, NULL },
  { "export", N_("Export a certificate or its chain (PEM, DER, PKCS#12)"), tb_cli_cmd_cert_export, NULL },
  { "issue", N_("Issue a certificate from a PKCS#10 request or a device public key"), tb_cli_cmd_cert_issue, NULL },
  { "verify", N_("Verify a certificate against the context's root"), tb_cli_cmd_cert_verify, NULL },
  { "revoke", N_("Revoke a certificate"), tb_cli_cmd_cert_revoke, NULL },
  { NULL },
};

static const TbCliCommand image_commands[] = {
  { "info", N_("Show an update protection key"), tb_cli_cmd_image_info, NULL },
  { "verify", N_("Verify a mastered image and its UPK"), tb_cli_cmd_image_verify, NULL },
  { "decrypt", N_("Decrypt a mastered image with the product key"), tb_cli_cmd_image_decrypt, NULL },
  { "export-mcuboot", N_("Write a signed (optionally encrypted) MCUboot image"), tb_cli_cmd_image_export_mcuboot, NULL },
  { NULL },
};

static const TbCliCommand device_commands[] = {
  { "create", N_("Make a new virtual board"), tb_cli_cmd_device_create, NULL },
  { "info", N_("Identify the device and check its attestation"), tb_cli_cmd_device_info, NULL },
  { "reset", N_("Reset the device and report what boots"), tb_cli_cmd_device_reset, NULL },
  { "stage-update", N_("Write an update into a virtual board, as its application would"),
    tb_cli_cmd_device_stage_update, NULL },
  { NULL },
};

static const TbCliCommand probe_commands[] = {
  { "list", N_("List the probes found"), tb_cli_cmd_probe_list, NULL },
  { "info", N_("Identify the probe and the target's debug port and core"), tb_cli_cmd_probe_info, NULL },
  { "read", N_("Read target memory"), tb_cli_cmd_probe_read, NULL },
  { "write", N_("Write target memory"), tb_cli_cmd_probe_write, NULL },
  { "reset", N_("Reset the target"), tb_cli_cmd_probe_reset, NULL },
  { NULL },
};

static const TbCliCommand audit_commands[] = {
  { "show", N_("List the audit log's entries"), tb_cli_cmd_audit_show, NULL },
  { "verify", N_("Check the audit log for tampering (exit 3)"), tb_cli_cmd_audit_verify, NULL },
  { NULL },
};

static const TbCliCommand token_commands[] = {
  { "list", N_("List PKCS#11 tokens (p11-kit's modules, or --module PATH)"), tb_cli_cmd_token_list, NULL },
  { NULL },
};

static const TbCliCommand job_commands[] = {
  { "create", N_("Make a production job package signed by the OEM root"), tb_cli_cmd_job_create, NULL },
  { "import", N_("Import a job package into a station context"), tb_cli_cmd_job_import, NULL },
  { "list", N_("List jobs with their counts"), tb_cli_cmd_job_list, NULL },
  { "show", N_("Show a job and its interrupted slots"), tb_cli_cmd_job_show, NULL },
  { NULL },
};

static const TbCliCommand records_commands[] = {
  { "export", N_("Export the device records as CSV or JSON"), tb_cli_cmd_records_export, NULL },
  { NULL },
};

static const TbCliCommand receipts_commands[] = {
  { "verify", N_("Verify exported records and their device receipts offline"), tb_cli_cmd_receipts_verify, NULL },
  { NULL },
};

static const TbCliCommand commands[] = {
  { "init", N_("Create a security context"), tb_cli_cmd_init, NULL },
  { "show", N_("Show the context summary and policy warnings"), tb_cli_cmd_show, NULL },
  { "key", N_("Keys: list, generate, import, export-public"), NULL, key_commands },
  { "token", N_("PKCS#11 tokens: list"), NULL, token_commands },
  { "cert", N_("Certificates: list, show, export, issue, verify"), NULL, cert_commands },
  { "master", N_("Master a firmware image into an encrypted image and its UPK"), tb_cli_cmd_master, NULL },
  { "image", N_("Mastered images: info, verify, decrypt, export-mcuboot"), NULL, image_commands },
  { "device", N_("Devices: create (a virtual board), info, reset, stage-update"), NULL, device_commands },
  { "provision", N_("Provision a device through a probe"), tb_cli_cmd_provision, NULL },
  { "program", N_("Install or update a mastered image on a device"), tb_cli_cmd_program, NULL },
  { "probe", N_("Probes: list, info, read, write, reset"), NULL, probe_commands },
  { "job", N_("Production jobs: create, import, list, show"), NULL, job_commands },
  { "produce", N_("Make one device under a job (exit 4 when the count is exhausted)"), tb_cli_cmd_produce, NULL },
  { "records", N_("Device records: export"), NULL, records_commands },
  { "receipts", N_("Device receipts: verify"), NULL, receipts_commands },
  { "audit", N_("The audit log: show, verify"), NULL, audit_commands },
  { "demo", N_("Run the whole chain on a fresh demo context"), tb_cli_cmd_demo, NULL },
  { NULL },
};

static void
print_help (FILE *out, const char *prog)
{
  fprintf (out, _("Usage:\n  %s [-C DIR | --context DIR] [--json] [--quiet] COMMAND [ARGS…]\n\n"), prog);
  fprintf (out, _("Build a chain of trust for microcontrollers: keys, certificates, mastered\n"
                  "images and provisioned devices.\n\n"));
  fprintf (out, _("Global options:\n"
                  "  -C, --context DIR  Security context directory (default: $TRUSTBENCH_CONTEXT)\n"
                  "  --json             Print one JSON object on stdout; messages go to stderr\n"
                  "  -q, --quiet        Print no progress or messages\n"
                  "  --passphrase-file FILE  Key passphrase (default: $TRUSTBENCH_PASSPHRASE, else a prompt)\n"
                  "  --pin-file FILE         Token PIN (default: $TRUSTBENCH_PIN, else a prompt)\n"
                  "  -h, --help         Show this help; “COMMAND --help” shows a command's help\n"
                  "  --version          Show the version\n\n"));
  fprintf (out, _("Commands:\n"));
  tb_cli_print_commands (out, commands);
  fprintf (out, _("\nExit codes: 0 success, 1 operation failed, 2 usage error, 3 verification failed\n"
                  "or refused, 4 limit reached, 130 cancelled.\n"));
}

/* A token needs its PIN: --pin-file, else a prompt (never an argument). */
static char *
ask_pin (const char *token_label, gpointer data, GError **error)
{
  TbCli *cli = data;
  g_autofree char *purpose = g_strdup_printf (_("token “%s” (PIN)"), token_label);
  TbSecret *pin = tb_cli_get_secret (cli, "TRUSTBENCH_PIN", cli->pin_file, "--pin-file", purpose, FALSE, error);
  char *out = pin != NULL ? g_strdup (pin) : NULL;

  tb_secret_free (pin);
  return out;
}

int
main (int argc, char **argv)
{
  TbCli cli = { .prog = "trustbench-tool" };
  int i;
  int rc;

  tb_memory_init ();   /* before anything uses OpenSSL */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname (cli.prog);

  /* global options, up to the command */
  for (i = 1; i < argc && argv[i][0] == '-'; i++)
    {
      const char *arg = argv[i];

      if (g_str_equal (arg, "--json"))
        cli.json = TRUE;
      else if (g_str_equal (arg, "--quiet") || g_str_equal (arg, "-q"))
        cli.quiet = TRUE;
      else if (g_str_equal (arg, "--help") || g_str_equal (arg, "-h"))
        {
          print_help (stdout, cli.prog);
          return TB_EXIT_OK;
        }
      else if (g_str_equal (arg, "--version"))
        {
          g_print ("trustbench-tool %s\n", PACKAGE_VERSION);
          return TB_EXIT_OK;
        }
      else if (g_str_equal (arg, "-C") || g_str_equal (arg, "--context"))
        {
          if (i + 1 >= argc)
            return tb_cli_usage_error (&cli, _("Option %s needs a directory"), arg);
          g_free (cli.context_dir);
          cli.context_dir = g_strdup (argv[++i]);
        }
      else if (g_str_equal (arg, "--passphrase-file"))
        {
          if (i + 1 >= argc)
            return tb_cli_usage_error (&cli, _("Option %s needs a file"), arg);
          g_free (cli.passphrase_file);
          cli.passphrase_file = g_strdup (argv[++i]);
        }
      else if (g_str_equal (arg, "--pin-file"))
        {
          if (i + 1 >= argc)
            return tb_cli_usage_error (&cli, _("Option %s needs a file"), arg);
          g_free (cli.pin_file);
          cli.pin_file = g_strdup (argv[++i]);
        }
      else if (g_str_has_prefix (arg, "--pin-file="))
        {
          g_free (cli.pin_file);
          cli.pin_file = g_strdup (arg + strlen ("--pin-file="));
        }
      else if (g_str_has_prefix (arg, "--passphrase-file="))
        {
          g_free (cli.passphrase_file);
          cli.passphrase_file = g_strdup (arg + strlen ("--passphrase-file="));
        }
      else if (g_str_has_prefix (arg, "--context="))
        {
          g_free (cli.context_dir);
          cli.context_dir = g_strdup (arg + strlen ("--context="));
        }
      else if (g_str_has_prefix (arg, "-C") && arg[2] != '\0')
        {
          g_free (cli.context_dir);
          cli.context_dir = g_strdup (arg + 2);
        }
      else
        return tb_cli_usage_error (&cli, _("Unknown option “%s” (see “%s --help”)"), arg, cli.prog);
    }

  if (i >= argc)
    {
      print_help (stderr, cli.prog);
      return tb_cli_usage_error (&cli, _("No command given"));
    }

  if (g_getenv ("TRUSTBENCH_PIN") != NULL && g_getenv ("TRUSTBENCH_PIN")[0] != '\0')
    tb_pkcs11_set_pin (g_getenv ("TRUSTBENCH_PIN"));
  tb_pkcs11_set_pin_func (ask_pin, &cli);
  rc = tb_cli_dispatch (&cli, commands, argc - i, argv + i);
  fflush (stdout);
  g_free (cli.context_dir);
  g_free (cli.passphrase_file);
  g_free (cli.pin_file);
  g_free (cli.command_path);
  return rc;
}
