/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define TB_TYPE_APPLICATION (tb_application_get_type ())
G_DECLARE_FINAL_TYPE (TbApplication, tb_application, TB, APPLICATION, AdwApplication)

#define TB_RECENT_MAX 10

TbApplication *tb_application_new              (GApplicationFlags flags);
GStrv          tb_application_dup_recent        (TbApplication    *self);
void           tb_application_add_recent        (TbApplication    *self,
                                                 const char       *path);
void           tb_application_remove_recent     (TbApplication    *self,
                                                 const char       *path);

G_END_DECLS
