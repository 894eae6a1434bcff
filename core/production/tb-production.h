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
/**
 * TbOpenSlot:
 * @slot: the slot reserved in the journal
 * @uid: (nullable): the device bound to it, once known
 * @device_certificate_serial: (nullable): its certificate, once issued
 * @identity_sent: the device holds its identity: connect it and run
 *   produce again to finish it
 *
 * A slot in progress, or left open by a crash.
 */
typedef struct {
  guint64 slot;
  char *uid;
  char *device_certificate_serial;
  gboolean identity_sent;
} TbOpenSlot;

void     tb_open_slot_free      (TbOpenSlot      *slot);

/**
 * TbDeviceRecord:
 * @made: a device made (or reconciled after a crash); %FALSE: an attempt
 *   that failed
 * @result: "made", "reconciled" or "failed"
 * @slot: its slot (0 for a failure before a slot was reserved)
 * @record_id: (nullable): the record's id (devices made)
 * @uid: (nullable): the device
 * @time: (nullable): when, ISO 8601 UTC
 * @operator_name: (nullable): who ran the station
 * @image_version: (nullable): the image programmed
 * @device_certificate_serial: (nullable): the device certificate issued
 * @reason: (nullable): why an attempt failed
 *
 * One entry of a job's journal about a device, as the Production page and
 * `job show` present it.
 */
typedef struct {
  gboolean made;
  char *result;
  guint64 slot;
  char *record_id;
  char *uid;
  char *time;
  char *operator_name;
  char *image_version;
  char *device_certificate_serial;
  char *reason;
} TbDeviceRecord;

void     tb_device_record_free  (TbDeviceRecord  *record);

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


G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbOpenSlot, tb_open_slot_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbDeviceRecord, tb_device_record_free)

G_END_DECLS
