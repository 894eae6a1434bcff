/* SPDX-License-Identifier: GPL-3.0-or-later */

/* tb_work_run() and tb_work_run_async(): the runner the CLI and the GUI
 * share. */

#include "config.h"

#include "trustbench.h"

typedef struct {
  GThread *caller;
  GThread *ran_in;
  guint n_steps;
  gboolean fail;
  gboolean wait_for_cancel;
  gint freed;
} Work;

static gboolean
work_func (gpointer data, TbProgress *progress, GError **error)
{
  Work *w = data;

  w->ran_in = g_thread_self ();
  for (guint i = 0; i < w->n_steps; i++)
    {
      tb_progress_log (progress, "step %u", i);
      tb_progress_set_fraction (progress, (double) (i + 1) / w->n_steps);
    }
  if (w->wait_for_cancel)
    {
      tb_progress_log (progress, "waiting");
      while (!g_cancellable_is_cancelled (tb_progress_get_cancellable (progress)))
        g_usleep (1000);
      return !tb_progress_set_error_if_cancelled (progress, error);
    }
  if (w->fail)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, "step %u of %u is broken", w->n_steps, w->n_steps);
      return FALSE;
    }
  return TRUE;
}

static void
collect_log_cb (TbProgress *progress, const char *line, GPtrArray *lines)
{
  g_ptr_array_add (lines, g_strdup (line));
}

/* The work runs in another thread; every log line it wrote reached the
 * caller's main context, in order, before tb_work_run() returned. */
static void
test_run_sync_delivers_progress (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(TbProgress) progress = tb_progress_new (cancellable);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  Work w = { .caller = g_thread_self (), .n_steps = 500 };

  g_signal_connect (progress, "log", G_CALLBACK (collect_log_cb), lines);
  g_assert_true (tb_work_run (work_func, &w, progress, &error));
  g_assert_no_error (error);
  g_assert_nonnull (w.ran_in);
  g_assert_true (w.ran_in != w.caller);
  g_assert_cmpuint (lines->len, ==, 500);
  for (guint i = 0; i < lines->len; i++)
    {
      g_autofree char *expected = g_strdup_printf ("step %u", i);
      g_assert_cmpstr (g_ptr_array_index (lines, i), ==, expected);
    }
  g_assert_cmpfloat_with_epsilon (tb_progress_get_fraction (progress), 1.0, 1e-9);
}

static void
test_run_sync_error (void)
{
  g_autoptr(GError) error = NULL;
  Work w = { .caller = g_thread_self (), .n_steps = 3, .fail = TRUE };

  /* no progress at all is allowed */
  g_assert_false (tb_work_run (work_func, &w, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_cmpstr (error->message, ==, "step 3 of 3 is broken");
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

/* What the CLI's SIGINT handler does: a source of the caller's main
 * context cancels the work while tb_work_run() waits for it. */
static void
test_run_sync_cancelled_from_main_context (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(TbProgress) progress = tb_progress_new (cancellable);
  g_autoptr(GError) error = NULL;
  Work w = { .caller = g_thread_self (), .wait_for_cancel = TRUE };

  g_timeout_add (20, cancel_cb, cancellable);
  g_assert_false (tb_work_run (work_func, &w, progress, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
count_free (gpointer data)
{
  Work *w = data;
  w->freed++;
}

typedef struct {
  Work *work;
  GError *error;
  gboolean done;
  gint freed_in_callback;
} AsyncState;

static void
async_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AsyncState *state = user_data;

  g_assert_null (source);
  tb_work_run_finish (result, &state->error);
  /* the data is still there for the callback */
  state->freed_in_callback = state->work->freed;
  state->done = TRUE;
}

/* Starts the state's work and iterates the main context until its
 * callback ran and nothing is pending. */
static void
run_async_and_wait (AsyncState *state, TbProgress *progress)
{
  tb_work_run_async (work_func, state->work, count_free, progress, async_done_cb, state);
  while (!state->done)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_run_async (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(TbProgress) progress = tb_progress_new (cancellable);
  Work w = { .caller = g_thread_self (), .n_steps = 10, .fail = TRUE };
  AsyncState state = { &w, NULL, FALSE, -1 };

  run_async_and_wait (&state, progress);
  g_assert_error (state.error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_clear_error (&state.error);
  g_assert_cmpint (state.freed_in_callback, ==, 0);
  g_assert_cmpint (w.freed, ==, 1);
  g_assert_true (w.ran_in != w.caller);
}

/* Cancelled work ends with G_IO_ERROR_CANCELLED even when the function
 * itself did not notice and returned TRUE. */
static void
test_run_async_cancelled_before (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(TbProgress) progress = tb_progress_new (cancellable);
  Work w = { .caller = g_thread_self (), .n_steps = 1 };
  AsyncState state = { &w, NULL, FALSE, -1 };

  g_cancellable_cancel (cancellable);
  run_async_and_wait (&state, progress);
  g_assert_error (state.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&state.error);
  g_assert_cmpint (w.freed, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tb/work/run-sync-delivers-progress", test_run_sync_delivers_progress);
  g_test_add_func ("/tb/work/run-sync-error", test_run_sync_error);
  g_test_add_func ("/tb/work/run-sync-cancelled-from-main-context", test_run_sync_cancelled_from_main_context);
  g_test_add_func ("/tb/work/run-async", test_run_async);
  g_test_add_func ("/tb/work/run-async-cancelled-before", test_run_async_cancelled_before);
  return g_test_run ();
}
