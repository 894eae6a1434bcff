/* SPDX-License-Identifier: GPL-3.0-or-later */

/* trustbench-tool commands on the security context: init, show. */

#include "config.h"

#include <glib/gi18n.h>

#include "tb-cli.h"

/**
 * tb_cli_add_inventory:
 *
 * Adds `keys`, `certificates`, `products` or `jobs`: the inventory as
 * context.json holds it (tb_context_inventory_to_json()), to an open JSON
 * object.
 */
void
tb_cli_add_inventory (JsonBuilder *builder, TbContext *ctx, TbInventory inventory)
{
  json_builder_set_member_name (builder, tb_inventory_to_string (inventory));
  json_builder_add_value (builder, tb_context_inventory_to_json (ctx, inventory));
}

/**
 * tb_cli_check_context_files:
 *
 * Checks every file @ctx lists (tb_context_check_files()); when some are
 * missing or unreadable, says so in one line on stderr, naming each.
 *
 * Returns: (transfer full) (element-type TbContextFileProblem): the
 *   problems, empty when there are none
 */
GPtrArray *
tb_cli_check_context_files (TbCli *cli, TbContext *ctx)
{
  GPtrArray *problems = tb_context_check_files (ctx);
  g_autoptr(GString) line = NULL;

  if (problems->len == 0)
    return problems;
  line = g_string_new (NULL);
  for (guint i = 0; i < problems->len; i++)
    g_string_append_printf (line, "%s%s", i > 0 ? "; " : "",
                            ((TbContextFileProblem *) g_ptr_array_index (problems, i))->message);
  /* TRANSLATORS: the end is the list of files, "certs/a.pem, listed for certificate “a”, is missing; …" */
  fprintf (stderr, _("%s: the context is incomplete (restore from a backup of it): %s\n"), cli->prog, line->str);
  return problems;
}

/* `file_problems`: [{file, inventory, entry, message}] */
void
tb_cli_add_file_problems (JsonBuilder *builder, GPtrArray *problems)
{
  json_builder_set_member_name (builder, "file_problems");
  json_builder_begin_array (builder);
  for (guint i = 0; i < problems->len; i++)
    {
      TbContextFileProblem *p = g_ptr_array_index (problems, i);
      json_builder_begin_object (builder);
      tb_cli_add_string (builder, "file", p->file);
      tb_cli_add_string (builder, "inventory", tb_inventory_to_string (p->inventory));
      tb_cli_add_string (builder, "entry", p->entry);
      tb_cli_add_string (builder, "message", p->message);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/**
 * tb_cli_add_context_summary:
 *
 * Adds the members `context`, `name`, `id`, `schema_version`, `keys`,
 * `certificates`, `products` and `jobs` to an open JSON object.
 */
void
tb_cli_add_context_summary (JsonBuilder *builder, TbContext *ctx)
{
  json_builder_set_member_name (builder, "context");
  json_builder_add_string_value (builder, tb_context_get_path (ctx));
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, tb_context_get_name (ctx));
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, tb_context_get_id (ctx));
  tb_cli_add_int (builder, "schema_version", tb_context_get_schema_version (ctx));
  json_builder_set_member_name (builder, "created");
  json_builder_add_string_value (builder, tb_context_get_created (ctx));
  for (TbInventory inv = 0; inv < TB_INVENTORY_N; inv++)
    tb_cli_add_inventory (builder, ctx, inv);
}

static gboolean
add_products (TbContext *ctx, char **products, GError **error)
{
  for (guint i = 0; products != NULL && products[i] != NULL; i++)
    if (!tb_context_add_product (ctx, products[i], error))
      return FALSE;
  return TRUE;
}

typedef struct {
  TbContext *ctx;
  char **products;
  const char *algorithm;
  const char *passphrase;
  TbHierarchyTokens tokens;
} InitWork;

static gboolean
init_work (gpointer data, TbProgress *progress, GError **error)
{
  InitWork *w = data;

  return tb_hierarchy_create_on_tokens (w->ctx, (const char *const *) w->products, w->algorithm, w->passphrase,
                                        &w->tokens, progress, error);
}

int
tb_cli_cmd_init (TbCli *cli, int argc, char **argv)
{
  g_autofree char *name = NULL;
  g_autofree char *algorithm = NULL;
  g_auto(GStrv) products = NULL;
  gboolean empty = FALSE;
  g_autofree char *root_on = NULL, *mastering_on = NULL, *job_key_on = NULL;
  const char *dir;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbSecret) pass = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_("Human name of the context (default: the directory name)"), N_("NAME") },
    { "product", 0, 0, G_OPTION_ARG_STRING_ARRAY, &products, N_("A product of the OEM (repeat for several; default: “default”)"), N_("PRODUCT") },
    { "algorithm", 0, 0, G_OPTION_ARG_STRING, &algorithm, N_("Algorithm of the root, CA and mastering keys: ec-p256 (default), ec-p384, ed25519, rsa-3072"), N_("ALGORITHM") },
    { "empty", 0, 0, G_OPTION_ARG_NONE, &empty, N_("Create the context without the default key hierarchy"), NULL },
    { "root-on", 0, 0, G_OPTION_ARG_STRING, &root_on, N_("Generate the root key on this PKCS#11 token"), N_("URI") },
    { "mastering-on", 0, 0, G_OPTION_ARG_STRING, &mastering_on, N_("Generate the mastering key on this token"),
      N_("URI") },
    { "job-key-on", 0, 0, G_OPTION_ARG_STRING, &job_key_on, N_("Add a job signing key, generated on this token"),
      N_("URI") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL,
                             _("Create a security context in the directory given by -C (or $TRUSTBENCH_CONTEXT): "
                               "the root CA, provisioning CA, mastering key and one key per product, "
                               "every private key encrypted with the passphrase."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if (argc > 1)
    return tb_cli_usage_error (cli, _("“init” takes no arguments; give the directory with -C DIR"));
  dir = tb_cli_context_dir (cli);
  if (dir == NULL)
    return tb_cli_usage_error (cli, _("No security context given: use -C DIR or set TRUSTBENCH_CONTEXT"));
  if (products == NULL)
    products = g_strdupv ((char *[]){ (char *) "default", NULL });
  for (guint i = 0; products[i] != NULL; i++)
    if (!tb_name_is_valid (products[i], &error))
      return tb_cli_fail (cli, error);
  if (algorithm != NULL && !tb_key_algorithm_is_supported (algorithm, &error))
    return tb_cli_fail (cli, error);
  if ((root_on != NULL && !tb_pkcs11_uri_is_valid (root_on, &error)) ||
      (mastering_on != NULL && !tb_pkcs11_uri_is_valid (mastering_on, &error)) ||
      (job_key_on != NULL && !tb_pkcs11_uri_is_valid (job_key_on, &error)))
    return tb_cli_fail (cli, error);
  if (empty && (root_on != NULL || mastering_on != NULL || job_key_on != NULL))
    return tb_cli_usage_error (cli, _("--empty makes no keys: it does not combine with --root-on, --mastering-on or "
                                      "--job-key-on"));
  if (!empty)
    {
      pass = tb_cli_get_passphrase (cli, _("the new context's keys"), TRUE, &error);
      if (pass == NULL)
        return tb_cli_fail (cli, error);
    }

  /* made whole in a hidden directory beside DIR, then renamed into place:
   * killed half-way, it leaves no context rather than half of one */
  ctx = tb_context_create_staged (dir, name, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  {
    gboolean ok;

    if (empty)
      ok = add_products (ctx, products, &error) && tb_context_save (ctx, &error);
    else
      {
        InitWork w = { ctx, products, algorithm, pass, { root_on, mastering_on, job_key_on } };
        ok = tb_cli_run_work (cli, init_work, &w, &error);
      }
    if (!ok)
      {
        g_autofree char *stage = g_strdup (tb_context_get_path (ctx));
        g_clear_object (&ctx);
        tb_file_remove_tree (stage, NULL);
        return tb_cli_fail (cli, error);
      }
  }
  ctx = tb_context_commit_staged (g_steal_pointer (&ctx), dir, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);

  tb_cli_message (cli, _("Created security context “%s” in %s"), tb_context_get_name (ctx),
                  tb_context_get_path (ctx));
  json_builder_begin_object (b);
  tb_cli_add_context_summary (b, ctx);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

static void
print_inventory_text (TbCli *cli, TbContext *ctx, TbInventory inventory, const char *title)
{
  g_auto(GStrv) ids = tb_context_dup_ids (ctx, inventory);

  tb_cli_message (cli, "%s (%u)", title, g_strv_length (ids));
  for (guint i = 0; ids[i] != NULL; i++)
    tb_cli_message (cli, "  %s", ids[i]);
}

int
tb_cli_cmd_show (TbCli *cli, int argc, char **argv)
{
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GPtrArray) warnings = NULL;
  g_autoptr(GPtrArray) file_problems = NULL;
  g_autofree char *report = NULL;
  int exit_code;
  const GOptionEntry entries[] = {
    { "report", 0, 0, G_OPTION_ARG_FILENAME, &report,
      N_("Also write the review report (keys, certificates, fingerprints, validity, storage, warnings, images, "
         "devices and how they chain) to FILE.pdf, FILE.svg or FILE.json (“-”: JSON on standard output)"),
      N_("FILE") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL,
                             _("Show a summary of the security context and its policy warnings."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if (argc > 1)
    return tb_cli_usage_error (cli, _("“show” takes no arguments"));
  if (report != NULL && !tb_cli_claim_output (cli, report, &error))
    return tb_cli_fail (cli, error);
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  if (report != NULL)
    {
      if (!tb_trust_report_write (ctx, report, &error))
        return tb_cli_fail (cli, error);
      tb_cli_message (cli, _("Review report written to %s"), tb_cli_output_name (report));
    }
  warnings = tb_policy_check_context (ctx);
  file_problems = tb_cli_check_context_files (cli, ctx);
  exit_code = file_problems->len > 0 ? TB_EXIT_VERIFY : TB_EXIT_OK;

  if (!cli->json)
    {
      tb_cli_message (cli, _("Context:  %s"), tb_context_get_name (ctx));
      tb_cli_message (cli, _("Path:     %s"), tb_context_get_path (ctx));
      tb_cli_message (cli, _("Id:       %s"), tb_context_get_id (ctx));
      tb_cli_message (cli, _("Created:  %s"), tb_context_get_created (ctx));
      print_inventory_text (cli, ctx, TB_INVENTORY_KEYS, _("Keys"));
      print_inventory_text (cli, ctx, TB_INVENTORY_CERTIFICATES, _("Certificates"));
      print_inventory_text (cli, ctx, TB_INVENTORY_PRODUCTS, _("Products"));
      print_inventory_text (cli, ctx, TB_INVENTORY_JOBS, _("Jobs"));
      for (guint i = 0; i < warnings->len; i++)
        {
          TbPolicyFinding *w = g_ptr_array_index (warnings, i);
          tb_cli_message (cli, "%s: %s", tb_severity_to_string (w->severity), w->message);
        }
      return exit_code;
    }

  json_builder_begin_object (b);
  tb_cli_add_context_summary (b, ctx);
  json_builder_set_member_name (b, "warnings");
  json_builder_begin_array (b);
  for (guint i = 0; i < warnings->len; i++)
    {
      TbPolicyFinding *w = g_ptr_array_index (warnings, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "severity");
      json_builder_add_string_value (b, tb_severity_to_string (w->severity));
      if (w->subject != NULL)
        {
          json_builder_set_member_name (b, "subject");
          json_builder_add_string_value (b, w->subject);
        }
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, w->message);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  tb_cli_add_file_problems (b, file_problems);
  json_builder_end_object (b);
  tb_cli_print_result (cli, b);
  return exit_code;
}
