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
 * A file written in pieces, whole or not at all: the data goes to a
 * temporary file next to the destination and tb_output_file_commit()
 * renames it into place (syncing it first if it is durable, with
 * writeback started every few MiB as it grows).
 * tb_output_file_clear() removes an uncommitted temporary file.
 */
typedef struct {
  char *path;
  char *tmp;
  int fd;
  guint64 written;
  guint64 flushed;
  TbOutputFileFlags flags;
} TbOutputFile;

#define TB_OUTPUT_FILE_INIT { NULL, NULL, -1, 0, 0, TB_OUTPUT_FILE_DEFAULT }

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

typedef struct _TbLock TbLock;

TbLock  *tb_lock_acquire (const char  *path,
                          const char  *what,
                          GError     **error);
void     tb_lock_release (TbLock      *lock);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbLock, tb_lock_release)

char    *tb_hex_encode               (const guint8 *data,
                                      gsize        len);

G_END_DECLS
