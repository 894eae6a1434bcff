/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean tb_name_is_valid (const char  *name,
                           GError     **error);

G_END_DECLS
