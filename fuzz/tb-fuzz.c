/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Shared by every harness in fuzz/ (see tb-fuzz.h).
 *
 * Criticals and warnings abort: a g_return_if_fail() reached from input
 * is a bug the fuzzer must report, not a log line. Other messages are
 * dropped. */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "tb-fuzz.h"

static char *scratch_dir;

static void
remove_scratch_dir (void)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (scratch_dir == NULL)
    return;
  dir = g_dir_open (scratch_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (scratch_dir, name, NULL);
      g_remove (path);
    }
  g_rmdir (scratch_dir);
}

/**
 * tb_fuzz_scratch_dir:
 *
 * A private directory (on tmpfs when /dev/shm exists) for harnesses whose
 * parser reads files; removed at exit.
 */
const char *
tb_fuzz_scratch_dir (void)
{
  if (scratch_dir == NULL)
    {
      g_autofree char *tmpl = g_build_filename (g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" :
                                                g_get_tmp_dir (), "tb-fuzz-XXXXXX", NULL);
      scratch_dir = g_mkdtemp (g_steal_pointer (&tmpl));
      g_assert (scratch_dir != NULL);
      atexit (remove_scratch_dir);
    }
  return scratch_dir;
}

/**
 * tb_fuzz_write_file:
 *
 * Writes @data to @name in the scratch directory and returns its path.
 */
char *
tb_fuzz_write_file (const char *name, const guint8 *data, size_t size)
{
  char *path = g_build_filename (tb_fuzz_scratch_dir (), name, NULL);

  g_assert (g_file_set_contents (path, (const char *) data, (gssize) size, NULL));
  return path;
}

/* abort(), not GLib's breakpoint trap: libFuzzer saves the input on SIGABRT */
static void
abort_on_warning (GLogLevelFlags level, const char *domain, const char *message)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      fprintf (stderr, "%s: %s\n", domain != NULL ? domain : "(no domain)", message);
      abort ();
    }
}

static void
log_handler (const char *domain, GLogLevelFlags level, const char *message, gpointer user)
{
  abort_on_warning (level, domain, message);
}

static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user)
{
  const char *domain = NULL, *message = "";

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
    }
  abort_on_warning (level, domain, message);
  return G_LOG_WRITER_HANDLED;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_default_handler (log_handler, NULL);
  g_log_set_writer_func (log_writer, NULL, NULL);
  tb_fuzz_setup ();
  return 0;
}

#ifndef TB_FUZZING_ENGINE
static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static int
replay_file (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    {
      fprintf (stderr, "cannot read %s\n", path);
      return 1;
    }
  LLVMFuzzerTestOneInput ((const guint8 *) data, len);
  printf ("%s: ok\n", path);
  return 0;
}

/* Replays each file given, and each file in each directory given (sorted,
 * so a run is reproducible). */
int
main (int argc, char **argv)
{
  int rc = 0;

  LLVMFuzzerInitialize (&argc, &argv);
  for (int i = 1; i < argc; i++)
    {
      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          g_autoptr(GDir) dir = g_dir_open (argv[i], 0, NULL);
          g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
          const char *name;

          while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
            g_ptr_array_add (names, g_build_filename (argv[i], name, NULL));
          g_ptr_array_sort (names, compare_paths);
          if (names->len == 0)
            {
              fprintf (stderr, "%s: no seeds\n", argv[i]);
              rc = 1;
            }
          for (guint j = 0; j < names->len; j++)
            rc |= replay_file (g_ptr_array_index (names, j));
        }
      else
        rc |= replay_file (argv[i]);
    }
  return rc;
}
#endif
