/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The one runner of long work, shared by the command-line tool and the
 * workbench: a synchronous #TbWorkFunc runs in a GTask worker thread while
 * the caller's main context delivers its #TbProgress signals. The GUI
 * waits for it asynchronously (tb_work_run_async()); the CLI waits for it
 * in tb_work_run(), iterating its main context so that the progress is
 * drawn and a SIGINT source can cancel it. */

#include "config.h"

#include "tb-work.h"

typedef struct {
  TbWorkFunc func;
  gpointer data;
  GDestroyNotify data_free;
  TbProgress *progress;
  GAsyncReadyCallback callback;
  gpointer user_data;
} TbWork;

static void
tb_work_free (TbWork *work)
{
  if (work->data_free != NULL)
    work->data_free (work->data);
  g_clear_object (&work->progress);
  g_free (work);
}

/* In the caller's main context: the caller's callback, then the data
 * freed there too — not in the worker thread, which may drop the task's
 * last reference after the callback has run (GTK objects in @data must
 * not be freed off the main thread, and a caller may count on @data being
 * gone once its main context is idle). */
static void
work_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TbWork *work = user_data;

  if (work->callback != NULL)
    work->callback (source, result, work->user_data);
  tb_work_free (work);
}

static void
work_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TbWork *work = task_data;
  GError *error = NULL;

  if (work->func (work->data, work->progress, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * tb_work_run_async:
 * @func: the work, run in a worker thread
 * @data: its data
 * @data_free: (nullable): frees @data once @callback has returned, in the
 *   same main context
 * @progress: (nullable): passed to @func; its cancellable cancels the work
 * @callback: called in the thread-default main context of the caller
 *
 * Runs @func off the calling thread. @func reports through @progress and
 * checks its cancellable; cancelled work ends with %G_IO_ERROR_CANCELLED.
 */
void
tb_work_run_async (TbWorkFunc func, gpointer data, GDestroyNotify data_free, TbProgress *progress,
                   GAsyncReadyCallback callback, gpointer user_data)
{
  GCancellable *cancellable = progress != NULL ? tb_progress_get_cancellable (progress) : NULL;
  g_autoptr(GTask) task = NULL;
  TbWork *work = NULL;

  g_return_if_fail (func != NULL);

  work = g_new0 (TbWork, 1);
  work->func = func;
  work->data = data;
  work->data_free = data_free;
  work->progress = progress != NULL ? g_object_ref (progress) : NULL;
  work->callback = callback;
  work->user_data = user_data;
  task = g_task_new (NULL, cancellable, work_done, work);
  g_task_set_source_tag (task, tb_work_run_async);
  /* freed by work_done(), in the caller's context */
  g_task_set_task_data (task, work, NULL);
  g_task_run_in_thread (task, work_thread);
}

/**
 * tb_work_run_finish:
 *
 * Returns: %TRUE when the work succeeded, else %FALSE with its error (or
 *   %G_IO_ERROR_CANCELLED)
 */
gboolean
tb_work_run_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tb_work_run_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
store_result_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/**
 * tb_work_run:
 * @progress: (nullable): passed to @func; cancel its cancellable (from a
 *   source of the main context, e.g. a SIGINT handler) to cancel the work
 *
 * The synchronous form of tb_work_run_async(): runs @func in a worker
 * thread and iterates the thread-default main context until it is done, so
 * that sources there (progress signals, signal handlers) keep running.
 * Every progress update the work made is delivered before it returns.
 */
gboolean
tb_work_run (TbWorkFunc func, gpointer data, TbProgress *progress, GError **error)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  g_autoptr(GAsyncResult) result = NULL;

  tb_work_run_async (func, data, NULL, progress, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  /* deliver the last coalesced updates */
  while (g_main_context_iteration (context, FALSE))
    ;
  return tb_work_run_finish (result, error);
}
