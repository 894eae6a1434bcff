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
gboolean tb_file_read_bounded        (const char  *path,
                                      gsize        max_bytes,
                                      char       **contents,
                                      gsize       *len,
                                      GError     **error);
gboolean tb_file_fsync_directory     (const char  *dir,
                                      GError     **error);
gboolean tb_file_remove_tree         (const char  *path,
                                      GError     **error);
guint    tb_file_remove_stale_temps  (const char  *dir,
                                      const char  *basename);

typedef struct _TbLock TbLock;

TbLock  *tb_lock_acquire (const char  *path,
                          const char  *what,
                          GError     **error);
void     tb_lock_release (TbLock      *lock);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbLock, tb_lock_release)

G_END_DECLS
