/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char    *tb_test_make_tmpdir     (void);
void     tb_test_rm_rf           (const char *path);
char    *tb_test_read_file       (const char *path,
                                  gsize      *len);
void     tb_test_write_file      (const char *path,
                                  const char *contents);
int      tb_test_run_tool        (const char *tool,
                                  char      **out,
                                  ...) G_GNUC_NULL_TERMINATED;
void     tb_test_copy_dir        (const char *from,
                                  const char *to);
gboolean tb_test_wait_for_listener (const char *socket_path,
                                    guint       timeout_ms);
void     tb_test_assert_same_flash (const char *board_a,
                                    const char *board_b);

G_END_DECLS
