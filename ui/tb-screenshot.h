/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

gboolean tb_widget_save_png (GtkWidget   *widget,
                             const char  *path,
                             GError     **error);

G_END_DECLS
