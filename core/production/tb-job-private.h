/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What making (tb-job-create.c) and importing (tb-job.c) a job share. */

#include "tb-context.h"

G_BEGIN_DECLS

/* The hex SHA-256 of @bytes. */
char       *tb_job_sha256_bytes     (GBytes     *bytes);
/* @t in ISO 8601, UTC, to the second; %NULL for %NULL. */
char       *tb_job_format_time      (GDateTime  *t);
/* The name of @product's key in @ctx. */
char       *tb_job_product_key_name (TbContext  *ctx,
                                     const char *product);

G_END_DECLS
