/* SPDX-License-Identifier: GPL-3.0-or-later */

/* trustbench-tool production commands: job create/import/list/show,
 * produce, records export, receipts verify. */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "tb-cli.h"

static TbSecret *
get_job_passphrase (TbCli *cli, const char *file, gboolean new_passphrase, GError **error)
{
  return tb_cli_get_secret (cli, "TRUSTBENCH_JOB_PASSPHRASE", file, "--job-passphrase-file", _("the job package"),
                            new_passphrase, error);
}

static GDateTime *
parse_date (const char *text, GError **error)
{
  GDateTime *t = g_date_time_new_from_iso8601 (text, NULL);
  g_autofree char *with_time = NULL;

  if (t == NULL)
    {
      with_time = g_strconcat (text, "T23:59:59Z", NULL);
      t = g_date_time_new_from_iso8601 (with_time, NULL);
    }
  if (t == NULL)
    g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                 _("“%s” is not a date: use YYYY-MM-DD or an ISO 8601 time (2027-03-31T18:00:00Z)"), text);
  return t;
}

int
tb_cli_cmd_job_create (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *upk = NULL, *image = NULL, *expires = NULL, *output = NULL, *job_id = NULL, *count_text = NULL;
  g_autofree char *job_pass_file = NULL, *slices_text = NULL;
  g_auto(GStrv) device_types = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbSecret) pass = NULL;
  g_autoptr(TbSecret) job_pass = NULL;
  g_autoptr(GDateTime) not_after = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autofree char *made_id = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  TbJobCreateOptions o = { 0 };
  guint64 count = 0, slices = 1;
  const GOptionEntry entries[] = {
    { "upk", 0, 0, G_OPTION_ARG_FILENAME, &upk, N_("The mastered image's UPK"), N_("UPK") },
    { "image", 0, 0, G_OPTION_ARG_FILENAME, &image, N_("The mastered image (.tbimg)"), N_("IMAGE") },
    { "count", 0, 0, G_OPTION_ARG_STRING, &count_text, N_("How many devices the job may make"), N_("N") },
    { "device-type", 0, 0, G_OPTION_ARG_STRING_ARRAY, &device_types, N_("Allowed device type (repeat; default: "
                                                                         "those of the image)"), N_("TYPE") },
    { "expires", 0, 0, G_OPTION_ARG_STRING, &expires, N_("No device after this date (YYYY-MM-DD or ISO 8601)"),
      N_("DATE") },
    { "job-id", 0, 0, G_OPTION_ARG_STRING, &job_id, N_("The job's id (default: generated)"), N_("ID") },
    { "slices", 0, 0, G_OPTION_ARG_STRING, &slices_text, N_("Split the count into N signed slices, one per station "
                                                            "(FILE-s1, FILE-s2…)"), N_("N") },
    { "job-passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &job_pass_file,
      N_("Read the job passphrase (protects the package's keys) from FILE; else $TRUSTBENCH_JOB_PASSPHRASE or a "
         "prompt"), N_("FILE") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Write the job package to FILE"), N_("FILE") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL,
                             _("Make a production job from a mastered pair: a package signed by the OEM root, with "
                               "the job's own issuing key and the count it may make."), entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 1 || upk == NULL || image == NULL || count_text == NULL || output == NULL)
    return tb_cli_usage_error (cli, _("“job create” needs --upk, --image, --count and -o FILE"));
  if (!tb_cli_claim_output (cli, output, &error))
    return tb_cli_fail (cli, error);
  if (!g_ascii_string_to_unsigned (count_text, 10, 1, TB_JOB_MAX_COUNT, &count, NULL))
    return tb_cli_usage_error (cli, _("--count must be a number from 1 to %u"), TB_JOB_MAX_COUNT);
  if (slices_text != NULL && !g_ascii_string_to_unsigned (slices_text, 10, 1, TB_JOB_MAX_SLICES, &slices, NULL))
    return tb_cli_usage_error (cli, _("--slices must be a number from 1 to %u"), TB_JOB_MAX_SLICES);
  if (expires != NULL && (not_after = parse_date (expires, &error)) == NULL)
    return tb_cli_fail (cli, error);
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_WRITE, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  pass = tb_cli_get_passphrase (cli, tb_context_get_name (ctx), FALSE, &error);
  if (pass == NULL)
    return tb_cli_fail (cli, error);
  job_pass = get_job_passphrase (cli, job_pass_file, TRUE, &error);
  if (job_pass == NULL)
    return tb_cli_fail (cli, error);
  o.job_id = job_id;
  o.upk_path = upk;
  o.image_path = image;
  o.count = count;
  o.device_types = (const char *const *) device_types;
  o.not_after = not_after;
  o.slices = (guint) slices;
  o.output = output;
  if (!tb_job_create (ctx, &o, pass, job_pass, &made_id, &files, &error))
    return tb_cli_fail (cli, error);
  {
    g_autoptr(TbCert) root = tb_cert_load (ctx, TB_KEY_NAME_ROOT_CA, NULL);
    tb_cli_message (cli,
                    g_dngettext (GETTEXT_PACKAGE, "Job %s: %" G_GUINT64_FORMAT " device, signed by the OEM root",
                                 "Job %s: %" G_GUINT64_FORMAT " devices, signed by the OEM root", count),
                    made_id, count);
    for (guint i = 0; i < files->len; i++)
      tb_cli_message (cli, _("  wrote %s"), (const char *) g_ptr_array_index (files, i));
    if (root != NULL)
      tb_cli_message (cli, _("Give the station the root fingerprint out of band: %s"), tb_cert_get_sha256 (root));
    json_builder_begin_object (b);
    tb_cli_add_string (b, "job", g_ptr_array_index (files, 0));
    tb_cli_add_string (b, "job_id", made_id);
    tb_cli_add_int (b, "count", (gint64) count);
    tb_cli_add_int (b, "slices", (gint64) files->len);
    json_builder_set_member_name (b, "files");
    json_builder_begin_array (b);
    for (guint i = 0; i < files->len; i++)
      json_builder_add_string_value (b, g_ptr_array_index (files, i));
    json_builder_end_array (b);
    tb_cli_add_string (b, "root_sha256", root != NULL ? tb_cert_get_sha256 (root) : NULL);
    json_builder_end_object (b);
  }
  return tb_cli_print_result (cli, b);
}

/* Asks the operator on the terminal to confirm a root fingerprint. */
static gboolean
confirm_on_tty (TbCli *cli, const char *fingerprint)
{
  char answer[16] = { 0 };
  FILE *tty = fopen ("/dev/tty", "r+");
  gboolean yes;

  if (tty == NULL || !isatty (fileno (tty)))
    {
      if (tty != NULL)
        fclose (tty);
      return FALSE;
    }
  fprintf (tty, _("This station trusts no OEM root yet. The job is signed by the root\n  SHA-256 %s\n"
                  "Does this match the fingerprint the OEM gave you? [y/N] "), fingerprint);
  fflush (tty);
  yes = fgets (answer, sizeof answer, tty) != NULL && (answer[0] == 'y' || answer[0] == 'Y');
  fclose (tty);
  return yes;
}

int
tb_cli_cmd_job_import (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *fingerprint = NULL, *job_pass_file = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbJobPackage) package = NULL;
  g_autoptr(TbCert) pinned = NULL;
  g_autoptr(TbSecret) pass = NULL;
  g_autoptr(TbSecret) job_pass = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const TbJobInfo *man;
  const GOptionEntry entries[] = {
    { "root-fingerprint", 0, 0, G_OPTION_ARG_STRING, &fingerprint,
      N_("The OEM root's SHA-256 fingerprint, confirmed out of band (first import only)"), N_("HEX") },
    { "job-passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &job_pass_file,
      N_("Read the job passphrase from FILE; else $TRUSTBENCH_JOB_PASSPHRASE or a prompt"), N_("FILE") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("FILE"),
                             _("Import a job package into this station context, after checking it against the OEM "
                               "root the station trusts (pinned at the first import, after you confirm its "
                               "fingerprint)."), entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 2)
    return tb_cli_usage_error (cli, _("“job import” takes one job package FILE"));
  package = tb_job_package_load (argv[1], &error);
  if (package == NULL)
    return tb_cli_fail (cli, error);
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_WRITE, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  pinned = tb_job_get_pinned_root (ctx, &error);
  if (error != NULL)
    return tb_cli_fail (cli, error);
  if (pinned == NULL && fingerprint == NULL && !cli->json &&
      confirm_on_tty (cli, tb_job_package_get_root_sha256 (package)))
    fingerprint = g_strdup (tb_job_package_get_root_sha256 (package));
  job_pass = get_job_passphrase (cli, job_pass_file, FALSE, &error);
  if (job_pass == NULL)
    return tb_cli_fail (cli, error);
  pass = tb_cli_get_passphrase (cli, tb_context_get_name (ctx), pinned == NULL, &error);
  if (pass == NULL)
    return tb_cli_fail (cli, error);
  if (!tb_job_import (ctx, package, fingerprint, job_pass, pass, &error))
    return tb_cli_fail (cli, error);
  man = tb_job_package_get_info (package);
  tb_cli_message (cli,
                  g_dngettext (GETTEXT_PACKAGE,
                               "Imported job %s (slice %u of %u): %" G_GUINT64_FORMAT " device of %s %s, OEM root %s%s",
                               "Imported job %s (slice %u of %u): %" G_GUINT64_FORMAT " devices of %s %s, OEM root %s%s",
                               man->count),
                  man->job_id, man->slice, man->slices, man->count, man->product, man->image_version,
                  man->root_sha256, pinned == NULL ? _(" (now pinned)") : "");
  json_builder_begin_object (b);
  tb_cli_add_string (b, "job_id", man->job_id);
  tb_cli_add_int (b, "count", (gint64) man->count);
  tb_cli_add_int (b, "slice", man->slice);
  tb_cli_add_int (b, "slices", man->slices);
  tb_cli_add_string (b, "product", man->product);
  tb_cli_add_string (b, "image_version", man->image_version);
  tb_cli_add_string (b, "root_sha256", man->root_sha256);
  json_builder_set_member_name (b, "root_pinned_now");
  json_builder_add_boolean_value (b, pinned == NULL);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

static gboolean
add_job (JsonBuilder *b, TbContext *ctx, const TbJobInfo *job, TbJobCounts *counts, GError **error)
{
  if (!tb_job_get_counts (ctx, job->job_id, counts, error))
    return FALSE;
  json_builder_begin_object (b);
  tb_cli_add_string (b, "job_id", job->job_id);
  tb_cli_add_string (b, "role", tb_job_role_to_string (job->role));
  tb_cli_add_string (b, "product", job->product);
  tb_cli_add_string (b, "image_version", job->image_version);
  tb_cli_add_int (b, "count", (gint64) counts->count);
  tb_cli_add_int (b, "made", (gint64) counts->made);
  tb_cli_add_int (b, "reserved", (gint64) counts->reserved);
  tb_cli_add_int (b, "remaining", (gint64) counts->remaining);
  tb_cli_add_int (b, "failed", (gint64) counts->failed);
  tb_cli_add_int (b, "slice", job->slice);
  tb_cli_add_int (b, "total_count", (gint64) job->total_count);
  tb_cli_add_string (b, "not_after", job->not_after);
  json_builder_end_object (b);
  return TRUE;
}

int
tb_cli_cmd_job_list (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL, _("List the context's production jobs and their counts."), NULL,
                             &error))
    return tb_cli_fail (cli, error);
  if (argc != 1)
    return tb_cli_usage_error (cli, _("“job list” takes no arguments"));
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  jobs = tb_job_list (ctx);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "jobs");
  json_builder_begin_array (b);
  if (jobs->len == 0)
    tb_cli_message (cli, _("No jobs (job create makes one, job import takes one in)"));
  for (guint i = 0; i < jobs->len; i++)
    {
      const TbJobInfo *job = g_ptr_array_index (jobs, i);
      TbJobCounts c;
      if (!add_job (b, ctx, job, &c, &error))
        return tb_cli_fail (cli, error);
      tb_cli_message (cli, _("%-28s %-6s %s %s: made %" G_GUINT64_FORMAT " / reserved %" G_GUINT64_FORMAT
                             " / limit %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " remaining"),
                      job->job_id, tb_job_role_to_string (job->role), job->product != NULL ? job->product : "?",
                      job->image_version != NULL ? job->image_version : "?", c.made, c.reserved,
                      c.count, c.remaining);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

/* An open slot in `job show --json`: uid and certificate serial only once
 * known (docs/cli.md) */
static void
add_open_slot (JsonBuilder *b, const TbOpenSlot *o)
{
  json_builder_begin_object (b);
  tb_cli_add_int (b, "slot", (gint64) o->slot);
  if (o->uid != NULL)
    tb_cli_add_string (b, "uid", o->uid);
  if (o->device_certificate_serial != NULL)
    tb_cli_add_string (b, "device_certificate_serial", o->device_certificate_serial);
  json_builder_set_member_name (b, "identity_sent");
  json_builder_add_boolean_value (b, o->identity_sent);
  json_builder_end_object (b);
}

int
tb_cli_cmd_job_show (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(GPtrArray) open = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(TbJobInfo) job = NULL;
  TbJobCounts c;

  if (!tb_cli_parse_options (cli, &argc, &argv, _("ID"),
                             _("Show a job: its counts and the slots interrupted by a crash, waiting for their "
                               "devices."), NULL, &error))
    return tb_cli_fail (cli, error);
  if (argc != 2)
    return tb_cli_usage_error (cli, _("“job show” takes one job ID"));
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL)
    return tb_cli_fail (cli, error);
  job = tb_job_lookup (ctx, argv[1], &error);
  if (job == NULL)
    return tb_cli_fail (cli, error);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "jobs");
  json_builder_begin_array (b);
  if (!add_job (b, ctx, job, &c, &error))
    return tb_cli_fail (cli, error);
  json_builder_end_array (b);
  tb_cli_message (cli, _("Job %s (%s)"), argv[1], tb_job_role_to_string (job->role));
  tb_cli_message (cli, _("  product %s, image %s"), job->product != NULL ? job->product : "?",
                  job->image_version != NULL ? job->image_version : "?");
  tb_cli_message (cli, _("  made %" G_GUINT64_FORMAT ", reserved %" G_GUINT64_FORMAT ", limit %" G_GUINT64_FORMAT
                         ", remaining %" G_GUINT64_FORMAT ", failed attempts %" G_GUINT64_FORMAT), c.made, c.reserved,
                  c.count, c.remaining, c.failed);
  if (job->not_after != NULL)
    tb_cli_message (cli, _("  expires %s"), job->not_after);
  if (job->root_sha256 != NULL)
    tb_cli_message (cli, _("  OEM root %s"), job->root_sha256);
  json_builder_set_member_name (b, "interrupted");
  json_builder_begin_array (b);
  if (job->role == TB_JOB_ROLE_STATION)
    {
      open = tb_job_list_interrupted (ctx, argv[1], &error);
      if (open == NULL)
        return tb_cli_fail (cli, error);
      for (guint i = 0; i < open->len; i++)
        {
          const TbOpenSlot *o = g_ptr_array_index (open, i);
          add_open_slot (b, o);
          tb_cli_message (cli, _("  slot %" G_GUINT64_FORMAT " interrupted: device %s%s"), o->slot,
                          o->uid != NULL ? o->uid : _("unknown"),
                          o->identity_sent
                            ? _(" holds its identity; connect it and run produce again to finish it")
                            : "");
        }
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

typedef struct {
  TbContext *ctx;
  TbProbe *probe;
  TbProduceOptions options;
  const char *passphrase;
  TbProduceResult result;
} ProduceWork;

static gboolean
produce_work (gpointer data, TbProgress *progress, GError **error)
{
  ProduceWork *w = data;

  return tb_produce (w->ctx, w->probe, &w->options, w->passphrase, &w->result, progress, error);
}

int
tb_cli_cmd_produce (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *job_id = NULL, *uri = NULL, *operator_name = NULL;
  gboolean no_lock = FALSE;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autoptr(TbSecret) pass = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  ProduceWork w = { 0 };
  const GOptionEntry entries[] = {
    { "job", 0, 0, G_OPTION_ARG_STRING, &job_id, N_("The job to produce under"), N_("ID") },
    { "probe", 0, 0, G_OPTION_ARG_STRING, &uri, N_("Probe URI"), N_("URI") },
    { "operator", 0, 0, G_OPTION_ARG_STRING, &operator_name, N_("Operator name for the record (default: login "
                                                                "name)"), N_("NAME") },
    { "no-lock", 0, 0, G_OPTION_ARG_NONE, &no_lock, N_("Leave debug access open (lab boards)"), NULL },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL,
                             _("Make one device under a job: reserve a slot, provision, program, record the device's "
                               "receipt. Exit 4 when the count is exhausted or the job expired."), entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 1 || job_id == NULL)
    return tb_cli_usage_error (cli, _("“produce” needs --job ID and --probe URI"));
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
  w.options.job_id = job_id;
  w.options.operator_name = operator_name;
  w.options.no_lock = no_lock;
  w.passphrase = pass;
  if (!tb_cli_run_work (cli, produce_work, &w, &error))
    {
      tb_produce_result_clear (&w.result);
      return tb_cli_fail (cli, error);
    }
  tb_cli_message (cli, _("Device %s %s under job %s (slot %" G_GUINT64_FORMAT "): %" G_GUINT64_FORMAT " of %"
                         G_GUINT64_FORMAT " made"), w.result.uid, w.result.result, job_id, w.result.slot,
                  w.result.made, w.result.limit);
  json_builder_begin_object (b);
  tb_cli_add_string (b, "uid", w.result.uid);
  tb_cli_add_int (b, "made", (gint64) w.result.made);
  tb_cli_add_int (b, "limit", (gint64) w.result.limit);
  {
    g_autofree char *receipt = g_base64_encode (g_bytes_get_data (w.result.receipt, NULL),
                                                g_bytes_get_size (w.result.receipt));
    tb_cli_add_string (b, "receipt", receipt);
  }
  tb_cli_add_string (b, "record_id", w.result.record_id);
  tb_cli_add_string (b, "result", w.result.result);
  tb_cli_add_int (b, "slot", (gint64) w.result.slot);
  tb_cli_add_string (b, "device_certificate_serial", w.result.device_certificate_serial);
  tb_cli_add_string (b, "app_version", w.result.app_version);
  json_builder_end_object (b);
  tb_produce_result_clear (&w.result);
  return tb_cli_print_result (cli, b);
}

int
tb_cli_cmd_records_export (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *job_id = NULL, *format_text = NULL, *output = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  TbRecordsFormat format;
  guint n = 0;
  const GOptionEntry entries[] = {
    { "job", 0, 0, G_OPTION_ARG_STRING, &job_id, N_("Only this job (default: all)"), N_("ID") },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_text, N_("csv or json"), N_("FORMAT") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Write to FILE"), N_("FILE") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, NULL,
                             _("Export one record per device (UID, certificate serial, image version, job, time, "
                               "operator, result, receipt), checking the journal's hash chain as it reads."),
                             entries, &error))
    return tb_cli_fail (cli, error);
  if (argc != 1 || format_text == NULL || output == NULL)
    return tb_cli_usage_error (cli, _("“records export” needs --format csv|json and -o FILE"));
  if (!tb_cli_claim_output (cli, output, &error))
    return tb_cli_fail (cli, error);
  if (g_strcmp0 (format_text, "json") == 0)
    format = TB_RECORDS_FORMAT_JSON;
  else if (g_strcmp0 (format_text, "csv") == 0)
    format = TB_RECORDS_FORMAT_CSV;
  else
    return tb_cli_usage_error (cli, _("--format is csv or json, not “%s”"), format_text);
  ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL || !tb_records_export (ctx, job_id, format, output, &n, &error))
    return tb_cli_fail (cli, error);
  tb_cli_message (cli, g_dngettext (GETTEXT_PACKAGE, "Wrote %u record to %s", "Wrote %u records to %s", n), n,
                  tb_cli_output_name (output));
  json_builder_begin_object (b);
  tb_cli_add_string (b, "output", output);
  tb_cli_add_int (b, "records", n);
  json_builder_end_object (b);
  return tb_cli_print_result (cli, b);
}

int
tb_cli_cmd_receipts_verify (TbCli *cli, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root_file = NULL;
  g_autofree char *records = NULL;
  g_autoptr(TbCert) root = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  TbReceiptsReport report;
  const GOptionEntry entries[] = {
    { "root", 0, 0, G_OPTION_ARG_FILENAME, &root_file, N_("The OEM root certificate (default: the context's)"),
      N_("FILE") },
    { NULL },
  };

  if (!tb_cli_parse_options (cli, &argc, &argv, _("FILE…"),
                             _("Verify exported records offline, merged from one or several stations: every device "
                               "certificate issued by its job, every receipt signed by its device for the job's "
                               "image, no duplicates or clones, no more devices than the job's count. Exit 3 on any "
                               "bad one."), entries, &error))
    return tb_cli_fail (cli, error);
  if (argc < 2)
    return tb_cli_usage_error (cli, _("“receipts verify” takes one or more exported records files"));
  if (root_file != NULL)
    root = tb_cert_new_from_file (root_file, &error);
  else
    {
      g_autoptr(TbContext) ctx = tb_cli_open_context (cli, TB_CONTEXT_OPEN_READ, &error);
      if (ctx != NULL)
        {
          root = tb_job_get_pinned_root (ctx, &error);
          if (root == NULL && error == NULL)
            g_set_error (&error, TB_ERROR, TB_ERROR_NOT_FOUND,
                         _("The context holds no OEM root: give it with --root FILE"));
        }
    }
  if (root == NULL)
    return tb_cli_fail (cli, error);
  if (!tb_receipts_verify (root, (const char *const *) argv + 1, &report, &error))
    return tb_cli_fail (cli, error);
  records = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u record", "%u records", report.records), report.records);
  if (report.valid)
    {
      g_autofree char *devices = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u device", "%u devices", report.devices),
                                                  report.devices);
      /* TRANSLATORS: "3 devices in 3 records" */
      tb_cli_message (cli, _("All receipts valid: %s in %s"), devices, records);
    }
  else
    {
      tb_cli_message (cli, g_dngettext (GETTEXT_PACKAGE, "%u PROBLEM in %s:", "%u PROBLEMS in %s:", report.bad->len),
                      report.bad->len, records);
      for (guint i = 0; i < report.bad->len; i++)
        {
          const TbReceiptProblem *o = g_ptr_array_index (report.bad, i);
          tb_cli_message (cli, "  %s (%s): %s", o->record_id, o->uid, o->problem);
        }
    }
  for (guint i = 0; i < report.jobs->len; i++)
    {
      const TbReceiptJob *o = g_ptr_array_index (report.jobs, i);
      tb_cli_message (cli,
                      g_dngettext (GETTEXT_PACKAGE, "  job %s: %" G_GUINT64_FORMAT " device of %" G_GUINT64_FORMAT " allowed",
                                   "  job %s: %" G_GUINT64_FORMAT " devices of %" G_GUINT64_FORMAT " allowed", o->devices),
                      o->job_id,
                      o->devices, o->total_count);
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "valid");
  json_builder_add_boolean_value (b, report.valid);
  tb_cli_add_int (b, "count", report.devices);
  tb_cli_add_int (b, "records", report.records);
  json_builder_set_member_name (b, "bad");
  json_builder_begin_array (b);
  for (guint i = 0; i < report.bad->len; i++)
    {
      const TbReceiptProblem *o = g_ptr_array_index (report.bad, i);
      json_builder_begin_object (b);
      tb_cli_add_string (b, "record_id", o->record_id);
      tb_cli_add_string (b, "uid", o->uid);
      tb_cli_add_string (b, "problem", o->problem);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "jobs");
  json_builder_begin_array (b);
  for (guint i = 0; i < report.jobs->len; i++)
    {
      const TbReceiptJob *o = g_ptr_array_index (report.jobs, i);
      json_builder_begin_object (b);
      tb_cli_add_string (b, "job_id", o->job_id);
      tb_cli_add_int (b, "total_count", (gint64) o->total_count);
      tb_cli_add_int (b, "devices", (gint64) o->devices);
      tb_cli_add_int (b, "slices_seen", o->slices_seen);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  tb_cli_print_result (cli, b);
  {
    gboolean valid = report.valid;
    tb_receipts_report_clear (&report);
    return valid ? TB_EXIT_OK : TB_EXIT_VERIFY;
  }
}
