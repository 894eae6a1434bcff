/* SPDX-License-Identifier: GPL-3.0-or-later */

/**
 * TbProgress:
 *
 * The one progress abstraction of libtrustbench: a fraction, a stage
 * text, log lines and a #GCancellable. Long operations take a
 * #TbProgress (possibly %NULL) and update it from whatever thread they
 * run in; observers connect to #TbProgress::changed and #TbProgress::log,
 * which are always emitted in the thread-default main context that was
 * current when the object was created (the GTK main loop in the GUI, the
 * CLI's main loop in trustbench-tool), in the thread that created it.
 * Updates are coalesced: a worker may
 * set the fraction a million times, the observer sees it at the rate its
 * main loop runs. Log lines are never coalesced or reordered.
 *
 * A range (tb_progress_set_range()) maps the fraction of a sub-operation
 * into a slice of the whole, so sub-operations report 0..1 each.
 */

#include "config.h"

#include "tb-progress.h"

#include <glib/gi18n-lib.h>

#include "tb-error.h"

struct _TbProgress {
  GObject parent_instance;

  GCancellable *cancellable;
  GMainContext *context;
  GThread *creator;

  GMutex mutex;
  double fraction;
  double range_start;
  double range_end;
  char *stage;
  GQueue pending_logs;
  gboolean dispatch_pending;
};

G_DEFINE_FINAL_TYPE (TbProgress, tb_progress, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_LOG, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
tb_progress_finalize (GObject *object)
{
  TbProgress *self = TB_PROGRESS (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_queue_clear_full (&self->pending_logs, g_free);
  g_free (self->stage);
  g_mutex_clear (&self->mutex);
  G_OBJECT_CLASS (tb_progress_parent_class)->finalize (object);
}

static void
tb_progress_class_init (TbProgressClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tb_progress_finalize;

  /**
   * TbProgress::changed:
   *
   * The fraction or the stage changed.
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * TbProgress::log:
   * @line: the log line
   *
   * A line for the operation's log.
   */
  signals[SIGNAL_LOG] = g_signal_new ("log", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                      0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
tb_progress_init (TbProgress *self)
{
  g_mutex_init (&self->mutex);
  g_queue_init (&self->pending_logs);
  self->range_end = 1.0;
  self->context = g_main_context_ref_thread_default ();
  self->creator = g_thread_self ();
}

/**
 * tb_progress_new:
 * @cancellable: (nullable): a cancellable, or %NULL to create one
 *
 * Signals will be emitted in the current thread-default main context.
 */
TbProgress *
tb_progress_new (GCancellable *cancellable)
{
  TbProgress *self = g_object_new (TB_TYPE_PROGRESS, NULL);

  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  return self;
}

static gboolean
dispatch_cb (gpointer user_data)
{
  TbProgress *self = user_data;
  GQueue logs = G_QUEUE_INIT;
  char *line;

  g_mutex_lock (&self->mutex);
  logs = self->pending_logs;
  g_queue_init (&self->pending_logs);
  self->dispatch_pending = FALSE;
  g_mutex_unlock (&self->mutex);

  while ((line = g_queue_pop_head (&logs)) != NULL)
    {
      g_signal_emit (self, signals[SIGNAL_LOG], 0, line);
      g_free (line);
    }
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return G_SOURCE_REMOVE;
}

/* Called with the mutex held; schedules one dispatch unless one is due. */
static gboolean
mark_dirty_locked (TbProgress *self)
{
  if (self->dispatch_pending)
    return FALSE;
  self->dispatch_pending = TRUE;
  return TRUE;
}

/* Signals are emitted in the creating thread: directly when it is the one
 * reporting, else from an idle source in its main context (never through
 * g_main_context_invoke(), which would run the handlers in the reporting
 * thread whenever the main context happens to be free). */
static void
schedule_dispatch (TbProgress *self)
{
  GSource *source;

  if (g_thread_self () == self->creator)
    {
      dispatch_cb (self);
      return;
    }
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, dispatch_cb, g_object_ref (self), g_object_unref);
  g_source_set_static_name (source, "[trustbench] progress");
  g_source_attach (source, self->context);
  g_source_unref (source);
}

/**
 * tb_progress_set_fraction:
 * @self: (nullable): a progress
 * @fraction: 0..1 of the current range
 */
void
tb_progress_set_fraction (TbProgress *self, double fraction)
{
  gboolean schedule;
  double value;

  if (self == NULL)
    return;
  fraction = CLAMP (fraction, 0.0, 1.0);
  g_mutex_lock (&self->mutex);
  value = self->range_start + fraction * (self->range_end - self->range_start);
  if (value == self->fraction)
    {
      g_mutex_unlock (&self->mutex);
      return;
    }
  self->fraction = value;
  schedule = mark_dirty_locked (self);
  g_mutex_unlock (&self->mutex);
  if (schedule)
    schedule_dispatch (self);
}

/**
 * tb_progress_get_fraction:
 *
 * Returns: the overall fraction, 0..1
 */
double
tb_progress_get_fraction (TbProgress *self)
{
  double value;

  g_return_val_if_fail (TB_IS_PROGRESS (self), 0.0);
  g_mutex_lock (&self->mutex);
  value = self->fraction;
  g_mutex_unlock (&self->mutex);
  return value;
}

/**
 * tb_progress_set_range:
 * @self: (nullable): a progress
 * @start: overall fraction at which the next sub-operation starts
 * @end: overall fraction at which it ends
 *
 * The overall fraction jumps to @start.
 */
void
tb_progress_set_range (TbProgress *self, double start, double end)
{
  if (self == NULL)
    return;
  g_mutex_lock (&self->mutex);
  self->range_start = CLAMP (start, 0.0, 1.0);
  self->range_end = CLAMP (end, self->range_start, 1.0);
  g_mutex_unlock (&self->mutex);
  tb_progress_set_fraction (self, 0.0);
}

static void
queue_log (TbProgress *self, char *line)
{
  gboolean schedule;

  g_mutex_lock (&self->mutex);
  g_queue_push_tail (&self->pending_logs, line);
  schedule = mark_dirty_locked (self);
  g_mutex_unlock (&self->mutex);
  if (schedule)
    schedule_dispatch (self);
}

/**
 * tb_progress_set_stage:
 * @self: (nullable): a progress
 *
 * Sets the stage text ("Generating root key") and logs it.
 */
void
tb_progress_set_stage (TbProgress *self, const char *format, ...)
{
  va_list args;
  char *stage;

  if (self == NULL)
    return;
  va_start (args, format);
  stage = g_strdup_vprintf (format, args);
  va_end (args);

  g_mutex_lock (&self->mutex);
  g_free (self->stage);
  self->stage = g_strdup (stage);
  g_mutex_unlock (&self->mutex);
  queue_log (self, stage);
}

/**
 * tb_progress_dup_stage:
 *
 * Returns: (transfer full) (nullable): the current stage text
 */
char *
tb_progress_dup_stage (TbProgress *self)
{
  char *stage;

  g_return_val_if_fail (TB_IS_PROGRESS (self), NULL);
  g_mutex_lock (&self->mutex);
  stage = g_strdup (self->stage);
  g_mutex_unlock (&self->mutex);
  return stage;
}

/**
 * tb_progress_log:
 * @self: (nullable): a progress
 *
 * Adds a line to the operation's log without changing the stage.
 */
void
tb_progress_log (TbProgress *self, const char *format, ...)
{
  va_list args;
  char *line;

  if (self == NULL)
    return;
  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  queue_log (self, line);
}

/**
 * tb_progress_finish:
 * @self: (nullable): a progress
 *
 * Resets the range and sets the fraction to 1.
 */
void
tb_progress_finish (TbProgress *self)
{
  if (self == NULL)
    return;
  g_mutex_lock (&self->mutex);
  self->range_start = 0.0;
  self->range_end = 1.0;
  g_mutex_unlock (&self->mutex);
  tb_progress_set_fraction (self, 1.0);
}

/**
 * tb_progress_get_cancellable:
 * @self: (nullable): a progress
 *
 * Returns: (transfer none) (nullable): the cancellable
 */
GCancellable *
tb_progress_get_cancellable (TbProgress *self)
{
  return self != NULL ? self->cancellable : NULL;
}

/**
 * tb_progress_set_error_if_cancelled:
 * @self: (nullable): a progress
 *
 * Returns: %TRUE if the operation was cancelled (and @error set)
 */
gboolean
tb_progress_set_error_if_cancelled (TbProgress *self, GError **error)
{
  if (self == NULL)
    return FALSE;
  return g_cancellable_set_error_if_cancelled (self->cancellable, error);
}
