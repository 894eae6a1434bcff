/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Host crashes (docs/reliability.md): `trustbench-tool produce`, `init`,
 * `master`, `job import` and `cert issue` killed with SIGKILL at random
 * points, many times over, from a seeded generator ($TB_KILL9_SEED, 19 by
 * default: every run replays the same points).
 *
 * Each trial kills the command one of two ways, drawn at random:
 * - at a crash point: the Nth step that must leave a consistent state
 *   (every durable write's steps in tb-file.c, every production journal
 *   write, every probe write), N drawn from the points a clean run passes
 *   ($TRUSTBENCH_TEST_CRASH_AT, core/base/tb-crashpoint.c);
 * - at a random time: SIGKILL from this process after a delay drawn from
 *   the time a clean run takes.
 *
 * After each kill the state is checked: the context opens, its audit log
 * verifies, and it is either what it was before or what the command
 * makes; production never counts over or under, never makes a device
 * twice and never loses a record. The `slow` suite runs 1,000 `produce`
 * trials and 100 of each other command; the default suite a few. */

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "tb-test-util.h"
#include "trustbench.h"
#include "tb-records-private.h"
#include "tb-virtual-board.h"

#define PASS "kill9 passphrase"
#define JOB_PASS "kill9 job passphrase"

typedef struct {
  char *tmp;
  char *oem;
  char *out;
  char *app;
  char *upk;
  char *image;
  GRand *rand;
  guint boards;
} Fixture;

typedef struct {
  gboolean killed;
  int status;
} Run;

/* How the last clean run of a command went: the range kills are drawn from. */
typedef struct {
  gint64 points;
  gint64 duration_us;
} Profile;

typedef struct {
  guint trials;
  guint at_point;
  guint at_time;
  guint completed; /* the command ran to its end before the kill */
  guint old_state;
  guint new_state;
} Tally;

static guint
trials_for (guint slow, guint quick)
{
  const char *text = g_getenv ("TB_KILL9_TRIALS");

  if (text != NULL)
    return (guint) g_ascii_strtoull (text, NULL, 10);
  return g_test_slow () ? slow : quick;
}

/* Runs trustbench-tool with ARGV; @crash_at > 0 makes it kill itself at
 * that crash point, @kill_after_us >= 0 kills it after that delay, and
 * @count_file collects the number of points a run passes. */
static Run
run_tool (const char *const *argv, gint64 crash_at, gint64 kill_after_us, const char *count_file)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) full = g_ptr_array_new ();
  Run r = { FALSE, 0 };

  g_subprocess_launcher_setenv (launcher, "TRUSTBENCH_PASSPHRASE", PASS, TRUE);
  g_subprocess_launcher_setenv (launcher, "TRUSTBENCH_JOB_PASSPHRASE", JOB_PASS, TRUE);
  g_subprocess_launcher_setenv (launcher, "TRUSTBENCH_TEST_CRASH_FILES", "1", TRUE);
  if (crash_at > 0)
    {
      g_autofree char *at = g_strdup_printf ("%" G_GINT64_FORMAT, crash_at);
      g_subprocess_launcher_setenv (launcher, "TRUSTBENCH_TEST_CRASH_AT", at, TRUE);
    }
  else if (count_file != NULL)
    {
      g_subprocess_launcher_setenv (launcher, "TRUSTBENCH_TEST_CRASH_AT", "9223372036854775807", TRUE);
      g_subprocess_launcher_setenv (launcher, "TRUSTBENCH_TEST_CRASH_COUNT_FILE", count_file, TRUE);
    }
  else
    g_subprocess_launcher_unsetenv (launcher, "TRUSTBENCH_TEST_CRASH_AT");
  g_ptr_array_add (full, (gpointer) g_getenv ("TB_TOOL"));
  g_ptr_array_add (full, (gpointer) "--quiet");
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (full, (gpointer) argv[i]);
  g_ptr_array_add (full, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) full->pdata, &error);
  g_assert_no_error (error);
  if (kill_after_us >= 0)
    {
      g_usleep ((gulong) kill_after_us);
      g_subprocess_force_exit (proc);
    }
  g_assert_true (g_subprocess_wait (proc, NULL, &error));
  if (g_subprocess_get_if_signaled (proc))
    {
      g_assert_cmpint (g_subprocess_get_term_sig (proc), ==, SIGKILL);
      r.killed = TRUE;
    }
  else
    r.status = g_subprocess_get_exit_status (proc);
  return r;
}

/* A clean run of ARGV that counts its crash points and times itself. */
static Run
run_profiled (Fixture *f, const char *const *argv, Profile *profile)
{
  g_autofree char *count_file = g_build_filename (f->tmp, "points", NULL);
  g_autofree char *text = NULL;
  gint64 start = g_get_monotonic_time ();
  Run r;

  g_unlink (count_file);
  r = run_tool (argv, 0, -1, count_file);
  g_assert_false (r.killed);
  profile->duration_us = g_get_monotonic_time () - start;
  profile->points = g_file_get_contents (count_file, &text, NULL, NULL) ? g_ascii_strtoll (text, NULL, 10) : 0;
  return r;
}

/* Runs ARGV killed at a point or a time drawn from @profile. */
static Run
run_killed (Fixture *f, const char *const *argv, const Profile *profile, Tally *tally)
{
  Run r;

  tally->trials++;
  if (profile->points > 0 && g_rand_boolean (f->rand))
    {
      tally->at_point++;
      r = run_tool (argv, g_rand_int_range (f->rand, 1, (gint32) MIN (profile->points, G_MAXINT32 - 1) + 1), -1,
                    NULL);
    }
  else
    {
      tally->at_time++;
      r = run_tool (argv, 0, g_rand_int_range (f->rand, 0, (gint32) MIN (profile->duration_us, G_MAXINT32 - 1) + 1),
                    NULL);
    }
  if (!r.killed)
    tally->completed++;
  return r;
}

static void
print_tally (const char *what, const Tally *t, const Profile *p)
{
  g_test_message ("%s: %u trials (%u at one of %" G_GINT64_FORMAT " crash points, %u at a random time up to %"
                  G_GINT64_FORMAT " ms; %u finished first): %u left the old state, %u the new",
                  what, t->trials, t->at_point, p->points, t->at_time, p->duration_us / 1000, t->completed,
                  t->old_state, t->new_state);
}

/* The context opens and its audit log verifies. */
static TbContext *
assert_context_sound (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_open (dir, TB_CONTEXT_OPEN_READ, &error);
  TbAuditReport report = { 0 };

  g_assert_no_error (error);
  g_assert_true (tb_audit_verify (ctx, &report, &error));
  g_assert_no_error (error);
  if (!report.valid)
    g_error ("%s: audit log: %s", dir, report.problem);
  tb_audit_report_clear (&report);
  return g_steal_pointer (&ctx);
}

static void
tool_ok (const char *const *argv)
{
  Run r = run_tool (argv, 0, -1, NULL);

  g_assert_false (r.killed);
  g_assert_cmpint (r.status, ==, 0);
}

static void
write_app (Fixture *f, guint seed)
{
  guint8 data[9000];

  for (gsize k = 0; k < sizeof data; k++)
    data[k] = (guint8) (k * 13 + seed * 7);
  g_assert_true (g_file_set_contents (f->app, (const char *) data, sizeof data, NULL));
}

static const char *const *
master_argv (Fixture *f, gboolean force)
{
  static const char *argv[16];
  guint n = 0;

  argv[n++] = "-C";
  argv[n++] = f->oem;
  argv[n++] = "master";
  argv[n++] = f->app;
  argv[n++] = "--product";
  argv[n++] = "widget";
  argv[n++] = "--version";
  argv[n++] = "1.0.0";
  argv[n++] = "--load-address";
  argv[n++] = "0x08008000";
  argv[n++] = "-o";
  argv[n++] = f->out;
  if (force)
    argv[n++] = "--force";
  argv[n] = NULL;
  return argv;
}

static void
setup (Fixture *f, gconstpointer data)
{
  const char *seed_text = g_getenv ("TB_KILL9_SEED");
  guint32 seed = seed_text != NULL ? (guint32) g_ascii_strtoull (seed_text, NULL, 10) : 19;

  f->tmp = tb_test_make_tmpdir ();
  f->oem = g_build_filename (f->tmp, "oem", NULL);
  f->out = g_build_filename (f->tmp, "out", NULL);
  f->app = g_build_filename (f->tmp, "app.bin", NULL);
  f->upk = g_build_filename (f->out, "app-1.0.0.tbupk", NULL);
  f->image = g_build_filename (f->out, "app-1.0.0.tbimg", NULL);
  f->rand = g_rand_new_with_seed (seed);
  g_test_message ("seed %u", seed);
  if (g_getenv ("TB_TOOL") == NULL)
    return;
  tool_ok ((const char *[]){ "-C", f->oem, "init", "--name", "OEM", "--product", "widget", NULL });
  write_app (f, 0);
  tool_ok (master_argv (f, FALSE));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  tb_test_rm_rf (f->tmp);
  g_rand_free (f->rand);
  g_free (f->tmp);
  g_free (f->oem);
  g_free (f->out);
  g_free (f->app);
  g_free (f->upk);
  g_free (f->image);
}

static void
copy_tree (const char *from, const char *to)
{
  const char *argv[] = { "cp", "-a", from, to, NULL };
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

static gboolean
have_tool (void)
{
  if (g_getenv ("TB_TOOL") != NULL)
    return TRUE;
  g_test_skip ("TB_TOOL is not set");
  return FALSE;
}

/* ---- produce ---- */

static char *
new_board (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_strdup_printf ("%s/boards/%u", f->tmp, f->boards++);
  g_autoptr(TbVirtualBoard) board = tb_virtual_board_create (dir, NULL, 256 * 1024, 1024, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (board);
  return g_strconcat ("virtual:", dir, NULL);
}

static TbJobCounts
job_counts (const char *station, const char *job_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_open (station, TB_CONTEXT_OPEN_READ, &error);
  TbJobCounts c;

  g_assert_no_error (error);
  g_assert_true (tb_job_get_counts (ctx, job_id, &c, &error));
  g_assert_no_error (error);
  /* never over: what is made and what is held never pass the count */
  g_assert_cmpuint (c.made + c.reserved, <=, c.count);
  return c;
}

/* The UID of the device if it runs the job's image, else NULL. */
static char *
uid_if_running_image (const char *uri)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = tb_probe_open (uri, &error);
  g_autoptr(TbTarget) target = NULL;
  g_autoptr(TbAttestation) att = NULL;

  g_assert_no_error (error);
  target = tb_target_new (probe);
  if (!tb_target_has_sbm (target, NULL))
    return NULL;
  att = tb_target_attest (target, &error);
  g_assert_no_error (error);
  return att->boot == 0 && g_strcmp0 (att->app_version, "1.0.0") == 0 ? g_strdup (att->uid) : NULL;
}

/* A device that runs the image has a record (made or reconciled) or a
 * slot that stays counted: no record is lost. */
static gboolean
is_accounted_for (const char *station, const char *job_id, const char *uid, guint *records)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_open (station, TB_CONTEXT_OPEN_READ, &error);
  g_autoptr(JsonObject) doc = tb_records_collect (ctx, job_id, &error);
  g_autoptr(GPtrArray) open = tb_job_list_interrupted (ctx, job_id, &error);
  JsonArray *list;
  guint found = 0;

  g_assert_no_error (error);
  list = json_object_get_array_member (doc, "records");
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *r = json_array_get_object_element (list, i);
      if (g_strcmp0 (json_object_get_string_member_with_default (r, "uid", ""), uid) == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (r, "result", ""), "failed") != 0)
        found++;
    }
  *records = found;
  for (guint i = 0; i < open->len; i++)
    if (g_strcmp0 (((TbOpenSlot *) g_ptr_array_index (open, i))->uid, uid) == 0)
      return TRUE;
  return found > 0;
}

static void
test_produce (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint trials = trials_for (1000, 24);
  /* one device more than the kills: the first is made cleanly, to learn
   * the range the kills are drawn from */
  guint devices = trials + 1;
  g_autofree char *station = g_build_filename (f->tmp, "station", NULL);
  g_autofree char *package = g_build_filename (f->tmp, "job.tbjob", NULL);
  g_autofree char *count_text = g_strdup_printf ("%u", devices);
  g_autofree char *records = g_build_filename (f->tmp, "records.json", NULL);
  g_autofree char *job_id = NULL;
  g_autofree char *root_sha256 = NULL;
  Profile profile = { 0 };
  Tally tally = { 0 };
  guint made = 0, resumed = 0, reconciled = 0;

  if (!have_tool ())
    return;
  {
    g_autoptr(TbContext) oem = tb_context_open (f->oem, TB_CONTEXT_OPEN_READ, &error);
    g_autoptr(TbCert) root = NULL;
    g_assert_no_error (error);
    root = tb_cert_load (oem, "root-ca", &error);
    g_assert_no_error (error);
    root_sha256 = g_strdup (tb_cert_get_sha256 (root));
  }
  tool_ok ((const char *[]){ "-C", f->oem, "job", "create", "--job-id", "k9", "--upk", f->upk, "--image", f->image,
                             "--count", count_text, "-o", package, NULL });
  job_id = g_strdup ("k9");
  tool_ok ((const char *[]){ "-C", station, "init", "--empty", "--name", "Line", NULL });
  tool_ok ((const char *[]){ "-C", station, "job", "import", package, "--root-fingerprint", root_sha256, NULL });

  for (guint i = 0; i < devices; i++)
    {
      g_autofree char *uri = new_board (f);
      g_autofree char *uid = NULL;
      const char *argv[] = { "-C", station, "produce", "--job", job_id, "--probe", uri, NULL };
      TbJobCounts c;
      guint n_records = 0;
      Run r;

      if (i == 0)
        {
          /* the first device, made cleanly, gives the range kills are drawn from */
          r = run_profiled (f, argv, &profile);
          g_assert_cmpint (r.status, ==, 0);
          g_assert_cmpint (profile.points, >, 10);
          made++;
          continue;
        }
      r = run_killed (f, argv, &profile, &tally);
      if (!r.killed)
        g_assert_cmpint (r.status, ==, 0);
      c = job_counts (station, job_id);
      /* never under, never over: at most this device more */
      g_assert_cmpuint (c.made, >=, made);
      g_assert_cmpuint (c.made, <=, made + 1);
      uid = uid_if_running_image (uri);
      if (uid != NULL)
        {
          g_assert_true (is_accounted_for (station, job_id, uid, &n_records));
          g_assert_cmpuint (n_records, <=, 1);
        }
      if (c.made == made + 1)
        tally.new_state++;
      else
        tally.old_state++;
      if (r.killed)
        {
          /* the same device comes back: the next run finishes it (or
           * says it was made, exit 3). For the last device killed after
           * its record, the job is complete: the run says so (exit 4)
           * before it touches the device. */
          r = run_tool (argv, 0, -1, NULL);
          g_assert_false (r.killed);
          if (r.status == 4)
            g_assert_cmpuint (c.made, ==, devices);
          else if (r.status != 0)
            g_assert_cmpint (r.status, ==, 3);
          resumed++;
          reconciled += c.reserved > 0;
        }
      made++;
      c = job_counts (station, job_id);
      g_assert_cmpuint (c.made, ==, made);
      g_assert_cmpuint (c.reserved, ==, 0);
      g_clear_pointer (&uid, g_free);
      uid = uid_if_running_image (uri);
      g_assert_nonnull (uid);
      g_assert_true (is_accounted_for (station, job_id, uid, &n_records));
      g_assert_cmpuint (n_records, ==, 1);
    }
  print_tally ("produce", &tally, &profile);

  /* the count is reached: one more device is refused (exit 4) */
  {
    g_autofree char *uri = new_board (f);
    Run r = run_tool ((const char *[]){ "-C", station, "produce", "--job", job_id, "--probe", uri, NULL }, 0, -1,
                      NULL);
    g_assert_false (r.killed);
    g_assert_cmpint (r.status, ==, 4);
  }
  /* every device once, every receipt good, at the OEM, offline */
  tool_ok ((const char *[]){ "-C", station, "records", "export", "--format", "json", "-o", records, NULL });
  {
    g_autoptr(TbContext) oem = tb_context_open (f->oem, TB_CONTEXT_OPEN_READ, &error);
    g_autoptr(TbCert) root = tb_cert_load (oem, "root-ca", &error);
    TbReceiptsReport report;

    g_assert_no_error (error);
    g_assert_true (tb_receipts_verify (root, (const char *const[]){ records, NULL }, &report, &error));
    g_assert_no_error (error);
    g_assert_true (report.valid);
    g_assert_cmpuint (report.devices, ==, devices);
    g_assert_cmpuint (made, ==, devices);
    g_assert_cmpuint (tally.trials, ==, trials);
    tb_receipts_report_clear (&report);
  }
  {
    g_autoptr(TbContext) ctx = assert_context_sound (station);
    (void) ctx;
  }
  g_test_message ("produce: %u devices made, %u runs resumed after a kill (%u with a slot left open), 0 over the "
                  "count, 0 made twice, 0 records lost; receipts verify: %u devices", made, resumed, reconciled,
                  devices);
}

/* ---- init ---- */

static const char *const hierarchy_keys[] = { "root-ca", "provisioning-ca", "mastering", "product-widget" };

static void
test_init (Fixture *f, gconstpointer data)
{
  guint trials = trials_for (100, 6);
  g_autofree char *dir = g_build_filename (f->tmp, "new-context", NULL);
  const char *argv[] = { "-C", dir, "init", "--name", "New", "--product", "widget", NULL };
  Profile profile = { 0 };
  Tally tally = { 0 };

  if (!have_tool ())
    return;
  run_profiled (f, argv, &profile);
  tb_test_rm_rf (dir);
  for (guint i = 0; i < trials; i++)
    {
      Run r = run_killed (f, argv, &profile, &tally);
      g_autofree char *json = g_build_filename (dir, "context.json", NULL);

      if (g_file_test (json, G_FILE_TEST_EXISTS))
        {
          /* the new state: the whole hierarchy */
          g_autoptr(TbContext) ctx = assert_context_sound (dir);
          g_autoptr(GPtrArray) keys = tb_context_list_keys (ctx);
          g_assert_cmpuint (keys->len, ==, G_N_ELEMENTS (hierarchy_keys));
          for (guint k = 0; k < G_N_ELEMENTS (hierarchy_keys); k++)
            {
              g_autoptr(TbCert) cert = tb_cert_load (ctx, hierarchy_keys[k], NULL);
              if (k < 3)
                g_assert_nonnull (cert);
            }
          tally.new_state++;
        }
      else
        {
          /* the old state: no context, and nothing in the way of a new one */
          g_assert_true (r.killed);
          tally.old_state++;
          tool_ok (argv);
        }
      tb_test_rm_rf (dir);
    }
  /* what killed runs staged is gone once a run finishes */
  {
    g_autoptr(GDir) d = g_dir_open (f->tmp, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (d)) != NULL)
      g_assert_false (g_str_has_prefix (name, ".new-context."));
  }
  print_tally ("init", &tally, &profile);
}

/* ---- master ---- */

static void
test_master (Fixture *f, gconstpointer data)
{
  guint trials = trials_for (100, 6);
  Profile profile = { 0 };
  Tally tally = { 0 };

  if (!have_tool ())
    return;
  write_app (f, 1);
  run_profiled (f, master_argv (f, TRUE), &profile);
  for (guint i = 0; i < trials; i++)
    {
      gsize old_upk_len = 0, old_image_len = 0, upk_len = 0, image_len = 0;
      g_autofree char *old_upk = tb_test_read_file (f->upk, &old_upk_len);
      g_autofree char *old_image = tb_test_read_file (f->image, &old_image_len);
      g_autofree char *new_upk = NULL;
      g_autofree char *new_image = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(TbUpk) upk = NULL;

      write_app (f, i + 2);
      run_killed (f, master_argv (f, TRUE), &profile, &tally);
      /* a reader opens the UPK first: a replacement left pending is
       * finished there */
      upk = tb_upk_load_file (f->upk, &error);
      g_assert_no_error (error);
      new_upk = tb_test_read_file (f->upk, &upk_len);
      new_image = tb_test_read_file (f->image, &image_len);
      if (upk_len == old_upk_len && memcmp (new_upk, old_upk, upk_len) == 0)
        {
          /* the old pair, whole */
          g_assert_cmpmem (new_image, image_len, old_image, old_image_len);
          tally.old_state++;
        }
      else
        tally.new_state++;
      /* either way the pair verifies: signature, header, every chunk, digest */
      tool_ok ((const char *[]){ "-C", f->oem, "image", "verify", f->upk, f->image, NULL });
      {
        g_autoptr(TbContext) ctx = assert_context_sound (f->oem);
        (void) ctx;
      }
    }
  print_tally ("master (replacing a pair)", &tally, &profile);
  g_assert_cmpuint (tally.old_state, >, 0);
  g_assert_cmpuint (tally.new_state, >, 0);
}

/* ---- job import ---- */

static void
test_job_import (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint trials = trials_for (100, 6);
  g_autofree char *pristine = g_build_filename (f->tmp, "station-pristine", NULL);
  g_autofree char *station = g_build_filename (f->tmp, "station", NULL);
  g_autofree char *package = g_build_filename (f->tmp, "job.tbjob", NULL);
  g_autofree char *root_sha256 = NULL;
  const char *argv[] = { "-C", station, "job", "import", package, "--root-fingerprint", NULL, NULL };
  Profile profile = { 0 };
  Tally tally = { 0 };

  if (!have_tool ())
    return;
  {
    g_autoptr(TbContext) oem = tb_context_open (f->oem, TB_CONTEXT_OPEN_READ, &error);
    g_autoptr(TbCert) root = tb_cert_load (oem, "root-ca", &error);
    g_assert_no_error (error);
    root_sha256 = g_strdup (tb_cert_get_sha256 (root));
  }
  argv[6] = root_sha256;
  tool_ok ((const char *[]){ "-C", f->oem, "job", "create", "--job-id", "ki", "--upk", f->upk, "--image", f->image,
                             "--count", "10", "-o", package, NULL });
  tool_ok ((const char *[]){ "-C", pristine, "init", "--empty", "--name", "Line", NULL });
  copy_tree (pristine, station);
  run_profiled (f, argv, &profile);
  for (guint i = 0; i < trials; i++)
    {
      g_autoptr(TbContext) ctx = NULL;
      g_autoptr(GPtrArray) jobs = NULL;

      tb_test_rm_rf (station);
      copy_tree (pristine, station);
      run_killed (f, argv, &profile, &tally);
      ctx = assert_context_sound (station);
      jobs = tb_job_list (ctx);
      g_assert_cmpuint (jobs->len, <=, 1);
      if (jobs->len == 1)
        {
          TbJobCounts c;
          g_assert_true (tb_job_get_counts (ctx, "ki", &c, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (c.count, ==, 10);
          g_assert_cmpuint (c.made + c.reserved, ==, 0);
          tally.new_state++;
        }
      else
        {
          /* nothing in the way of importing it again */
          g_clear_object (&ctx);
          tool_ok (argv);
          tally.old_state++;
        }
    }
  print_tally ("job import", &tally, &profile);
}

/* ---- cert issue ---- */

static void
test_cert_issue (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint trials = trials_for (100, 6);
  g_autofree char *csr = g_build_filename (f->tmp, "device.csr", NULL);
  g_autofree char *key = g_build_filename (f->tmp, "device.key", NULL);
  g_autofree char *cert_path = g_build_filename (f->tmp, "device.pem", NULL);
  const char *argv[] = { "-C", f->oem, "cert", "issue", "--csr", csr, "-o", cert_path, NULL };
  Profile profile = { 0 };
  Tally tally = { 0 };
  guint64 entries = 0;

  if (!have_tool () || g_getenv ("TB_OPENSSL") == NULL)
    {
      g_test_skip ("TB_TOOL or TB_OPENSSL is not set");
      return;
    }
  {
    const char *openssl[] = { g_getenv ("TB_OPENSSL"), "req", "-new", "-newkey", "ec", "-pkeyopt",
                              "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj", "/CN=kill9 device",
                              "-out", csr, NULL };
    int status = 0;
    g_assert_true (g_spawn_sync (NULL, (char **) openssl, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                 NULL, NULL, NULL, NULL, &status, &error));
    g_assert_true (g_spawn_check_wait_status (status, &error));
  }
  run_profiled (f, argv, &profile);
  for (guint i = 0; i < trials; i++)
    {
      gsize old_len = 0, len = 0;
      g_autofree char *old = tb_test_read_file (cert_path, &old_len);
      g_autofree char *now = NULL;
      g_autoptr(TbContext) ctx = NULL;
      TbAuditReport report = { 0 };

      run_killed (f, argv, &profile, &tally);
      ctx = assert_context_sound (f->oem);
      g_assert_true (tb_audit_verify (ctx, &report, &error));
      /* the output is the old certificate or a whole new one that verifies */
      now = tb_test_read_file (cert_path, &len);
      if (len == old_len && memcmp (now, old, len) == 0)
        tally.old_state++;
      else
        {
          g_autoptr(TbCert) cert = tb_cert_new_from_data (now, len, "device", &error);
          g_assert_no_error (error);
          g_assert_true (tb_cert_verify (ctx, cert, NULL, &error));
          g_assert_no_error (error);
          tally.new_state++;
        }
      /* the log never loses an entry */
      g_assert_cmpuint (report.entries, >=, entries);
      entries = report.entries;
      tb_audit_report_clear (&report);
    }
  print_tally ("cert issue", &tally, &profile);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/kill9/produce", test_produce);
  ADD ("/kill9/init", test_init);
  ADD ("/kill9/master", test_master);
  ADD ("/kill9/job-import", test_job_import);
  ADD ("/kill9/cert-issue", test_cert_issue);
#undef ADD
  return g_test_run ();
}
