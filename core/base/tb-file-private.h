/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean tb_file_replace (const char  *tmp,
                          const char  *path,
                          gboolean     durable,
                          GError     **error);

G_END_DECLS
