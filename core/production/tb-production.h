/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-cert.h"
#include "tb-context.h"
#include "tb-probe.h"
#include "tb-progress.h"
#include "tb-receipts-verify.h"
#include "tb-records.h"

G_BEGIN_DECLS

/**
 * TbJobCounts:
 * @count: devices this station may make under the job (its slice)
 * @made: devices made (a record with the device's receipt)
 * @reserved: slots reserved and not completed: in progress, or
 *   interrupted (a crash) and counted until reconciled with the device
 * @remaining: @count - @made - @reserved
 * @failed: attempts that failed (each is in the records)
 * @entries: journal entries
 *
 * Read from the journal's last entry: constant time whatever the count.
 */
typedef struct {
  guint64 count;
  guint64 first;
  guint64 made;
  guint64 reserved;
  guint64 remaining;
  guint64 failed;
  guint64 entries;
} TbJobCounts;

gboolean tb_job_get_counts      (TbContext       *ctx,
                                 const char      *job_id,
                                 TbJobCounts     *counts,
                                 GError         **error);
GPtrArray *tb_job_list_interrupted (TbContext    *ctx,
                                 const char      *job_id,
                                 GError         **error);
GPtrArray *tb_job_recent_records (TbContext      *ctx,
                                 const char      *job_id,
                                 guint            max,
                                 GError         **error);

typedef struct {
  const char *job_id;
  const char *operator_name;    /* NULL: the login name */
  gboolean no_lock;             /* leave debug access open (lab use) */
} TbProduceOptions;

typedef struct {
  char *uid;
  char *record_id;
  char *result;                 /* "made" or "reconciled" */
  char *device_certificate_serial;
  char *app_version;
  guint64 slot;
  guint64 made;
  guint64 limit;
  GBytes *receipt;
} TbProduceResult;

void     tb_produce_result_clear (TbProduceResult *result);
gboolean tb_produce             (TbContext              *ctx,
                                 TbProbe                *probe,
                                 const TbProduceOptions *options,
                                 const char             *passphrase,
                                 TbProduceResult        *result,
                                 TbProgress             *progress,
                                 GError                **error);

/* Low-level journal access, for tests and benchmarks. */
gboolean tb_job_journal_append_record (TbContext      *ctx,
                                 const char             *job_id,
                                 JsonObject             *record,
                                 GError                **error);

G_END_DECLS
