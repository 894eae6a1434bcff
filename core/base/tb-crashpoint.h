/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void     tb_crash_point         (const char *where);
gboolean tb_crash_point_file    (const char *where);
void     tb_crash_now           (const char *where) G_GNUC_NORETURN;

G_END_DECLS
