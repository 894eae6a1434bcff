/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include "trustbench.h"

typedef struct {
  GPtrArray *lines;
  guint changed;
  double last_fraction;
  GThread *emit_thread;
  gboolean wrong_thread;
  gboolean done;
} Observer;

static void
log_cb (TbProgress *progress, const char *line, Observer *obs)
{
  if (g_thread_self () != obs->emit_thread)
    obs->wrong_thread = TRUE;
  g_ptr_array_add (obs->lines, g_strdup (line));
}

static void
changed_cb (TbProgress *progress, Observer *obs)
{
  double fraction = tb_progress_get_fraction (progress);

  if (g_thread_self () != obs->emit_thread)
    obs->wrong_thread = TRUE;
  g_assert_cmpfloat (fraction, >=, obs->last_fraction);
  obs->last_fraction = fraction;
  obs->changed++;
}

#define N_STEPS 20000

static void
worker (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  TbProgress *progress = data;

  tb_progress_set_range (progress, 0.0, 0.5);
  tb_progress_set_stage (progress, "first half");
  for (guint i = 0; i <= N_STEPS; i++)
    {
      tb_progress_set_fraction (progress, (double) i / N_STEPS);
      if (i % 5000 == 0)
        tb_progress_log (progress, "step %u", i);
    }
  g_assert_cmpfloat_with_epsilon (tb_progress_get_fraction (progress), 0.5, 1e-9);
  tb_progress_set_range (progress, 0.5, 1.0);
  tb_progress_set_stage (progress, "second half");
  tb_progress_set_fraction (progress, 0.5);
  g_assert_cmpfloat_with_epsilon (tb_progress_get_fraction (progress), 0.75, 1e-9);
  tb_progress_finish (progress);
  g_task_return_boolean (task, TRUE);
}

static void
done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Observer *obs = data;
  obs->done = TRUE;
}

/* Updates from a worker thread arrive in the creating thread's main
 * context, coalesced, with every log line in order. */
static void
test_progress_threads (void)
{
  g_autoptr(TbProgress) progress = tb_progress_new (NULL);
  g_autoptr(GTask) task = NULL;
  Observer obs = { g_ptr_array_new_with_free_func (g_free), 0, 0.0, g_thread_self (), FALSE, FALSE };
  const char *expect[] = { "first half", "step 0", "step 5000", "step 10000", "step 15000",
                           "step 20000", "second half" };

  g_signal_connect (progress, "log", G_CALLBACK (log_cb), &obs);
  g_signal_connect (progress, "changed", G_CALLBACK (changed_cb), &obs);
  task = g_task_new (NULL, NULL, done_cb, &obs);
  g_task_set_task_data (task, g_object_ref (progress), g_object_unref);
  g_task_run_in_thread (task, worker);
  while (!obs.done)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  g_assert_false (obs.wrong_thread);
  g_assert_cmpuint (obs.lines->len, ==, G_N_ELEMENTS (expect));
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    g_assert_cmpstr (g_ptr_array_index (obs.lines, i), ==, expect[i]);
  g_assert_cmpfloat (obs.last_fraction, ==, 1.0);
  g_assert_cmpuint (obs.changed, >, 0);
  g_assert_cmpuint (obs.changed, <, N_STEPS); /* coalesced */
  g_ptr_array_unref (obs.lines);
}

static void
test_progress_cancel (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(TbProgress) progress = tb_progress_new (cancellable);
  g_autoptr(GError) error = NULL;

  g_assert_true (tb_progress_get_cancellable (progress) == cancellable);
  g_assert_false (tb_progress_set_error_if_cancelled (progress, &error));
  g_assert_no_error (error);
  g_cancellable_cancel (cancellable);
  g_assert_true (tb_progress_set_error_if_cancelled (progress, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* a NULL progress is allowed everywhere */
  tb_progress_set_fraction (NULL, 0.5);
  tb_progress_set_stage (NULL, "x");
  tb_progress_log (NULL, "y");
  g_assert_false (tb_progress_set_error_if_cancelled (NULL, NULL));
}

static void
test_demo_cancelled (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(TbProgress) progress = tb_progress_new (cancellable);
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("tb-test-XXXXXX", NULL);
  g_autofree char *dir = g_build_filename (tmp, "demo", NULL);

  g_cancellable_cancel (cancellable);
  g_assert_false (tb_demo_run (dir, progress, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_rmdir (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tb/progress/threads", test_progress_threads);
  g_test_add_func ("/tb/progress/cancel", test_progress_cancel);
  g_test_add_func ("/tb/demo/cancelled", test_demo_cancelled);
  return g_test_run ();
}
