/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Where an output goes: tb_output_file_open() and tb_file_write_output()
 * against every kind of destination a user can name with -o. */

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb-test-util.h"
#include "trustbench.h"

typedef struct {
  char *tmp;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->tmp = tb_test_make_tmpdir ();
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
}

/* the names in @dir other than @except: temporary files left behind */
static guint
count_other_files (const char *dir, const char *except)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_strcmp0 (name, except) != 0)
      n++;
  return n;
}

static gboolean
is_symlink (const char *path)
{
  GStatBuf st;

  return g_lstat (path, &st) == 0 && S_ISLNK (st.st_mode);
}

static void
test_regular_file (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->tmp, "out.pem", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  GStatBuf st;
  char old[3] = { 0 };
  int old_fd;

  /* a new file, with the mode asked for */
  g_assert_true (tb_file_write_output (path, "new", 3, 0600, &error));
  g_assert_no_error (error);
  contents = tb_test_read_file (path, NULL);
  g_assert_cmpstr (contents, ==, "new");
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* replaced whole: a reader holding the old file keeps reading it */
  old_fd = open (path, O_RDONLY);
  g_assert_cmpint (old_fd, >=, 0);
  g_assert_true (tb_file_write_output (path, "newer", 5, 0644, &error));
  g_assert_no_error (error);
  g_clear_pointer (&contents, g_free);
  contents = tb_test_read_file (path, NULL);
  g_assert_cmpstr (contents, ==, "newer");
  g_assert_cmpint (pread (old_fd, old, 3, 0), ==, 3);
  g_assert_cmpmem (old, 3, "new", 3);
  close (old_fd);
  g_assert_cmpuint (count_other_files (f->tmp, "out.pem"), ==, 0);
  g_assert_false (tb_file_is_stdout (path));
}

static void
test_symlink (Fixture *f, gconstpointer data)
{
  g_autofree char *real_dir = g_build_filename (f->tmp, "real", NULL);
  g_autofree char *target = g_build_filename (real_dir, "cert.pem", NULL);
  g_autofree char *link = g_build_filename (f->tmp, "link.pem", NULL);
  g_autofree char *link2 = g_build_filename (f->tmp, "link2.pem", NULL);
  g_autofree char *dangling = g_build_filename (f->tmp, "dangling.pem", NULL);
  g_autofree char *created = g_build_filename (real_dir, "created.pem", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *points_to = NULL;

  g_assert_cmpint (g_mkdir (real_dir, 0700), ==, 0);
  tb_test_write_file (target, "old");
  /* relative links, one through another */
  g_assert_cmpint (symlink ("real/cert.pem", link), ==, 0);
  g_assert_cmpint (symlink ("link.pem", link2), ==, 0);

  g_assert_true (tb_file_write_output (link2, "through two links", 17, 0644, &error));
  g_assert_no_error (error);
  /* the links stay links, pointing where they did; the target is replaced */
  g_assert_true (is_symlink (link2));
  g_assert_true (is_symlink (link));
  points_to = g_file_read_link (link, NULL);
  g_assert_cmpstr (points_to, ==, "real/cert.pem");
  contents = tb_test_read_file (target, NULL);
  g_assert_cmpstr (contents, ==, "through two links");
  /* its temporary file went next to the target, and is gone */
  g_assert_cmpuint (count_other_files (real_dir, "cert.pem"), ==, 0);

  /* a link to a file that does not exist yet creates it */
  g_assert_cmpint (symlink ("real/created.pem", dangling), ==, 0);
  g_assert_true (tb_file_write_output (dangling, "made", 4, 0644, &error));
  g_assert_no_error (error);
  g_assert_true (is_symlink (dangling));
  g_clear_pointer (&contents, g_free);
  contents = tb_test_read_file (created, NULL);
  g_assert_cmpstr (contents, ==, "made");

  /* a loop is an error, not a hang */
  {
    g_autofree char *a = g_build_filename (f->tmp, "loop-a", NULL);
    g_autofree char *b = g_build_filename (f->tmp, "loop-b", NULL);
    g_assert_cmpint (symlink ("loop-b", a), ==, 0);
    g_assert_cmpint (symlink ("loop-a", b), ==, 0);
    g_assert_false (tb_file_write_output (a, "x", 1, 0644, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "symbolic links"));
  }
}

static void
test_directory (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_build_filename (f->tmp, "out.d", NULL);
  g_autofree char *inside = g_build_filename (dir, "keep", NULL);
  g_autofree char *link = g_build_filename (f->tmp, "dir-link", NULL);
  g_autoptr(GError) error = NULL;
  TbOutputFile out = TB_OUTPUT_FILE_INIT;

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  tb_test_write_file (inside, "x");
  g_assert_cmpint (symlink ("out.d", link), ==, 0);

  /* refused when opened, before any work */
  g_assert_false (tb_output_file_open (&out, dir, 0644, TB_OUTPUT_FILE_DEFAULT, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, dir));
  g_assert_nonnull (strstr (error->message, "is a directory"));
  tb_output_file_clear (&out);
  g_clear_error (&error);

  g_assert_false (tb_file_write_output (link, "x", 1, 0644, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "is a directory"));
  g_assert_true (g_file_test (inside, G_FILE_TEST_IS_REGULAR));
  g_assert_true (is_symlink (link));
  g_assert_cmpuint (count_other_files (f->tmp, "out.d"), ==, 1); /* the link */
}

typedef struct {
  char *path;
  GString *got;
} Reader;

static gpointer
read_fifo (gpointer data)
{
  Reader *r = data;
  int fd = open (r->path, O_RDONLY);
  char buf[4096];
  gssize n;

  g_assert_cmpint (fd, >=, 0);
  while ((n = read (fd, buf, sizeof buf)) > 0)
    g_string_append_len (r->got, buf, n);
  close (fd);
  return NULL;
}

static void
test_fifo (Fixture *f, gconstpointer data)
{
  g_autofree char *fifo = g_build_filename (f->tmp, "out.fifo", NULL);
  g_autofree char *link = g_build_filename (f->tmp, "fifo-link", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) big = g_string_new (NULL);
  Reader r = { fifo, g_string_new (NULL) };
  GThread *reader;
  struct stat st;

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_cmpint (symlink ("out.fifo", link), ==, 0);
  /* more than a pipe holds, so the writer really streams to the reader */
  for (guint i = 0; big->len < 300 * 1024; i++)
    g_string_append_printf (big, "line %u\n", i);

  reader = g_thread_new ("fifo-reader", read_fifo, &r);
  g_assert_true (tb_file_write_output (fifo, big->str, big->len, 0644, &error));
  g_assert_no_error (error);
  g_thread_join (reader);
  g_assert_cmpuint (r.got->len, ==, big->len);
  g_assert_cmpmem (r.got->str, r.got->len, big->str, big->len);
  g_assert_cmpint (stat (fifo, &st), ==, 0);
  g_assert_true (S_ISFIFO (st.st_mode));

  /* through a link too */
  g_string_truncate (r.got, 0);
  reader = g_thread_new ("fifo-reader", read_fifo, &r);
  g_assert_true (tb_file_write_output (link, "small", 5, 0644, &error));
  g_assert_no_error (error);
  g_thread_join (reader);
  g_assert_cmpstr (r.got->str, ==, "small");
  g_assert_true (is_symlink (link));
  g_assert_cmpint (lstat (fifo, &st), ==, 0);
  g_assert_true (S_ISFIFO (st.st_mode));
  g_assert_cmpuint (count_other_files (f->tmp, "out.fifo"), ==, 1); /* the link */
  g_string_free (r.got, TRUE);
}

/* /dev/null is a character device: written in place, never replaced by a
 * regular file (which root could do by renaming over it). */
static void
test_character_device (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  struct stat before, after;

  g_assert_cmpint (stat ("/dev/null", &before), ==, 0);
  g_assert_true (S_ISCHR (before.st_mode));
  g_assert_true (tb_file_write_output ("/dev/null", "gone", 4, 0644, &error));
  g_assert_no_error (error);
  g_assert_cmpint (stat ("/dev/null", &after), ==, 0);
  g_assert_true (S_ISCHR (after.st_mode));
  g_assert_cmpuint (after.st_ino, ==, before.st_ino);
}

/* /proc/self/fd/N names an open pipe, not a path: written in place */
static void
test_proc_fd_pipe (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  int fds[2];
  char buf[16] = { 0 };

  g_assert_cmpint (pipe (fds), ==, 0);
  path = g_strdup_printf ("/proc/self/fd/%d", fds[1]);
  g_assert_true (tb_file_write_output (path, "piped", 5, 0644, &error));
  g_assert_no_error (error);
  close (fds[1]);
  g_assert_cmpint (read (fds[0], buf, sizeof buf), ==, 5);
  g_assert_cmpstr (buf, ==, "piped");
  close (fds[0]);
}

/* "-" and /dev/stdout are this process's standard output, here a pipe to
 * the test (a subprocess's output is captured through one) */
static void
test_stdout (Fixture *f, gconstpointer data)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      struct stat st;

      g_assert_true (fstat (STDOUT_FILENO, &st) == 0 && S_ISFIFO (st.st_mode));
      g_assert_true (tb_file_is_stdout ("-"));
      g_assert_true (tb_file_write_output ("-", "dash;", 5, 0644, &error));
      g_assert_no_error (error);
      if (g_file_test ("/dev/stdout", G_FILE_TEST_EXISTS))
        {
          g_assert_true (tb_file_is_stdout ("/dev/stdout"));
          g_assert_true (tb_file_write_output ("/dev/stdout", "dev-stdout;", 11, 0644, &error));
          g_assert_no_error (error);
          g_assert_true (is_symlink ("/dev/stdout"));
        }
      else
        g_assert_true (write (STDOUT_FILENO, "dev-stdout;", 11) == 11);
      if (g_file_test ("/dev/fd/1", G_FILE_TEST_EXISTS))
        g_assert_true (tb_file_write_output ("/dev/fd/1", "fd-1", 4, 0644, &error));
      else
        g_assert_true (write (STDOUT_FILENO, "fd-1", 4) == 4);
      g_assert_no_error (error);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*dash;dev-stdout;fd-1*");
}

/* Standard output redirected to a regular file (`>> log`): /dev/stdout
 * writes through the descriptor at its offset; the file is neither
 * replaced nor truncated. */
static void
test_stdout_to_file (Fixture *f, gconstpointer data)
{
  g_autofree char *log = g_build_filename (f->tmp, "log", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  struct stat before, after;
  int saved, fd;
  gboolean ok;

  if (!g_file_test ("/dev/stdout", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no /dev/stdout");
      return;
    }
  tb_test_write_file (log, "earlier;");
  g_assert_cmpint (stat (log, &before), ==, 0);
  fflush (stdout);
  saved = dup (STDOUT_FILENO);
  fd = open (log, O_WRONLY | O_APPEND);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (dup2 (fd, STDOUT_FILENO), ==, STDOUT_FILENO);
  close (fd);
  ok = tb_file_is_stdout ("/dev/stdout") && tb_file_write_output ("/dev/stdout", "appended", 8, 0644, &error);
  g_assert_cmpint (dup2 (saved, STDOUT_FILENO), ==, STDOUT_FILENO);
  close (saved);
  g_assert_no_error (error);
  g_assert_true (ok);
  contents = tb_test_read_file (log, NULL);
  g_assert_cmpstr (contents, ==, "earlier;appended");
  g_assert_cmpint (stat (log, &after), ==, 0);
  g_assert_cmpuint (after.st_ino, ==, before.st_ino);
}

/* Writes @text to a new output at @path, uncommitted. */
static void
open_output (TbOutputFile *o, const char *path, const char *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tb_output_file_open (o, path, 0644, TB_OUTPUT_FILE_DEFAULT, &error));
  g_assert_true (tb_output_file_write (o, text, strlen (text), &error));
  g_assert_no_error (error);
}

static void
assert_contents (const char *path, const char *text)
{
  g_autofree char *data = tb_test_read_file (path, NULL);
  g_assert_cmpstr (data, ==, text);
}

/* Two files replaced as a pair; a replacement left pending (the writer
 * died between its renames) is finished by the next reader, and a record
 * naming files elsewhere is refused. */
static void
test_pair (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *image = g_build_filename (f->tmp, "a.tbimg", NULL);
  g_autofree char *upk = g_build_filename (f->tmp, "a.tbupk", NULL);
  g_autofree char *record = g_build_filename (f->tmp, ".a.tbupk.pair", NULL);
  TbOutputFile first = TB_OUTPUT_FILE_INIT, second = TB_OUTPUT_FILE_INIT;

  open_output (&first, image, "image 1");
  open_output (&second, upk, "upk 1");
  g_assert_true (tb_output_file_commit_pair (&first, &second, &error));
  g_assert_no_error (error);
  tb_output_file_clear (&first);
  tb_output_file_clear (&second);
  assert_contents (image, "image 1");
  assert_contents (upk, "upk 1");
  g_assert_false (g_file_test (record, G_FILE_TEST_EXISTS));

  /* pending: the new image in place, the new UPK still under its
   * temporary name, the record naming both (what a kill leaves) */
  {
    g_autofree char *tmp_upk = g_build_filename (f->tmp, ".a.tbupk.QWERTY", NULL);
    g_autofree char *moved = g_build_filename (f->tmp, ".a.tbimg.ASDFGH", NULL);
    g_autoptr(GKeyFile) kf = g_key_file_new ();
    g_autofree char *text = NULL;
    GStatBuf st_image, st_upk;

    tb_test_write_file (image, "image 2");
    tb_test_write_file (tmp_upk, "upk 2");
    g_assert_cmpint (g_stat (image, &st_image), ==, 0);
    g_assert_cmpint (g_stat (tmp_upk, &st_upk), ==, 0);
    g_key_file_set_string (kf, "pair", "first", image);
    g_key_file_set_string (kf, "pair", "first-temporary", "/nonexistent/.a.tbimg.ASDFGH");
    g_key_file_set_uint64 (kf, "pair", "first-device", st_image.st_dev);
    g_key_file_set_uint64 (kf, "pair", "first-inode", st_image.st_ino);
    g_key_file_set_string (kf, "pair", "second", upk);
    g_key_file_set_string (kf, "pair", "second-temporary", tmp_upk);
    g_key_file_set_uint64 (kf, "pair", "second-device", st_upk.st_dev);
    g_key_file_set_uint64 (kf, "pair", "second-inode", st_upk.st_ino);
    text = g_key_file_to_data (kf, NULL, NULL);
    tb_test_write_file (record, text);
    /* a temporary file in another directory: refused, nothing moved */
    g_assert_false (tb_output_file_recover_pair (upk, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_clear_error (&error);
    assert_contents (upk, "upk 1");

    g_key_file_set_string (kf, "pair", "first-temporary", moved);
    g_free (text);
    text = g_key_file_to_data (kf, NULL, NULL);
    tb_test_write_file (record, text);
    g_assert_true (tb_output_file_recover_pair (upk, &error));
    g_assert_no_error (error);
    assert_contents (image, "image 2");
    assert_contents (upk, "upk 2");
    g_assert_false (g_file_test (record, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (tmp_upk, G_FILE_TEST_EXISTS));
  }
  /* nothing pending: nothing to do */
  g_assert_true (tb_output_file_recover_pair (upk, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/tb/file/output/regular-file", test_regular_file);
  ADD ("/tb/file/output/symlink", test_symlink);
  ADD ("/tb/file/output/directory", test_directory);
  ADD ("/tb/file/output/fifo", test_fifo);
  ADD ("/tb/file/output/character-device", test_character_device);
  ADD ("/tb/file/output/proc-fd-pipe", test_proc_fd_pipe);
  ADD ("/tb/file/output/stdout", test_stdout);
  ADD ("/tb/file/output/stdout-to-file", test_stdout_to_file);
  ADD ("/tb/file/output/pair", test_pair);
#undef ADD
  return g_test_run ();
}
