/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-cert.h"
#include "tb-records.h"

G_BEGIN_DECLS

/**
 * TbReceiptsReport:
 * @valid: every record verifies and no count is exceeded
 * @records: records read
 * @devices: distinct devices with a verified receipt
 * @bad: (element-type JsonObject): {record_id, uid, problem} for each
 *   problem found
 * @jobs: (element-type JsonObject): per job: job_id, total_count, devices
 */
typedef struct {
  gboolean valid;
  guint records;
  guint devices;
  GPtrArray *bad;
  GPtrArray *jobs;
} TbReceiptsReport;

void     tb_receipts_report_clear (TbReceiptsReport *report);
gboolean tb_receipts_verify     (TbCert                 *root,
                                 const char *const      *files,
                                 TbReceiptsReport       *report,
                                 GError                **error);

G_END_DECLS
