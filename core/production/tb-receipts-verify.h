/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-cert.h"
#include "tb-records.h"

G_BEGIN_DECLS

/**
 * TbReceiptProblem:
 * @record_id: the record ("?" when it has none)
 * @uid: its device ("?" when it names none)
 * @problem: what is wrong, in plain words
 */
typedef struct {
  char *record_id;
  char *uid;
  char *problem;
} TbReceiptProblem;

/**
 * TbReceiptJob:
 * @job_id: a job whose slices the records carry, signed by the OEM root
 * @total_count: the devices the job may make
 * @devices: the distinct devices with a verified receipt
 * @slices_seen: the job's slices the records carry
 */
typedef struct {
  char *job_id;
  guint64 total_count;
  guint64 devices;
  guint slices_seen;
} TbReceiptJob;

/**
 * TbReceiptsReport:
 * @valid: every record verifies and no count is exceeded
 * @records: records read
 * @devices: distinct devices with a verified receipt
 * @bad: (element-type TbReceiptProblem): each problem found
 * @jobs: (element-type TbReceiptJob): what each job made
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
