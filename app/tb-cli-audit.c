/* SPDX-License-Identifier: GPL-3.0-or-later */

/* trustbench-tool commands on the audit log: show, verify. */

#include "config.h"

#include <glib/gi18n.h>

#include "tb-cli.h"

/* @valid: the log's verdict, with whatever else was checked */
static void
add_report (JsonBuilder *b, const TbAuditReport *report, gboolean valid)
{
  json_builder_set_member_name (b, "valid");
  json_builder_add_boolean_value (b, valid);
  tb_cli_add_int (b, "entries", (gint64) report->entries);
  tb_cli_add_int (b, "anchored", (gint64) report->anchored);
  json_builder_set_member_name (b, "first_bad_entry");
  if (report->first_bad > 0)
    json_builder_add_int_value (b, (gint64) report->first_bad);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "problem");
  if (report->problem != NULL)
    json_builder_add_string_value (b, report->problem);
  else
    json_builder_add_null_value (b);
}

static void
say_report (TbCli *cli, const TbAuditReport *report)
{
  if (report->valid)
    tb_cli_message (cli, _("Audit log valid: %" G_GUINT64_FORMAT " entries, none modified, deleted, reordered or "
                           "truncated"), report->entries);
  else
    tb_cli_message (cli, _("Audit log NOT valid: %s"), report->problem);
}

/* Opens the context read-only and verifies its log. */
static TbContext *
open_and_verify (TbCli *cli, TbAuditReport *report, GError **error)
{
  g_autoptr(TbContext) ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, error);

  if (ctx == NULL || !tb_audit_verify (ctx, report, error))
    return NULL;
  return g_steal_pointer (&ctx);
}

int
tb_cli_cmd_audit_verify (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GPtrArray) problems = NULL;
  TbAuditReport report;
  gboolean valid;

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL,
                             _("Check the context's audit log: every entry chained to the one before it and the "
                               "last one to the recorded head; and every file the context lists is there. Exit 3 "
                               "when either was tampered with."),
                             NULL, &error))
    return tb_cli_fail (cli, error);
  if (argc != 1)
    return tb_cli_usage_error (cli, _("“audit verify” takes no arguments"));
  ctx = open_and_verify (cli, &report, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  say_report (cli, &report);
  /* a file deleted from the context leaves no trace in the log: checked
   * here too, so that the trail and what it describes are both intact */
  problems = tb_cli_check_context_files (cli, ctx);
  valid = report.valid && problems->len == 0;
  json_builder_begin_object (b);
  add_report (b, &report, valid);
  json_builder_set_member_name (b, "log_valid");
  json_builder_add_boolean_value (b, report.valid);
  tb_cli_add_file_problems (b, problems);
  json_builder_end_object (b);
  tb_cli_print_result (cli, b);
  tb_audit_report_clear (&report);
  return valid ? TB_EXIT_OK : TB_EXIT_VERIFY;
}

int
tb_cli_cmd_audit_show (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  TbAuditReport report;

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL,
                             _("List the audit log's entries, oldest first, with the result of its verification."),
                             NULL, &error))
    return tb_cli_fail (cli, error);
  if (argc != 1)
    return tb_cli_usage_error (cli, _("“audit show” takes no arguments"));
  ctx = open_and_verify (cli, &report, &error);
  if (ctx == NULL || (entries = tb_audit_read (ctx, &error)) == NULL)
    {
      tb_audit_report_clear (&report);
      return tb_cli_fail (cli, error);
    }
  for (guint i = 0; i < entries->len; i++)
    {
      TbAuditEntry *e = g_ptr_array_index (entries, i);
      g_autofree char *sentence = tb_audit_entry_describe (e);
      const char *time = tb_audit_entry_get_time (e);
      const char *event = tb_audit_entry_get_event (e);
      const char *subject = tb_audit_entry_get_subject (e);

      tb_cli_message (cli, "%5" G_GUINT64_FORMAT "  %s  %-16s %s  %s", tb_audit_entry_get_seq (e),
                      time != NULL ? time : "?", event != NULL ? event : "?", subject != NULL ? subject : "",
                      sentence);
    }
  say_report (cli, &report);
  json_builder_begin_object (b);
  add_report (b, &report, report.valid);
  /* each entry as its line holds it (docs/cli.md) */
  json_builder_set_member_name (b, "log");
  json_builder_begin_array (b);
  for (guint i = 0; i < entries->len; i++)
    json_builder_add_value (b, tb_audit_entry_to_json (g_ptr_array_index (entries, i)));
  json_builder_end_array (b);
  json_builder_end_object (b);
  tb_audit_report_clear (&report);
  return tb_cli_print_result (cli, b);
}
