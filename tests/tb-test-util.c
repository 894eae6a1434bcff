/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "tb-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdarg.h>

char *
tb_test_make_tmpdir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("tb-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
rm_rf (GFile *file)
{
  g_autoptr(GFileEnumerator) e = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                                            G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (e != NULL)
    {
      GFileInfo *info;
      while ((info = g_file_enumerator_next_file (e, NULL, NULL)) != NULL)
        {
          g_autoptr(GFile) child = g_file_get_child (file, g_file_info_get_name (info));
          rm_rf (child);
          g_object_unref (info);
        }
    }
  g_file_delete (file, NULL, NULL);
}

void
tb_test_rm_rf (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  rm_rf (file);
}

char *
tb_test_read_file (const char *path, gsize *len)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, len, &error);
  g_assert_no_error (error);
  return contents;
}

void
tb_test_write_file (const char *path, const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

/* Runs trustbench-tool --json ARGS...; its exit status, its output (stdout
 * and stderr) in @out. */
int
tb_test_run_tool (const char *tool, char **out, ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  va_list ap;
  const char *arg;

  g_ptr_array_add (argv, (gpointer) tool);
  g_ptr_array_add (argv, (gpointer) "--json");
  va_start (ap, out);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_newv ((const char *const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, out, NULL, &error);
  g_assert_no_error (error);
  return g_subprocess_get_exit_status (proc);
}

/* Copies the files of a flat directory (a virtual board). */
void
tb_test_copy_dir (const char *from, const char *to)
{
  g_autoptr(GDir) d = g_dir_open (from, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  g_mkdir_with_parents (to, 0700);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *a = g_build_filename (from, name, NULL);
      g_autofree char *b = g_build_filename (to, name, NULL);
      g_autofree char *data = NULL;
      gsize len = 0;
      g_assert_true (g_file_get_contents (a, &data, &len, NULL));
      g_assert_true (g_file_set_contents (b, data, (gssize) len, NULL));
    }
}

/* Two virtual boards' flash.bin files are identical byte for byte. */
void
tb_test_assert_same_flash (const char *board_a, const char *board_b)
{
  g_autofree char *fa = g_build_filename (board_a, "flash.bin", NULL);
  g_autofree char *fb = g_build_filename (board_b, "flash.bin", NULL);
  gsize la = 0, lb = 0;
  g_autofree char *da = tb_test_read_file (fa, &la);
  g_autofree char *db = tb_test_read_file (fb, &lb);

  g_assert_cmpmem (da, la, db, lb);
}

/**
 * tb_test_wait_for_listener:
 * @socket_path: a Unix socket a server (QEMU's gdbstub) is about to open
 *
 * Waits until the socket exists and is listening: a server creates the
 * file when it binds, a moment before it listens, and a client connecting
 * in between is refused. Reads /proc/net/unix (flag __SO_ACCEPTCON) rather
 * than connecting, which a server such as QEMU's gdbstub would take as
 * its debugger attaching.
 *
 * Returns: whether it listens within @timeout_ms
 */
gboolean
tb_test_wait_for_listener (const char *socket_path, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  do
    {
      g_autofree char *table = NULL;

      if (g_file_get_contents ("/proc/net/unix", &table, NULL, NULL))
        {
          g_auto(GStrv) lines = g_strsplit (table, "\n", -1);
          for (guint i = 1; lines[i] != NULL; i++)
            {
              g_auto(GStrv) fields = g_strsplit_set (lines[i], " ", -1);
              g_autoptr(GPtrArray) words = g_ptr_array_new ();
              for (guint k = 0; fields[k] != NULL; k++)
                if (fields[k][0] != '\0')
                  g_ptr_array_add (words, fields[k]);
              /* Num RefCount Protocol Flags Type St Inode Path */
              if (words->len >= 8 && g_strcmp0 (g_ptr_array_index (words, 7), socket_path) == 0 &&
                  (g_ascii_strtoull (g_ptr_array_index (words, 3), NULL, 16) & 0x10000) != 0)
                return TRUE;
            }
        }
      g_usleep (20 * 1000);
    }
  while (g_get_monotonic_time () < deadline);
  return FALSE;
}
