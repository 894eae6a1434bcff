/* SPDX-License-Identifier: GPL-3.0-or-later */

/* trustbench-tool key … and cert … commands. */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tb-cli.h"

static TbKey *
load_unlocked_key (TbCli *cli, TbContext *ctx, const char *name, GError **error)
{
  g_autoptr(TbKey) key = tb_key_load (ctx, name, error);
  g_autoptr(TbSecret) pass = NULL;
  g_autofree char *purpose = NULL;

  if (key == NULL)
    return NULL;
  purpose = g_strdup_printf (_("key “%s” of %s"), name, tb_context_get_name (ctx));
  pass = tb_cli_get_passphrase (cli, purpose, FALSE, error);
  if (pass == NULL || !tb_key_unlock (key, ctx, pass, error))
    return NULL;
  return g_steal_pointer (&key);
}

/* ---- key list ---- */

int
tb_cli_cmd_key_list (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(GPtrArray) keys = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL, _("List the keys of the context and where each lives."),
                             NULL, &error))
    return tb_cli_fail (cli, error);
  if (argc > 1)
    return tb_cli_usage_error (cli, _("“key list” takes no arguments"));
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  if (!cli->json)
    {
      keys = tb_context_list_keys (ctx);
      tb_cli_message (cli, "%-20s %-16s %-10s %-16.16s %s", _("NAME"), _("USAGE"), _("ALGORITHM"), _("PUBLIC KEY"),
                      _("STORAGE"));
      for (guint i = 0; i < keys->len; i++)
        {
          const TbKeyInfo *k = g_ptr_array_index (keys, i);
          /* people read where the key lives; --json keeps the URI */
          g_autofree char *where = tb_pkcs11_is_uri (k->storage) ? tb_pkcs11_describe_uri (k->storage)
                                                                 : g_strdup (k->storage);
          tb_cli_message (cli, "%-20s %-16s %-10s %-16.16s %s", k->name, k->usage, k->algorithm,
                          k->public_key_sha256, where);
        }
      return TB_EXIT_OK;
    }
  /* the entries as stored: every member, the ones this build does not know too */
  json_builder_begin_object (b);
  tb_cli_add_inventory (b, ctx, TB_INVENTORY_KEYS);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

static void
add_key_result (JsonBuilder *b, TbKey *key)
{
  g_autofree char *where = tb_key_describe_storage (key);

  json_builder_begin_object (b);
  tb_cli_add_string (b, "name", tb_key_get_name (key));
  tb_cli_add_string (b, "usage", tb_key_usage_to_string (tb_key_get_usage (key)));
  tb_cli_add_string (b, "algorithm", tb_key_get_algorithm (key));
  tb_cli_add_string (b, "storage", tb_key_get_storage (key));
  tb_cli_add_string (b, "storage_description", where);
  tb_cli_add_string (b, "public_key_sha256", tb_key_get_public_sha256 (key));
  json_builder_end_object (b);
}

/* ---- key generate ---- */

typedef struct {
  TbContext *ctx;
  TbKeyGenerateOptions options;
  TbKey *key;
} GenerateWork;

static gboolean
generate_work (gpointer data, TbProgress *progress, GError **error)
{
  GenerateWork *w = data;

  w->key = tb_key_workflow_generate (w->ctx, &w->options, progress, error);
  return w->key != NULL;
}

int
tb_cli_cmd_key_generate (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *usage_text = NULL;
  g_autofree char *algorithm = NULL;
  g_autofree char *token = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbSecret) pass = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  GenerateWork w = { 0 };
  const GOptionEntry entries[] = {
    { "usage", 0, 0, G_OPTION_ARG_STRING, &usage_text,
      N_("root-ca, provisioning-ca, mastering, product or job"), N_("USAGE") },
    { "algorithm", 0, 0, G_OPTION_ARG_STRING, &algorithm,
      N_("ec-p256 (default), ec-p384, ed25519 or rsa-3072"), N_("ALGORITHM") },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token,
      N_("Generate it on this PKCS#11 token (pkcs11: URI); the private key never leaves it"), N_("URI") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("NAME"), _("Generate a key pair, stored encrypted in the context."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 2)
    return tb_cli_usage_error (cli, _("“key generate” takes one NAME"));
  if (usage_text == NULL)
    return tb_cli_usage_error (cli, _("“key generate” needs --usage"));
  w.options.name = argv[1];
  w.options.algorithm = algorithm != NULL ? algorithm : TB_KEY_ALGORITHM_DEFAULT;
  if (!tb_name_is_valid (w.options.name, &error) ||
      !tb_key_usage_from_string (usage_text, &w.options.usage, &error) ||
      !tb_key_algorithm_is_supported (w.options.algorithm, &error))
    return tb_cli_fail (cli, error);
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_WRITE, &error);
  if (ctx == NULL || !tb_key_workflow_check_name (ctx, w.options.name, &error))
    return tb_cli_fail (cli, error);
  if (token != NULL)
    {
      if (!tb_pkcs11_uri_is_valid (token, &error))
        return tb_cli_fail (cli, error);
      w.options.token_uri = token;
    }
  else
    {
      pass = tb_cli_get_passphrase (cli, tb_context_get_name (ctx), FALSE, &error);
      if (pass == NULL)
        return tb_cli_fail (cli, error);
    }
  w.ctx = ctx;
  w.options.passphrase = pass;
  if (!tb_cli_run_work (cli, generate_work, &w, &error))
    {
      g_clear_object (&w.key);
      return tb_cli_fail (cli, error);
    }
  tb_cli_message (cli, _("Generated %s key “%s” (%s)"), w.options.algorithm, w.options.name,
                  tb_key_usage_to_string (w.options.usage));
  add_key_result (b, w.key);
  g_clear_object (&w.key);
  return tb_cli_print_result (cli, b);
}

/* ---- key import ---- */

int
tb_cli_cmd_key_import (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *usage_text = NULL;
  g_autofree char *file_pass_path = NULL;
  g_autofree char *token = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbSecret) pass = NULL;
  g_autoptr(TbSecret) file_pass = NULL;
  g_autoptr(TbKey) key = NULL;
  g_autoptr(TbKey) stored = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  TbKeyImportOptions options = { 0 };
  const GOptionEntry entries[] = {
    { "usage", 0, 0, G_OPTION_ARG_STRING, &usage_text,
      N_("root-ca, provisioning-ca, mastering, product or job"), N_("USAGE") },
    { "file-passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &file_pass_path,
      N_("Passphrase of an encrypted FILE (default: $TRUSTBENCH_IMPORT_PASSPHRASE)"), N_("PATH") },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token,
      N_("Record a key already on a PKCS#11 token (pkcs11: URI of the key) instead of a FILE: only its public "
         "half is read"), N_("URI") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("NAME FILE"),
                             _("Import an existing private key (PEM, DER, PKCS#8, encrypted PKCS#8 or PKCS#12); "
                               "it is stored encrypted with the context passphrase."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != (token != NULL ? 2 : 3))
    return tb_cli_usage_error (cli, token != NULL ? _("“key import --token URI” takes only NAME")
                                                  : _("“key import” takes NAME and FILE"));
  if (usage_text == NULL)
    return tb_cli_usage_error (cli, _("“key import” needs --usage"));
  options.name = argv[1];
  if (!tb_name_is_valid (options.name, &error) || !tb_key_usage_from_string (usage_text, &options.usage, &error))
    return tb_cli_fail (cli, error);
  if (file_pass_path != NULL)
    {
      g_autofree char *data = NULL;
      gsize len = 0;
      if (!tb_file_read_bounded (file_pass_path, 4096, &data, &len, &error))
        return tb_cli_fail (cli, error);
      while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
      file_pass = tb_secret_new_len (data, len);
      tb_secret_wipe (data, len);
    }
  else if (g_getenv ("TRUSTBENCH_IMPORT_PASSPHRASE") != NULL)
    file_pass = tb_secret_new (g_getenv ("TRUSTBENCH_IMPORT_PASSPHRASE"));
  options.token_uri = token;
  options.file = token == NULL ? argv[2] : NULL;
  options.file_passphrase = file_pass;

  /* the key is read before the passphrase is asked for */
  key = tb_key_workflow_read (&options, &error);
  if (key == NULL)
    return tb_cli_fail (cli, error);
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_WRITE, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  if (token == NULL)
    {
      pass = tb_cli_get_passphrase (cli, tb_context_get_name (ctx), FALSE, &error);
      if (pass == NULL)
        return tb_cli_fail (cli, error);
    }
  options.passphrase = pass;
  stored = tb_key_workflow_import (ctx, &options, key, NULL, &error);
  if (stored == NULL)
    return tb_cli_fail (cli, error);
  tb_cli_message (cli, _("Imported %s key “%s” (%s)"), tb_key_get_algorithm (key), argv[1], usage_text);
  add_key_result (b, key);
  return tb_cli_print_result (cli, b);
}

/* ---- key export-public ---- */

int
tb_cli_cmd_key_export_public (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbKey) key = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Write the PEM public key to FILE"), N_("FILE") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("NAME"), _("Export a public key as PEM."), entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 2 || output == NULL)
    return tb_cli_usage_error (cli, _("“key export-public” takes NAME and -o FILE"));
  if (!tb_cli_claim_output (cli, output, &error))
    return tb_cli_fail (cli, error);
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL || (key = tb_key_load (ctx, argv[1], &error)) == NULL ||
      !tb_key_export_public (key, output, &error))
    return tb_cli_fail (cli, error);
  json_builder_begin_object (b);
  tb_cli_add_string (b, "name", argv[1]);
  tb_cli_add_string (b, "output", output);
  tb_cli_add_string (b, "public_key_sha256", tb_key_get_public_sha256 (key));
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

/* ---- cert list / show ---- */

int
tb_cli_cmd_cert_list (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(GPtrArray) certs = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL, _("List the certificates of the context."), NULL, &error))
    return tb_cli_fail (cli, error);
  if (argc > 1)
    return tb_cli_usage_error (cli, _("“cert list” takes no arguments"));
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  problems = tb_cli_check_context_files (cli, ctx);
  if (!cli->json)
    {
      certs = tb_context_list_certificates (ctx);
      for (guint i = 0; i < certs->len; i++)
        {
          const TbCertInfo *c = g_ptr_array_index (certs, i);
          tb_cli_message (cli, "%-20s %s  (issuer %s, until %s)", c->name, c->subject, c->issuer, c->not_after);
          /* the inventory still names it, but its file is gone */
          for (guint k = 0; k < problems->len; k++)
            {
              TbContextFileProblem *p = g_ptr_array_index (problems, k);
              if (p->inventory == TB_INVENTORY_CERTIFICATES && g_str_equal (p->entry, c->name))
                tb_cli_message (cli, "%-20s %s", "", p->message);
            }
        }
      return TB_EXIT_OK;
    }
  json_builder_begin_object (b);
  tb_cli_add_inventory (b, ctx, TB_INVENTORY_CERTIFICATES);
  tb_cli_add_file_problems (b, problems);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

static void
add_cert_fields (JsonBuilder *b, TbCert *cert)
{
  g_autofree char *subject = tb_cert_dup_subject (cert);
  g_autofree char *issuer = tb_cert_dup_issuer (cert);
  g_autofree char *serial = tb_cert_dup_serial (cert);
  g_autofree char *nb = g_date_time_format (tb_cert_get_not_before (cert), "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *na = g_date_time_format (tb_cert_get_not_after (cert), "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *alg = tb_cert_dup_key_algorithm (cert);
  g_autofree char *sig = tb_cert_dup_signature_algorithm (cert);

  tb_cli_add_string (b, "name", tb_cert_get_name (cert));
  tb_cli_add_string (b, "key", tb_cert_get_key_name (cert));
  tb_cli_add_string (b, "subject", subject);
  tb_cli_add_string (b, "issuer", issuer);
  tb_cli_add_string (b, "serial", serial);
  tb_cli_add_string (b, "not_before", nb);
  tb_cli_add_string (b, "not_after", na);
  tb_cli_add_string (b, "key_algorithm", alg);
  tb_cli_add_string (b, "signature_algorithm", sig);
  tb_cli_add_string (b, "sha256", tb_cert_get_sha256 (cert));
  json_builder_set_member_name (b, "is_ca");
  json_builder_add_boolean_value (b, tb_cert_is_ca (cert));
}

int
tb_cli_cmd_cert_show (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbCert) cert = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();

  if (!tb_cli_parse_options (cli, &argc, &argv, _("NAME"), _("Show a certificate of the context."), NULL, &error))
    return tb_cli_fail (cli, error);
  if (argc != 2)
    return tb_cli_usage_error (cli, _("“cert show” takes one NAME"));
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL || (cert = tb_cert_load (ctx, argv[1], &error)) == NULL)
    return tb_cli_fail (cli, error);
  if (!cli->json)
    {
      g_autofree char *subject = tb_cert_dup_subject (cert);
      g_autofree char *issuer = tb_cert_dup_issuer (cert);
      g_autofree char *serial = tb_cert_dup_serial (cert);
      g_autofree char *nb = g_date_time_format (tb_cert_get_not_before (cert), "%Y-%m-%d %H:%M:%S UTC");
      g_autofree char *na = g_date_time_format (tb_cert_get_not_after (cert), "%Y-%m-%d %H:%M:%S UTC");
      g_autofree char *alg = tb_cert_dup_key_algorithm (cert);
      tb_cli_message (cli, _("Certificate  %s"), argv[1]);
      tb_cli_message (cli, _("Subject      %s"), subject);
      tb_cli_message (cli, _("Issuer       %s"), issuer);
      tb_cli_message (cli, _("Serial       %s"), serial);
      tb_cli_message (cli, _("Valid        %s – %s"), nb, na);
      tb_cli_message (cli, _("Key          %s (%s)"), tb_cert_get_key_name (cert) ?: "-", alg);
      tb_cli_message (cli, _("CA           %s"), tb_cert_is_ca (cert) ? _("yes") : _("no"));
      tb_cli_message (cli, _("SHA-256      %s"), tb_cert_get_sha256 (cert));
      return TB_EXIT_OK;
    }
  json_builder_begin_object (b);
  add_cert_fields (b, cert);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

/* ---- cert export ---- */

int
tb_cli_cmd_cert_export (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  g_autofree char *format_text = NULL;
  gboolean with_chain = FALSE;
  gboolean with_key = FALSE;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbCert) cert = NULL;
  g_autoptr(GPtrArray) chain = NULL;
  g_autoptr(TbKey) key = NULL;
  g_autoptr(TbSecret) export_pass = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  TbCertFormat format = TB_CERT_FORMAT_PEM;
  const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Output file"), N_("FILE") },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_text, N_("pem (default), der or p12"), N_("FORMAT") },
    { "chain", 0, 0, G_OPTION_ARG_NONE, &with_chain, N_("Export the chain up to the root, leaf first"), NULL },
    { "with-key", 0, 0, G_OPTION_ARG_NONE, &with_key,
      N_("p12 only: include the private key, protected by $TRUSTBENCH_EXPORT_PASSPHRASE"), NULL },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("NAME"), _("Export a certificate or its chain."), entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 2 || output == NULL)
    return tb_cli_usage_error (cli, _("“cert export” takes NAME and -o FILE"));
  if (!tb_cli_claim_output (cli, output, &error))
    return tb_cli_fail (cli, error);
  if (format_text != NULL && !tb_cert_format_from_string (format_text, &format, &error))
    return tb_cli_fail (cli, error);
  if (with_key && format != TB_CERT_FORMAT_PKCS12)
    return tb_cli_usage_error (cli, _("--with-key needs --format p12: private keys are never exported in clear"));
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL || (cert = tb_cert_load (ctx, argv[1], &error)) == NULL)
    return tb_cli_fail (cli, error);
  if (with_chain)
    chain = tb_cert_build_chain (ctx, cert, &error);
  else
    {
      chain = g_ptr_array_new_with_free_func (g_object_unref);
      g_ptr_array_add (chain, g_object_ref (cert));
    }
  if (chain == NULL)
    return tb_cli_fail (cli, error);
  if (with_key)
    {
      const char *env = g_getenv ("TRUSTBENCH_EXPORT_PASSPHRASE");
      if (tb_cert_get_key_name (cert) == NULL)
        return tb_cli_usage_error (cli, _("Certificate “%s” has no key in the context"), argv[1]);
      if (env == NULL)
        return tb_cli_usage_error (cli, _("--with-key needs the PKCS#12 passphrase in $TRUSTBENCH_EXPORT_PASSPHRASE"));
      export_pass = tb_secret_new (env);
      key = load_unlocked_key (cli, ctx, tb_cert_get_key_name (cert), &error);
      if (key == NULL)
        return tb_cli_fail (cli, error);
    }
  if (!tb_cert_export (chain, format, key, export_pass, output, &error))
    return tb_cli_fail (cli, error);
  tb_cli_message (cli, g_dngettext (GETTEXT_PACKAGE, "Wrote %u certificate to %s", "Wrote %u certificates to %s",
                                    chain->len),
                  chain->len, tb_cli_output_name (output));
  json_builder_begin_object (b);
  tb_cli_add_string (b, "output", output);
  tb_cli_add_int (b, "certificates", chain->len);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

/* ---- cert issue ---- */

/* A device public key given as 130 hex digits or as a file holding the
 * 65 raw bytes of the point. */
static gboolean
read_device_point (const char *value, guint8 point[TB_DEVICE_POINT_LEN], GError **error)
{
  gsize len = strlen (value);

  if (len == 2 * TB_DEVICE_POINT_LEN)
    {
      gboolean hex = TRUE;
      for (gsize i = 0; i < len && hex; i++)
        hex = g_ascii_isxdigit (value[i]);
      if (hex)
        {
          for (gsize i = 0; i < TB_DEVICE_POINT_LEN; i++)
            point[i] = (guint8) (g_ascii_xdigit_value (value[2 * i]) << 4 | g_ascii_xdigit_value (value[2 * i + 1]));
          return TRUE;
        }
    }
  if (g_file_test (value, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *data = NULL;
      gsize data_len = 0;
      if (!tb_file_read_bounded (value, 4096, &data, &data_len, error))
        return FALSE;
      if (data_len == TB_DEVICE_POINT_LEN)
        {
          memcpy (point, data, TB_DEVICE_POINT_LEN);
          return TRUE;
        }
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("%s holds %" G_GSIZE_FORMAT " bytes; a device public key is the %d bytes of an uncompressed "
                     "P-256 point"), value, data_len, TB_DEVICE_POINT_LEN);
      return FALSE;
    }
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
               _("--device-key wants 130 hex digits (an uncompressed P-256 point) or a file of its 65 bytes"));
  return FALSE;
}

int
tb_cli_cmd_cert_issue (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *csr_path = NULL;
  g_autofree char *device_key = NULL;
  g_autofree char *uid = NULL;
  g_autofree char *issuer_name = NULL;
  g_autofree char *output = NULL;
  int days = TB_CERT_DAYS_LEAF;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbCert) issuer = NULL;
  g_autoptr(TbKey) issuer_key = NULL;
  g_autoptr(TbCert) cert = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GPtrArray) one = g_ptr_array_new ();
  const GOptionEntry entries[] = {
    { "csr", 0, 0, G_OPTION_ARG_FILENAME, &csr_path, N_("PKCS#10 request, PEM or DER"), N_("FILE") },
    { "device-key", 0, 0, G_OPTION_ARG_STRING, &device_key,
      N_("Device public key: 130 hex digits or a file of the 65-byte P-256 point (with --uid)"), N_("KEY") },
    { "uid", 0, 0, G_OPTION_ARG_STRING, &uid, N_("Device UID, hex (with --device-key)"), N_("HEX") },
    { "issuer", 0, 0, G_OPTION_ARG_STRING, &issuer_name, N_("Issuing CA (default: provisioning-ca)"), N_("NAME") },
    { "days", 0, 0, G_OPTION_ARG_INT, &days, N_("Validity in days (default: 365)"), N_("N") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Write the PEM certificate to FILE"), N_("FILE") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL,
                             _("Issue a certificate from a PKCS#10 request (its signature is checked first), or a "
                               "device certificate from the device's raw public key and UID."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 1 || (csr_path == NULL) == (device_key == NULL) || output == NULL)
    return tb_cli_usage_error (cli, _("“cert issue” needs -o FILE and either --csr FILE or --device-key KEY --uid HEX"));
  if (!tb_cli_claim_output (cli, output, &error))
    return tb_cli_fail (cli, error);
  if (device_key != NULL && uid == NULL)
    return tb_cli_usage_error (cli, _("--device-key needs --uid"));
  if (days <= 0)
    return tb_cli_usage_error (cli, _("--days must be positive"));
  if (device_key != NULL)
    {
      guint8 point[TB_DEVICE_POINT_LEN];
      if (!read_device_point (device_key, point, &error) || !tb_device_uid_is_valid (uid, &error))
        return tb_cli_fail (cli, error);
      ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
      if (ctx == NULL)
        return tb_cli_fail (cli, error);
      issuer = tb_cert_load (ctx, issuer_name != NULL ? issuer_name : TB_KEY_NAME_PROVISIONING_CA, &error);
      if (issuer == NULL)
        return tb_cli_fail (cli, error);
      issuer_key = load_unlocked_key (cli, ctx, tb_cert_get_key_name (issuer) ?: "", &error);
      if (issuer_key == NULL)
        return tb_cli_fail (cli, error);
      {
        g_autoptr(TbDeviceCertIssuer) dci = NULL;
        g_autoptr(GBytes) der = NULL;
        if (days == TB_CERT_DAYS_LEAF)
          days = TB_CERT_DAYS_DEVICE;
        dci = tb_device_cert_issuer_new (issuer, issuer_key, tb_context_get_name (ctx), (guint) days, &error);
        der = dci != NULL ? tb_device_cert_issuer_issue (dci, point, sizeof point, uid, &error) : NULL;
        cert = der != NULL ? tb_cert_new_from_data (g_bytes_get_data (der, NULL), g_bytes_get_size (der), "device",
                                                    &error) : NULL;
        g_ptr_array_add (one, cert);
        if (cert == NULL || !tb_cert_export (one, TB_CERT_FORMAT_PEM, NULL, NULL, output, &error))
          return tb_cli_fail (cli, error);
      }
      goto done;
    }
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  /* the issuer is checked before its passphrase is asked for */
  issuer = tb_cert_workflow_find_issuer (ctx, issuer_name, &error);
  if (issuer == NULL)
    return tb_cli_fail (cli, error);
  {
    g_autofree char *purpose = g_strdup_printf (_("key “%s” of %s"), tb_cert_get_key_name (issuer),
                                                tb_context_get_name (ctx));
    g_autoptr(TbSecret) pass = tb_cli_get_passphrase (cli, purpose, FALSE, &error);
    const TbCsrIssueOptions options = {
      .issuer = tb_cert_get_name (issuer), .csr_path = csr_path, .days = (guint) days, .output = output,
      .passphrase = pass,
    };
    if (pass == NULL || (cert = tb_cert_workflow_issue_from_csr (ctx, &options, NULL, &error)) == NULL)
      return tb_cli_fail (cli, error);
  }

done:
  {
    g_autofree char *subject = tb_cert_dup_subject (cert);
    g_autofree char *serial = tb_cert_dup_serial (cert);
    tb_cli_message (cli, _("Issued %s (serial %s) to %s"), subject, serial, tb_cli_output_name (output));
    json_builder_begin_object (b);
    tb_cli_add_string (b, "subject", subject);
    tb_cli_add_string (b, "serial", serial);
    tb_cli_add_string (b, "issuer", tb_cert_get_name (issuer));
    tb_cli_add_string (b, "output", output);
    json_builder_end_object (b);
  }
  return tb_cli_print_result (cli, b);
}

/* ---- cert verify ---- */

int
tb_cli_cmd_cert_verify (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbCert) cert = NULL;
  g_autoptr(GPtrArray) chain = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  gboolean valid;

  if (!tb_cli_parse_options (cli, &argc, &argv, _("FILE"),
                             _("Verify a certificate (PEM or DER) against the context's root CA."), NULL, &error))
    return tb_cli_fail (cli, error);
  if (argc != 2)
    return tb_cli_usage_error (cli, _("“cert verify” takes one FILE"));
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL || (cert = tb_cert_new_from_file (argv[1], &error)) == NULL)
    return tb_cli_fail (cli, error);
  valid = tb_cert_verify (ctx, cert, &chain, &error);
  if (!valid && !cli->json)
    return tb_cli_fail (cli, error);
  if (!cli->json)
    {
      tb_cli_message (cli, _("%s: valid"), argv[1]);
      for (guint i = 0; i < chain->len; i++)
        {
          g_autofree char *subject = tb_cert_dup_subject (g_ptr_array_index (chain, i));
          tb_cli_message (cli, "  %u: %s", i, subject);
        }
      return TB_EXIT_OK;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "valid");
  json_builder_add_boolean_value (b, valid);
  if (!valid)
    tb_cli_add_string (b, "reason", error->message);
  json_builder_set_member_name (b, "chain");
  json_builder_begin_array (b);
  for (guint i = 0; chain != NULL && i < chain->len; i++)
    {
      json_builder_begin_object (b);
      add_cert_fields (b, g_ptr_array_index (chain, i));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  tb_cli_print_result (cli, b);
  if (!valid)
    {
      fprintf (stderr, "%s: %s\n", cli->prog, error->message);
      return TB_EXIT_VERIFY;
    }
  return TB_EXIT_OK;
}

/* ---- cert revoke ---- */

int
tb_cli_cmd_cert_revoke (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(TbCertInfo) revoked = NULL;
  const GOptionEntry entries[] = {
    { "reason", 0, 0, G_OPTION_ARG_STRING, &reason, N_("Why (key compromise, superseded, …)"), N_("TEXT") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("NAME"),
                             _("Revoke a certificate of the context: it and everything it certifies no longer "
                               "verify, the policy check and the trust chain show it."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 2)
    return tb_cli_usage_error (cli, _("“cert revoke” takes one certificate NAME"));
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_WRITE, &error);
  if (ctx == NULL || !tb_cert_revoke (ctx, argv[1], reason, &error) || !tb_context_save (ctx, &error))
    return tb_cli_fail (cli, error);
  revoked = tb_context_lookup_certificate (ctx, argv[1], &error);
  if (revoked == NULL)
    return tb_cli_fail (cli, error);
  tb_cli_message (cli, _("Revoked certificate “%s”"), argv[1]);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, argv[1]);
  json_builder_set_member_name (b, "serial");
  json_builder_add_string_value (b, revoked->serial);
  json_builder_set_member_name (b, "revoked");
  json_builder_add_string_value (b, revoked->revoked);
  json_builder_set_member_name (b, "reason");
  if (reason != NULL)
    json_builder_add_string_value (b, reason);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

/* ---- token list ---- */

int
tb_cli_cmd_token_list (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *module = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const GOptionEntry entries[] = {
    { "module", 0, 0, G_OPTION_ARG_FILENAME, &module, N_("This PKCS#11 module (default: p11-kit's configured ones)"),
      N_("PATH") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL, _("List the PKCS#11 tokens present, with their URIs."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 1)
    return tb_cli_usage_error (cli, _("“token list” takes no arguments"));
  tokens = tb_pkcs11_list_tokens (module, &error);
  if (tokens == NULL)
    return tb_cli_fail (cli, error);
  if (tokens->len == 0)
    tb_cli_message (cli, _("No PKCS#11 token present"));
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "tokens");
  json_builder_begin_array (b);
  for (guint i = 0; i < tokens->len; i++)
    {
      TbTokenInfo *t = g_ptr_array_index (tokens, i);
      tb_cli_message (cli, "%-20s %-18s %s %s%s", t->label, t->serial, t->manufacturer, t->model,
                      t->initialized ? "" : _(" (not initialized)"));
      tb_cli_message (cli, "  %s", t->uri);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, t->label);
      json_builder_set_member_name (b, "serial");
      json_builder_add_string_value (b, t->serial);
      json_builder_set_member_name (b, "manufacturer");
      json_builder_add_string_value (b, t->manufacturer);
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, t->model);
      json_builder_set_member_name (b, "uri");
      json_builder_add_string_value (b, t->uri);
      json_builder_set_member_name (b, "module");
      json_builder_add_string_value (b, t->module);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}
