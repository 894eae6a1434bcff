/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Crash injection for the crash-safety tests of production.
 *
 * Production and the probe layer call tb_crash_point() at every step after
 * which a crash must leave a consistent state (a durable write done, a
 * probe operation done). When $TRUSTBENCH_TEST_CRASH_AT is N, the process
 * kills itself with SIGKILL at the Nth point it passes: the same as a
 * `kill -9` (or a pulled plug for the host) at that instant, with no
 * chance to clean up. Unset (always, outside the tests), this is one
 * integer comparison. */

#include "config.h"

#include "tb-crashpoint.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static gint64 crash_at = -1; /* -1: not read yet, 0: disabled */
static gint64 passed;

void
tb_crash_point (const char *where)
{
  if (crash_at < 0)
    {
      const char *text = g_getenv ("TRUSTBENCH_TEST_CRASH_AT");
      crash_at = text != NULL ? g_ascii_strtoll (text, NULL, 10) : 0;
      if (crash_at < 0)
        crash_at = 0;
    }
  if (crash_at == 0 || ++passed != crash_at)
    return;
  if (g_getenv ("TRUSTBENCH_TEST_CRASH_VERBOSE") != NULL)
    fprintf (stderr, "crash point %" G_GINT64_FORMAT ": %s\n", passed, where);
  kill (getpid (), SIGKILL);
  _exit (137); /* not reached */
}
