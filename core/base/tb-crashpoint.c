/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Crash injection for the crash-safety tests (docs/reliability.md).
 *
 * Production and the probe layer call tb_crash_point() at every step after
 * which a crash must leave a consistent state (a durable write done, a
 * probe operation done). When $TRUSTBENCH_TEST_CRASH_AT is N, the process
 * kills itself with SIGKILL at the Nth point it passes: the same as a
 * `kill -9` (or a pulled plug for the host) at that instant, with no
 * chance to clean up. Unset (always, outside the tests), this is one
 * integer comparison.
 *
 * The steps of every durable write in tb-file.c (temporary file written,
 * renamed, directory synced; an append half-written) are crash points
 * too, counted only when $TRUSTBENCH_TEST_CRASH_FILES is also set, so that
 * the numbering of the production points stays what its tests expect. */

#include "config.h"

#include "tb-crashpoint.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static gint64 crash_at = -1; /* -1: not read yet, 0: disabled */
static gboolean file_steps;
static gint64 passed;

/* $TRUSTBENCH_TEST_CRASH_COUNT_FILE: where a run that did not crash
 * writes how many points it passed (the tests draw their points from
 * that range) */
static void
write_count (void)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT "\n", passed);

  g_file_set_contents (g_getenv ("TRUSTBENCH_TEST_CRASH_COUNT_FILE"), text, -1, NULL);
}

static void
read_environment (void)
{
  const char *text = g_getenv ("TRUSTBENCH_TEST_CRASH_AT");

  if (g_getenv ("TRUSTBENCH_TEST_CRASH_COUNT_FILE") != NULL)
    atexit (write_count);

  crash_at = text != NULL ? g_ascii_strtoll (text, NULL, 10) : 0;
  if (crash_at < 0)
    crash_at = 0;
  file_steps = g_getenv ("TRUSTBENCH_TEST_CRASH_FILES") != NULL;
}

void
tb_crash_now (const char *where)
{
  if (g_getenv ("TRUSTBENCH_TEST_CRASH_VERBOSE") != NULL)
    fprintf (stderr, "crash point %" G_GINT64_FORMAT ": %s\n", passed, where);
  kill (getpid (), SIGKILL);
  _exit (137); /* not reached */
}

/* Whether this point is the one to crash at (counting it). */
static gboolean
reached (gboolean file_step)
{
  if (crash_at < 0)
    read_environment ();
  if (crash_at == 0 || (file_step && !file_steps))
    return FALSE;
  return ++passed == crash_at;
}

void
tb_crash_point (const char *where)
{
  if (reached (FALSE))
    tb_crash_now (where);
}

/**
 * tb_crash_point_file:
 *
 * A step of a durable write. Returns %TRUE when the process is to die
 * here, for a caller that first does part of its work (half of an append:
 * a torn write) and then calls tb_crash_now().
 */
gboolean
tb_crash_point_file (const char *where)
{
  return reached (TRUE);
}
