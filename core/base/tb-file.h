/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Hard upper bound for any file libtrustbench slurps into memory as a
 * whole (context.json, PEM files). Firmware is streamed, not slurped. */
#define TB_FILE_MAX_SLURP_BYTES (64u * 1024u * 1024u)

gboolean tb_file_write_atomic        (const char  *path,
                                      const void  *data,
                                      gsize        len,
                                      int          mode,
                                      GError     **error);
int      tb_file_open_for_reading    (const char  *path,
                                      goffset     *size,
                                      GError     **error);
gboolean tb_file_read_bounded        (const char  *path,
                                      gsize        max_bytes,
                                      char       **contents,
                                      gsize       *len,
                                      GError     **error);
gboolean tb_file_append_durable      (const char  *path,
                                      const void  *data,
                                      gsize        len,
                                      GError     **error);
gboolean tb_file_fsync_directory     (const char  *dir,
                                      GError     **error);
gboolean tb_file_remove_tree         (const char  *path,
                                      GError     **error);
guint    tb_file_remove_stale_temps  (const char  *dir,
                                      const char  *basename);

/**
 * TbOutputFileFlags:
 * @TB_OUTPUT_FILE_DEFAULT: the file appears whole or not at all, but its
 *   data may still be in the page cache when tb_output_file_commit()
 *   returns (as with `cp` or `openssl enc`); a power cut soon after can
 *   leave it empty or short under its name
 * @TB_OUTPUT_FILE_DURABLE: tb_output_file_commit() also flushes the data
 *   and the rename to the disk before it returns
 */
typedef enum {
  TB_OUTPUT_FILE_DEFAULT = 0,
  TB_OUTPUT_FILE_DURABLE = 1 << 0,
} TbOutputFileFlags;

/**
 * TbOutputFile:
 *
 * Where a user asked for output to go (`-o FILE`, `--report FILE`…),
 * written in pieces. What happens depends on what FILE is:
 *
 * - `-`: standard output;
 * - a character device, a FIFO or a pipe (`/dev/stdout`, `/dev/null`, a
 *   named pipe with a reader): written in place, as the shell's `>` does;
 * - a regular file, or a name that does not exist yet: whole or not at all.
 *   The data goes to a temporary file next to the destination and
 *   tb_output_file_commit() renames it into place (syncing it first if it
 *   is durable, with writeback started every few MiB as it grows);
 * - a symbolic link: the file it points to is replaced as above, the link
 *   stays a link;
 * - a directory (or a socket, a block device): refused when opened.
 *
 * tb_output_file_clear() removes an uncommitted temporary file.
 */
typedef struct {
  char *path;        /* as the user gave it, for messages */
  char *target;      /* the file replaced: @path with its links resolved */
  char *tmp;         /* the temporary file; NULL when written in place */
  int fd;
  guint64 written;
  guint64 flushed;
  TbOutputFileFlags flags;
} TbOutputFile;

#define TB_OUTPUT_FILE_INIT { NULL, NULL, NULL, -1, 0, 0, TB_OUTPUT_FILE_DEFAULT }

gboolean tb_output_file_open   (TbOutputFile *file,
                                const char   *path,
                                int           mode,
                                TbOutputFileFlags flags,
                                GError      **error);
gboolean tb_output_file_write  (TbOutputFile *file,
                                const void   *data,
                                gsize         len,
                                GError      **error);
gboolean tb_output_file_commit (TbOutputFile *file,
                                GError      **error);
void     tb_output_file_clear  (TbOutputFile *file);

gboolean tb_output_file_commit_pair  (TbOutputFile *first,
                                     TbOutputFile *second,
                                     GError      **error);
gboolean tb_output_file_recover_pair (const char   *second_path,
                                     GError      **error);

gboolean tb_file_write_output  (const char   *path,
                                const void   *data,
                                gsize         len,
                                int           mode,
                                GError      **error);
gboolean tb_file_is_stdout     (const char   *path);

typedef struct _TbLock TbLock;

TbLock  *tb_lock_acquire (const char  *path,
                          const char  *what,
                          GError     **error);
void     tb_lock_release (TbLock      *lock);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbLock, tb_lock_release)

char    *tb_hex_encode               (const guint8 *data,
                                      gsize        len);

G_END_DECLS
