/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "tb-progress.h"

G_BEGIN_DECLS

/**
 * TbWorkFunc:
 * @data: the caller's data
 * @progress: (nullable): where the work reports; its cancellable cancels it
 *
 * Long synchronous work, run in a worker thread by tb_work_run_async() or
 * tb_work_run().
 *
 * Returns: %TRUE on success, else %FALSE with @error set
 */
typedef gboolean (*TbWorkFunc) (gpointer     data,
                                TbProgress  *progress,
                                GError     **error);

void     tb_work_run_async  (TbWorkFunc           func,
                             gpointer             data,
                             GDestroyNotify       data_free,
                             TbProgress          *progress,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data);
gboolean tb_work_run_finish (GAsyncResult        *result,
                             GError             **error);
gboolean tb_work_run        (TbWorkFunc           func,
                             gpointer             data,
                             TbProgress          *progress,
                             GError             **error);

G_END_DECLS
