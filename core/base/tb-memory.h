/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean tb_memory_init           (void);
gboolean tb_memory_is_huge        (const void *ptr);

G_END_DECLS
