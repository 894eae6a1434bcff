/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

guint tb_test_assert_buttons_named (GtkWidget *root);

G_END_DECLS
