/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The main() of every harness built without a fuzzing engine: replays the
 * files given on the command line through LLVMFuzzerTestOneInput() (the
 * AFL-style and regression use), which the test suite does with the seeds
 * in tests/data/. */

#include "config.h"

#include <glib.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      g_autofree char *data = NULL;
      gsize len = 0;

      if (!g_file_get_contents (argv[i], &data, &len, NULL))
        {
          fprintf (stderr, "cannot read %s\n", argv[i]);
          return 1;
        }
      LLVMFuzzerTestOneInput ((const guint8 *) data, len);
      printf ("%s: ok\n", argv[i]);
    }
  return 0;
}
