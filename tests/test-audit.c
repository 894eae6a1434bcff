/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The audit log: every change to it (modification, deletion, reordering,
 * truncation) is found; a writer that stopped between the log and its head
 * loses nothing. */

#include "config.h"

#include <glib/gstdio.h>

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
  g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (entries, 2), "subject"), ==, "thing-3");
  g_assert_cmpint (json_object_get_int_member (g_ptr_array_index (entries, 5), "seq"), ==, 6);
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

  edit_lines (f, drop_last);
  verify (f, FALSE, 5, 6, "removed from its end");
  g_assert_false (tb_audit_append (f->ctx, "test.event", "x", NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);

  tb_test_write_file (f->log, pristine);
  verify (f, TRUE, 6, 0, NULL);
  edit_lines (f, modify_last);
  verify (f, FALSE, 6, 6, "modified");
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
    g_hash_table_add (seen, (gpointer) json_object_get_string_member (g_ptr_array_index (entries, i), "event"));
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
  ADD ("/tb/audit/events-recorded", test_events_recorded);
  ADD ("/tb/audit/waits-for-lock", test_waits_for_lock);
  ADD ("/tb/audit/contains", test_contains);
#undef ADD
  return g_test_run ();
}
