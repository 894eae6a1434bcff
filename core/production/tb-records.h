/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-context.h"

G_BEGIN_DECLS

/* The records export, documented in docs/cli.md, “records export”. */
#define TB_RECORDS_FORMAT "trustbench-records"
#define TB_RECORDS_FORMAT_VERSION 1

typedef enum {
  TB_RECORDS_FORMAT_JSON,
  TB_RECORDS_FORMAT_CSV,
} TbRecordsFormat;

gboolean tb_records_export      (TbContext              *ctx,
                                 const char             *job_id,
                                 TbRecordsFormat         format,
                                 const char             *path,
                                 guint                  *n_records,
                                 GError                **error);

G_END_DECLS
