/* SPDX-License-Identifier: GPL-3.0-or-later */

/* trustbench-tool as scripts see it: exit codes, stdout/stderr and the
 * JSON contract of docs/cli.md. Runs the real binary. */

#include "config.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb-test-util.h"

typedef struct {
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static const char *
tool_path (void)
{
  const char *path = g_getenv ("TB_TOOL");
  g_assert_nonnull (path);
  return path;
}

/* Runs trustbench-tool with @args (NULL-terminated); @context_env sets
 * $TRUSTBENCH_CONTEXT when not NULL. */
static void
detach_from_tty (gpointer data)
{
  setsid ();
}

/* Starts trustbench-tool with @args, without waiting for it. */
static GSubprocess *
spawn_tool (const char *context_env, const char *const *env, const char *const *args)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GSubprocess *proc;

  /* no controlling terminal: a passphrase prompt must not block the test */
  g_subprocess_launcher_set_child_setup (launcher, detach_from_tty, NULL, NULL);
  g_subprocess_launcher_unsetenv (launcher, "TRUSTBENCH_CONTEXT");
  g_subprocess_launcher_unsetenv (launcher, "TRUSTBENCH_PASSPHRASE");
  for (guint i = 0; env != NULL && env[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (env[i], "=", 2);
      g_subprocess_launcher_setenv (launcher, kv[0], kv[1], TRUE);
    }
  if (context_env != NULL)
    g_subprocess_launcher_setenv (launcher, "TRUSTBENCH_CONTEXT", context_env, TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_ptr_array_add (argv, (gpointer) tool_path ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  return proc;
}

/* Waits for a started trustbench-tool and collects its outputs. */
static void
wait_tool (Run *r, GSubprocess *proc)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8 (proc, NULL, NULL, &r->out, &r->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  r->status = g_subprocess_get_exit_status (proc);
}

static void
run_tool_full (Run *r, const char *context_env, const char *const *env, const char *const *args)
{
  g_autoptr(GSubprocess) proc = spawn_tool (context_env, env, args);

  wait_tool (r, proc);
}

static void
run_tool_env (Run *r, const char *context_env, const char *const *args)
{
  run_tool_full (r, context_env, NULL, args);
}

#define RUN(r, ...) run_tool_env (r, NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_PASS(r, pass, ...) \
  run_tool_full (r, NULL, (const char *const[]){ "TRUSTBENCH_PASSPHRASE=" pass, NULL }, \
                 (const char *const[]){ __VA_ARGS__, NULL })

static JsonObject *
parse_json_object (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  json_parser_load_from_data (parser, text, -1, &error);
  if (error != NULL)
    g_error ("stdout is not one JSON object (%s):\n%s", error->message, text);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

static void
assert_one_error_line (const Run *r, const char *expect)
{
  g_auto(GStrv) lines = g_strsplit (r->err, "\n", -1);
  gboolean found = FALSE;

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "trustbench-tool: "))
      {
        g_assert_false (found);
        found = TRUE;
        if (expect != NULL && strstr (lines[i], expect) == NULL)
          g_error ("error line “%s” does not contain “%s”", lines[i], expect);
      }
  if (!found)
    g_error ("no “trustbench-tool: …” line on stderr:\n%s", r->err);
}

static void
test_help (void)
{
  g_auto(Run) r = { 0 };
  g_auto(Run) r2 = { 0 };
  g_auto(Run) r3 = { 0 };

  RUN (&r, "--help");
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Usage:"));
  g_assert_nonnull (strstr (r.out, "init"));
  g_assert_nonnull (strstr (r.out, "--json"));
  g_assert_nonnull (strstr (r.out, "Exit codes"));

  RUN (&r2, "init", "--help");
  g_assert_cmpint (r2.status, ==, 0);
  g_assert_nonnull (strstr (r2.out, "--empty"));
  g_assert_nonnull (strstr (r2.out, "--product"));

  RUN (&r3, "--version");
  g_assert_cmpint (r3.status, ==, 0);
  g_assert_nonnull (strstr (r3.out, PACKAGE_VERSION));
}

static void
test_usage_errors (void)
{
  g_auto(Run) none = { 0 };
  g_auto(Run) bogus = { 0 };
  g_auto(Run) bogus_json = { 0 };
  g_auto(Run) bad_opt = { 0 };
  g_auto(Run) bad_cmd_opt = { 0 };
  g_auto(Run) no_ctx = { 0 };
  g_autoptr(JsonObject) obj = NULL;
  JsonObject *err;

  RUN (&none, "--json");
  g_assert_cmpint (none.status, ==, 2);

  RUN (&bogus, "frobnicate");
  g_assert_cmpint (bogus.status, ==, 2);
  assert_one_error_line (&bogus, "frobnicate");
  g_assert_cmpstr (bogus.out, ==, "");

  RUN (&bogus_json, "--json", "frobnicate");
  g_assert_cmpint (bogus_json.status, ==, 2);
  obj = parse_json_object (bogus_json.out);
  err = json_object_get_object_member (obj, "error");
  g_assert_cmpstr (json_object_get_string_member (err, "code"), ==, "invalid-argument");
  g_assert_nonnull (strstr (json_object_get_string_member (err, "message"), "frobnicate"));

  /* a typo gets the command it is closest to; a word far from all of them
   * (frobnicate, above) gets none */
  {
    g_auto(Run) typo = { 0 };
    g_auto(Run) sub_typo = { 0 };

    RUN (&typo, "mastr");
    g_assert_cmpint (typo.status, ==, 2);
    assert_one_error_line (&typo, "did you mean “master”?");
    RUN (&sub_typo, "key", "lst");
    g_assert_cmpint (sub_typo.status, ==, 2);
    assert_one_error_line (&sub_typo, "Unknown command “key lst”: did you mean “key list”?");
    g_assert_null (strstr (bogus.err, "did you mean"));
  }

  RUN (&bad_opt, "--frob", "show");
  g_assert_cmpint (bad_opt.status, ==, 2);
  assert_one_error_line (&bad_opt, "--frob");

  RUN (&bad_cmd_opt, "show", "--frob");
  g_assert_cmpint (bad_cmd_opt.status, ==, 2);
  assert_one_error_line (&bad_cmd_opt, "--frob");

  RUN (&no_ctx, "show");
  g_assert_cmpint (no_ctx.status, ==, 2);
  assert_one_error_line (&no_ctx, "TRUSTBENCH_CONTEXT");
}

static void
assert_array_member (JsonObject *obj, const char *member)
{
  if (!json_object_has_member (obj, member) ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (obj, member)))
    g_error ("JSON has no array “%s”", member);
}

static void
test_init_show (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "oem", NULL);
  g_auto(Run) init = { 0 };
  g_auto(Run) again = { 0 };
  g_auto(Run) show = { 0 };
  g_auto(Run) show_env = { 0 };
  g_auto(Run) show_text = { 0 };
  g_autoptr(JsonObject) init_obj = NULL;
  g_autoptr(JsonObject) show_obj = NULL;
  JsonArray *products;
  JsonArray *warnings;

  RUN (&init, "-C", dir, "--json", "init", "--empty", "--name", "ACME", "--product", "sensor", "--product", "gateway");
  g_assert_cmpint (init.status, ==, 0);
  init_obj = parse_json_object (init.out);
  g_assert_nonnull (json_object_get_string_member (init_obj, "context"));
  assert_array_member (init_obj, "keys");
  assert_array_member (init_obj, "certificates");

  RUN (&again, "-C", dir, "init", "--empty");
  g_assert_cmpint (again.status, ==, 1);
  assert_one_error_line (&again, "already holds a security context");

  /* global options after the command work too */
  RUN (&show, "show", "--json", "-C", dir);
  g_assert_cmpint (show.status, ==, 0);
  show_obj = parse_json_object (show.out);
  g_assert_cmpstr (json_object_get_string_member (show_obj, "name"), ==, "ACME");
  assert_array_member (show_obj, "keys");
  assert_array_member (show_obj, "certificates");
  assert_array_member (show_obj, "products");
  assert_array_member (show_obj, "warnings");
  products = json_object_get_array_member (show_obj, "products");
  g_assert_cmpuint (json_array_get_length (products), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (products, 1), "name"), ==, "gateway");
  warnings = json_object_get_array_member (show_obj, "warnings");
  g_assert_cmpuint (json_array_get_length (warnings), >=, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (warnings, 0), "severity"), ==, "warning");
  g_assert_nonnull (json_object_get_string_member (json_array_get_object_element (warnings, 0), "message"));

  run_tool_env (&show_env, dir, (const char *const[]){ "--json", "show", NULL });
  g_assert_cmpint (show_env.status, ==, 0);
  g_assert_cmpstr (show_env.out, ==, show.out);

  run_tool_env (&show_text, dir, (const char *const[]){ "show", NULL });
  g_assert_cmpint (show_text.status, ==, 0);
  g_assert_nonnull (strstr (show_text.out, "ACME"));
  g_assert_nonnull (strstr (show_text.out, "no root CA"));

  tb_test_rm_rf (tmp);
}

/* cert revoke: the certificate no longer verifies (exit 3), a second
 * revocation is refused, the review report says so. */
static void
test_revoke (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "oem", NULL);
  g_autofree char *pem = g_build_filename (dir, "certs", "product-valve.pem", NULL);
  g_autofree char *report = g_build_filename (tmp, "review.json", NULL);
  g_auto(Run) init = { 0 };
  g_auto(Run) before = { 0 };
  g_auto(Run) revoke = { 0 };
  g_auto(Run) again = { 0 };
  g_auto(Run) after = { 0 };
  g_auto(Run) show = { 0 };
  g_autoptr(JsonObject) r = NULL;
  g_autofree char *text = NULL;

  RUN_PASS (&init, "pass phrase", "-C", dir, "-q", "init", "--product", "valve");
  g_assert_cmpint (init.status, ==, 0);
  RUN (&before, "-C", dir, "cert", "verify", pem);
  g_assert_cmpint (before.status, ==, 0);
  RUN (&revoke, "-C", dir, "--json", "cert", "revoke", "product-valve", "--reason", "superseded");
  g_assert_cmpint (revoke.status, ==, 0);
  r = parse_json_object (revoke.out);
  g_assert_cmpstr (json_object_get_string_member (r, "reason"), ==, "superseded");
  g_assert_nonnull (json_object_get_string_member (r, "revoked"));
  RUN (&again, "-C", dir, "cert", "revoke", "product-valve");
  g_assert_cmpint (again.status, ==, 1);
  assert_one_error_line (&again, "already revoked");
  RUN (&after, "-C", dir, "cert", "verify", pem);
  g_assert_cmpint (after.status, ==, 3);
  assert_one_error_line (&after, "revoked");
  RUN (&show, "-C", dir, "-q", "show", "--report", report);
  g_assert_cmpint (show.status, ==, 0);
  text = tb_test_read_file (report, NULL);
  g_assert_nonnull (strstr (text, "\"status\" : \"revoked\""));
  tb_test_rm_rf (tmp);
}

/* The tool draws (graphviz, cairo) only for a drawn report: those libraries
 * are loaded then, not mapped into every process (tb-render-module.c). */
static void
test_report_drawing (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "oem", NULL);
  g_autofree char *pdf = g_build_filename (tmp, "review.pdf", NULL);
  g_autofree char *svg = g_build_filename (tmp, "review.svg", NULL);
  g_autofree char *text = NULL;
  g_auto(Run) init = { 0 };
  g_auto(Run) draw_pdf = { 0 };
  g_auto(Run) draw_svg = { 0 };
  g_auto(Run) loaded = { 0 };
  gsize len = 0;

  RUN_PASS (&init, "pass phrase", "-C", dir, "-q", "init", "--product", "valve");
  g_assert_cmpint (init.status, ==, 0);
  RUN (&draw_pdf, "-C", dir, "-q", "show", "--report", pdf);
  g_assert_cmpint (draw_pdf.status, ==, 0);
  text = tb_test_read_file (pdf, &len);
  g_assert_cmpuint (len, >, 1000);
  g_assert_true (g_str_has_prefix (text, "%PDF-"));
  g_clear_pointer (&text, g_free);
  RUN (&draw_svg, "-C", dir, "-q", "show", "--report", svg);
  g_assert_cmpint (draw_svg.status, ==, 0);
  text = tb_test_read_file (svg, &len);
  g_assert_cmpuint (len, >, 1000);
  g_assert_nonnull (strstr (text, "<svg"));

  /* the dynamic loader lists what the tool maps at start */
  run_tool_full (&loaded, NULL, (const char *const[]){ "LD_TRACE_LOADED_OBJECTS=1", NULL },
                 (const char *const[]){ "--version", NULL });
  g_assert_cmpint (loaded.status, ==, 0);
  g_assert_nonnull (strstr (loaded.out, "libtrustbench.so"));
  g_assert_null (strstr (loaded.out, "libcairo"));
  g_assert_null (strstr (loaded.out, "libgvc"));
  g_assert_null (strstr (loaded.out, "libtrustbench-render"));
  tb_test_rm_rf (tmp);
}

static void
test_init_bad_product (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "oem", NULL);
  g_auto(Run) r = { 0 };

  RUN (&r, "-C", dir, "init", "--empty", "--product", "../x");
  g_assert_cmpint (r.status, ==, 2);
  assert_one_error_line (&r, "../x");
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  tb_test_rm_rf (tmp);
}

static void
test_broken_context (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "oem", NULL);
  g_autofree char *json = g_build_filename (dir, "context.json", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *after = NULL;
  gsize len = 0;
  g_auto(Run) init = { 0 };
  g_auto(Run) show = { 0 };
  g_auto(Run) show_json = { 0 };
  g_auto(Run) newer = { 0 };
  g_autoptr(JsonObject) obj = NULL;

  RUN (&init, "-C", dir, "init", "--empty");
  g_assert_cmpint (init.status, ==, 0);
  contents = tb_test_read_file (json, &len);
  g_assert_true (g_file_set_contents (json, contents, (gssize) (len / 2), NULL));

  RUN (&show, "-C", dir, "show");
  g_assert_cmpint (show.status, ==, 1);
  assert_one_error_line (&show, json);

  RUN (&show_json, "-C", dir, "--json", "show");
  g_assert_cmpint (show_json.status, ==, 1);
  obj = parse_json_object (show_json.out);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (obj, "error"), "code"),
                   ==, "invalid-data");

  after = tb_test_read_file (json, NULL);
  g_assert_cmpuint (strlen (after), ==, len / 2);

  tb_test_write_file (json, "{\"schema_version\": 9, \"id\": \"x\", \"name\": \"n\", \"created\": \"c\"}");
  RUN (&newer, "-C", dir, "show");
  g_assert_cmpint (newer.status, ==, 1);
  assert_one_error_line (&newer, "newer");
  tb_test_rm_rf (tmp);
}

/* ---- where -o writes ---- */

/* @text without the lines that carry the time it was made */
static char *
without_timestamps (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr(GString) kept = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], "\"generated\"") == NULL && strstr (lines[i], "\"exported\"") == NULL)
      g_string_append_printf (kept, "%s\n", lines[i]);
  return g_string_free (g_steal_pointer (&kept), FALSE);
}

static gboolean
is_symlink (const char *path)
{
  GStatBuf st;

  return g_lstat (path, &st) == 0 && S_ISLNK (st.st_mode);
}

typedef struct {
  char *path;
  char *got;
} FifoReader;

static gpointer
read_fifo (gpointer data)
{
  FifoReader *r = data;

  g_assert_true (g_file_get_contents (r->path, &r->got, NULL, NULL));
  return NULL;
}

/* trustbench-tool -C DIR [--json] COMMAND… OPTION DEST, with the passphrase */
static void
run_with_output (Run *r, const char *dir, gboolean json, const char *const *command, const char *option,
                 const char *dest)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  g_ptr_array_add (args, (gpointer) "-C");
  g_ptr_array_add (args, (gpointer) dir);
  if (json)
    g_ptr_array_add (args, (gpointer) "--json");
  for (guint i = 0; command[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) command[i]);
  g_ptr_array_add (args, (gpointer) option);
  g_ptr_array_add (args, (gpointer) dest);
  g_ptr_array_add (args, NULL);
  run_tool_full (r, NULL, (const char *const[]){ "TRUSTBENCH_PASSPHRASE=a good passphrase", NULL },
                 (const char *const *) args->pdata);
}

/* Runs `COMMAND… OPTION DEST` for DEST a regular file, "-", /dev/stdout, a
 * FIFO being read, a symlink to a regular file and a directory; all but the
 * directory get the same bytes, and nothing is replaced but the regular
 * files. */
static void
check_output_destinations (const char *tmp, const char *dir, const char *suffix, const char *option,
                           const char *const *command)
{
  g_autofree char *regular = g_strdup_printf ("%s/out-regular%s", tmp, suffix);
  g_autofree char *fifo = g_build_filename (tmp, "out-fifo", NULL);
  g_autofree char *target_name = g_strdup_printf ("out-target%s", suffix);
  g_autofree char *target = g_build_filename (tmp, target_name, NULL);
  g_autofree char *link = g_strdup_printf ("%s/out-link%s", tmp, suffix);
  g_autofree char *directory = g_strdup_printf ("%s/out-dir%s", tmp, suffix);
  g_autofree char *expected = NULL;
  g_autofree char *contents = NULL;
  const char *dests[] = { regular, "-", "/dev/stdout", fifo, link, directory };

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  tb_test_write_file (target, "old contents");
  g_assert_cmpint (symlink (target_name, link), ==, 0);
  g_assert_cmpint (g_mkdir (directory, 0700), ==, 0);

  for (guint d = 0; d < G_N_ELEMENTS (dests); d++)
    {
      g_auto(Run) r = { 0 };
      g_autofree char *got = NULL;
      FifoReader reader = { fifo, NULL };
      GThread *thread = NULL;

      if (g_str_equal (dests[d], "/dev/stdout") && !g_file_test ("/dev/stdout", G_FILE_TEST_EXISTS))
        continue;
      if (dests[d] == fifo)
        thread = g_thread_new ("fifo-reader", read_fifo, &reader);
      run_with_output (&r, dir, FALSE, command, option, dests[d]);
      if (thread != NULL)
        {
          /* a tool that never opened the FIFO leaves the reader waiting
           * for a writer: be one, so that a failure fails, not hangs */
          int unblock = open (fifo, O_WRONLY | O_NONBLOCK);
          if (unblock >= 0)
            close (unblock);
          g_thread_join (thread);
        }

      if (dests[d] == directory)
        {
          g_assert_cmpint (r.status, ==, 2);
          assert_one_error_line (&r, "is a directory");
          g_assert_true (g_file_test (directory, G_FILE_TEST_IS_DIR));
          continue;
        }
      if (r.status != 0)
        g_error ("%s %s %s: exit %d\n%s", command[0], option, dests[d], r.status, r.err);
      if (dests[d] == regular)
        got = tb_test_read_file (regular, NULL);
      else if (dests[d] == fifo)
        got = g_steal_pointer (&reader.got);
      else if (dests[d] == link)
        got = tb_test_read_file (target, NULL);
      else
        {
          /* "-" and /dev/stdout: the data alone, the messages on stderr,
           * naming it "standard output" */
          g_autofree char *named = g_strdup_printf (" %s\n", dests[d]);
          if (strstr (r.err, named) != NULL)
            g_error ("%s %s %s: a message names the output as given:\n%s", command[0], option, dests[d], r.err);
          got = g_strdup (r.out);
        }
      g_assert_cmpuint (strlen (got), >, 0);
      g_clear_pointer (&contents, g_free);
      contents = without_timestamps (got);
      if (expected == NULL)
        expected = g_strdup (contents);
      else
        g_assert_cmpstr (contents, ==, expected);
    }
  /* the links stay links, the FIFO a FIFO */
  g_assert_true (is_symlink (link));
  if (g_file_test ("/dev/stdout", G_FILE_TEST_EXISTS))
    g_assert_true (is_symlink ("/dev/stdout"));
  {
    GStatBuf st;
    g_assert_cmpint (g_lstat (fifo, &st), ==, 0);
    g_assert_true (S_ISFIFO (st.st_mode));
  }
  /* with --json, stdout is the JSON object's */
  {
    g_auto(Run) r = { 0 };
    g_autoptr(JsonObject) obj = NULL;

    run_with_output (&r, dir, TRUE, command, option, "-");
    g_assert_cmpint (r.status, ==, 2);
    assert_one_error_line (&r, "--json");
    obj = parse_json_object (r.out);
    g_assert_true (json_object_has_member (obj, "error"));
  }
  g_unlink (regular);
  g_unlink (fifo);
  g_unlink (target);
  g_unlink (link);
  g_rmdir (directory);
}

static void
test_outputs (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "oem", NULL);
  g_auto(Run) init = { 0 };
  g_auto(Run) master = { 0 };

  RUN_PASS (&init, "a good passphrase", "-C", dir, "-q", "init", "--product", "sensor");
  g_assert_cmpint (init.status, ==, 0);

  check_output_destinations (tmp, dir, ".pem", "-o", (const char *const[]){ "cert", "export", "root-ca", NULL });
  check_output_destinations (tmp, dir, ".pem", "-o", (const char *const[]){ "key", "export-public", "mastering", NULL });
  check_output_destinations (tmp, dir, ".json", "-o",
                             (const char *const[]){ "records", "export", "--format", "json", NULL });
  check_output_destinations (tmp, dir, ".json", "--report", (const char *const[]){ "show", NULL });

  /* a mastered pair is two files: a directory, never standard output */
  RUN_PASS (&master, "a good passphrase", "-C", dir, "master", "/dev/null", "--product", "sensor", "--version",
            "1.0.0", "-o", "-");
  g_assert_cmpint (master.status, ==, 2);
  assert_one_error_line (&master, "cannot be standard output");
  g_assert_false (g_file_test ("-", G_FILE_TEST_EXISTS));
  tb_test_rm_rf (tmp);
}

/* A certificate file deleted behind the context's back: show and audit
 * verify exit 3 naming it, cert list says so. */
static void
test_missing_files (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "oem", NULL);
  g_autofree char *pem = g_build_filename (dir, "certs", "mastering.pem", NULL);
  const char *named = "certs/mastering.pem, listed for certificate “mastering”, is missing";
  g_auto(Run) init = { 0 };
  g_auto(Run) show_ok = { 0 };
  g_auto(Run) audit_ok = { 0 };
  g_auto(Run) show = { 0 };
  g_auto(Run) show_json = { 0 };
  g_auto(Run) list = { 0 };
  g_auto(Run) list_json = { 0 };
  g_auto(Run) audit = { 0 };
  g_autoptr(JsonObject) s = NULL;
  g_autoptr(JsonObject) l = NULL;
  g_autoptr(JsonObject) a = NULL;
  JsonArray *problems;

  RUN_PASS (&init, "a good passphrase", "-C", dir, "-q", "init");
  g_assert_cmpint (init.status, ==, 0);
  RUN (&show_ok, "-C", dir, "show");
  g_assert_cmpint (show_ok.status, ==, 0);
  RUN (&audit_ok, "-C", dir, "audit", "verify");
  g_assert_cmpint (audit_ok.status, ==, 0);

  g_assert_cmpint (g_unlink (pem), ==, 0);
  RUN (&show, "-C", dir, "show");
  g_assert_cmpint (show.status, ==, 3);
  assert_one_error_line (&show, named);
  g_assert_nonnull (strstr (show.out, "critical: certs/mastering.pem"));
  g_assert_null (strstr (show.out, "does not chain"));

  RUN (&show_json, "-C", dir, "--json", "show");
  g_assert_cmpint (show_json.status, ==, 3);
  s = parse_json_object (show_json.out);
  problems = json_object_get_array_member (s, "file_problems");
  g_assert_cmpuint (json_array_get_length (problems), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (problems, 0), "file"), ==,
                   "certs/mastering.pem");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (problems, 0), "entry"), ==,
                   "mastering");
  g_assert_nonnull (strstr (show_json.out, "\"severity\" : \"critical\""));

  RUN (&list, "-C", dir, "cert", "list");
  g_assert_cmpint (list.status, ==, 0);
  g_assert_nonnull (strstr (list.out, named));
  assert_one_error_line (&list, named);
  RUN (&list_json, "-C", dir, "--json", "cert", "list");
  l = parse_json_object (list_json.out);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (l, "file_problems")), ==, 1);

  RUN (&audit, "-C", dir, "--json", "audit", "verify");
  g_assert_cmpint (audit.status, ==, 3);
  assert_one_error_line (&audit, named);
  a = parse_json_object (audit.out);
  g_assert_false (json_object_get_boolean_member (a, "valid"));
  g_assert_true (json_object_get_boolean_member (a, "log_valid"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (a, "file_problems")), ==, 1);
  tb_test_rm_rf (tmp);
}

static void
test_demo (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "demo", NULL);
  g_auto(Run) demo = { 0 };
  g_auto(Run) again = { 0 };
  g_autoptr(JsonObject) obj = NULL;

  RUN (&demo, "--json", "demo", dir);
  g_assert_cmpint (demo.status, ==, 0);
  obj = parse_json_object (demo.out);
  g_assert_cmpstr (json_object_get_string_member (obj, "name"), ==, "Demo OEM");
  /* the steps went to stderr, one line each */
  g_assert_nonnull (strstr (demo.err, "Creating the security context"));
  g_assert_nonnull (strstr (demo.err, "Checking the context"));
  g_assert_nonnull (strstr (demo.err, "Mastering the demo application"));
  g_assert_nonnull (strstr (demo.err, "every chunk authenticates"));
  g_assert_nonnull (strstr (demo.err, "boot ok: the board runs demo-sensor 1.0.0"));

  RUN (&again, "demo", dir);
  g_assert_cmpint (again.status, ==, 1);
  assert_one_error_line (&again, "already holds");
  tb_test_rm_rf (tmp);
}

static void
test_hierarchy (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "oem", NULL);
  g_autofree char *pass_file = g_build_filename (tmp, "pass", NULL);
  g_auto(Run) no_pass = { 0 };
  g_auto(Run) init = { 0 };
  g_auto(Run) keys = { 0 };
  g_auto(Run) certs = { 0 };
  g_auto(Run) wrong = { 0 };
  g_auto(Run) from_file = { 0 };
  g_auto(Run) gen = { 0 };
  g_auto(Run) gen_bad = { 0 };
  g_auto(Run) verify = { 0 };
  g_auto(Run) verify_bad = { 0 };
  g_autoptr(JsonObject) obj = NULL;
  g_autoptr(JsonObject) keys_obj = NULL;
  g_autoptr(JsonObject) certs_obj = NULL;
  g_autoptr(JsonObject) verify_obj = NULL;
  JsonArray *arr;
  const char *expect[] = { "root-ca", "provisioning-ca", "mastering", "product-sensor" };
  g_autofree char *csr = g_build_filename (tmp, "csr.pem", NULL);

  /* no passphrase and no terminal: a usage error, nothing created */
  RUN (&no_pass, "-C", dir, "init", "--product", "sensor");
  g_assert_cmpint (no_pass.status, ==, 2);
  assert_one_error_line (&no_pass, "TRUSTBENCH_PASSPHRASE");
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));

  RUN_PASS (&init, "a good passphrase", "-C", dir, "--json", "init", "--product", "sensor");
  g_assert_cmpint (init.status, ==, 0);
  obj = parse_json_object (init.out);
  arr = json_object_get_array_member (obj, "keys");
  g_assert_cmpuint (json_array_get_length (arr), ==, G_N_ELEMENTS (expect));
  arr = json_object_get_array_member (obj, "certificates");
  g_assert_cmpuint (json_array_get_length (arr), ==, G_N_ELEMENTS (expect));
  g_assert_null (strstr (init.out, "PRIVATE"));

  RUN (&keys, "-C", dir, "--json", "key", "list");
  g_assert_cmpint (keys.status, ==, 0);
  keys_obj = parse_json_object (keys.out);
  arr = json_object_get_array_member (keys_obj, "keys");
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      JsonObject *k = json_array_get_object_element (arr, i);
      g_assert_cmpstr (json_object_get_string_member (k, "name"), ==, expect[i]);
      g_assert_cmpstr (json_object_get_string_member (k, "storage"), ==, "file");
      g_assert_cmpstr (json_object_get_string_member (k, "algorithm"), ==, "ec-p256");
      g_assert_cmpuint (strlen (json_object_get_string_member (k, "public_key_sha256")), ==, 64);
      g_assert_nonnull (json_object_get_string_member (k, "usage"));
    }

  RUN (&certs, "-C", dir, "--json", "cert", "list");
  g_assert_cmpint (certs.status, ==, 0);
  certs_obj = parse_json_object (certs.out);
  arr = json_object_get_array_member (certs_obj, "certificates");
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      JsonObject *c = json_array_get_object_element (arr, i);
      g_assert_cmpstr (json_object_get_string_member (c, "name"), ==, expect[i]);
      g_assert_cmpstr (json_object_get_string_member (c, "key"), ==, expect[i]);
      g_assert_nonnull (json_object_get_string_member (c, "subject"));
      g_assert_nonnull (json_object_get_string_member (c, "issuer"));
      g_assert_nonnull (json_object_get_string_member (c, "not_after"));
    }

  /* a wrong passphrase is a clear error */
  {
    g_autofree char *cmd = g_strdup_printf ("%s req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                                            "-keyout /dev/null -subj /CN=cli-csr -out %s",
                                            g_getenv ("TB_OPENSSL"), csr);
    int status = 0;
    g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL));
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
  {
    g_autofree char *out = g_build_filename (tmp, "leaf.pem", NULL);
    RUN_PASS (&wrong, "not the passphrase", "-C", dir, "cert", "issue", "--csr", csr, "-o", out);
    g_assert_cmpint (wrong.status, ==, 1);
    assert_one_error_line (&wrong, "Wrong passphrase");
    g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));

    tb_test_write_file (pass_file, "a good passphrase\n");
    RUN (&from_file, "-C", dir, "--passphrase-file", pass_file, "cert", "issue", "--csr", csr, "-o", out);
    g_assert_cmpint (from_file.status, ==, 0);

    RUN (&verify, "-C", dir, "--json", "cert", "verify", out);
    g_assert_cmpint (verify.status, ==, 0);
    verify_obj = parse_json_object (verify.out);
    g_assert_true (json_object_get_boolean_member (verify_obj, "valid"));
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (verify_obj, "chain")), ==, 3);
  }
  {
    g_autoptr(JsonObject) bad_obj = NULL;
    g_autofree char *foreign = g_build_filename (tmp, "foreign.pem", NULL);
    g_autofree char *cmd = g_strdup_printf ("%s req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                                            "-keyout /dev/null -subj /CN=foreign -days 2 -out %s",
                                            g_getenv ("TB_OPENSSL"), foreign);
    int status = 0;
    g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL));
    RUN (&verify_bad, "-C", dir, "--json", "cert", "verify", foreign);
    g_assert_cmpint (verify_bad.status, ==, 3);
    bad_obj = parse_json_object (verify_bad.out);
    g_assert_false (json_object_get_boolean_member (bad_obj, "valid"));
  }

  /* public key export matches what openssl derives from the same key */
  {
    g_autofree char *imp = g_build_filename (tmp, "imp.pem", NULL);
    g_autofree char *pub = g_build_filename (tmp, "imp.pub", NULL);
    g_autofree char *exported = g_build_filename (tmp, "exported.pub", NULL);
    g_autofree char *cmd1 = g_strdup_printf ("%s genpkey -algorithm ED25519 -out %s", g_getenv ("TB_OPENSSL"), imp);
    g_autofree char *cmd2 = g_strdup_printf ("%s pkey -in %s -pubout -out %s", g_getenv ("TB_OPENSSL"), imp, pub);
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;
    g_autofree char *chain = g_build_filename (tmp, "chain.pem", NULL);
    g_autofree char *dev = g_build_filename (tmp, "dev.pem", NULL);
    g_auto(Run) imp_run = { 0 };
    g_auto(Run) exp_run = { 0 };
    g_auto(Run) chain_run = { 0 };
    g_auto(Run) dev_run = { 0 };
    g_auto(Run) dev_bad = { 0 };
    int status = 0;

    g_assert_true (g_spawn_command_line_sync (cmd1, NULL, NULL, &status, NULL));
    g_assert_true (g_spawn_command_line_sync (cmd2, NULL, NULL, &status, NULL));
    RUN_PASS (&imp_run, "a good passphrase", "-C", dir, "key", "import", "signer", imp, "--usage", "job");
    g_assert_cmpint (imp_run.status, ==, 0);
    RUN (&exp_run, "-C", dir, "key", "export-public", "signer", "-o", exported);
    g_assert_cmpint (exp_run.status, ==, 0);
    a = tb_test_read_file (pub, NULL);
    b = tb_test_read_file (exported, NULL);
    g_assert_cmpstr (a, ==, b);

    RUN (&chain_run, "-C", dir, "cert", "export", "mastering", "--chain", "-o", chain);
    g_assert_cmpint (chain_run.status, ==, 0);

    RUN_PASS (&dev_run, "a good passphrase", "-C", dir, "--json", "cert", "issue", "--uid", "a1b2c3d4",
              "--device-key",
              "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
              "-o", dev);
    g_assert_cmpint (dev_run.status, ==, 0);
    g_assert_nonnull (strstr (dev_run.out, "serialNumber=a1b2c3d4"));
    RUN_PASS (&dev_bad, "a good passphrase", "-C", dir, "cert", "issue", "--uid", "a1b2c3d4", "--device-key",
              "04deadbeef", "-o", dev);
    g_assert_cmpint (dev_bad.status, ==, 2);
  }

  RUN_PASS (&gen, "a good passphrase", "-C", dir, "--json", "key", "generate", "job-1", "--usage", "job",
            "--algorithm", "ed25519");
  g_assert_cmpint (gen.status, ==, 0);
  g_assert_nonnull (strstr (gen.out, "\"ed25519\""));
  RUN_PASS (&gen_bad, "a good passphrase", "-C", dir, "key", "generate", "job-2", "--usage", "printer");
  g_assert_cmpint (gen_bad.status, ==, 2);
  assert_one_error_line (&gen_bad, "printer");

  tb_test_rm_rf (tmp);
}

/* master, image info, image verify: JSON keys and exit 3 on tampering */
static void
test_master (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "oem", NULL);
  g_autofree char *bin = g_build_filename (tmp, "app.bin", NULL);
  g_autofree char *out = g_build_filename (tmp, "out", NULL);
  g_autofree char *upk = g_build_filename (out, "app-1.4.2.tbupk", NULL);
  g_autofree char *image = g_build_filename (out, "app-1.4.2.tbimg", NULL);
  g_autofree char *plain = g_build_filename (tmp, "plain.bin", NULL);
  g_autofree guint8 *data = g_malloc (10000);
  g_auto(Run) init = { 0 };
  g_auto(Run) master = { 0 };
  g_auto(Run) no_addr = { 0 };
  g_auto(Run) info = { 0 };
  g_auto(Run) verify = { 0 };
  g_auto(Run) tampered = { 0 };
  g_auto(Run) decrypt = { 0 };
  g_autoptr(JsonObject) m = NULL;
  g_autoptr(JsonObject) i = NULL;
  g_autoptr(JsonObject) v = NULL;
  g_autoptr(JsonObject) t = NULL;
  g_autofree char *back = NULL;
  gsize back_len = 0;

  for (guint k = 0; k < 10000; k++)
    data[k] = (guint8) (k * 7);
  g_assert_true (g_file_set_contents (bin, (const char *) data, 10000, NULL));
  g_assert_cmpint (g_mkdir (out, 0700), ==, 0);
  RUN_PASS (&init, "a good passphrase", "-C", dir, "init", "--product", "sensor");
  g_assert_cmpint (init.status, ==, 0);

  RUN_PASS (&no_addr, "a good passphrase", "-C", dir, "master", bin, "--product", "sensor", "--version", "1.4.2",
            "-o", out);
  g_assert_cmpint (no_addr.status, ==, 2);
  assert_one_error_line (&no_addr, "load address");
  /* a load address is hex or decimal, nothing else: no sign (-1 would
   * wrap), no blank, no octal (010 would be 8) */
  {
    const char *bad[] = { "-1", " 0x08000000", "010", "0x", "8000000h", NULL };
    for (guint k = 0; bad[k] != NULL; k++)
      {
        g_auto(Run) r = { 0 };
        RUN_PASS (&r, "a good passphrase", "-C", dir, "master", bin, "--product", "sensor", "--version", "1.4.2",
                  "--load-address", bad[k], "-o", out);
        g_assert_cmpint (r.status, ==, 2);
        assert_one_error_line (&r, "is not an address");
      }
  }

  RUN_PASS (&master, "a good passphrase", "-C", dir, "--json", "master", bin, "--product", "sensor", "--version",
            "1.4.2", "--security-counter", "3", "--load-address", "0x08004000", "-o", out);
  g_assert_cmpint (master.status, ==, 0);
  m = parse_json_object (master.out);
  g_assert_cmpstr (json_object_get_string_member (m, "image"), ==, image);
  g_assert_cmpstr (json_object_get_string_member (m, "upk"), ==, upk);
  g_assert_cmpstr (json_object_get_string_member (m, "product"), ==, "sensor");
  g_assert_cmpstr (json_object_get_string_member (m, "version"), ==, "1.4.2");
  g_assert_cmpint (json_object_get_int_member (m, "security_counter"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (m, "size"), ==, 10000);
  {
    g_autofree char *expect = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, 10000);
    g_assert_cmpstr (json_object_get_string_member (m, "plaintext_sha256"), ==, expect);
  }

  RUN (&info, "--json", "image", "info", upk);
  g_assert_cmpint (info.status, ==, 0);
  i = parse_json_object (info.out);
  g_assert_cmpstr (json_object_get_string_member (i, "load_address"), ==, "0x08004000");
  g_assert_nonnull (strstr (json_object_get_string_member (i, "signer"), "Mastering"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (i, "recipients")), ==, 1);
  g_assert_null (strstr (info.out, "wrapped"));

  RUN_PASS (&verify, "a good passphrase", "-C", dir, "--json", "image", "verify", upk, image);
  g_assert_cmpint (verify.status, ==, 0);
  v = parse_json_object (verify.out);
  g_assert_true (json_object_get_boolean_member (v, "valid"));
  g_assert_true (json_object_get_boolean_member (v, "decrypted"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (v, "checks")), ==, 6);
  {
    g_auto(Run) nodec = { 0 };
    g_auto(Run) wrong = { 0 };
    g_auto(Run) wrong_json = { 0 };
    g_autoptr(JsonObject) n = NULL;
    g_autoptr(JsonObject) e = NULL;

    /* without decrypting: valid as far as checked, and it says so */
    RUN (&nodec, "-C", dir, "--json", "image", "verify", upk, image, "--no-decrypt");
    g_assert_cmpint (nodec.status, ==, 0);
    n = parse_json_object (nodec.out);
    g_assert_true (json_object_get_boolean_member (n, "valid"));
    g_assert_false (json_object_get_boolean_member (n, "decrypted"));
    g_assert_nonnull (strstr (nodec.out, "not checked"));
    /* a wrong passphrase is not a tampered file: exit 1, not 3 */
    RUN_PASS (&wrong, "not the passphrase", "-C", dir, "image", "verify", upk, image);
    g_assert_cmpint (wrong.status, ==, 1);
    /* the same with --json: the error object, not "valid": false */
    RUN_PASS (&wrong_json, "not the passphrase", "-C", dir, "--json", "image", "verify", upk, image);
    g_assert_cmpint (wrong_json.status, ==, 1);
    e = parse_json_object (wrong_json.out);
    g_assert_false (json_object_has_member (e, "valid"));
    g_assert_nonnull (strstr (json_object_get_string_member (json_object_get_object_member (e, "error"), "message"),
                              "passphrase"));
  }

  RUN_PASS (&decrypt, "a good passphrase", "-C", dir, "image", "decrypt", upk, image, "-o", plain);
  g_assert_cmpint (decrypt.status, ==, 0);
  back = tb_test_read_file (plain, &back_len);
  g_assert_cmpmem (back, back_len, data, 10000);

  /* mastered again under the same name: refused, naming the files, which
   * stay as they were; without a passphrase even, nothing is asked first */
  {
    g_auto(Run) refused = { 0 };
    g_auto(Run) half = { 0 };
    g_autofree char *upk_before = tb_test_read_file (upk, NULL);
    g_autofree char *upk_after = NULL;
    g_autofree char *other_upk = g_build_filename (out, "other.tbupk", NULL);
    g_autofree char *other_image = g_build_filename (out, "other.tbimg", NULL);

    RUN (&refused, "-C", dir, "master", bin, "--product", "sensor", "--version", "1.4.2", "--load-address",
         "0x08004000", "-o", out);
    g_assert_cmpint (refused.status, ==, 1);
    assert_one_error_line (&refused, image);
    assert_one_error_line (&refused, upk);
    assert_one_error_line (&refused, "--force");
    upk_after = tb_test_read_file (upk, NULL);
    g_assert_cmpstr (upk_after, ==, upk_before);
    /* half a pair counts too */
    tb_test_write_file (other_upk, "an earlier UPK");
    RUN_PASS (&half, "a good passphrase", "-C", dir, "master", bin, "--product", "sensor", "--version", "1.4.2",
              "--load-address", "0x08004000", "--name", "other", "-o", out);
    g_assert_cmpint (half.status, ==, 1);
    assert_one_error_line (&half, "other.tbupk already exists");
    g_assert_false (g_file_test (other_image, G_FILE_TEST_EXISTS));
    g_unlink (other_upk);
  }

  /* with --force, flushed to disk this time: a new image (new id) that
   * verifies, and no temporary file left in DIR */
  {
    g_auto(Run) again = { 0 };
    g_auto(Run) reverify = { 0 };
    g_autoptr(JsonObject) a = NULL;
    g_autoptr(GDir) d = NULL;
    const char *name;

    RUN_PASS (&again, "a good passphrase", "-C", dir, "--json", "master", bin, "--product", "sensor", "--version",
              "1.4.2", "--load-address", "0x08004000", "--sync", "--force", "-o", out);
    g_assert_cmpint (again.status, ==, 0);
    a = parse_json_object (again.out);
    g_assert_cmpstr (json_object_get_string_member (a, "image"), ==, image);
    g_assert_cmpstr (json_object_get_string_member (a, "image_id"), !=, json_object_get_string_member (m, "image_id"));
    RUN_PASS (&reverify, "a good passphrase", "-C", dir, "image", "verify", upk, image);
    g_assert_cmpint (reverify.status, ==, 0);
    d = g_dir_open (out, 0, NULL);
    while ((name = g_dir_read_name (d)) != NULL)
      g_assert_false (name[0] == '.');
  }

  /* one flipped byte in the last chunk: exit 3 */
  {
    g_autofree char *bytes = NULL;
    gsize len = 0;
    bytes = tb_test_read_file (image, &len);
    bytes[len - 20] ^= 0x01;
    g_assert_true (g_file_set_contents (image, bytes, (gssize) len, NULL));
  }
  RUN_PASS (&tampered, "a good passphrase", "-C", dir, "--json", "image", "verify", upk, image);
  g_assert_cmpint (tampered.status, ==, 3);
  t = parse_json_object (tampered.out);
  g_assert_false (json_object_get_boolean_member (t, "valid"));
  g_assert_nonnull (strstr (json_object_get_string_member (t, "reason"), "does not authenticate"));
  tb_test_rm_rf (tmp);
}

static void
test_device_probe (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *board = g_build_filename (tmp, "b1", NULL);
  g_autofree char *in = g_build_filename (tmp, "in.bin", NULL);
  g_autofree char *out = g_build_filename (tmp, "out.bin", NULL);
  g_autofree char *uri = g_strconcat ("virtual:", board, NULL);
  g_auto(Run) create = { 0 };
  g_auto(Run) list = { 0 };
  g_auto(Run) wr = { 0 };
  g_auto(Run) rd = { 0 };
  g_auto(Run) bad = { 0 };
  g_autoptr(JsonObject) c = NULL;
  g_autoptr(JsonObject) l = NULL;
  g_autofree char *back = NULL;
  gsize len = 0;

  RUN (&create, "--json", "device", "create", board, "--uid", "cafe0001", "--flash-size", "262144");
  g_assert_cmpint (create.status, ==, 0);
  c = parse_json_object (create.out);
  g_assert_cmpstr (json_object_get_string_member (c, "uid"), ==, "cafe0001");
  g_assert_cmpstr (json_object_get_string_member (c, "lifecycle"), ==, "blank");
  g_assert_cmpstr (json_object_get_string_member (c, "device_type"), ==, "tb-vmcu-m4");

  {
    g_autofree char *env = g_strconcat ("TRUSTBENCH_BOARDS=", tmp, NULL);
    run_tool_full (&list, NULL, (const char *const[]){ env, NULL },
                   (const char *const[]){ "--json", "probe", "list", NULL });
  }
  g_assert_cmpint (list.status, ==, 0);
  l = parse_json_object (list.out);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (l, "probes")), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (
                     json_object_get_array_member (l, "probes"), 0), "uri"), ==, uri);

  tb_test_write_file (in, "hello board");
  RUN (&wr, "probe", "write", "--probe", uri, "0x08000100", in);
  g_assert_cmpint (wr.status, ==, 0);
  RUN (&rd, "probe", "read", "--probe", uri, "0x08000100", "11", "-o", out);
  g_assert_cmpint (rd.status, ==, 0);
  back = tb_test_read_file (out, &len);
  g_assert_cmpstr (back, ==, "hello board");

  RUN (&bad, "probe", "read", "--probe", "usb:1", "0", "4", "-o", out);
  g_assert_cmpint (bad.status, ==, 2);
  tb_test_rm_rf (tmp);
}

static void
test_provision (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "oem", NULL);
  g_autofree char *board = g_build_filename (tmp, "board", NULL);
  g_autofree char *uri = g_strconcat ("virtual:", board, NULL);
  g_autofree char *bin = g_build_filename (tmp, "app.bin", NULL);
  g_autofree char *upk2 = g_build_filename (tmp, "app-2.0.0.tbupk", NULL);
  g_autofree char *img2 = g_build_filename (tmp, "app-2.0.0.tbimg", NULL);
  g_autofree char *upk1 = g_build_filename (tmp, "app-1.0.0.tbupk", NULL);
  g_autofree char *img1 = g_build_filename (tmp, "app-1.0.0.tbimg", NULL);
  g_auto(Run) init = { 0 };
  g_auto(Run) m1 = { 0 };
  g_auto(Run) m2 = { 0 };
  g_auto(Run) create = { 0 };
  g_auto(Run) prov = { 0 };
  g_auto(Run) info = { 0 };
  g_auto(Run) rollback = { 0 };
  g_auto(Run) reset = { 0 };
  g_auto(Run) peek = { 0 };
  g_autoptr(JsonObject) p = NULL;
  g_autoptr(JsonObject) i = NULL;
  g_autoptr(JsonObject) r = NULL;
  g_autofree char *peek_out = g_build_filename (tmp, "peek.bin", NULL);

  tb_test_write_file (bin, "an application image, small but real enough");
  RUN_PASS (&init, "pass phrase", "-C", dir, "-q", "init", "--product", "sensor");
  g_assert_cmpint (init.status, ==, 0);
  RUN_PASS (&m2, "pass phrase", "-C", dir, "-q", "master", bin, "--product", "sensor", "--version", "2.0.0",
            "--security-counter", "2", "--load-address", "0x08008000", "-o", tmp);
  RUN_PASS (&m1, "pass phrase", "-C", dir, "-q", "master", bin, "--product", "sensor", "--version", "1.0.0",
            "--security-counter", "1", "--load-address", "0x08008000", "-o", tmp);
  g_assert_cmpint (m1.status + m2.status, ==, 0);
  RUN (&create, "-q", "device", "create", board);
  g_assert_cmpint (create.status, ==, 0);

  RUN_PASS (&prov, "pass phrase", "-C", dir, "--json", "provision", "--probe", uri, "--image", upk2, img2);
  g_assert_cmpint (prov.status, ==, 0);
  p = parse_json_object (prov.out);
  g_assert_cmpstr (json_object_get_string_member (p, "lifecycle"), ==, "locked");
  g_assert_nonnull (strstr (json_object_get_string_member (p, "device_certificate"), "BEGIN CERTIFICATE"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (p, "app"), "version"), ==, "2.0.0");
  g_assert_nonnull (json_object_get_string_member (p, "record_id"));

  RUN (&info, "--json", "device", "info", "--probe", uri);
  g_assert_cmpint (info.status, ==, 0);
  i = parse_json_object (info.out);
  g_assert_true (json_object_get_boolean_member (i, "attestation_valid"));
  g_assert_cmpstr (json_object_get_string_member (i, "uid"), ==, json_object_get_string_member (p, "uid"));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (i, "app"), "security_counter"), ==, 2);

  RUN (&rollback, "program", "--probe", uri, upk1, img1);
  g_assert_cmpint (rollback.status, ==, 3);
  assert_one_error_line (&rollback, "rollback");

  RUN (&reset, "--json", "device", "reset", "--probe", uri);
  g_assert_cmpint (reset.status, ==, 0);
  r = parse_json_object (reset.out);
  g_assert_cmpstr (json_object_get_string_member (r, "boot"), ==, "ok");

  /* locked: raw reads outside the mailbox are refused */
  RUN (&peek, "probe", "read", "--probe", uri, "0x08000000", "16", "-o", peek_out);
  g_assert_cmpint (peek.status, ==, 3);

  /* an update the application staged installs at the next reset */
  {
    g_autofree char *upk3 = g_build_filename (tmp, "app-3.0.0.tbupk", NULL);
    g_autofree char *img3 = g_build_filename (tmp, "app-3.0.0.tbimg", NULL);
    g_auto(Run) m3 = { 0 };
    g_auto(Run) staged = { 0 };
    g_auto(Run) missing = { 0 };
    g_auto(Run) after = { 0 };
    g_autoptr(JsonObject) a = NULL;

    RUN_PASS (&m3, "pass phrase", "-C", dir, "-q", "master", bin, "--product", "sensor", "--version", "3.0.0",
              "--security-counter", "3", "--load-address", "0x08008000", "-o", tmp);
    g_assert_cmpint (m3.status, ==, 0);
    RUN (&missing, "device", "stage-update", board, upk3, "/nonexistent/app.tbimg");
    g_assert_cmpint (missing.status, !=, 0);
    assert_one_error_line (&missing, "nonexistent");
    RUN (&staged, "--json", "device", "stage-update", board, upk3, img3);
    g_assert_cmpint (staged.status, ==, 0);
    RUN (&after, "--json", "device", "reset", "--probe", uri);
    g_assert_cmpint (after.status, ==, 0);
    a = parse_json_object (after.out);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (a, "app"), "version"), ==,
                     "3.0.0");
  }
  /* every step above is in the audit log; a removed entry is found */
  {
    g_autofree char *log = g_build_filename (dir, "audit", "log.jsonl", NULL);
    g_autofree char *text = tb_test_read_file (log, NULL);
    g_auto(Run) ok = { 0 };
    g_auto(Run) bad = { 0 };
    g_autoptr(JsonObject) a = NULL;
    g_autoptr(JsonObject) v = NULL;
    char *second;

    RUN (&ok, "-C", dir, "--json", "audit", "show");
    g_assert_cmpint (ok.status, ==, 0);
    a = parse_json_object (ok.out);
    g_assert_true (json_object_get_boolean_member (a, "valid"));
    g_assert_cmpint (json_object_get_int_member (a, "entries"), >=, 10);
    g_assert_nonnull (strstr (ok.out, "device.provision"));
    g_assert_nonnull (strstr (ok.out, "image.master"));
    /* and, for people, each entry in words */
    g_assert_nonnull (strstr (ok.err, "Mastered sensor 3.0.0, signed by mastering (security counter 3)"));
    second = strchr (text, '\n') + 1;
    memmove (second, strchr (second, '\n') + 1, strlen (strchr (second, '\n') + 1) + 1);
    tb_test_write_file (log, text);
    RUN (&bad, "-C", dir, "--json", "audit", "verify");
    g_assert_cmpint (bad.status, ==, 3);
    v = parse_json_object (bad.out);
    g_assert_false (json_object_get_boolean_member (v, "valid"));
    g_assert_cmpint (json_object_get_int_member (v, "first_bad_entry"), ==, 2);
    /* and nothing is added to a tampered log */
    {
      g_auto(Run) refused = { 0 };
      RUN_PASS (&refused, "pass phrase", "-C", dir, "-q", "master", bin, "--product", "sensor", "--version",
                "4.0.0", "--security-counter", "4", "--load-address", "0x08008000", "-o", tmp);
      g_assert_cmpint (refused.status, ==, 3);
      assert_one_error_line (&refused, "audit log");
    }
  }

  tb_test_rm_rf (tmp);
}

/* Ctrl-C cancels long work: exit 130, and init removes what it created. */
static void
test_cancel (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "oem", NULL);
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_subprocess_launcher_set_child_setup (launcher, detach_from_tty, NULL, NULL);
  g_subprocess_launcher_setenv (launcher, "TRUSTBENCH_PASSPHRASE", "a good passphrase", TRUE);
  /* RSA-3072 keys take long enough to be interrupted half-way */
  proc = g_subprocess_launcher_spawn (launcher, &error, tool_path (), "-C", dir, "init", "--algorithm", "rsa-3072",
                                      "--product", "a", "--product", "b", "--product", "c", NULL);
  g_assert_no_error (error);
  g_usleep (300 * 1000);
  g_subprocess_send_signal (proc, SIGINT);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 130);
  g_assert_nonnull (strstr (err, "trustbench-tool: "));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  tb_test_rm_rf (tmp);
}

/* The production commands of the contract: job create / import / list /
 * show, produce (exit 4 at the limit), records export, receipts verify. */
#define RUN_JOB(r, pass, ...) \
  run_tool_full (r, NULL, (const char *const[]){ "TRUSTBENCH_PASSPHRASE=" pass, \
                                                 "TRUSTBENCH_JOB_PASSPHRASE=job passphrase", NULL }, \
                 (const char *const[]){ __VA_ARGS__, NULL })

/* Writes @src with its outer member @member set to @value (a string, or
 * an integer when @value is NULL) to @dst. */
static void
alter_job_member (const char *src, const char *dst, const char *member, const char *value, gint64 int_value)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  JsonObject *pkg;

  g_assert_true (json_parser_load_from_file (parser, src, &error));
  pkg = json_node_get_object (json_parser_get_root (parser));
  if (value != NULL)
    json_object_set_string_member (pkg, member, value);
  else
    json_object_set_int_member (pkg, member, int_value);
  json_generator_set_root (gen, json_parser_get_root (parser));
  text = json_generator_to_data (gen, NULL);
  tb_test_write_file (dst, text);
}

/* A job package whose outer (unsigned) fields were edited is refused as a
 * failed verification, exit 3, and nothing is imported. */
static void
assert_altered_jobs_refused (const char *tmp, const char *job, const char *station, const char *fingerprint)
{
  g_autofree char *altered = g_build_filename (tmp, "altered.tbjob", NULL);
  g_autofree char *manifest_b64 = NULL;
  g_autofree char *other_manifest = NULL;
  const char *garbage_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  struct {
    const char *member;
    const char *value;
    gint64 int_value;
  } cases[] = {
    { "job_id", "run2", 0 },
    { "slice", NULL, 2 },
    { "manifest", NULL, 0 },  /* filled below: the manifest with another job id */
    { "signature", "MEUCIQDxMEUCIQDxMEUCIQDx", 0 },
    { "root_certificate", NULL, 0 }, /* filled below */
    { "signer_certificate", NULL, 0 }, /* filled below */
    { "upk", "dGFtcGVyZWQ=", 0 },
    { "image", "dGFtcGVyZWQ=", 0 },
  };

  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    g_autoptr(JsonParser) mparser = json_parser_new ();
    g_autoptr(JsonGenerator) gen = json_generator_new ();
    g_autofree guint8 *m = NULL;
    g_autofree char *mtext = NULL;
    gsize len = 0;
    JsonObject *pkg;

    g_assert_true (json_parser_load_from_file (parser, job, NULL));
    pkg = json_node_get_object (json_parser_get_root (parser));
    manifest_b64 = g_strdup (json_object_get_string_member (pkg, "manifest"));
    m = g_base64_decode (manifest_b64, &len);
    g_assert_true (json_parser_load_from_data (mparser, (const char *) m, (gssize) len, NULL));
    json_object_set_string_member (json_node_get_object (json_parser_get_root (mparser)), "job_id", "run2");
    json_generator_set_root (gen, json_parser_get_root (mparser));
    mtext = json_generator_to_data (gen, NULL);
    other_manifest = g_base64_encode ((const guint8 *) mtext, strlen (mtext));
  }
  cases[2].value = other_manifest;
  cases[4].value = garbage_pem;
  cases[5].value = garbage_pem;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(Run) refused = { 0 };
      g_auto(Run) list = { 0 };

      alter_job_member (job, altered, cases[i].member, cases[i].value, cases[i].int_value);
      RUN_JOB (&refused, "station passphrase", "-C", station, "job", "import", altered, "--root-fingerprint",
               fingerprint);
      if (refused.status != 3)
        g_error ("a package with another “%s” exits %d, not 3:\n%s", cases[i].member, refused.status, refused.err);
      assert_one_error_line (&refused, NULL);
      RUN (&list, "-C", station, "--json", "job", "list");
      g_assert_null (strstr (list.out, "run"));
    }
  /* a package of format version 1 (outer fields unsigned) is not read */
  {
    g_auto(Run) old = { 0 };
    alter_job_member (job, altered, "version", NULL, 1);
    RUN_JOB (&old, "station passphrase", "-C", station, "job", "import", altered, "--root-fingerprint", fingerprint);
    g_assert_cmpint (old.status, ==, 1);
    assert_one_error_line (&old, "version 1");
  }
}

static void
test_production (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *oem = g_build_filename (tmp, "oem", NULL);
  g_autofree char *station = g_build_filename (tmp, "station", NULL);
  g_autofree char *bin = g_build_filename (tmp, "app.bin", NULL);
  g_autofree char *upk = g_build_filename (tmp, "app-1.0.0.tbupk", NULL);
  g_autofree char *img = g_build_filename (tmp, "app-1.0.0.tbimg", NULL);
  g_autofree char *job = g_build_filename (tmp, "run.tbjob", NULL);
  g_autofree char *json = g_build_filename (tmp, "records.json", NULL);
  g_autofree char *csv = g_build_filename (tmp, "records.csv", NULL);
  g_autofree char *fingerprint = NULL;
  g_auto(Run) init = { 0 };
  g_auto(Run) m = { 0 };
  g_auto(Run) create = { 0 };
  g_auto(Run) empty = { 0 };
  g_auto(Run) unconfirmed = { 0 };
  g_auto(Run) import = { 0 };
  g_auto(Run) list = { 0 };
  g_auto(Run) over = { 0 };
  g_auto(Run) show = { 0 };
  g_auto(Run) export_json = { 0 };
  g_auto(Run) export_csv = { 0 };
  g_auto(Run) verify = { 0 };
  g_auto(Run) bad_verify = { 0 };
  g_autoptr(JsonObject) c = NULL;
  g_autoptr(JsonObject) l = NULL;
  g_autoptr(JsonObject) v = NULL;
  JsonObject *entry;

  tb_test_write_file (bin, "an application image for a production run");
  RUN_JOB (&init, "oem passphrase", "-C", oem, "-q", "init", "--product", "widget");
  g_assert_cmpint (init.status, ==, 0);
  RUN_JOB (&m, "oem passphrase", "-C", oem, "-q", "master", bin, "--product", "widget", "--version", "1.0.0",
           "--load-address", "0x08008000", "-o", tmp);
  g_assert_cmpint (m.status, ==, 0);
  RUN_JOB (&create, "oem passphrase", "-C", oem, "--json", "job", "create", "--upk", upk, "--image", img, "--count",
           "2", "--job-id", "run1", "-o", job);
  g_assert_cmpint (create.status, ==, 0);
  c = parse_json_object (create.out);
  g_assert_cmpstr (json_object_get_string_member (c, "job"), ==, job);
  g_assert_cmpstr (json_object_get_string_member (c, "job_id"), ==, "run1");
  g_assert_cmpint (json_object_get_int_member (c, "count"), ==, 2);
  fingerprint = g_strdup (json_object_get_string_member (c, "root_sha256"));

  RUN_JOB (&empty, "station passphrase", "-C", station, "-q", "init", "--empty");
  g_assert_cmpint (empty.status, ==, 0);
  RUN_JOB (&unconfirmed, "station passphrase", "-C", station, "job", "import", job);
  g_assert_cmpint (unconfirmed.status, ==, 3);
  assert_one_error_line (&unconfirmed, fingerprint);
  assert_altered_jobs_refused (tmp, job, station, fingerprint);
  RUN_JOB (&import, "station passphrase", "-C", station, "--json", "job", "import", job, "--root-fingerprint",
           fingerprint);
  g_assert_cmpint (import.status, ==, 0);

  for (guint i = 0; i < 2; i++)
    {
      g_auto(Run) dev = { 0 };
      g_auto(Run) produced = { 0 };
      g_autoptr(JsonObject) p = NULL;
      g_autofree char *board = g_strdup_printf ("%s/b%u", tmp, i);
      g_autofree char *uri = g_strconcat ("virtual:", board, NULL);
      RUN (&dev, "-q", "device", "create", board);
      g_assert_cmpint (dev.status, ==, 0);
      RUN_JOB (&produced, "station passphrase", "-C", station, "--json", "produce", "--job", "run1", "--probe", uri);
      g_assert_cmpint (produced.status, ==, 0);
      p = parse_json_object (produced.out);
      g_assert_true (json_object_has_member (p, "uid"));
      g_assert_cmpint (json_object_get_int_member (p, "made"), ==, i + 1);
      g_assert_cmpint (json_object_get_int_member (p, "limit"), ==, 2);
      g_assert_cmpuint (strlen (json_object_get_string_member (p, "receipt")), >, 100);
    }
  {
    g_autofree char *board = g_strdup_printf ("%s/b9", tmp);
    g_autofree char *uri = g_strconcat ("virtual:", board, NULL);
    g_auto(Run) dev = { 0 };
    RUN (&dev, "-q", "device", "create", board);
    RUN_JOB (&over, "station passphrase", "-C", station, "--json", "produce", "--job", "run1", "--probe", uri);
    g_assert_cmpint (over.status, ==, 4);
    g_assert_nonnull (strstr (over.out, "limit-reached"));
  }
  RUN (&list, "-C", station, "--json", "job", "list");
  g_assert_cmpint (list.status, ==, 0);
  l = parse_json_object (list.out);
  entry = json_array_get_object_element (json_object_get_array_member (l, "jobs"), 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "job_id"), ==, "run1");
  g_assert_cmpint (json_object_get_int_member (entry, "count"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (entry, "made"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (entry, "reserved"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (entry, "remaining"), ==, 0);
  RUN (&show, "-C", station, "job", "show", "run1");
  g_assert_cmpint (show.status, ==, 0);
  g_assert_true (strstr (show.out, "made 2") != NULL || strstr (show.err, "made 2") != NULL);

  RUN (&export_json, "-C", station, "records", "export", "--format", "json", "-o", json);
  g_assert_cmpint (export_json.status, ==, 0);
  RUN (&export_csv, "-C", station, "records", "export", "--job", "run1", "--format", "csv", "-o", csv);
  g_assert_cmpint (export_csv.status, ==, 0);
  RUN (&verify, "-C", oem, "--json", "receipts", "verify", json);
  g_assert_cmpint (verify.status, ==, 0);
  v = parse_json_object (verify.out);
  g_assert_true (json_object_get_boolean_member (v, "valid"));
  g_assert_cmpint (json_object_get_int_member (v, "count"), ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (v, "bad")), ==, 0);
  /* the same records twice: every device is a duplicate */
  RUN (&bad_verify, "-C", oem, "--json", "receipts", "verify", json, json);
  g_assert_cmpint (bad_verify.status, ==, 3);
  tb_test_rm_rf (tmp);
}

/* Keys on a PKCS#11 token from the command line (SoftHSM as the token). */
static void
test_tokens (void)
{
  const char *module = "/usr/lib/softhsm/libsofthsm2.so";
  g_autofree char *util = g_find_program_in_path ("softhsm2-util");
  g_autofree char *tmp = NULL, *conf = NULL, *tokens = NULL, *conf_env = NULL, *token_uri = NULL, *dir = NULL;
  g_autofree char *bin = NULL, *pin_file = NULL, *text = NULL, *cmd = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_auto(Run) list = { 0 };
  g_auto(Run) init = { 0 };
  g_auto(Run) keys = { 0 };
  g_auto(Run) gen = { 0 };
  g_auto(Run) imp = { 0 };
  g_auto(Run) m = { 0 };
  g_auto(Run) verify = { 0 };
  g_auto(Run) wrong = { 0 };
  g_autoptr(JsonObject) l = NULL;
  g_autoptr(JsonObject) k = NULL;
  g_autoptr(JsonObject) g = NULL;
  int status = 0;

  if (util == NULL || !g_file_test (module, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("SoftHSM 2 is not installed");
      return;
    }
  tmp = tb_test_make_tmpdir ();
  tokens = g_build_filename (tmp, "tokens", NULL);
  conf = g_build_filename (tmp, "softhsm2.conf", NULL);
  g_mkdir (tokens, 0700);
  text = g_strdup_printf ("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens);
  tb_test_write_file (conf, text);
  conf_env = g_strconcat ("SOFTHSM2_CONF=", conf, NULL);
  g_setenv ("SOFTHSM2_CONF", conf, TRUE);
  cmd = g_strdup ("softhsm2-util --init-token --free --label cli-hsm --pin 1357 --so-pin 24682468");
  g_assert_true (g_spawn_command_line_sync (cmd, &out, &err, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  token_uri = g_strdup_printf ("pkcs11:token=cli-hsm?module-path=%s", module);
  dir = g_build_filename (tmp, "ctx", NULL);
  bin = g_build_filename (tmp, "app.bin", NULL);
  pin_file = g_build_filename (tmp, "pin", NULL);
  tb_test_write_file (bin, "an application signed on a token");
  tb_test_write_file (pin_file, "1357\n");

#define RUN_TOKEN(r, ...) \
  run_tool_full (r, NULL, (const char *const[]){ conf_env, "TRUSTBENCH_PASSPHRASE=file keys pass", \
                                                 "TRUSTBENCH_PIN=1357", NULL }, \
                 (const char *const[]){ __VA_ARGS__, NULL })

  RUN_TOKEN (&list, "--json", "token", "list", "--module", module);
  g_assert_cmpint (list.status, ==, 0);
  l = parse_json_object (list.out);
  {
    JsonArray *a = json_object_get_array_member (l, "tokens");
    gboolean found = FALSE;
    for (guint i = 0; i < json_array_get_length (a); i++)
      {
        JsonObject *t = json_array_get_object_element (a, i);
        if (g_strcmp0 (json_object_get_string_member (t, "label"), "cli-hsm") == 0)
          {
            found = TRUE;
            g_assert_true (g_str_has_prefix (json_object_get_string_member (t, "uri"), "pkcs11:"));
            g_assert_true (json_object_has_member (t, "serial"));
            g_assert_true (json_object_has_member (t, "manufacturer"));
            g_assert_true (json_object_has_member (t, "model"));
          }
      }
    g_assert_true (found);
  }

  RUN_TOKEN (&init, "-C", dir, "-q", "init", "--product", "widget", "--root-on", token_uri, "--mastering-on", token_uri);
  g_assert_cmpint (init.status, ==, 0);
  RUN_TOKEN (&keys, "-C", dir, "--json", "key", "list");
  k = parse_json_object (keys.out);
  {
    JsonArray *a = json_object_get_array_member (k, "keys");
    for (guint i = 0; i < json_array_get_length (a); i++)
      {
        JsonObject *e = json_array_get_object_element (a, i);
        const char *name = json_object_get_string_member (e, "name");
        const char *storage = json_object_get_string_member (e, "storage");
        if (g_strcmp0 (name, "root-ca") == 0 || g_strcmp0 (name, "mastering") == 0)
          g_assert_true (g_str_has_prefix (storage, "pkcs11:"));
        else
          g_assert_cmpstr (storage, ==, "file");
      }
  }

  /* the PIN from a file, not the environment */
  run_tool_full (&gen, NULL, (const char *const[]){ conf_env, NULL },
                 (const char *const[]){ "-C", dir, "--pin-file", pin_file, "--json", "key", "generate", "signer2",
                                        "--usage", "mastering", "--token", token_uri, NULL });
  g_assert_cmpint (gen.status, ==, 0);
  g = parse_json_object (gen.out);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (g, "storage"), "pkcs11:"));
  RUN_TOKEN (&imp, "-C", dir, "-q", "key", "import", "signer2-again", "--usage", "mastering", "--token",
             json_object_get_string_member (g, "storage"));
  g_assert_cmpint (imp.status, ==, 0);

  RUN_TOKEN (&m, "-C", dir, "-q", "master", bin, "--product", "widget", "--version", "1.0.0", "--load-address",
             "0x08008000", "-o", tmp);
  g_assert_cmpint (m.status, ==, 0);
  {
    g_autofree char *upk = g_build_filename (tmp, "app-1.0.0.tbupk", NULL);
    g_autofree char *img = g_build_filename (tmp, "app-1.0.0.tbimg", NULL);
    RUN_TOKEN (&verify, "-C", dir, "image", "verify", upk, img);
    g_assert_cmpint (verify.status, ==, 0);
  }
  run_tool_full (&wrong, NULL, (const char *const[]){ conf_env, "TRUSTBENCH_PASSPHRASE=file keys pass",
                                                      "TRUSTBENCH_PIN=0000", NULL },
                 (const char *const[]){ "-C", dir, "master", bin, "--product", "widget", "--version", "1.0.1",
                                        "--load-address", "0x08008000", "-o", tmp, NULL });
  g_assert_cmpint (wrong.status, ==, 1);
  assert_one_error_line (&wrong, "wrong PIN");
  g_unsetenv ("SOFTHSM2_CONF");
  tb_test_rm_rf (tmp);
#undef RUN_TOKEN
}

/* Counts the lines of @path holding @needle (0 when it does not exist). */
static guint
count_lines_with (const char *path, const char *needle)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    n += strstr (lines[i], needle) != NULL;
  return n;
}

/* A context with two products: `provision --image` takes the product
 * from the UPK (a conflicting --product is refused); an image linked
 * outside the device's application slot is refused by `master` for a
 * known device type, and by `provision` before the device is locked. */
static void
test_provision_product_and_slot (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "oem", NULL);
  g_autofree char *board = g_build_filename (tmp, "board", NULL);
  g_autofree char *uri = g_strconcat ("virtual:", board, NULL);
  g_autofree char *bin = g_build_filename (tmp, "app.bin", NULL);
  g_autofree char *upk = g_build_filename (tmp, "app-1.0.0.tbupk", NULL);
  g_autofree char *img = g_build_filename (tmp, "app-1.0.0.tbimg", NULL);
  g_autofree char *base_upk = g_build_filename (tmp, "app-0.9.0.tbupk", NULL);
  g_autofree char *base_img = g_build_filename (tmp, "app-0.9.0.tbimg", NULL);
  g_autofree char *records = g_build_filename (dir, "records", "devices.jsonl", NULL);
  g_auto(Run) init = { 0 };
  g_auto(Run) m = { 0 };
  g_auto(Run) refused = { 0 };
  g_auto(Run) warned = { 0 };
  g_auto(Run) base = { 0 };
  g_auto(Run) create = { 0 };
  g_auto(Run) outside = { 0 };
  g_auto(Run) conflict = { 0 };
  g_auto(Run) info = { 0 };
  g_auto(Run) prov = { 0 };
  g_autoptr(JsonObject) i = NULL;
  g_autoptr(JsonObject) p = NULL;

  tb_test_write_file (bin, "an application image for one of two products");
  RUN_PASS (&init, "pass phrase", "-C", dir, "-q", "init", "--product", "sensor", "--product", "gateway");
  g_assert_cmpint (init.status, ==, 0);
  RUN_PASS (&m, "pass phrase", "-C", dir, "-q", "master", bin, "--product", "sensor", "--version", "1.0.0",
            "--load-address", "0x08008000", "-o", tmp);
  g_assert_cmpint (m.status, ==, 0);

  /* linked at the flash base, for the virtual board's device type */
  RUN_PASS (&refused, "pass phrase", "-C", dir, "master", bin, "--product", "sensor", "--version", "0.9.0",
            "--load-address", "0x08000000", "--device-type", "tb-vmcu-m4", "-o", tmp);
  g_assert_cmpint (refused.status, ==, 1);
  assert_one_error_line (&refused, "0x08008000–0x08059fff");
  g_assert_false (g_file_test (base_upk, G_FILE_TEST_EXISTS));
  RUN_PASS (&warned, "pass phrase", "-C", dir, "master", bin, "--product", "sensor", "--version", "0.9.0",
            "--load-address", "0x08000000", "--device-type", "tb-vmcu-m4", "--allow-outside-slot", "--name", "warned",
            "-o", tmp);
  g_assert_cmpint (warned.status, ==, 0);
  g_assert_nonnull (strstr (warned.err, "Warning"));
  g_assert_nonnull (strstr (warned.err, "0x08008000"));
  /* for no known device type, master cannot tell; provision can */
  RUN_PASS (&base, "pass phrase", "-C", dir, "-q", "master", bin, "--product", "sensor", "--version", "0.9.0",
            "--load-address", "0x08000000", "-o", tmp);
  g_assert_cmpint (base.status, ==, 0);
  RUN (&create, "-q", "device", "create", board);
  g_assert_cmpint (create.status, ==, 0);
  RUN_PASS (&outside, "pass phrase", "-C", dir, "provision", "--probe", uri, "--image", base_upk, base_img);
  g_assert_cmpint (outside.status, ==, 1);
  assert_one_error_line (&outside, "0x08008000");
  RUN_PASS (&conflict, "pass phrase", "-C", dir, "provision", "--probe", uri, "--product", "gateway", "--image", upk,
            img);
  g_assert_cmpint (conflict.status, ==, 2);
  assert_one_error_line (&conflict, "“sensor”");
  /* the device was left unlocked, nothing was issued */
  RUN (&info, "--json", "device", "info", "--probe", uri);
  g_assert_cmpint (info.status, ==, 0);
  i = parse_json_object (info.out);
  g_assert_cmpstr (json_object_get_string_member (i, "lifecycle"), ==, "sbm-installed");
  g_assert_cmpuint (count_lines_with (records, "\"uid\""), ==, 0);

  /* no --product: the UPK's */
  RUN_PASS (&prov, "pass phrase", "-C", dir, "--json", "provision", "--probe", uri, "--image", upk, img);
  g_assert_cmpint (prov.status, ==, 0);
  p = parse_json_object (prov.out);
  g_assert_cmpstr (json_object_get_string_member (p, "lifecycle"), ==, "locked");
  g_assert_cmpuint (count_lines_with (records, "\"product\":\"sensor\""), ==, 1);
  tb_test_rm_rf (tmp);
}

/* The board is held for the whole of a command: a second one on it is
 * refused as busy and touches nothing; two at once never both succeed,
 * so one device gets one certificate. */
static void
test_provision_busy (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "oem", NULL);
  g_autofree char *board = g_build_filename (tmp, "board", NULL);
  g_autofree char *uri = g_strconcat ("virtual:", board, NULL);
  g_autofree char *lock = g_build_filename (board, ".lock", NULL);
  g_autofree char *records = g_build_filename (dir, "records", "devices.jsonl", NULL);
  g_autofree char *audit = g_build_filename (dir, "audit", "log.jsonl", NULL);
  g_autofree char *flash = g_build_filename (board, "flash.bin", NULL);
  g_autofree char *flash_before = NULL;
  gsize flash_len = 0;
  g_auto(Run) init = { 0 };
  g_auto(Run) create = { 0 };
  g_auto(Run) busy = { 0 };
  g_auto(Run) listed = { 0 };
  int fd;

  RUN_PASS (&init, "pass phrase", "-C", dir, "-q", "init", "--product", "sensor");
  g_assert_cmpint (init.status, ==, 0);
  RUN (&create, "-q", "device", "create", board);
  g_assert_cmpint (create.status, ==, 0);

  /* another process holds the board */
  fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (flock (fd, LOCK_EX), ==, 0);
  flash_before = tb_test_read_file (flash, &flash_len);
  RUN_PASS (&busy, "pass phrase", "-C", dir, "--json", "provision", "--probe", uri);
  g_assert_cmpint (busy.status, ==, 1);
  g_assert_nonnull (strstr (busy.out, "\"busy\""));
  g_assert_nonnull (strstr (busy.err, "busy"));
  g_assert_nonnull (strstr (busy.err, board));
  g_assert_cmpuint (count_lines_with (records, "\"uid\""), ==, 0);
  g_assert_cmpuint (count_lines_with (audit, "device.provision"), ==, 0);
  {
    gsize len = 0;
    g_autofree char *flash_after = tb_test_read_file (flash, &len);
    g_assert_cmpmem (flash_before, flash_len, flash_after, len);
  }
  {
    g_autofree char *boards = g_strconcat ("TRUSTBENCH_BOARDS=", tmp, NULL);
    run_tool_full (&listed, NULL, (const char *const[]){ boards, NULL },
                   (const char *const[]){ "--json", "probe", "list", NULL });
    /* listed all the same: listing reads who the board is, never opens it */
    g_assert_cmpint (listed.status, ==, 0);
    g_assert_nonnull (strstr (listed.out, board));
  }
  close (fd);

  /* two at once: whichever comes second is refused (busy, or already
   * provisioned if the first was done), never a second certificate */
  {
    const char *const env[] = { "TRUSTBENCH_PASSPHRASE=pass phrase", NULL };
    const char *const args[] = { "-C", dir, "provision", "--probe", uri, NULL };
    g_autoptr(GSubprocess) a = spawn_tool (NULL, env, args);
    g_autoptr(GSubprocess) b = spawn_tool (NULL, env, args);
    GSubprocess *procs[] = { a, b };
    guint ok = 0;

    for (guint k = 0; k < G_N_ELEMENTS (procs); k++)
      {
        g_auto(Run) r = { 0 };
        wait_tool (&r, procs[k]);
        if (r.status == 0)
          ok++;
        else
          g_assert_true (strstr (r.err, "busy") != NULL || strstr (r.err, "provisioned once") != NULL);
      }
    g_assert_cmpuint (ok, ==, 1);
    g_assert_cmpuint (count_lines_with (records, "\"uid\""), ==, 1);
    g_assert_cmpuint (count_lines_with (audit, "device.provision"), ==, 1);
  }
  tb_test_rm_rf (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tb/cli/help", test_help);
  g_test_add_func ("/tb/cli/usage-errors", test_usage_errors);
  g_test_add_func ("/tb/cli/init-show", test_init_show);
  g_test_add_func ("/tb/cli/init-bad-product", test_init_bad_product);
  g_test_add_func ("/tb/cli/revoke", test_revoke);
  g_test_add_func ("/tb/cli/report-drawing", test_report_drawing);
  g_test_add_func ("/tb/cli/broken-context", test_broken_context);
  g_test_add_func ("/tb/cli/demo", test_demo);
  g_test_add_func ("/tb/cli/hierarchy", test_hierarchy);
  g_test_add_func ("/tb/cli/outputs", test_outputs);
  g_test_add_func ("/tb/cli/missing-files", test_missing_files);
  g_test_add_func ("/tb/cli/cancel", test_cancel);
  g_test_add_func ("/tb/cli/master", test_master);
  g_test_add_func ("/tb/cli/device-probe", test_device_probe);
  g_test_add_func ("/tb/cli/provision", test_provision);
  g_test_add_func ("/tb/cli/provision-product-and-slot", test_provision_product_and_slot);
  g_test_add_func ("/tb/cli/provision-busy", test_provision_busy);
  g_test_add_func ("/tb/cli/production", test_production);
  g_test_add_func ("/tb/cli/tokens", test_tokens);
  return g_test_run ();
}
