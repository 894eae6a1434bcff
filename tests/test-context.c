/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tb-context-private.h"
#include "tb-test-util.h"
#include "trustbench.h"

typedef struct {
  char *tmp;
  char *ctx_dir;
  char *json;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->tmp = tb_test_make_tmpdir ();
  f->ctx_dir = g_build_filename (f->tmp, "ctx", NULL);
  f->json = g_build_filename (f->ctx_dir, "context.json", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->ctx_dir);
  g_free (f->json);
}

static void
create_unlocked (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_create (f->ctx_dir, "Test OEM", &error);

  g_assert_no_error (error);
  g_assert_nonnull (ctx);
}

static void
test_create (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbContext) again = NULL;
  GStatBuf st;

  ctx = tb_context_create (f->ctx_dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tb_context_is_writable (ctx));
  g_assert_cmpstr (tb_context_get_name (ctx), ==, "ctx");
  g_assert_cmpuint (tb_context_get_schema_version (ctx), ==, TB_CONTEXT_SCHEMA_VERSION);
  g_assert_true (g_uuid_string_is_valid (tb_context_get_id (ctx)));

  g_assert_cmpint (g_stat (f->json, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (f->ctx_dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  again = tb_context_open (f->ctx_dir, TB_CONTEXT_OPEN_READ, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tb_context_get_id (again), ==, tb_context_get_id (ctx));
  g_assert_cmpstr (tb_context_get_created (again), ==, tb_context_get_created (ctx));
  g_assert_false (tb_context_is_writable (again));
}

static void
test_create_refuses_existing (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autofree char *other = g_build_filename (f->tmp, "notempty", NULL);
  g_autofree char *file = g_build_filename (other, "firmware.bin", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  create_unlocked (f);
  before = tb_test_read_file (f->json, NULL);
  ctx = tb_context_create (f->ctx_dir, "again", &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_EXISTS);
  g_assert_null (ctx);
  after = tb_test_read_file (f->json, NULL);
  g_assert_cmpstr (before, ==, after);
  g_clear_error (&error);

  g_assert_cmpint (g_mkdir (other, 0700), ==, 0);
  tb_test_write_file (file, "keep me");
  ctx = tb_context_create (other, NULL, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "firmware.bin"));
  g_assert_true (g_file_test (file, G_FILE_TEST_EXISTS));
}

static void
test_open_missing (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_open (f->ctx_dir, TB_CONTEXT_OPEN_READ, &error);

  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
  g_assert_null (ctx);
  g_clear_error (&error);

  g_assert_cmpint (g_mkdir (f->ctx_dir, 0700), ==, 0);
  ctx = tb_context_open (f->ctx_dir, TB_CONTEXT_OPEN_READ, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "context.json"));
}

/* Opens a context whose context.json is @contents; asserts a clear error
 * naming the file and containing @expect, and that the file is unchanged. */
static void
assert_broken (Fixture *f, const char *contents, gssize len, TbError code, const char *expect)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autofree char *after = NULL;
  gsize after_len = 0;

  if (len < 0)
    len = (gssize) strlen (contents);
  g_assert_true (g_file_set_contents (f->json, contents, len, NULL));
  for (int flags = 0; flags <= TB_CONTEXT_OPEN_WRITE; flags++)
    {
      ctx = tb_context_open (f->ctx_dir, flags, &error);
      g_assert_null (ctx);
      g_assert_error (error, TB_ERROR, (int) code);
      if (strstr (error->message, expect) == NULL || strstr (error->message, f->json) == NULL)
        g_error ("message “%s” does not name %s and “%s”", error->message, f->json, expect);
      g_clear_error (&error);
    }
  after = tb_test_read_file (f->json, &after_len);
  g_assert_cmpmem (after, after_len, contents, (gsize) len);
}

static void
test_open_corrupt (Fixture *f, gconstpointer data)
{
  g_autofree char *good = NULL;
  gsize len = 0;
  const char *valid_head = "{\"schema_version\":1,\"id\":\"x\",\"name\":\"n\",\"created\":\"c\",";

  create_unlocked (f);
  good = tb_test_read_file (f->json, &len);

  /* truncated at several points */
  for (gsize cut = 1; cut < len - 2; cut += len / 7)
    assert_broken (f, good, (gssize) cut, TB_ERROR_INVALID_DATA, "truncated or broken");
  assert_broken (f, "", 0, TB_ERROR_INVALID_DATA, "empty");
  assert_broken (f, "[1, 2]", -1, TB_ERROR_INVALID_DATA, "JSON object");
  assert_broken (f, "{\"schema_version\": \"1\"}", -1, TB_ERROR_INVALID_DATA, "schema_version");
  assert_broken (f, "{\"schema_version\": 0, \"id\":\"x\"}", -1, TB_ERROR_INVALID_DATA, "not valid");
  assert_broken (f, "{\"schema_version\": 1, \"name\":\"x\",\"created\":\"c\"}", -1, TB_ERROR_INVALID_DATA, "“id”");
  assert_broken (f, "{\"schema_version\": 1, \"id\": 5, \"name\":\"x\",\"created\":\"c\"}", -1, TB_ERROR_INVALID_DATA, "“id”");
  assert_broken (f, "{\"schema_version\":1,\xff}", -1, TB_ERROR_INVALID_DATA, "UTF-8");

  {
    g_autofree char *s = g_strconcat (valid_head, "\"keys\": {}}", NULL);
    assert_broken (f, s, -1, TB_ERROR_INVALID_DATA, "“keys” must be an array");
  }
  {
    g_autofree char *s = g_strconcat (valid_head, "\"keys\": [ 3 ]}", NULL);
    assert_broken (f, s, -1, TB_ERROR_INVALID_DATA, "keys[0] must be an object");
  }
  {
    g_autofree char *s = g_strconcat (valid_head, "\"keys\": [{\"name\":\"a\"},{\"name\":\"a\"}]}", NULL);
    assert_broken (f, s, -1, TB_ERROR_INVALID_DATA, "appears twice");
  }
  {
    g_autofree char *s = g_strconcat (valid_head, "\"certificates\": [{\"name\":\"../evil\"}]}", NULL);
    assert_broken (f, s, -1, TB_ERROR_INVALID_DATA, "certificates[0]");
  }
  {
    g_autofree char *s = g_strconcat (valid_head, "\"keys\": [{\"name\":\"k\",\"file\":\"../../etc/passwd\"}]}", NULL);
    assert_broken (f, s, -1, TB_ERROR_INVALID_DATA, "relative to the context");
  }
  {
    g_autofree char *s = g_strconcat (valid_head, "\"jobs\": [{\"name\":\"j\"}]}", NULL);
    assert_broken (f, s, -1, TB_ERROR_INVALID_DATA, "job_id");
  }
  /* members of another type than their readers expect (found by fuzz-context: the policy
   * checks met "storage": [] with a critical) */
  {
    const char *entries[] = { "\"keys\": [{\"name\":\"k\",\"storage\":[]}]",
                              "\"certificates\": [{\"name\":\"c\",\"not_after\":{}}]",
                              "\"jobs\": [{\"job_id\":\"j\",\"count\":\"2\"}]",
                              "\"jobs\": [{\"job_id\":\"j\",\"device_types\":\"a\"}]" };
    for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
      {
        g_autofree char *s = g_strconcat (valid_head, entries[i], "}", NULL);
        assert_broken (f, s, -1, TB_ERROR_INVALID_DATA, "wrong type");
      }
  }
  /* the error names the line of the problem */
  assert_broken (f, "{\n  \"schema_version\": 1,\n  \"id\": \"x\" \"name\"\n}", -1, TB_ERROR_INVALID_DATA, ":3:");
}

/* A broken context.json: the error says what context.json.bak holds
 * before it suggests restoring it. */
static void
test_open_corrupt_backup_described (Fixture *f, gconstpointer data)
{
  g_autofree char *backup = g_build_filename (f->ctx_dir, "context.json.bak", NULL);
  const char *head = "{\"schema_version\":1,\"id\":\"x\",\"name\":\"n\",\"created\":\"2026-01-01T00:00:00Z\",";
  g_autofree char *empty = g_strconcat (head, "\"keys\":[],\"certificates\":[]}", NULL);
  g_autofree char *full = g_strconcat (head, "\"keys\":[{\"name\":\"a\"},{\"name\":\"b\"}],"
                                       "\"certificates\":[{\"name\":\"a\"}]}", NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *year = g_date_time_format (now, "written %Y-");

  create_unlocked (f);
  g_assert_false (g_file_test (backup, G_FILE_TEST_EXISTS));
  assert_broken (f, "{\"schema_version\": 1,", -1, TB_ERROR_INVALID_DATA, "there is no context.json.bak to restore");

  /* the empty context that `init` leaves as the backup is not offered */
  tb_test_write_file (backup, empty);
  assert_broken (f, "{\"schema_version\": 1,", -1, TB_ERROR_INVALID_DATA,
                 "holds an empty context with no keys and no certificates; restoring it would lose every key");
  assert_broken (f, "{\"schema_version\": 1,", -1, TB_ERROR_INVALID_DATA, year);

  tb_test_write_file (backup, full);
  assert_broken (f, "{\"schema_version\": 1,", -1, TB_ERROR_INVALID_DATA,
                 "fix it or restore context.json.bak, written ");
  assert_broken (f, "{\"schema_version\": 1,", -1, TB_ERROR_INVALID_DATA, "which holds 2 keys and 1 certificate)");

  tb_test_write_file (backup, "{\"keys\": [");
  assert_broken (f, "{\"schema_version\": 1,", -1, TB_ERROR_INVALID_DATA, "context.json.bak is broken too");
}

static void
test_open_newer_schema (Fixture *f, gconstpointer data)
{
  const char *newer = "{\"schema_version\": 2, \"id\": \"x\", \"name\": \"future\", \"created\": \"c\","
                      " \"keys\": [], \"hologram_keys\": [1]}";

  create_unlocked (f);
  assert_broken (f, newer, -1, TB_ERROR_UNSUPPORTED, "newer");
}

static void
test_unknown_members_kept (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(JsonObject) product = json_object_new ();
  g_autofree char *after = NULL;

  create_unlocked (f);
  tb_test_write_file (f->json,
                      "{\"schema_version\":1,\"id\":\"i\",\"name\":\"n\",\"created\":\"c\","
                      "\"x_vendor\":{\"a\":42},\"keys\":[{\"name\":\"k\",\"x_extra\":true}]}");
  ctx = tb_context_open (f->ctx_dir, TB_CONTEXT_OPEN_WRITE, &error);
  g_assert_no_error (error);
  json_object_set_string_member (product, "name", "p1");
  g_assert_true (tb_context_add_entry (ctx, TB_INVENTORY_PRODUCTS, product, &error));
  g_assert_no_error (error);
  g_assert_true (tb_context_save (ctx, &error));
  g_assert_no_error (error);
  after = tb_test_read_file (f->json, NULL);
  g_assert_nonnull (strstr (after, "\"x_vendor\""));
  g_assert_nonnull (strstr (after, "\"x_extra\""));
  g_assert_nonnull (strstr (after, "\"p1\""));
}

static void
test_entries (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_create (f->ctx_dir, "T", &error);
  g_autoptr(TbContext) reread = NULL;
  g_autoptr(GPtrArray) keys = NULL;
  g_autofree char *backup = g_build_filename (f->ctx_dir, TB_CONTEXT_BACKUP_NAME, NULL);
  g_autofree char *previous = NULL;
  g_autofree char *backup_text = NULL;
  const char *names[] = { "root-ca", "mastering", "product-default" };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(JsonObject) key = json_object_new ();
      json_object_set_string_member (key, "name", names[i]);
      json_object_set_string_member (key, "usage", "root-ca");
      g_assert_true (tb_context_add_entry (ctx, TB_INVENTORY_KEYS, key, &error));
      g_assert_no_error (error);
    }
  {
    g_autoptr(JsonObject) dup = json_object_new ();
    json_object_set_string_member (dup, "name", "mastering");
    g_assert_false (tb_context_add_entry (ctx, TB_INVENTORY_KEYS, dup, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_EXISTS);
    g_clear_error (&error);
  }
  {
    g_autoptr(JsonObject) bad = json_object_new ();
    json_object_set_string_member (bad, "name", "a/b");
    g_assert_false (tb_context_add_entry (ctx, TB_INVENTORY_KEYS, bad, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
  {
    g_autoptr(JsonObject) escape = json_object_new ();
    json_object_set_string_member (escape, "name", "escape");
    json_object_set_string_member (escape, "file", "/etc/shadow");
    g_assert_false (tb_context_add_entry (ctx, TB_INVENTORY_KEYS, escape, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_clear_error (&error);
  }
  previous = tb_test_read_file (f->json, NULL);
  g_assert_true (tb_context_save (ctx, &error));
  g_assert_no_error (error);
  backup_text = tb_test_read_file (backup, NULL);
  g_assert_cmpstr (backup_text, ==, previous);

  g_assert_true (tb_context_remove_entry (ctx, TB_INVENTORY_KEYS, "mastering", &error));
  g_assert_false (tb_context_remove_entry (ctx, TB_INVENTORY_KEYS, "mastering", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (tb_context_save (ctx, &error));

  reread = tb_context_open (f->ctx_dir, TB_CONTEXT_OPEN_READ, &error);
  g_assert_no_error (error);
  keys = tb_context_get_entries (reread, TB_INVENTORY_KEYS);
  g_assert_cmpuint (keys->len, ==, 2);
  g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (keys, 1), "name"), ==, "product-default");
  g_assert_true (tb_context_has_entry (reread, TB_INVENTORY_KEYS, "root-ca"));
  g_assert_false (tb_context_has_entry (reread, TB_INVENTORY_KEYS, "mastering"));

  /* a read-only context refuses writes */
  {
    g_autoptr(JsonObject) k = json_object_new ();
    json_object_set_string_member (k, "name", "x");
    g_assert_false (tb_context_add_entry (reread, TB_INVENTORY_KEYS, k, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
    g_clear_error (&error);
    g_assert_false (tb_context_save (reread, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
    g_clear_error (&error);
  }
}

static void
test_write_file (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_create (f->ctx_dir, "T", &error);
  g_autofree char *path = g_build_filename (f->ctx_dir, "keys", "a.key", NULL);
  g_autofree char *keys_dir = g_build_filename (f->ctx_dir, "keys", NULL);
  GStatBuf st;

  g_assert_true (tb_context_write_file (ctx, "keys/a.key", "secret", 6, 0600, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (keys_dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_false (tb_context_write_file (ctx, "../outside", "x", 1, 0600, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
}

static void
test_locked_in_process (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) first = tb_context_create (f->ctx_dir, "T", &error);
  g_autoptr(TbContext) second = NULL;
  g_autoptr(TbContext) reader = NULL;

  g_assert_no_error (error);
  second = tb_context_open (f->ctx_dir, TB_CONTEXT_OPEN_WRITE, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_BUSY);
  g_assert_null (second);
  g_assert_nonnull (strstr (error->message, f->ctx_dir));
  g_clear_error (&error);

  /* readers are never refused */
  reader = tb_context_open (f->ctx_dir, TB_CONTEXT_OPEN_READ, &error);
  g_assert_no_error (error);
  g_assert_false (tb_context_lock (reader, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_BUSY);
  g_clear_error (&error);

  tb_context_unlock (first);
  g_assert_true (tb_context_lock (reader, &error));
  g_assert_no_error (error);
}

static void
test_locked_by_other_process (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autofree char *expect_pid = NULL;
  int ready[2];
  pid_t pid;
  char c;
  int status;

  create_unlocked (f);
  g_assert_cmpint (pipe (ready), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      TbContext *held = tb_context_open (f->ctx_dir, TB_CONTEXT_OPEN_WRITE, NULL);
      if (held == NULL)
        _exit (1);
      if (write (ready[1], "x", 1) != 1)
        _exit (1);
      pause (); /* until killed */
      _exit (0);
    }
  close (ready[1]);
  g_assert_cmpint (read (ready[0], &c, 1), ==, 1);
  close (ready[0]);

  ctx = tb_context_open (f->ctx_dir, TB_CONTEXT_OPEN_WRITE, &error);
  g_assert_null (ctx);
  g_assert_error (error, TB_ERROR, TB_ERROR_BUSY);
  expect_pid = g_strdup_printf ("pid %d", (int) pid);
  g_assert_nonnull (strstr (error->message, expect_pid));
  g_clear_error (&error);

  /* a crashed writer leaves no stale lock */
  kill (pid, SIGKILL);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  ctx = tb_context_open (f->ctx_dir, TB_CONTEXT_OPEN_WRITE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ctx);
}

static char *
make_version (char fill, gsize len)
{
  char *data = g_malloc (len);
  memset (data, fill, len);
  return data;
}

static guint
count_temps (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, ".victim."))
      n++;
  return n;
}

/* Writes @data to @path the way tb_output_file_*() callers do: in
 * pieces of odd sizes, then a commit. */
static gboolean
write_in_pieces (const char *path, const char *data, gsize len, TbOutputFileFlags flags, GError **error)
{
  TbOutputFile out = TB_OUTPUT_FILE_INIT;
  gboolean ok = tb_output_file_open (&out, path, 0644, flags, error);

  for (gsize done = 0, piece = 1; ok && done < len; done += piece, piece = piece * 7 + 13)
    {
      piece = MIN (piece, len - done);
      ok = tb_output_file_write (&out, data + done, piece, error);
    }
  ok = ok && tb_output_file_commit (&out, error);
  tb_output_file_clear (&out);
  return ok;
}

typedef enum {
  WRITER_ATOMIC,              /* tb_file_write_atomic */
  WRITER_OUTPUT_FILE,         /* TbOutputFile, not flushed */
  WRITER_OUTPUT_FILE_DURABLE, /* TbOutputFile, flushed */
} Writer;

static gboolean
write_version (Writer writer, const char *path, const char *data, gsize len, GError **error)
{
  switch (writer)
    {
    case WRITER_ATOMIC:
      return tb_file_write_atomic (path, data, len, 0600, error);
    case WRITER_OUTPUT_FILE:
      return write_in_pieces (path, data, len, TB_OUTPUT_FILE_DEFAULT, error);
    case WRITER_OUTPUT_FILE_DURABLE:
    default:
      return write_in_pieces (path, data, len, TB_OUTPUT_FILE_DURABLE, error);
    }
}

/* A writer killed with SIGKILL at a random moment leaves the old or the
 * new file, never a mix, a short file or nothing. */
static void
test_atomic_write_killed (Fixture *f, gconstpointer data)
{
  Writer writer = GPOINTER_TO_INT (data);
  const gsize len = 4 * 1024 * 1024;
  g_autofree char *a = make_version ('A', len);
  g_autofree char *b = make_version ('B', len);
  g_autofree char *path = g_build_filename (f->tmp, "victim", NULL);
  g_autoptr(GError) error = NULL;
  guint saw_a = 0, saw_b = 0;

  g_assert_true (write_version (writer, path, a, len, &error));
  g_assert_no_error (error);

  for (guint round = 0; round < 25; round++)
    {
      g_autofree char *contents = NULL;
      gsize got = 0;
      int status;
      pid_t pid = fork ();

      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          for (guint i = 0;; i++)
            if (!write_version (writer, path, (i & 1) ? a : b, len, NULL))
              _exit (1);
        }
      g_usleep (g_test_rand_int_range (2000, 40000));
      kill (pid, SIGKILL);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status));

      g_assert_true (g_file_get_contents (path, &contents, &got, NULL));
      g_assert_cmpuint (got, ==, len);
      if (memcmp (contents, a, len) == 0)
        saw_a++;
      else if (memcmp (contents, b, len) == 0)
        saw_b++;
      else
        g_error ("round %u: the file is neither the old nor the new version", round);
    }
  g_test_message ("old/new after kill: %u/%u", saw_a, saw_b);
  g_assert_cmpuint (saw_a + saw_b, ==, 25);

  /* leftovers of killed writers are cleaned up, the file stays */
  tb_file_remove_stale_temps (f->tmp, "victim");
  g_assert_cmpuint (count_temps (f->tmp), ==, 0);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
}

/* TbOutputFile: nothing at the destination before the commit, the whole
 * file after it; an existing file is replaced (a reader holding it open
 * keeps the old contents), not overwritten in place; no temporary file is
 * left behind, and a cleared output leaves the old file as it was. */
static void
test_output_file (Fixture *f, gconstpointer data)
{
  TbOutputFileFlags flags = GPOINTER_TO_INT (data);
  const gsize len = 3 * 1024 * 1024 + 17;
  g_autofree char *a = make_version ('A', len);
  g_autofree char *b = make_version ('B', len);
  g_autofree char *path = g_build_filename (f->tmp, "victim", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  TbOutputFile out = TB_OUTPUT_FILE_INIT;
  gsize got = 0;
  char first[4];
  int old_fd;

  /* a new file */
  g_assert_true (tb_output_file_open (&out, path, 0640, flags, &error));
  g_assert_no_error (error);
  g_assert_true (tb_output_file_write (&out, a, len, &error));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_temps (f->tmp), ==, 1);
  g_assert_true (tb_output_file_commit (&out, &error));
  g_assert_no_error (error);
  tb_output_file_clear (&out);
  g_assert_true (g_file_get_contents (path, &contents, &got, NULL));
  g_assert_cmpuint (got, ==, len);
  g_assert_true (memcmp (contents, a, len) == 0);
  g_clear_pointer (&contents, g_free);
  {
    GStatBuf st;
    g_assert_cmpint (g_stat (path, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0640);
  }

  /* replacing it */
  old_fd = open (path, O_RDONLY);
  g_assert_cmpint (old_fd, >=, 0);
  g_assert_true (write_in_pieces (path, b, len, flags, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, &got, NULL));
  g_assert_cmpuint (got, ==, len);
  g_assert_true (memcmp (contents, b, len) == 0);
  g_clear_pointer (&contents, g_free);
  g_assert_cmpint (pread (old_fd, first, sizeof first, 0), ==, sizeof first);
  g_assert_true (memcmp (first, a, sizeof first) == 0);
  close (old_fd);
  g_assert_cmpuint (count_temps (f->tmp), ==, 0);

  /* a directory in the way: refused when opened, and left where it is */
  {
    g_autofree char *dir = g_build_filename (f->tmp, "victim.d", NULL);
    g_autofree char *inside = g_build_filename (dir, "keep", NULL);
    g_autoptr(GError) local_error = NULL;

    g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
    g_assert_true (g_file_set_contents (inside, "x", 1, NULL));
    g_assert_false (tb_output_file_open (&out, dir, 0644, flags, &local_error));
    g_assert_error (local_error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    tb_output_file_clear (&out);
    g_assert_true (g_file_test (inside, G_FILE_TEST_IS_REGULAR));
    g_assert_cmpuint (count_temps (f->tmp), ==, 0);
    tb_file_remove_tree (dir, NULL);
  }

  /* given up: the file is untouched, the temporary file gone */
  g_assert_true (tb_output_file_open (&out, path, 0644, flags, &error));
  g_assert_true (tb_output_file_write (&out, a, 1000, &error));
  tb_output_file_clear (&out);
  g_assert_true (g_file_get_contents (path, &contents, &got, NULL));
  g_assert_cmpuint (got, ==, len);
  g_assert_true (memcmp (contents, b, len) == 0);
  g_assert_cmpuint (count_temps (f->tmp), ==, 0);
}

static void
test_read_bounded (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->tmp, "big", NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;

  tb_test_write_file (path, "0123456789");
  g_assert_false (tb_file_read_bounded (path, 9, &contents, &len, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);
  g_assert_true (tb_file_read_bounded (path, 10, &contents, &len, &error));
  g_assert_cmpuint (len, ==, 10);
  g_assert_false (tb_file_read_bounded (f->tmp, 10, &contents, &len, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
}

static void
test_names (void)
{
  const char *good[] = { "root-ca", "product-default", "a", "A.b_c-9" };
  const char *bad[] = { "", ".hidden", "-x", "a/b", "a b", "é", "..",
                        "0123456789012345678901234567890123456789012345678901234567890123456789" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (tb_name_is_valid (good[i], NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_false (tb_name_is_valid (bad[i], &error));
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_error_exit_codes (void)
{
  struct {
    GQuark domain;
    int code;
    TbExitCode exit;
  } cases[] = {
    { TB_ERROR, TB_ERROR_FAILED, TB_EXIT_FAILED },
    { TB_ERROR, TB_ERROR_INVALID_ARGUMENT, TB_EXIT_USAGE },
    { TB_ERROR, TB_ERROR_INVALID_DATA, TB_EXIT_FAILED },
    { TB_ERROR, TB_ERROR_VERIFY_FAILED, TB_EXIT_VERIFY },
    { TB_ERROR, TB_ERROR_LIMIT_REACHED, TB_EXIT_LIMIT },
    { G_IO_ERROR, G_IO_ERROR_CANCELLED, TB_EXIT_CANCELLED },
    { G_IO_ERROR, G_IO_ERROR_NOT_FOUND, TB_EXIT_FAILED },
  };

  g_assert_cmpint (tb_error_to_exit_code (NULL), ==, TB_EXIT_OK);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) e = g_error_new_literal (cases[i].domain, cases[i].code, "x");
      g_assert_cmpint (tb_error_to_exit_code (e), ==, cases[i].exit);
    }
}

/* A top-level member the validator leaves alone, of another type than
 * due: read as absent, never a GLib critical (which the tests make fatal).
 * The entries' members are typed by the validator (open-corrupt). */
static void
test_members_of_other_types (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;

  create_unlocked (f);
  tb_test_write_file (f->json, "{\"schema_version\":1,\"id\":\"i\",\"name\":\"n\",\"created\":\"c\",\"demo\":[true]}");
  ctx = tb_context_open (f->ctx_dir, TB_CONTEXT_OPEN_READ, &error);
  g_assert_no_error (error);
  g_assert_false (tb_context_is_demo (ctx));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
#define ADD_DATA(path, fn, value) \
  g_test_add (path, Fixture, GINT_TO_POINTER (value), fixture_setup, fn, fixture_teardown)
  ADD ("/tb/context/create", test_create);
  ADD ("/tb/context/create-refuses-existing", test_create_refuses_existing);
  ADD ("/tb/context/open-missing", test_open_missing);
  ADD ("/tb/context/open-corrupt", test_open_corrupt);
  ADD ("/tb/context/open-corrupt-backup-described", test_open_corrupt_backup_described);
  ADD ("/tb/context/open-newer-schema", test_open_newer_schema);
  ADD ("/tb/context/unknown-members-kept", test_unknown_members_kept);
  ADD ("/tb/context/members-of-other-types", test_members_of_other_types);
  ADD ("/tb/context/entries", test_entries);
  ADD ("/tb/context/write-file", test_write_file);
  ADD ("/tb/context/locked-in-process", test_locked_in_process);
  ADD ("/tb/context/locked-by-other-process", test_locked_by_other_process);
  ADD_DATA ("/tb/file/atomic-write-killed", test_atomic_write_killed, WRITER_ATOMIC);
  ADD_DATA ("/tb/file/output-file-killed", test_atomic_write_killed, WRITER_OUTPUT_FILE);
  ADD_DATA ("/tb/file/output-file-durable-killed", test_atomic_write_killed, WRITER_OUTPUT_FILE_DURABLE);
  ADD_DATA ("/tb/file/output-file", test_output_file, TB_OUTPUT_FILE_DEFAULT);
  ADD_DATA ("/tb/file/output-file-durable", test_output_file, TB_OUTPUT_FILE_DURABLE);
  ADD ("/tb/file/read-bounded", test_read_bounded);
#undef ADD
#undef ADD_DATA
  g_test_add_func ("/tb/context/names", test_names);
  g_test_add_func ("/tb/error/exit-codes", test_error_exit_codes);
  return g_test_run ();
}
