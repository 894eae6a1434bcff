/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The audit log: every change to it (modification, deletion, reordering,
 * truncation) is found; a writer that stopped between the log and its head
 * loses nothing. */

#include "config.h"

#include <glib/gstdio.h>

#include "tb-audit-private.h"
#include "tb-test-util.h"
#include "trustbench.h"

typedef struct {
  char *tmp;
  char *dir;
  char *log;
  char *head;
  TbContext *ctx;
} Fixture;

static void
append (Fixture *f, guint i)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) details = json_object_new ();
  g_autofree char *subject = g_strdup_printf ("thing-%u", i);

  json_object_set_int_member (details, "n", i);
  g_assert_true (tb_audit_append (f->ctx, "test.event", subject, details, &error));
  g_assert_no_error (error);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = tb_test_make_tmpdir ();
  f->dir = g_build_filename (f->tmp, "ctx", NULL);
  f->ctx = tb_context_create (f->dir, "Audit Test", &error);
  g_assert_no_error (error);
  f->log = g_build_filename (f->dir, "audit", "log.jsonl", NULL);
  f->head = g_build_filename (f->dir, "audit", "head.json", NULL);
  for (guint i = 1; i <= 6; i++)
    append (f, i);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->ctx);
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->dir);
  g_free (f->log);
  g_free (f->head);
}

static void
verify (Fixture *f, gboolean valid, guint64 entries, guint64 first_bad, const char *words)
{
  g_autoptr(GError) error = NULL;
  TbAuditReport report;

  g_assert_true (tb_audit_verify (f->ctx, &report, &error));
  g_assert_no_error (error);
  if (report.valid != valid)
    g_error ("expected %s, got: %s", valid ? "valid" : "invalid", report.problem ? report.problem : "valid");
  g_assert_cmpuint (report.entries, ==, entries);
  g_assert_cmpuint (report.first_bad, ==, first_bad);
  if (words != NULL && strstr (report.problem, words) == NULL)
    g_error ("“%s” does not say “%s”", report.problem, words);
  tb_audit_report_clear (&report);
}

/* Rewrites the log's lines through @edit. */
static void
edit_lines (Fixture *f, void (*edit) (GPtrArray *lines))
{
  g_autofree char *data = tb_test_read_file (f->log, NULL);
  g_auto(GStrv) split = g_strsplit (data, "\n", -1);
  g_autoptr(GPtrArray) lines = g_ptr_array_new ();
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; split[i] != NULL && split[i][0] != '\0'; i++)
    g_ptr_array_add (lines, split[i]);
  edit (lines);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (out, "%s\n", (char *) g_ptr_array_index (lines, i));
  tb_test_write_file (f->log, out->str);
}

static void
test_chain (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;

  verify (f, TRUE, 6, 0, NULL);
  entries = tb_audit_read (f->ctx, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 6);
  g_assert_cmpstr (tb_audit_entry_get_subject (g_ptr_array_index (entries, 2)), ==, "thing-3");
  g_assert_cmpuint (tb_audit_entry_get_seq (g_ptr_array_index (entries, 5)), ==, 6);
}

static void
modify_third (GPtrArray *lines)
{
  char *l = g_ptr_array_index (lines, 2);
  char *p = strstr (l, "thing-3");
  g_assert_nonnull (p);
  p[6] = '9'; /* thing-9 */
}

static void
test_modified (Fixture *f, gconstpointer data)
{
  edit_lines (f, modify_third);
  verify (f, FALSE, 3, 4, "does not follow");
}

static void
delete_second (GPtrArray *lines)
{
  g_ptr_array_remove_index (lines, 1);
}

static void
test_deleted (Fixture *f, gconstpointer data)
{
  edit_lines (f, delete_second);
  verify (f, FALSE, 1, 2, "out of place");
}

static void
swap_3_4 (GPtrArray *lines)
{
  gpointer t = lines->pdata[2];
  lines->pdata[2] = lines->pdata[3];
  lines->pdata[3] = t;
}

static void
test_reordered (Fixture *f, gconstpointer data)
{
  edit_lines (f, swap_3_4);
  verify (f, FALSE, 2, 3, "out of place");
}

static void
drop_last (GPtrArray *lines)
{
  g_ptr_array_remove_index (lines, lines->len - 1);
}

static void
modify_last (GPtrArray *lines)
{
  char *l = g_ptr_array_index (lines, lines->len - 1);
  char *p = strstr (l, "thing-6");
  p[6] = '7';
}

/* Truncation and a changed last entry are found by verify, and the next
 * append refuses to extend such a log. */
static void
test_truncated_and_last (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pristine = tb_test_read_file (f->log, NULL);
  g_autofree char *after = NULL;

  g_assert_true (tb_audit_check_appendable (f->ctx, &error));
  g_assert_no_error (error);
  edit_lines (f, drop_last);
  verify (f, FALSE, 5, 6, "removed from its end");
  /* asked first (a workflow does, before it writes its files), then tried */
  g_assert_false (tb_audit_check_appendable (f->ctx, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_assert_nonnull (strstr (error->message, "truncated"));
  g_clear_error (&error);
  g_assert_false (tb_audit_append (f->ctx, "test.event", "x", NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);
  /* a key is refused before its files are written, not after */
  {
    g_autoptr(TbKey) key = tb_key_generate ("ec-p256", &error);
    g_autofree char *key_file = g_build_filename (f->dir, "keys", "late.key", NULL);
    g_autofree char *pub_file = g_build_filename (f->dir, "keys", "late.pub", NULL);

    g_assert_no_error (error);
    g_assert_true (tb_context_lock (f->ctx, &error));
    g_assert_false (tb_key_store (key, f->ctx, "late", TB_KEY_USAGE_JOB, "a long passphrase", &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
    g_clear_error (&error);
    tb_context_unlock (f->ctx);
    g_assert_false (g_file_test (key_file, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (pub_file, G_FILE_TEST_EXISTS));
    g_assert_false (tb_context_has_entry (f->ctx, TB_INVENTORY_KEYS, "late"));
  }

  tb_test_write_file (f->log, pristine);
  verify (f, TRUE, 6, 0, NULL);
  edit_lines (f, modify_last);
  verify (f, FALSE, 6, 6, "modified");
  g_assert_false (tb_audit_check_appendable (f->ctx, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_assert_nonnull (strstr (error->message, "modified"));
  g_clear_error (&error);
  g_assert_false (tb_audit_append (f->ctx, "test.event", "x", NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  /* nothing was appended */
  after = tb_test_read_file (f->log, NULL);
  g_assert_cmpuint (strlen (after), ==, strlen (pristine));

  /* a cut-short last line */
  {
    g_autofree char *cut = g_strndup (pristine, strlen (pristine) - 10);
    tb_test_write_file (f->log, cut);
    verify (f, FALSE, 5, 6, "cut short");
  }
  /* the head gone */
  tb_test_write_file (f->log, pristine);
  g_assert_cmpint (g_unlink (f->head), ==, 0);
  verify (f, FALSE, 6, 1, "head is missing");
}

/* A writer that stopped after appending but before moving the head: the
 * entry chains, verify accepts it (not yet anchored) and the next append
 * adopts it. */
static void
test_unanchored_tail (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *old_head = tb_test_read_file (f->head, NULL);
  TbAuditReport report;

  append (f, 7);
  tb_test_write_file (f->head, old_head);
  g_assert_true (tb_audit_verify (f->ctx, &report, &error));
  g_assert_true (report.valid);
  g_assert_cmpuint (report.entries, ==, 7);
  g_assert_cmpuint (report.anchored, ==, 6);
  tb_audit_report_clear (&report);
  append (f, 8);
  g_assert_true (tb_audit_verify (f->ctx, &report, &error));
  g_assert_true (report.valid);
  g_assert_cmpuint (report.entries, ==, 8);
  g_assert_cmpuint (report.anchored, ==, 8);
  tb_audit_report_clear (&report);
}

/* A writer killed in the middle of its append (the line has no end): the
 * torn bytes were never an entry; verify accepts the log and the next
 * append cuts them off. */
static void
test_torn_append (Fixture *f, gconstpointer data)
{
  g_autofree char *pristine = tb_test_read_file (f->log, NULL);
  g_autofree char *torn = g_strconcat (pristine, "{\"seq\":7,\"time\":\"2026-", NULL);
  g_autofree char *after = NULL;
  g_auto(GStrv) lines = NULL;

  tb_test_write_file (f->log, torn);
  verify (f, TRUE, 6, 0, NULL);
  append (f, 7);
  verify (f, TRUE, 7, 0, NULL);
  after = tb_test_read_file (f->log, NULL);
  g_assert_true (g_str_has_prefix (after, pristine));
  lines = g_strsplit (after + strlen (pristine), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 2);
  g_assert_nonnull (strstr (lines[0], "thing-7"));
  g_assert_cmpstr (lines[1], ==, "");
}

/* The first append writes the log, then creates the head: killed in
 * between, one entry and no head is a sound log, and the next append
 * writes the head. Two entries without a head are not. */
static void
test_first_entry_without_head (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (f->tmp, "fresh", NULL);
  g_autofree char *head = g_build_filename (dir, "audit", "head.json", NULL);
  g_autoptr(TbContext) ctx = tb_context_create (dir, "Fresh", &error);
  TbAuditReport report;

  g_assert_no_error (error);
  g_assert_true (tb_audit_append (ctx, "test.event", "first", NULL, &error));
  g_assert_cmpint (g_unlink (head), ==, 0);
  g_assert_true (tb_audit_verify (ctx, &report, &error));
  g_assert_true (report.valid);
  g_assert_cmpuint (report.entries, ==, 1);
  tb_audit_report_clear (&report);
  g_assert_true (tb_audit_append (ctx, "test.event", "second", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (head, G_FILE_TEST_EXISTS));
  g_assert_true (tb_audit_verify (ctx, &report, &error));
  g_assert_true (report.valid);
  g_assert_cmpuint (report.entries, ==, 2);
  tb_audit_report_clear (&report);
  g_assert_cmpint (g_unlink (head), ==, 0);
  g_assert_true (tb_audit_verify (ctx, &report, &error));
  g_assert_false (report.valid);
  tb_audit_report_clear (&report);
}

static void
test_damaged_head (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  TbAuditReport report;

  tb_test_write_file (f->head, "{\"entries\": \"many\"}");
  g_assert_false (tb_audit_verify (f->ctx, &report, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "head.json"));
}

static gpointer
unlock_later (gpointer data)
{
  g_usleep (300 * 1000);
  tb_context_unlock (data);
  return NULL;
}

/* A writer appending while another process-like holder has the context
 * locked waits for it instead of losing the entry. */
static void
test_waits_for_lock (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) other = tb_context_open (f->dir, TB_CONTEXT_OPEN_READ, &error);
  g_autoptr(GThread) thread = NULL;
  g_autoptr(JsonObject) details = json_object_new ();
  gint64 start;

  g_assert_no_error (error);
  g_assert_true (tb_context_is_writable (f->ctx));
  thread = g_thread_new ("unlock", unlock_later, f->ctx);
  start = g_get_monotonic_time ();
  g_assert_true (tb_audit_append (other, "test.event", "waited", details, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 200 * 1000);
  g_thread_join (g_steal_pointer (&thread));
  verify (f, TRUE, 7, 0, NULL);
}

/* Key creation, issuance, mastering and provisioning leave entries. */
static void
test_events_recorded (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  const char *products[] = { "sensor", NULL };
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_true (tb_hierarchy_create (f->ctx, products, NULL, "audit passphrase", NULL, &error));
  g_assert_no_error (error);
  entries = tb_audit_read (f->ctx, &error);
  for (guint i = 0; i < entries->len; i++)
    g_hash_table_add (seen, (gpointer) tb_audit_entry_get_event (g_ptr_array_index (entries, i)));
  g_assert_true (g_hash_table_contains (seen, "key.store"));
  g_assert_true (g_hash_table_contains (seen, "cert.issue"));
  verify (f, TRUE, entries->len, 0, NULL);
}

/* tb_audit_contains: from the end backwards, across its read blocks */
static void
test_contains (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *log = g_build_filename (f->dir, "audit", "log.jsonl", NULL);
  g_autofree char *contents = NULL;
  gboolean found = TRUE;
  gsize len = 0;

  /* a context with no log yet: nothing in it */
  {
    g_autofree char *dir = g_build_filename (f->tmp, "empty", NULL);
    g_autoptr(TbContext) empty = tb_context_create (dir, "Empty", &error);
    g_assert_no_error (error);
    g_assert_true (tb_audit_contains (empty, "thing-1", &found, &error));
    g_assert_no_error (error);
    g_assert_false (found);
  }

  /* the fixture's six entries and 900 more */
  for (guint i = 7; i <= 906; i++)
    append (f, i);
  g_assert_true (g_file_get_contents (log, &contents, &len, NULL));
  g_assert_cmpuint (len, >, 2 * 64 * 1024);

  g_assert_true (tb_audit_contains (f->ctx, "\"thing-906\"", &found, &error));
  g_assert_true (found);
  g_assert_true (tb_audit_contains (f->ctx, "\"thing-1\"", &found, &error));
  g_assert_true (found);
  g_assert_true (tb_audit_contains (f->ctx, "\"thing-907\"", &found, &error));
  g_assert_false (found);
  /* text straddling the boundary between the last two 64 KiB blocks */
  {
    g_autofree char *across = g_strndup (contents + len - 64 * 1024 - 20, 40);
    g_assert_true (tb_audit_contains (f->ctx, across, &found, &error));
    g_assert_true (found);
  }
  g_assert_no_error (error);
}

/* ---- entries in words: one sentence per event kind ---- */

/* The sentence tb_audit_entry_describe() makes of one log line. */
static char *
describe (const char *line)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(TbAuditEntry) entry = NULL;

  g_assert_true (json_parser_load_from_data (parser, line, -1, &error));
  g_assert_no_error (error);
  entry = tb_audit_entry_new_for_object (json_node_get_object (json_parser_get_root (parser)));
  return tb_audit_entry_describe (entry);
}

static void
assert_describes (const char *line, const char *expected)
{
  g_autofree char *sentence = describe (line);

  g_assert_cmpstr (sentence, ==, expected);
}

static void
test_describe_key_store (void)
{
  assert_describes ("{\"seq\":2,\"event\":\"key.store\",\"subject\":\"mastering\",\"details\":{\"usage\":\"mastering\","
                    "\"algorithm\":\"ec-p256\",\"storage\":\"file\"}}",
                    "Stored key mastering (mastering key, ec-p256) in an encrypted file");
  assert_describes ("{\"event\":\"key.store\",\"subject\":\"hsm-root\",\"details\":{\"usage\":\"root-ca\","
                    "\"algorithm\":\"ec-p384\",\"storage\":\"pkcs11:token=ui-token;object=hsm-root\"}}",
                    "Stored key hsm-root (root CA key, ec-p384) on token ui-token");
}

static void
test_describe_cert_issue (void)
{
  assert_describes ("{\"event\":\"cert.issue\",\"subject\":\"oem-root\",\"details\":{"
                    "\"subject\":\"CN=Production OEM Root CA,O=Production OEM\","
                    "\"issuer\":\"CN=Production OEM Root CA,O=Production OEM\",\"serial\":\"7a86\"}}",
                    "Issued self-signed certificate oem-root for Production OEM Root CA");
  assert_describes ("{\"event\":\"cert.issue\",\"subject\":\"line-test-ca\",\"details\":{"
                    "\"subject\":\"CN=Job line-test,O=Production OEM\","
                    "\"issuer\":\"CN=Production OEM Root CA,O=Production OEM\",\"serial\":\"7a87\"}}",
                    "Issued certificate line-test-ca for Job line-test, signed by Production OEM Root CA");
  /* no names recorded: the certificate's own name */
  assert_describes ("{\"event\":\"cert.issue\",\"subject\":\"old\"}", "Issued certificate old");
}

static void
test_describe_cert_revoke (void)
{
  assert_describes ("{\"event\":\"cert.revoke\",\"subject\":\"dev-1\",\"details\":{\"serial\":\"0a1b\","
                    "\"reason\":\"key compromised\"}}",
                    "Revoked certificate dev-1 (serial 0a1b): key compromised");
  assert_describes ("{\"event\":\"cert.revoke\",\"subject\":\"dev-2\",\"details\":{\"serial\":\"0a1c\",\"reason\":\"\"}}",
                    "Revoked certificate dev-2 (serial 0a1c)");
}

static void
test_describe_image_master (void)
{
  assert_describes ("{\"event\":\"image.master\",\"subject\":\"sensor 1.0.0\",\"details\":{\"product\":\"sensor\","
                    "\"version\":\"1.0.0\",\"security_counter\":3,\"image_id\":\"00ff\"}}",
                    "Mastered sensor 1.0.0, signed by mastering (security counter 3)");
  assert_describes ("{\"event\":\"image.master\",\"subject\":\"sensor 1.0.0\",\"details\":{\"product\":\"sensor\","
                    "\"version\":\"1.0.0\",\"signer\":\"mastering-2026\"}}",
                    "Mastered sensor 1.0.0, signed by mastering-2026");
  /* details of the wrong shape fall back on the subject, never crash */
  assert_describes ("{\"event\":\"image.master\",\"subject\":\"sensor 2.0.0\",\"details\":[1,2]}",
                    "Mastered sensor 2.0.0, signed by mastering");
  assert_describes ("{\"event\":\"image.master\",\"subject\":\"sensor 2.0.0\",\"details\":{\"product\":7,"
                    "\"version\":null,\"security_counter\":\"3\"}}",
                    "Mastered sensor 2.0.0, signed by mastering");
}

static void
test_describe_device_provision (void)
{
  assert_describes ("{\"event\":\"device.provision\",\"subject\":\"1a2b3c4d5e6f708192a3b4c5\",\"details\":{"
                    "\"device_type\":\"tb-virtual-m4\",\"product\":\"sensor\",\"app_version\":\"1.0.0\","
                    "\"lifecycle\":\"locked\"}}",
                    "Provisioned device 1a2b3c4d… with sensor 1.0.0");
  assert_describes ("{\"event\":\"device.provision\",\"subject\":\"1a2b3c4d5e6f708192a3b4c5\",\"details\":{"
                    "\"product\":\"sensor\"}}",
                    "Provisioned device 1a2b3c4d… for sensor");
  /* a short UID is shown whole */
  assert_describes ("{\"event\":\"device.provision\",\"subject\":\"board-7\",\"details\":{}}",
                    "Provisioned device board-7");
}

static void
test_describe_device_produce (void)
{
  assert_describes ("{\"event\":\"device.produce\",\"subject\":\"1149efcf0011223344556677\",\"details\":{"
                    "\"job_id\":\"line-test\",\"slot\":1,\"record_id\":\"line-test-1\",\"result\":\"made\"}}",
                    "Produced device 1149efcf… in job line-test, slot 1");
  assert_describes ("{\"event\":\"device.produce\",\"subject\":\"1149efcf0011223344556677\",\"details\":{"
                    "\"job_id\":\"line-test\",\"slot\":0,\"result\":\"reconciled\",\"recovered\":true}}",
                    "Recorded device 1149efcf… in job line-test, slot 0 (reconciled)");
}

static void
test_describe_production_fail (void)
{
  assert_describes ("{\"event\":\"production.fail\",\"subject\":\"-\",\"details\":{\"job_id\":\"line-test\","
                    "\"reason\":\"The device did not answer\"}}",
                    "Production failed in job line-test: The device did not answer");
  assert_describes ("{\"event\":\"production.fail\",\"subject\":\"1149efcf0011223344556677\",\"details\":{"
                    "\"job_id\":\"line-test\",\"reason\":\"rollback refused\"}}",
                    "Production of device 1149efcf… failed in job line-test: rollback refused");
}

static void
test_describe_job_create (void)
{
  assert_describes ("{\"event\":\"job.create\",\"subject\":\"J-1\",\"details\":{\"product\":\"sensor\","
                    "\"image_version\":\"1.0.0\",\"count\":100,\"slices\":2}}",
                    "Created job J-1: 100 devices of sensor 1.0.0, in 2 slices");
  assert_describes ("{\"event\":\"job.create\",\"subject\":\"J-2\",\"details\":{\"product\":\"sensor\","
                    "\"image_version\":\"1.0.0\",\"count\":1,\"slices\":1}}",
                    "Created job J-2: 1 device of sensor 1.0.0");
}

static void
test_describe_job_import (void)
{
  assert_describes ("{\"event\":\"job.import\",\"subject\":\"line-test\",\"details\":{\"product\":\"widget\","
                    "\"slice\":1,\"count\":2,\"total_count\":2,\"root_pinned_now\":true}}",
                    "Imported job line-test, slice 1: 2 of 2 devices of widget");
}

static void
test_describe_unknown (void)
{
  assert_describes ("{\"event\":\"test.event\",\"subject\":\"thing-1\",\"details\":{\"n\":1}}", "test.event thing-1");
  assert_describes ("{\"seq\":1}", "?");
  g_assert_cmpstr (tb_audit_event_get_kind ("image.master"), ==, "Image");
  g_assert_cmpstr (tb_audit_event_get_kind ("device.provision"), ==, "Device");
  g_assert_cmpstr (tb_audit_event_get_kind ("key.store"), ==, "Key");
  g_assert_null (tb_audit_event_get_kind ("test.event"));
}

/* What the writers record reads as the sentences above: a hierarchy's
 * entries, from the real code. */
static void
test_describe_written (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  const char *products[] = { "sensor", NULL };
  gboolean key_seen = FALSE, root_seen = FALSE;

  g_assert_true (tb_hierarchy_create (f->ctx, products, NULL, "audit passphrase", NULL, &error));
  g_assert_no_error (error);
  entries = tb_audit_read (f->ctx, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < entries->len; i++)
    {
      g_autofree char *sentence = tb_audit_entry_describe (g_ptr_array_index (entries, i));
      key_seen |= g_str_has_prefix (sentence, "Stored key mastering (mastering key, ");
      root_seen |= g_str_has_prefix (sentence, "Issued self-signed certificate root-ca for ");
    }
  g_assert_true (key_seen);
  g_assert_true (root_seen);
}

/* Each entry's hash is what the next one holds as prev, the last one's
 * what the head holds. */
static void
test_read_with_hashes (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) hashes = NULL;
  g_autoptr(GPtrArray) entries = tb_audit_read_with_hashes (f->ctx, &hashes, &error);
  g_autofree char *head = tb_test_read_file (f->head, NULL);

  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 6);
  g_assert_cmpuint (g_strv_length (hashes), ==, 6);
  for (guint i = 0; i + 1 < entries->len; i++)
    g_assert_cmpstr (hashes[i], ==, tb_audit_entry_get_prev (g_ptr_array_index (entries, i + 1)));
  g_assert_nonnull (strstr (head, hashes[5]));
}

/* ---- entries as typed records ---- */

/* The fields of the entries the fixture wrote, and of one with details of
 * every kind, read through TbAuditEntry. */
static void
test_entry_accessors (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(GStrv) hashes = NULL;
  g_auto(GStrv) names = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autofree char *log = NULL;
  TbAuditEntry *last;

  g_assert_true (json_parser_load_from_data (parser, "{\"product\": \"sensor\", \"counter\": 3, \"locked\": true, "
                                             "\"open\": false, \"ranges\": [1, 2], \"where\": {\"a\": 1}, "
                                             "\"nothing\": null}", -1, &error));
  g_assert_no_error (error);
  g_assert_true (tb_audit_append (f->ctx, "test.details", "thing-7",
                                  json_node_get_object (json_parser_get_root (parser)), &error));
  g_assert_no_error (error);
  entries = tb_audit_read_with_hashes (f->ctx, &hashes, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 7);
  for (guint i = 0; i < 6; i++)
    {
      TbAuditEntry *e = g_ptr_array_index (entries, i);
      g_autofree char *subject = g_strdup_printf ("thing-%u", i + 1);
      g_autofree char *n = g_strdup_printf ("%u", i + 1);
      g_autoptr(GDateTime) when = g_date_time_new_from_iso8601 (tb_audit_entry_get_time (e), NULL);
      g_auto(GStrv) detail_names = tb_audit_entry_dup_detail_names (e);
      g_autofree char *text = tb_audit_entry_dup_detail_text (e, "n");

      g_assert_cmpuint (tb_audit_entry_get_seq (e), ==, i + 1);
      g_assert_cmpstr (tb_audit_entry_get_event (e), ==, "test.event");
      g_assert_cmpstr (tb_audit_entry_get_subject (e), ==, subject);
      g_assert_true (g_regex_match_simple ("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
                                           tb_audit_entry_get_time (e), 0, 0));
      g_assert_nonnull (when);
      g_assert_cmpstr (tb_audit_entry_get_prev (e), ==,
                       i == 0 ? "0000000000000000000000000000000000000000000000000000000000000000" : hashes[i - 1]);
      g_assert_cmpuint (g_strv_length (detail_names), ==, 1);
      g_assert_cmpstr (detail_names[0], ==, "n");
      g_assert_cmpstr (text, ==, n);
      g_assert_cmpint (tb_audit_entry_get_detail_int (e, "n", -1), ==, i + 1);
      g_assert_null (tb_audit_entry_get_detail_string (e, "n")); /* a number, not a string */
      g_assert_null (tb_audit_entry_dup_detail_text (e, "missing"));
    }

  last = g_ptr_array_index (entries, 6);
  g_assert_cmpuint (tb_audit_entry_get_seq (last), ==, 7);
  g_assert_cmpstr (tb_audit_entry_get_prev (last), ==, hashes[5]);
  names = tb_audit_entry_dup_detail_names (last);
  {
    const char *expected_names[] = { "product", "counter", "locked", "open", "ranges", "where", "nothing", NULL };
    const char *expected_texts[] = { "sensor", "3", "yes", "no", "[1,2]", "{\"a\":1}", "null" };

    g_assert_cmpstrv (names, expected_names);
    for (guint i = 0; names[i] != NULL; i++)
      {
        g_autofree char *text = tb_audit_entry_dup_detail_text (last, names[i]);
        g_assert_cmpstr (text, ==, expected_texts[i]);
      }
  }
  g_assert_cmpstr (tb_audit_entry_get_detail_string (last, "product"), ==, "sensor");
  g_assert_cmpint (tb_audit_entry_get_detail_int (last, "counter", -1), ==, 3);
  g_assert_cmpint (tb_audit_entry_get_detail_int (last, "product", -1), ==, -1);
  g_assert_cmpint (tb_audit_entry_get_detail_int (last, "missing", -1), ==, -1);
  g_assert_cmpint (tb_audit_entry_get_detail_int (last, "locked", -1), ==, -1);
  g_assert_true (tb_audit_entry_get_detail_boolean (last, "locked", FALSE));
  g_assert_false (tb_audit_entry_get_detail_boolean (last, "open", TRUE));
  g_assert_true (tb_audit_entry_get_detail_boolean (last, "missing", TRUE));
  g_assert_false (tb_audit_entry_get_detail_boolean (last, "missing", FALSE));
  g_assert_true (tb_audit_entry_get_detail_boolean (last, "counter", TRUE)); /* a number, not a boolean */
  g_assert_false (tb_audit_entry_get_detail_boolean (last, "nothing", FALSE));
  g_assert_null (tb_audit_entry_get_detail_string (last, "where"));
  g_assert_null (tb_audit_entry_get_detail_string (last, "nothing"));

  /* to_json gives back the line as written, byte for byte: the members the
   * log's readers (`audit show --json`, docs/audit.md) depend on, in order */
  log = tb_test_read_file (f->log, NULL);
  lines = g_strsplit (log, "\n", -1);
  for (guint i = 0; i < entries->len; i++)
    {
      const char *expected_keys[] = { "seq", "time", "event", "subject", "details", "prev", NULL };
      g_autoptr(JsonGenerator) gen = json_generator_new ();
      g_autoptr(JsonNode) node = tb_audit_entry_to_json (g_ptr_array_index (entries, i));
      g_autoptr(GList) members = NULL;
      g_autoptr(GStrvBuilder) keys = g_strv_builder_new ();
      g_auto(GStrv) key_names = NULL;
      g_autofree char *text = NULL;

      g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
      members = json_object_get_members (json_node_get_object (node));
      for (GList *l = members; l != NULL; l = l->next)
        g_strv_builder_add (keys, l->data);
      key_names = g_strv_builder_end (keys);
      g_assert_cmpstrv (key_names, expected_keys);
      /* the entry's own object: a reader of the JSON cannot change it */
      g_assert_true (json_object_is_immutable (json_node_get_object (node)));
      json_generator_set_root (gen, node);
      text = json_generator_to_data (gen, NULL);
      g_assert_cmpstr (text, ==, lines[i]);
    }

  /* a boxed type: a copy is a reference */
  {
    TbAuditEntry *copy = g_boxed_copy (TB_TYPE_AUDIT_ENTRY, last);
    g_assert_true (copy == last);
    g_boxed_free (TB_TYPE_AUDIT_ENTRY, copy);
    g_assert_cmpuint (tb_audit_entry_get_seq (last), ==, 7);
  }
}

/* An entry outlives the list it was read in for as long as a reference is
 * held on it; g_autoptr drops one. What describe() makes of entries the
 * log's writer recorded. */
static void
test_entry_ref (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) details = json_object_new ();
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(TbAuditEntry) held = NULL;
  g_autofree char *sentence = NULL;
  TbAuditEntry *produced;

  json_object_set_string_member (details, "job_id", "line-test");
  json_object_set_int_member (details, "slot", 4);
  json_object_set_string_member (details, "result", "reconciled");
  json_object_set_boolean_member (details, "recovered", TRUE);
  g_assert_true (tb_audit_append (f->ctx, "device.produce", "1149efcf0011223344556677", details, &error));
  g_assert_no_error (error);
  /* appending did not seal or keep the writer's details */
  g_assert_false (json_object_is_immutable (details));

  entries = tb_audit_read (f->ctx, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 7);
  produced = g_ptr_array_index (entries, 6);
  sentence = tb_audit_entry_describe (produced);
  g_assert_cmpstr (sentence, ==, "Recorded device 1149efcf… in job line-test, slot 4 (reconciled)");
  g_clear_pointer (&sentence, g_free);
  sentence = tb_audit_entry_describe (g_ptr_array_index (entries, 0));
  g_assert_cmpstr (sentence, ==, "test.event thing-1");
  g_clear_pointer (&sentence, g_free);

  held = tb_audit_entry_ref (produced);
  g_assert_true (held == produced);
  g_clear_pointer (&entries, g_ptr_array_unref);
  g_assert_cmpuint (tb_audit_entry_get_seq (held), ==, 7);
  g_assert_cmpstr (tb_audit_entry_get_event (held), ==, "device.produce");
  g_assert_cmpstr (tb_audit_entry_get_subject (held), ==, "1149efcf0011223344556677");
  g_assert_cmpstr (tb_audit_entry_get_detail_string (held, "job_id"), ==, "line-test");
  g_assert_cmpint (tb_audit_entry_get_detail_int (held, "slot", -1), ==, 4);
  g_assert_true (tb_audit_entry_get_detail_boolean (held, "recovered", FALSE));
  sentence = tb_audit_entry_describe (held);
  g_assert_cmpstr (sentence, ==, "Recorded device 1149efcf… in job line-test, slot 4 (reconciled)");

  /* a second reference, dropped: the entry is still there for the first */
  tb_audit_entry_unref (tb_audit_entry_ref (held));
  g_assert_cmpuint (tb_audit_entry_get_seq (held), ==, 7);
  g_assert_true (G_TYPE_IS_BOXED (TB_TYPE_AUDIT_ENTRY));
  g_assert_cmpstr (g_type_name (TB_TYPE_AUDIT_ENTRY), ==, "TbAuditEntry");
}

static void
damage_members (GPtrArray *lines)
{
  g_ptr_array_index (lines, 2) = "{\"seq\": \"three\", \"time\": 5, \"subject\": null, \"details\": [1], \"prev\": 0}";
  g_ptr_array_add (lines, "{\"seq\": -4, \"event\": 7, \"subject\": \"s\", \"details\": {\"k\": \"v\"}}");
  g_ptr_array_add (lines, "[1, 2]");
  g_ptr_array_add (lines, "not json");
  g_ptr_array_add (lines, "{}");
}

/* A line that is not an object is left out; a member that is missing or
 * of another type reads as the accessor's default. */
static void
test_entry_defaults (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  TbAuditEntry *ill_typed, *negative, *empty;

  edit_lines (f, damage_members);
  entries = tb_audit_read (f->ctx, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 8);

  ill_typed = g_ptr_array_index (entries, 2);
  g_assert_cmpuint (tb_audit_entry_get_seq (ill_typed), ==, 0);
  g_assert_null (tb_audit_entry_get_time (ill_typed));
  g_assert_null (tb_audit_entry_get_event (ill_typed));
  g_assert_null (tb_audit_entry_get_subject (ill_typed));
  g_assert_null (tb_audit_entry_get_prev (ill_typed));
  {
    g_auto(GStrv) names = tb_audit_entry_dup_detail_names (ill_typed);
    g_autofree char *sentence = tb_audit_entry_describe (ill_typed);
    g_assert_cmpuint (g_strv_length (names), ==, 0);
    g_assert_cmpstr (sentence, ==, "?");
  }
  g_assert_null (tb_audit_entry_dup_detail_text (ill_typed, "0"));

  negative = g_ptr_array_index (entries, 6);
  g_assert_cmpuint (tb_audit_entry_get_seq (negative), ==, 0);
  g_assert_null (tb_audit_entry_get_event (negative));
  g_assert_cmpstr (tb_audit_entry_get_subject (negative), ==, "s");
  g_assert_cmpstr (tb_audit_entry_get_detail_string (negative, "k"), ==, "v");
  {
    g_autofree char *sentence = tb_audit_entry_describe (negative);
    g_assert_cmpstr (sentence, ==, "? s");
  }

  empty = g_ptr_array_index (entries, 7);
  g_assert_cmpuint (tb_audit_entry_get_seq (empty), ==, 0);
  g_assert_null (tb_audit_entry_get_time (empty));
  g_assert_null (tb_audit_entry_get_detail_string (empty, "k"));
  g_assert_cmpint (tb_audit_entry_get_detail_int (empty, "k", 42), ==, 42);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/tb/audit/chain", test_chain);
  ADD ("/tb/audit/modified", test_modified);
  ADD ("/tb/audit/deleted", test_deleted);
  ADD ("/tb/audit/reordered", test_reordered);
  ADD ("/tb/audit/truncated-and-last", test_truncated_and_last);
  ADD ("/tb/audit/unanchored-tail", test_unanchored_tail);
  ADD ("/tb/audit/damaged-head", test_damaged_head);
  ADD ("/tb/audit/torn-append", test_torn_append);
  ADD ("/tb/audit/first-entry-without-head", test_first_entry_without_head);
  ADD ("/tb/audit/events-recorded", test_events_recorded);
  ADD ("/tb/audit/waits-for-lock", test_waits_for_lock);
  ADD ("/tb/audit/contains", test_contains);
  ADD ("/tb/audit/describe/written", test_describe_written);
  ADD ("/tb/audit/read-with-hashes", test_read_with_hashes);
  ADD ("/tb/audit/entry/accessors", test_entry_accessors);
  ADD ("/tb/audit/entry/defaults", test_entry_defaults);
  ADD ("/tb/audit/entry/ref", test_entry_ref);
#undef ADD
  g_test_add_func ("/tb/audit/describe/key-store", test_describe_key_store);
  g_test_add_func ("/tb/audit/describe/cert-issue", test_describe_cert_issue);
  g_test_add_func ("/tb/audit/describe/cert-revoke", test_describe_cert_revoke);
  g_test_add_func ("/tb/audit/describe/image-master", test_describe_image_master);
  g_test_add_func ("/tb/audit/describe/device-provision", test_describe_device_provision);
  g_test_add_func ("/tb/audit/describe/device-produce", test_describe_device_produce);
  g_test_add_func ("/tb/audit/describe/production-fail", test_describe_production_fail);
  g_test_add_func ("/tb/audit/describe/job-create", test_describe_job_create);
  g_test_add_func ("/tb/audit/describe/job-import", test_describe_job_import);
  g_test_add_func ("/tb/audit/describe/unknown", test_describe_unknown);
  return g_test_run ();
}
