/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "tb-file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "tb-crashpoint.h"
#include "tb-error.h"
#include "tb-file-private.h"

static gboolean
write_all (int fd, const void *buf, gsize len, const char *path, GError **error)
{
  const guint8 *data = buf;

  while (len > 0)
    {
      gssize n = write (fd, data, MIN (len, (gsize) G_MAXSSIZE));
      if (n < 0)
        {
          int saved_errno = errno;
          if (saved_errno == EINTR)
            continue;
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                       _("Cannot write %s: %s"), path, g_strerror (saved_errno));
          return FALSE;
        }
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/**
 * tb_file_fsync_directory:
 * @dir: a directory
 *
 * Flushes the directory entry table of @dir, so that a rename or a new
 * file in it survives a power loss.
 */
gboolean
tb_file_fsync_directory (const char *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                   _("Cannot open directory %s: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }
  if (fsync (fd) != 0 && errno != EINVAL)
    {
      int saved_errno = errno;
      close (fd);
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                   _("Cannot sync directory %s: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/**
 * tb_file_write_atomic:
 * @path: destination file
 * @data: contents
 * @len: length of @data
 * @mode: file mode of the new file (e.g. 0600 for key files)
 *
 * Replaces @path atomically and durably: the data goes into a temporary
 * file `.NAME.XXXXXX` in the same directory, which is fsync'ed, renamed
 * over @path, and the directory is fsync'ed. A crash at any point leaves
 * either the old or the new file, never a mix; a stale temporary file may
 * remain and is removed by tb_file_remove_stale_temps().
 */
gboolean
tb_file_write_atomic (const char *path, const void *data, gsize len, int mode, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmp = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  int fd;

  fd = g_mkstemp_full (tmp, O_RDWR | O_CLOEXEC, mode);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                   _("Cannot create a temporary file in %s: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }
  /* mkstemp honours the umask; the mode is a security property here. */
  if (fchmod (fd, (mode_t) mode) != 0 ||
      !write_all (fd, data, len, tmp, error) ||
      fsync (fd) != 0)
    {
      int saved_errno = errno;
      if (error != NULL && *error == NULL)
        g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                     _("Cannot write %s: %s"), tmp, g_strerror (saved_errno));
      close (fd);
      g_unlink (tmp);
      return FALSE;
    }
  if (close (fd) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                   _("Cannot write %s: %s"), tmp, g_strerror (saved_errno));
      g_unlink (tmp);
      return FALSE;
    }
  if (tb_crash_point_file ("atomic write: temporary file synced"))
    tb_crash_now (tmp);
  if (g_rename (tmp, path) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                   _("Cannot replace %s: %s"), path, g_strerror (saved_errno));
      g_unlink (tmp);
      return FALSE;
    }
  if (tb_crash_point_file ("atomic write: renamed"))
    tb_crash_now (path);
  if (!tb_file_fsync_directory (dir, error))
    return FALSE;
  if (tb_crash_point_file ("atomic write: directory synced"))
    tb_crash_now (path);
  return TRUE;
}

/**
 * tb_file_open_for_reading:
 * @size: (out): the file's size
 *
 * Opens @path to read it piecewise. A file that does not exist is not an
 * error: -1 is returned with @error unset (the caller reads it as empty).
 *
 * Returns: a file descriptor, or -1
 */
int
tb_file_open_for_reading (const char *path, goffset *size, GError **error)
{
  struct stat st;
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  *size = 0;
  if (fd < 0 && errno == ENOENT)
    return -1;
  if (fd < 0 || fstat (fd, &st) != 0)
    {
      int saved_errno = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot read %s: %s"), path, g_strerror (saved_errno));
      return -1;
    }
  *size = st.st_size;
  return fd;
}

/**
 * tb_file_read_bounded:
 * @path: file to read
 * @max_bytes: refuse files larger than this
 * @contents: (out): NUL-terminated contents
 * @len: (out) (optional): length without the NUL
 *
 * Reads a whole file, refusing it before allocating when it is larger
 * than @max_bytes.
 */
gboolean
tb_file_read_bounded (const char *path, gsize max_bytes, char **contents, gsize *len, GError **error)
{
  GStatBuf st;
  g_autoptr(GError) local_error = NULL;

  if (g_stat (path, &st) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR,
                   saved_errno == ENOENT ? TB_ERROR_NOT_FOUND : TB_ERROR_FAILED,
                   _("Cannot read %s: %s"), path, g_strerror (saved_errno));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("Cannot read %s: not a regular file"), path);
      return FALSE;
    }
  if ((guint64) st.st_size > max_bytes)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("Cannot read %s: %" G_GUINT64_FORMAT " bytes is more than the limit of %" G_GSIZE_FORMAT " bytes"),
                   path, (guint64) st.st_size, max_bytes);
      return FALSE;
    }
  if (!g_file_get_contents (path, contents, len, &local_error))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot read %s: %s"), path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/**
 * tb_file_append_durable:
 *
 * Appends @data to @path (created 0600 if missing, its directory too) in
 * one write and syncs it: append-only logs and records are never rewritten.
 */
gboolean
tb_file_append_durable (const char *path, const void *data, gsize len, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int fd;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot create directory %s: %s"), dir,
                   g_strerror (saved_errno));
      return FALSE;
    }
  fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0 && len > 1 && tb_crash_point_file ("append: torn"))
    {
      /* the write stops half-way, as a power cut would leave it */
      if (write (fd, data, len / 2) == (gssize) (len / 2))
        fsync (fd);
      tb_crash_now (path);
    }
  if (fd < 0 || write (fd, data, len) != (gssize) len || fsync (fd) != 0)
    {
      int saved_errno = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot append to %s: %s"), path, g_strerror (saved_errno));
      return FALSE;
    }
  close (fd);
  if (tb_crash_point_file ("append: synced"))
    tb_crash_now (path);
  return TRUE;
}

/**
 * tb_file_remove_stale_temps:
 * @dir: directory
 * @basename: the file name whose temporaries to remove
 *
 * Removes temporary files left by a tb_file_write_atomic() that was
 * interrupted (crash, kill -9). Only call this while holding the lock
 * that serialises writers of @dir.
 *
 * Returns: the number of files removed
 */
guint
tb_file_remove_stale_temps (const char *dir, const char *basename)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autofree char *prefix = g_strdup_printf (".%s.", basename);
  const char *name;
  guint removed = 0;

  if (d == NULL)
    return 0;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      /* mkstemp appends exactly six characters */
      if (g_str_has_prefix (name, prefix) && strlen (name) == strlen (prefix) + 6)
        {
          g_autofree char *p = g_build_filename (dir, name, NULL);
          if (g_unlink (p) == 0)
            removed++;
        }
    }
  return removed;
}

struct _TbLock {
  int fd;
  char *path;
};

/**
 * tb_lock_acquire:
 * @path: lock file (created if needed)
 * @what: human name of the locked thing, for the error message
 *
 * Takes an exclusive advisory lock (flock) on @path without waiting. The
 * lock is released by tb_lock_release() or when the process dies, so a
 * crash never leaves a context locked. The holder writes its pid into the
 * file so that a refused process can name it.
 */
TbLock *
tb_lock_acquire (const char *path, const char *what, GError **error)
{
  TbLock *lock;
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  g_autofree char *pid_text = NULL;

  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, saved_errno == EACCES ? TB_ERROR_PERMISSION : TB_ERROR_FAILED,
                   _("Cannot open lock file %s: %s"), path, g_strerror (saved_errno));
      return NULL;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int saved_errno = errno;
      char buf[32] = { 0 };
      gssize n = pread (fd, buf, sizeof buf - 1, 0);
      close (fd);
      if (saved_errno == EWOULDBLOCK)
        {
          guint64 pid = n > 0 ? g_ascii_strtoull (buf, NULL, 10) : 0;
          if (pid == (guint64) getpid ())
            g_set_error (error, TB_ERROR, TB_ERROR_BUSY,
                         _("%s is busy: this program already has it open"), what);
          else if (pid > 0)
            g_set_error (error, TB_ERROR, TB_ERROR_BUSY,
                         _("%s is busy: in use by another process (pid %" G_GUINT64_FORMAT "); close it and try again"),
                         what, pid);
          else
            g_set_error (error, TB_ERROR, TB_ERROR_BUSY,
                         _("%s is busy: in use by another process; close it and try again"), what);
        }
      else
        g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                     _("Cannot lock %s: %s"), path, g_strerror (saved_errno));
      return NULL;
    }
  pid_text = g_strdup_printf ("%ld\n", (long) getpid ());
  if (ftruncate (fd, 0) == 0)
    {
      gssize ignored = pwrite (fd, pid_text, strlen (pid_text), 0);
      (void) ignored;
    }
  lock = g_new0 (TbLock, 1);
  lock->fd = fd;
  lock->path = g_strdup (path);
  return lock;
}

void
tb_lock_release (TbLock *lock)
{
  if (lock == NULL)
    return;
  if (ftruncate (lock->fd, 0) != 0)
    g_debug ("cannot clear %s", lock->path);
  close (lock->fd);
  g_free (lock->path);
  g_free (lock);
}

/**
 * tb_file_remove_tree:
 * @path: a directory (or file) to delete with everything below it
 *
 * Used only to undo what the caller itself just created (a context whose
 * creation failed half-way). Does not follow symbolic links.
 */
gboolean
tb_file_remove_tree (const char *path, GError **error)
{
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return TRUE;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, error);
      const char *name;

      if (dir == NULL)
        return FALSE;
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          if (!tb_file_remove_tree (child, error))
            return FALSE;
        }
      if (g_rmdir (path) != 0)
        {
          int saved_errno = errno;
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot remove %s: %s"), path, g_strerror (saved_errno));
          return FALSE;
        }
      return TRUE;
    }
  if (g_unlink (path) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot remove %s: %s"), path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* Start writing back every few MiB, so the final fsync has little left. */
#define WRITEBACK_STEP (4u * 1024u * 1024u)

/* The longest chain of symbolic links followed (the kernel's MAXSYMLINKS). */
#define MAX_LINKS 40

/* A link in /proc (/proc/self/fd/1, where /dev/stdout leads) names an open
 * file, not a path: what it reads as may be "pipe:[1234]". It is opened,
 * never resolved or replaced. */
static gboolean
is_proc_link (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  struct statfs fs;

  return statfs (dir, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

/* @path with its symbolic links followed, one at a time, to the name they
 * lead to (which need not exist yet); *@proc_link is set when that is a
 * link in /proc. */
static char *
resolve_links (const char *path, gboolean *proc_link, GError **error)
{
  g_autofree char *current = g_strdup (path);

  *proc_link = FALSE;
  for (guint i = 0; i < MAX_LINKS; i++)
    {
      GStatBuf st;
      g_autofree char *target = NULL;
      g_autoptr(GError) local_error = NULL;

      if (g_lstat (current, &st) != 0 || !S_ISLNK (st.st_mode))
        return g_steal_pointer (&current);
      if (is_proc_link (current))
        {
          *proc_link = TRUE;
          return g_steal_pointer (&current);
        }
      target = g_file_read_link (current, &local_error);
      if (target == NULL)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot write %s: %s"), path, local_error->message);
          return NULL;
        }
      if (!g_path_is_absolute (target))
        {
          g_autofree char *dir = g_path_get_dirname (current);
          g_free (current);
          current = g_build_filename (dir, target, NULL);
        }
      else
        {
          g_free (current);
          current = g_steal_pointer (&target);
        }
    }
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("Cannot write %s: too many levels of symbolic links"),
               path);
  return NULL;
}

static gboolean
is_same_file_as_fd (const struct stat *st, int fd)
{
  struct stat fd_st;

  return fstat (fd, &fd_st) == 0 && fd_st.st_dev == st->st_dev && fd_st.st_ino == st->st_ino;
}

/* The descriptor of our own standard output or error when @path is it
 * ("-", /dev/stdout, /dev/fd/2…), else -1. Writing through it keeps the
 * shell's offset and mode: `>> log` appends. */
static int
own_stream_fd (const char *path, const char *target, gboolean proc_link)
{
  struct stat st;

  if (g_str_equal (path, "-"))
    return STDOUT_FILENO;
  if (!proc_link || stat (target, &st) != 0)
    return -1;
  if (is_same_file_as_fd (&st, STDOUT_FILENO))
    return STDOUT_FILENO;
  if (is_same_file_as_fd (&st, STDERR_FILENO))
    return STDERR_FILENO;
  return -1;
}

/**
 * tb_file_is_stdout:
 * @path: an output as the user gave it
 *
 * Returns: whether tb_output_file_open() would write @path on this
 *   process's standard output ("-", /dev/stdout, /dev/fd/1)
 */
gboolean
tb_file_is_stdout (const char *path)
{
  gboolean proc_link = FALSE;
  g_autofree char *target = g_str_equal (path, "-") ? NULL : resolve_links (path, &proc_link, NULL);

  return own_stream_fd (path, target, proc_link) == STDOUT_FILENO;
}

static gboolean
open_temporary (TbOutputFile *o, int mode, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (o->target);
  g_autofree char *base = g_path_get_basename (o->target);

  o->tmp = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  o->fd = g_mkstemp_full (o->tmp, O_WRONLY | O_CLOEXEC, mode);
  if (o->fd < 0 || fchmod (o->fd, (mode_t) mode) != 0)
    {
      int saved_errno = errno;
      if (o->fd < 0)
        g_clear_pointer (&o->tmp, g_free);
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot create a file in %s: %s"), dir,
                   g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
open_in_place (TbOutputFile *o, int extra_flags, GError **error)
{
  o->fd = open (o->target, O_WRONLY | O_CLOEXEC | O_NOCTTY | extra_flags);
  if (o->fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, saved_errno == EACCES ? TB_ERROR_PERMISSION : TB_ERROR_FAILED,
                   _("Cannot write %s: %s"), o->path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/**
 * tb_output_file_open:
 * @path: the output as the user gave it; "-" is standard output
 * @mode: file mode of a new or replaced file
 *
 * Opens @path for writing the way #TbOutputFile describes; a directory, a
 * socket or a block device is refused here, before any work is done.
 */
gboolean
tb_output_file_open (TbOutputFile *o, const char *path, int mode, TbOutputFileFlags flags, GError **error)
{
  gboolean proc_link = FALSE;
  struct stat st;
  int stream;

  o->path = g_strdup (path);
  o->written = o->flushed = 0;
  o->flags = flags;
  if (!g_str_equal (path, "-") && (o->target = resolve_links (path, &proc_link, error)) == NULL)
    return FALSE;
  stream = own_stream_fd (path, o->target, proc_link);
  if (stream >= 0)
    {
      o->fd = fcntl (stream, F_DUPFD_CLOEXEC, 3);
      if (o->fd < 0)
        {
          int saved_errno = errno;
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot write %s: %s"), path, g_strerror (saved_errno));
          return FALSE;
        }
      return TRUE;
    }
  if (stat (o->target, &st) != 0)
    {
      int saved_errno = errno;
      if (saved_errno == ENOENT && !proc_link)
        return open_temporary (o, mode, error);
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot write %s: %s"), path, g_strerror (saved_errno));
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Cannot write %s: it is a directory; name a file in it"), path);
      return FALSE;
    }
  if (S_ISCHR (st.st_mode) || S_ISFIFO (st.st_mode))
    return open_in_place (o, 0, error);
  if (S_ISREG (st.st_mode))
    /* behind a /proc link is an open file of another process: written
     * in place, as the shell would */
    return proc_link ? open_in_place (o, O_TRUNC, error) : open_temporary (o, mode, error);
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
               _("Cannot write %s: it is neither a regular file, a character device nor a pipe"), path);
  return FALSE;
}

gboolean
tb_output_file_write (TbOutputFile *o, const void *data, gsize len, GError **error)
{
  if (!write_all (o->fd, data, len, o->path, error))
    return FALSE;
  o->written += len;
  if (o->tmp != NULL && (o->flags & TB_OUTPUT_FILE_DURABLE) && o->written - o->flushed >= WRITEBACK_STEP)
    {
      sync_file_range (o->fd, (off64_t) o->flushed, (off64_t) (o->written - o->flushed), SYNC_FILE_RANGE_WRITE);
      o->flushed = o->written;
    }
  return TRUE;
}

/* Puts @tmp in place of @path. Where @path exists, the two are exchanged
 * and the old file (now under the temporary name) removed: a plain rename
 * over an existing file makes ext4 write the new file's data out right
 * away (its auto_da_alloc heuristic), which is what a non-durable output
 * does not want to wait for. Readers see the old file or the new one. */
gboolean
tb_file_replace (const char *tmp, const char *path, gboolean durable, GError **error)
{
  GStatBuf st;

  /* only a regular file is exchanged: a directory in the way must make
   * the rename fail, not end up under the temporary name */
  if (!durable && g_lstat (path, &st) == 0 && S_ISREG (st.st_mode) &&
      renameat2 (AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0)
    {
      if (g_unlink (tmp) != 0)
        g_debug ("Cannot remove the replaced %s: %s", tmp, g_strerror (errno));
      return TRUE;
    }
  /* no file to exchange with, or a file system that cannot */
  if (g_rename (tmp, path) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot replace %s: %s"), path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
tb_output_file_commit (TbOutputFile *o, GError **error)
{
  g_autofree char *dir = NULL;
  gboolean durable = (o->flags & TB_OUTPUT_FILE_DURABLE) != 0;
  int fd = o->fd;

  o->fd = -1;
  if (o->tmp == NULL)
    {
      /* written in place: a pipe or a device has nothing to rename or sync */
      if (close (fd) != 0)
        {
          int saved_errno = errno;
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot write %s: %s"), o->path,
                       g_strerror (saved_errno));
          return FALSE;
        }
      return TRUE;
    }
  if ((durable && fsync (fd) != 0) || close (fd) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot write %s: %s"), o->path, g_strerror (saved_errno));
      return FALSE;
    }
  if (tb_crash_point_file ("output: temporary file written"))
    tb_crash_now (o->tmp);
  if (!tb_file_replace (o->tmp, o->target, durable, error))
    return FALSE;
  g_clear_pointer (&o->tmp, g_free);
  if (tb_crash_point_file ("output: renamed"))
    tb_crash_now (o->target);
  dir = g_path_get_dirname (o->target);
  return !durable || tb_file_fsync_directory (dir, error);
}

void
tb_output_file_clear (TbOutputFile *o)
{
  if (o->fd >= 0)
    close (o->fd);
  if (o->tmp != NULL)
    g_unlink (o->tmp);
  g_clear_pointer (&o->tmp, g_free);
  g_clear_pointer (&o->path, g_free);
  g_clear_pointer (&o->target, g_free);
  o->fd = -1;
  o->written = o->flushed = 0;
}

/**
 * tb_file_write_output:
 * @path: an output as the user gave it (`-o FILE`); "-" is standard output
 * @mode: file mode of a new or replaced file (0600 for anything secret)
 *
 * Writes @data to @path through a durable #TbOutputFile: a regular file is
 * replaced whole, a pipe or device written in place, a symbolic link's
 * target replaced, a directory refused.
 */
gboolean
tb_file_write_output (const char *path, const void *data, gsize len, int mode, GError **error)
{
  TbOutputFile out = TB_OUTPUT_FILE_INIT;
  gboolean ok = tb_output_file_open (&out, path, mode, TB_OUTPUT_FILE_DURABLE, error) &&
                tb_output_file_write (&out, data, len, error) && tb_output_file_commit (&out, error);

  tb_output_file_clear (&out);
  return ok;
}

/**
 * tb_hex_encode:
 *
 * Returns: (transfer full): @data as lowercase hex
 */
char *
tb_hex_encode (const guint8 *data, gsize len)
{
  GString *s = g_string_sized_new (len * 2);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
  return g_string_free (s, FALSE);
}
