/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TB_TYPE_PROGRESS (tb_progress_get_type ())
G_DECLARE_FINAL_TYPE (TbProgress, tb_progress, TB, PROGRESS, GObject)

TbProgress   *tb_progress_new                   (GCancellable *cancellable);

void          tb_progress_set_fraction          (TbProgress   *self,
                                                 double        fraction);
double        tb_progress_get_fraction          (TbProgress   *self);
void          tb_progress_set_stage             (TbProgress   *self,
                                                 const char   *format,
                                                 ...) G_GNUC_PRINTF (2, 3);
char         *tb_progress_dup_stage             (TbProgress   *self);
void          tb_progress_log                   (TbProgress   *self,
                                                 const char   *format,
                                                 ...) G_GNUC_PRINTF (2, 3);
void          tb_progress_set_range             (TbProgress   *self,
                                                 double        start,
                                                 double        end);
void          tb_progress_finish                (TbProgress   *self);

GCancellable *tb_progress_get_cancellable       (TbProgress   *self);
gboolean      tb_progress_set_error_if_cancelled (TbProgress  *self,
                                                 GError      **error);

G_END_DECLS
