/* SPDX-License-Identifier: GPL-3.0-or-later */

/* trustbench-tool master, image info, image verify, image decrypt. */

#include "config.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <string.h>

#include "tb-cli.h"

static gboolean
parse_address (const char *text, guint64 *out, GError **error)
{
  char *end = NULL;
  guint64 v;

  /* hex with 0x, or decimal: no sign, no blanks, no octal (010 is not 8) */
  if (text == NULL || !g_ascii_isdigit (text[0]) ||
      (text[0] == '0' && text[1] != '\0' && text[1] != 'x' && text[1] != 'X'))
    goto bad;
  errno = 0;
  v = g_ascii_strtoull (text, &end, 0);
  if (errno != 0 || end == NULL || *end != '\0')
    goto bad;
  *out = v;
  return TRUE;
bad:
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
               _("“%s” is not an address: give it in hex (0x08000000) or in decimal"),
               text != NULL ? text : "");
  return FALSE;
}

/* The UPK fields of the `master` and `image info` JSON. */
static void
add_upk_fields (JsonBuilder *b, TbUpk *upk)
{
  g_autofree char *sha = tb_hex_encode (tb_upk_get_plaintext_sha256 (upk), 32);
  g_autofree char *load = g_strdup_printf ("0x%08" G_GINT64_MODIFIER "x", tb_upk_get_load_address (upk));
  g_autofree char *image_id = tb_hex_encode (tb_upk_get_image_id (upk), TB_UPK_IMAGE_ID_LEN);
  const char *const *types = tb_upk_get_device_types (upk);
  const char *const *uids = tb_upk_get_device_uids (upk);
  guint64 entry = 0;

  tb_cli_add_string (b, "product", tb_upk_get_product (upk));
  tb_cli_add_string (b, "version", tb_upk_get_version (upk));
  tb_cli_add_int (b, "security_counter", tb_upk_get_security_counter (upk));
  tb_cli_add_int (b, "size", (gint64) tb_upk_get_image_size (upk));
  tb_cli_add_string (b, "load_address", load);
  if (tb_upk_get_entry_point (upk, &entry))
    {
      g_autofree char *e = g_strdup_printf ("0x%08" G_GINT64_MODIFIER "x", entry);
      tb_cli_add_string (b, "entry_point", e);
    }
  tb_cli_add_string (b, "plaintext_sha256", sha);
  tb_cli_add_string (b, "image_id", image_id);
  json_builder_set_member_name (b, "device_types");
  json_builder_begin_array (b);
  for (guint i = 0; types[i] != NULL; i++)
    json_builder_add_string_value (b, types[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "device_uids");
  json_builder_begin_array (b);
  for (guint i = 0; uids[i] != NULL; i++)
    json_builder_add_string_value (b, uids[i]);
  json_builder_end_array (b);
}

/* ---- master ---- */

typedef struct {
  TbContext *ctx;
  TbFirmware *firmware;
  TbMasterOptions options;
  const char *passphrase;
  char *image_path;
  char *upk_path;
  TbUpk *upk;
} MasterWork;

static gboolean
master_work (gpointer data, TbProgress *progress, GError **error)
{
  MasterWork *w = data;

  w->upk = tb_master_image (w->ctx, w->firmware, &w->options, w->passphrase, w->image_path, w->upk_path, progress,
                            error);
  return w->upk != NULL;
}

/* An existing pair is replaced only with --force: say so. */
static GError *
with_force_hint (GError **error)
{
  g_autoptr(GError) exists = NULL;

  if (!g_error_matches (*error, TB_ERROR, TB_ERROR_EXISTS))
    return *error;
  exists = g_steal_pointer (error);
  g_set_error (error, TB_ERROR, TB_ERROR_EXISTS, _("%s with --force"), exists->message);
  return *error;
}

int
tb_cli_cmd_master (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *product = NULL;
  g_autofree char *version = NULL;
  g_autofree char *load_text = NULL;
  g_autofree char *format_text = NULL;
  g_autofree char *output = NULL;
  g_autofree char *name = NULL;
  g_auto(GStrv) uids = NULL;
  g_auto(GStrv) types = NULL;
  gint64 counter = 0;
  int chunk = 0;
  gboolean sync = FALSE;
  gboolean force = FALSE;
  gboolean outside_slot = FALSE;
  guint64 load_address = TB_FIRMWARE_NO_ADDRESS;
  TbFirmwareFormat format = TB_FIRMWARE_FORMAT_AUTO;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbFirmware) fw = NULL;
  g_autoptr(TbSecret) pass = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  MasterWork w = { 0 };
  g_autofree char *image_path = NULL;
  g_autofree char *upk_path = NULL;
  const GOptionEntry entries[] = {
    { "product", 0, 0, G_OPTION_ARG_STRING, &product, N_("Product the image is for"), N_("PRODUCT") },
    { "version", 0, 0, G_OPTION_ARG_STRING, &version, N_("Version, MAJOR.MINOR.PATCH"), N_("X.Y.Z") },
    { "security-counter", 0, 0, G_OPTION_ARG_INT64, &counter,
      N_("Anti-rollback counter: devices refuse a lower one (default 0)"), N_("N") },
    { "load-address", 0, 0, G_OPTION_ARG_STRING, &load_text, N_("Load address of a raw binary"), N_("ADDRESS") },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_text, N_("bin, ihex, srec or elf (default: guess)"), N_("FORMAT") },
    { "device-uid", 0, 0, G_OPTION_ARG_STRING_ARRAY, &uids, N_("Bind to a device (repeat for several)"), N_("HEX") },
    { "device-type", 0, 0, G_OPTION_ARG_STRING_ARRAY, &types, N_("Allowed device type (repeat)"), N_("TYPE") },
    { "chunk-size", 0, 0, G_OPTION_ARG_INT, &chunk, N_("Encryption chunk size (default 4096)"), N_("BYTES") },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_("Output name (default: INPUT-VERSION)"), N_("NAME") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Output directory"), N_("DIR") },
    { "sync", 0, 0, G_OPTION_ARG_NONE, &sync, N_("Flush the image to disk before exiting"), NULL },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, N_("Replace DIR/NAME.tbimg and DIR/NAME.tbupk if they exist"), NULL },
    { "allow-outside-slot", 0, 0, G_OPTION_ARG_NONE, &outside_slot,
      N_("Warn, instead of refusing, when the image lies outside the application slot of a device type it is for"),
      NULL },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("INPUT"),
                             _("Master a firmware image (BIN, HEX, SREC, ELF): encrypt it with a fresh key and write "
                               "DIR/NAME.tbimg and the signed update protection key DIR/NAME.tbupk."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 2)
    return tb_cli_usage_error (cli, _("“master” takes one INPUT file"));
  if (product == NULL || version == NULL || output == NULL)
    return tb_cli_usage_error (cli, _("“master” needs --product, --version and -o DIR"));
  if (g_str_equal (output, "-"))
    return tb_cli_usage_error (cli, _("“master” writes two files, NAME.tbimg and NAME.tbupk: -o names the directory "
                                      "for them, it cannot be standard output"));
  if (counter < 0 || counter > G_MAXUINT32)
    return tb_cli_usage_error (cli, _("--security-counter must be between 0 and 4294967295"));
  if (chunk < 0)
    return tb_cli_usage_error (cli, _("--chunk-size must be positive"));
  if ((load_text != NULL && !parse_address (load_text, &load_address, &error)) ||
      (format_text != NULL && !tb_firmware_format_from_string (format_text, &format, &error)) ||
      !tb_semver_is_valid (version, &error))
    return tb_cli_fail (cli, error);
  if (name != NULL && !tb_name_is_valid (name, &error))
    return tb_cli_fail (cli, error);
  if (g_file_test (output, G_FILE_TEST_EXISTS) && !g_file_test (output, G_FILE_TEST_IS_DIR))
    {
      g_set_error (&error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("The output %s is not a directory"), output);
      return tb_cli_fail (cli, error);
    }
  if (g_mkdir_with_parents (output, 0755) != 0)
    {
      int saved_errno = errno;
      g_set_error (&error, TB_ERROR, TB_ERROR_FAILED, _("Cannot create the output directory %s: %s"), output,
                   g_strerror (saved_errno));
      return tb_cli_fail (cli, error);
    }
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  fw = tb_firmware_load_file (argv[1], format, load_address, &error);
  if (fw == NULL)
    return tb_cli_fail (cli, error);
  tb_mastered_image_build_paths (output, argv[1], version, name, &image_path, &upk_path);
  if (!force && !tb_master_check_destinations (image_path, upk_path, &error))
    return tb_cli_fail (cli, with_force_hint (&error));
  pass = tb_cli_get_passphrase (cli, tb_context_get_name (ctx), FALSE, &error);
  if (pass == NULL)
    return tb_cli_fail (cli, error);
  w.ctx = ctx;
  w.firmware = fw;
  w.options.product = product;
  w.options.version = version;
  w.options.security_counter = (guint32) counter;
  w.options.device_uids = (const char *const *) uids;
  w.options.device_types = (const char *const *) types;
  w.options.chunk_size = (guint32) chunk;
  w.options.sync = sync;
  w.options.replace = force;
  w.options.allow_outside_slot = outside_slot;
  w.passphrase = pass;
  w.image_path = image_path;
  w.upk_path = upk_path;
  if (!tb_cli_run_work (cli, master_work, &w, &error))
    return tb_cli_fail (cli, with_force_hint (&error));
  {
    g_autofree char *sha = tb_hex_encode (tb_upk_get_plaintext_sha256 (w.upk), 32);
    tb_cli_message (cli, _("Mastered %s %s for product “%s”: %s + %s (%" G_GUINT64_FORMAT " bytes, SHA-256 %s)"),
                    argv[1], version, product, w.image_path, w.upk_path, tb_upk_get_image_size (w.upk), sha);
  }
  json_builder_begin_object (b);
  tb_cli_add_string (b, "image", w.image_path);
  tb_cli_add_string (b, "upk", w.upk_path);
  add_upk_fields (b, w.upk);
  json_builder_end_object (b);
  g_object_unref (w.upk);
  return tb_cli_print_result (cli, b);
}

/* ---- image info ---- */

int
tb_cli_cmd_image_info (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbUpk) upk = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *signer = NULL;
  g_autofree char *created = NULL;

  if (!tb_cli_parse_options (cli, &argc, &argv, _("UPK"),
                             _("Show an update protection key (never its secrets). Does not verify it: see "
                               "“image verify”."),
                             NULL, &error))
    return tb_cli_fail (cli, error);
  if (argc != 2)
    return tb_cli_usage_error (cli, _("“image info” takes one UPK file"));
  upk = tb_upk_load_file (argv[1], &error);
  if (upk == NULL)
    return tb_cli_fail (cli, error);
  signer = tb_cert_dup_subject (tb_upk_get_signer_cert (upk));
  {
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc ((gint64) tb_upk_get_created (upk));
    created = t != NULL ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("?");
  }
  if (!cli->json)
    {
      g_autofree char *sha = tb_hex_encode (tb_upk_get_plaintext_sha256 (upk), 32);
      tb_cli_message (cli, _("Product           %s"), tb_upk_get_product (upk));
      tb_cli_message (cli, _("Version           %s (security counter %u)"), tb_upk_get_version (upk),
                      tb_upk_get_security_counter (upk));
      tb_cli_message (cli, _("Load address      0x%08" G_GINT64_MODIFIER "x, %" G_GUINT64_FORMAT " bytes"),
                      tb_upk_get_load_address (upk), tb_upk_get_image_size (upk));
      tb_cli_message (cli, _("Plaintext SHA-256 %s"), sha);
      tb_cli_message (cli, _("Signer            %s (%s)"), signer,
                      tb_upk_signature_algorithm_to_string (tb_upk_get_signature_algorithm (upk)));
      tb_cli_message (cli, _("Created           %s"), created);
      for (guint i = 0; i < tb_upk_get_n_recipients (upk); i++)
        {
          const TbUpkRecipient *r = tb_upk_get_recipient (upk, i);
          tb_cli_message (cli, _("Recipient         %s “%s”"),
                          r->kind == TB_UPK_RECIPIENT_PRODUCT ? _("product") : _("device"), r->id);
        }
      for (const char *const *u = tb_upk_get_device_uids (upk); *u != NULL; u++)
        tb_cli_message (cli, _("Bound to device   %s"), *u);
      for (const char *const *t = tb_upk_get_device_types (upk); *t != NULL; t++)
        tb_cli_message (cli, _("Device type       %s"), *t);
      return TB_EXIT_OK;
    }
  json_builder_begin_object (b);
  tb_cli_add_string (b, "upk", argv[1]);
  add_upk_fields (b, upk);
  tb_cli_add_string (b, "signer", signer);
  tb_cli_add_string (b, "signature_algorithm", tb_upk_signature_algorithm_to_string (tb_upk_get_signature_algorithm (upk)));
  tb_cli_add_string (b, "created", created);
  json_builder_set_member_name (b, "recipients");
  json_builder_begin_array (b);
  for (guint i = 0; i < tb_upk_get_n_recipients (upk); i++)
    {
      const TbUpkRecipient *r = tb_upk_get_recipient (upk, i);
      g_autofree char *key_id = tb_hex_encode (r->key_id, sizeof r->key_id);
      json_builder_begin_object (b);
      tb_cli_add_string (b, "kind", r->kind == TB_UPK_RECIPIENT_PRODUCT ? "product" : "device");
      tb_cli_add_string (b, "id", r->id);
      tb_cli_add_string (b, "public_key_sha256", key_id);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

/* ---- image verify ---- */

typedef struct {
  TbContext *ctx;
  const char *upk;
  const char *image;
  const char *passphrase;
  GPtrArray *checks;
} VerifyWork;

static gboolean
verify_work (gpointer data, TbProgress *progress, GError **error)
{
  VerifyWork *w = data;

  return tb_image_verify (w->ctx, w->upk, w->image, w->passphrase, &w->checks, progress, error);
}

int
tb_cli_cmd_image_verify (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbSecret) pass = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GPtrArray) checks = NULL;
  gboolean no_decrypt = FALSE;
  gboolean valid;
  VerifyWork w = { 0 };
  const GOptionEntry entries[] = {
    { "no-decrypt", 0, 0, G_OPTION_ARG_NONE, &no_decrypt,
      N_("Do not decrypt (no passphrase needed); signature, chain, recipients and header only"), NULL },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("UPK IMAGE"),
                             _("Verify a mastered pair: signature, chain to the context root, recipients, image "
                               "header, and with the product key (passphrase) every chunk and the plaintext digest. "
                               "Exit 3 on any failure."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 3)
    return tb_cli_usage_error (cli, _("“image verify” takes UPK and IMAGE"));
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  if (!no_decrypt)
    {
      pass = tb_cli_get_passphrase (cli, tb_context_get_name (ctx), FALSE, &error);
      if (pass == NULL)
        return tb_cli_fail (cli, error);
    }
  w.ctx = ctx;
  w.upk = argv[1];
  w.image = argv[2];
  w.passphrase = pass;
  valid = tb_cli_run_work (cli, verify_work, &w, &error);
  checks = w.checks;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return tb_cli_fail (cli, error);
  if (!cli->json)
    {
      for (guint i = 0; checks != NULL && i < checks->len; i++)
        {
          TbCheck *c = g_ptr_array_index (checks, i);
          tb_cli_message (cli, "%-10s %-8s %s", c->name, tb_check_status_to_string (c->status), c->message);
        }
      if (!valid)
        return tb_cli_fail (cli, error);
      if (no_decrypt)
        tb_cli_message (cli, _("%s and %s: valid as far as checked (the chunks were not decrypted)"), argv[1],
                        argv[2]);
      else
        tb_cli_message (cli, _("%s and %s: valid"), argv[1], argv[2]);
      return TB_EXIT_OK;
    }
  /* what is not a failed check (a wrong passphrase) is not a verdict on
   * the files: the error object and its exit code, as without --json */
  if (!valid && !g_error_matches (error, TB_ERROR, TB_ERROR_VERIFY_FAILED))
    return tb_cli_fail (cli, error);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "valid");
  json_builder_add_boolean_value (b, valid);
  json_builder_set_member_name (b, "decrypted");
  json_builder_add_boolean_value (b, !no_decrypt && valid);
  if (!valid)
    tb_cli_add_string (b, "reason", error->message);
  json_builder_set_member_name (b, "checks");
  json_builder_begin_array (b);
  for (guint i = 0; checks != NULL && i < checks->len; i++)
    {
      TbCheck *c = g_ptr_array_index (checks, i);
      json_builder_begin_object (b);
      tb_cli_add_string (b, "name", c->name);
      tb_cli_add_string (b, "status", tb_check_status_to_string (c->status));
      tb_cli_add_string (b, "message", c->message);
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

/* ---- image decrypt ---- */

typedef struct {
  TbUpk *upk;
  const char *image;
  TbKey *key;
  const char *output;
} DecryptWork;

static gboolean
decrypt_work (gpointer data, TbProgress *progress, GError **error)
{
  DecryptWork *w = data;

  return tb_image_decrypt (w->upk, w->image, w->key, w->output, NULL, progress, error);
}

int
tb_cli_cmd_image_decrypt (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbUpk) upk = NULL;
  g_autoptr(TbKey) key = NULL;
  g_autoptr(TbSecret) pass = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *key_name = NULL;
  DecryptWork w = { 0 };
  const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Write the plaintext image to FILE"), N_("FILE") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("UPK IMAGE"),
                             _("Decrypt a mastered image with the product key, as a device would; the plaintext is "
                               "written only if every chunk authenticates and the digest matches."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 3 || output == NULL)
    return tb_cli_usage_error (cli, _("“image decrypt” takes UPK, IMAGE and -o FILE"));
  if (!tb_cli_claim_output (cli, output, &error))
    return tb_cli_fail (cli, error);
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL || (upk = tb_upk_load_file (argv[1], &error)) == NULL)
    return tb_cli_fail (cli, error);
  if (!tb_upk_verify_signature (upk, &error))
    return tb_cli_fail (cli, error);
  /* a product the context does not list may still have its key */
  key_name = tb_context_dup_product_key_name (ctx, tb_upk_get_product (upk));
  key = tb_key_load (ctx, key_name, &error);
  if (key == NULL)
    return tb_cli_fail (cli, error);
  pass = tb_cli_get_passphrase (cli, tb_context_get_name (ctx), FALSE, &error);
  if (pass == NULL || !tb_key_unlock (key, ctx, pass, &error))
    return tb_cli_fail (cli, error);
  w.upk = upk;
  w.image = argv[2];
  w.key = key;
  w.output = output;
  if (!tb_cli_run_work (cli, decrypt_work, &w, &error))
    return tb_cli_fail (cli, error);
  tb_cli_message (cli, _("Decrypted %s to %s"), argv[2], tb_cli_output_name (output));
  json_builder_begin_object (b);
  tb_cli_add_string (b, "output", output);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

/* ---- image export-mcuboot ---- */

typedef struct {
  TbContext *ctx;
  TbFirmware *firmware;
  TbMcubootOptions options;
  const char *passphrase;
  const char *output;
} McubootWork;

static gboolean
mcuboot_work (gpointer data, TbProgress *progress, GError **error)
{
  McubootWork *w = data;

  return tb_mcuboot_export (w->ctx, w->firmware, &w->options, w->passphrase, w->output, progress, error);
}

int
tb_cli_cmd_image_export_mcuboot (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *version = NULL;
  g_autofree char *load_text = NULL;
  g_autofree char *format_text = NULL;
  g_autofree char *product = NULL;
  g_autofree char *output = NULL;
  gboolean encrypt = FALSE;
  gint64 counter = 0;
  int header_size = 0;
  guint64 load_address = TB_FIRMWARE_NO_ADDRESS;
  TbFirmwareFormat format = TB_FIRMWARE_FORMAT_AUTO;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbFirmware) fw = NULL;
  g_autoptr(TbSecret) pass = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  McubootWork w = { 0 };
  const GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_STRING, &version, N_("Version, MAJOR.MINOR.PATCH[+BUILD]"), N_("X.Y.Z") },
    { "security-counter", 0, 0, G_OPTION_ARG_INT64, &counter, N_("Security counter (default 0)"), N_("N") },
    { "load-address", 0, 0, G_OPTION_ARG_STRING, &load_text, N_("Load address of a raw binary"), N_("ADDRESS") },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_text, N_("bin, ihex, srec or elf (default: guess)"), N_("FORMAT") },
    { "header-size", 0, 0, G_OPTION_ARG_INT, &header_size, N_("MCUboot header size (default 0x200 = 512)"), N_("BYTES") },
    { "encrypt", 0, 0, G_OPTION_ARG_NONE, &encrypt, N_("Encrypt the image (ECIES-P256) to the product key"), NULL },
    { "product", 0, 0, G_OPTION_ARG_STRING, &product, N_("Product whose key receives the image key (with --encrypt)"),
      N_("PRODUCT") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("The MCUboot image to write"), N_("FILE") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("INPUT"),
                             _("Write a standard MCUboot image signed by the mastering key (ECDSA P-256), optionally "
                               "encrypted to a product key, for projects that boot with MCUboot."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 2 || version == NULL || output == NULL)
    return tb_cli_usage_error (cli, _("“image export-mcuboot” takes INPUT, --version and -o FILE"));
  if (!tb_cli_claim_output (cli, output, &error))
    return tb_cli_fail (cli, error);
  if (counter < 0 || counter > G_MAXUINT32 || header_size < 0)
    return tb_cli_usage_error (cli, _("--security-counter and --header-size must be positive 32-bit numbers"));
  if ((load_text != NULL && !parse_address (load_text, &load_address, &error)) ||
      (format_text != NULL && !tb_firmware_format_from_string (format_text, &format, &error)))
    return tb_cli_fail (cli, error);
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  if (encrypt && product == NULL)
    {
      g_auto(GStrv) products = tb_context_dup_ids (ctx, TB_INVENTORY_PRODUCTS);
      if (g_strv_length (products) != 1)
        return tb_cli_usage_error (cli, _("--encrypt needs --product: the context has %u products"),
                                   g_strv_length (products));
      product = g_strdup (products[0]);
    }
  fw = tb_firmware_load_file (argv[1], format, load_address, &error);
  if (fw == NULL)
    return tb_cli_fail (cli, error);
  pass = tb_cli_get_passphrase (cli, tb_context_get_name (ctx), FALSE, &error);
  if (pass == NULL)
    return tb_cli_fail (cli, error);
  w.ctx = ctx;
  w.firmware = fw;
  w.options.version = version;
  w.options.security_counter = (guint32) counter;
  w.options.header_size = (guint32) header_size;
  w.options.encrypt_for = encrypt ? product : NULL;
  w.passphrase = pass;
  w.output = output;
  if (!tb_cli_run_work (cli, mcuboot_work, &w, &error))
    return tb_cli_fail (cli, error);
  tb_cli_message (cli, _("Wrote the MCUboot image %s (%s%s)"), tb_cli_output_name (output), version,
                  encrypt ? _(", encrypted") : "");
  json_builder_begin_object (b);
  tb_cli_add_string (b, "output", output);
  tb_cli_add_string (b, "version", version);
  json_builder_set_member_name (b, "encrypted");
  json_builder_add_boolean_value (b, encrypt);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}
