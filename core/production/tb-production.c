/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Production under a job: count limit, reservations, a record per device.
 *
 * Each job has an append-only, hash-chained journal (tb-journal.c) whose
 * every line carries the job's state after the event. The records are
 * exported by tb-records.c and verified offline by tb-receipts-verify.c.
 *
 * Making one device (tb_produce()), holding the job's lock:
 *
 *   reserve  a slot (fsync)                         before touching a device
 *   identify install the SBM if blank, attest
 *   bind     the slot to the device's UID (fsync)
 *   issue    its certificate from the job CA (fsync) before the device gets it
 *   provision, lock, install the image → the device's install receipt
 *   made     the record with the receipt (fsync)     the slot is complete
 *
 * A crash anywhere leaves the slot open, so it stays counted. The next run
 * reconciles: open slots with no certificate issued cannot have reached
 * any device and are released; a slot with a certificate is completed when
 * its device comes back (programmed if needed, or, if it already runs the
 * image, by the receipt it signs for what it runs), and stays counted if
 * it never does. So the count is never exceeded and no device runs the
 * image without a record or a counted reservation. */

#include "config.h"

#include "tb-production.h"

#include <glib/gi18n-lib.h>
#include <string.h>
#include <unistd.h>

#include "sbm/tb-sbm.h"
#include "tb-audit-private.h"
#include "tb-cert-private.h"
#include "tb-context-private.h"
#include "tb-crashpoint.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-inventory.h"
#include "tb-job.h"
#include "tb-journal-private.h"
#include "tb-json-private.h"
#include "tb-key-private.h"
#include "tb-provision.h"
#include "tb-receipt.h"
#include "tb-target.h"
#include "tb-upk.h"

#define TB_JOURNAL_NAME "journal.jsonl"
#define HASH_MARK ",\"hash\":\""

/* ---- counts ---- */

static JsonObject *
find_job (TbContext *ctx, const char *job_id, GError **error)
{
  JsonObject *job = tb_context_find_entry (ctx, TB_INVENTORY_JOBS, job_id);

  if (job == NULL)
    g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("The context has no job “%s” (job list shows the jobs)"),
                 job_id);
  return job;
}

static void
fill_counts (TbJournal *j, JsonObject *job, TbJobCounts *c)
{
  memset (c, 0, sizeof *c);
  c->count = (guint64) tb_json_get_int (job, "count", 0);
  c->first = (guint64) tb_json_get_int (job, "first", 0);
  c->made = j->made;
  c->reserved = j->open->len;
  c->failed = j->failed;
  c->entries = j->seq;
  c->remaining = c->count > c->made + c->reserved ? c->count - c->made - c->reserved : 0;
}

/**
 * tb_job_get_counts:
 *
 * The job's counts, from the last journal entry (its hash checked).
 */
gboolean
tb_job_get_counts (TbContext *ctx, const char *job_id, TbJobCounts *counts, GError **error)
{
  JsonObject *job = find_job (ctx, job_id, error);
  g_autoptr(TbJournal) j = NULL;

  if (job == NULL)
    return FALSE;
  if (g_strcmp0 (tb_json_get_string (job, "role", ""), "oem") == 0)
    {
      memset (counts, 0, sizeof *counts);
      counts->count = counts->remaining = (guint64) tb_json_get_int (job, "count", 0);
      return TRUE;
    }
  j = tb_journal_open (ctx, job_id, FALSE, error);
  if (j == NULL)
    return FALSE;
  fill_counts (j, job, counts);
  return TRUE;
}

/**
 * tb_job_list_interrupted:
 *
 * Returns: (transfer full) (element-type TbOpenSlot): the open slots — in
 *   progress or interrupted by a crash
 */
GPtrArray *
tb_job_list_interrupted (TbContext *ctx, const char *job_id, GError **error)
{
  g_autoptr(TbJournal) j = NULL;
  GPtrArray *out;

  if (find_job (ctx, job_id, error) == NULL || (j = tb_journal_open (ctx, job_id, FALSE, error)) == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_open_slot_free);
  for (guint i = 0; i < j->open->len; i++)
    {
      TbJournalSlot *o = g_ptr_array_index (j->open, i);
      TbOpenSlot *e = g_new0 (TbOpenSlot, 1);
      e->slot = o->slot;
      e->uid = g_strdup (o->uid);
      e->device_certificate_serial = g_strdup (o->serial);
      e->identity_sent = o->certificate != NULL;
      g_ptr_array_add (out, e);
    }
  return out;
}

void
tb_open_slot_free (TbOpenSlot *slot)
{
  if (slot == NULL)
    return;
  g_free (slot->uid);
  g_free (slot->device_certificate_serial);
  g_free (slot);
}

void
tb_device_record_free (TbDeviceRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->result);
  g_free (record->record_id);
  g_free (record->uid);
  g_free (record->time);
  g_free (record->operator_name);
  g_free (record->image_version);
  g_free (record->device_certificate_serial);
  g_free (record->reason);
  g_free (record);
}

/* A journal line about a device as a TbDeviceRecord */
static TbDeviceRecord *
device_record_new (JsonObject *line, gboolean made)
{
  TbDeviceRecord *r = g_new0 (TbDeviceRecord, 1);
  gint64 slot = tb_json_get_int (line, "slot", 0);

  r->made = made;
  r->result = g_strdup (tb_json_get_string (line, "result", made ? "made" : "failed"));
  r->slot = slot > 0 ? (guint64) slot : 0;
  r->record_id = g_strdup (tb_json_get_string (line, "record_id", NULL));
  r->uid = g_strdup (tb_json_get_string (line, "uid", NULL));
  r->time = g_strdup (tb_json_get_string (line, "time", NULL));
  r->operator_name = g_strdup (tb_json_get_string (line, "operator", NULL));
  r->image_version = g_strdup (tb_json_get_string (line, "image_version", NULL));
  r->device_certificate_serial = g_strdup (tb_json_get_string (line, "device_certificate_serial", NULL));
  r->reason = g_strdup (tb_json_get_string (line, "reason", NULL));
  return r;
}

/**
 * tb_job_recent_records:
 * @max: how many records at most
 *
 * The job's last records, newest first: devices made or reconciled and
 * attempts that failed, as the journal holds them (uid, slot, result,
 * record_id, image_version, operator, produced or reason, time), without
 * the journal's state. Read from the end of the journal, so as fast with
 * 100 000 devices as with ten; each line's own hash is checked (the whole
 * chain is checked by tb_records_collect()).
 *
 * Returns: (transfer full) (element-type TbDeviceRecord): the records
 */
GPtrArray *
tb_job_recent_records (TbContext *ctx, const char *job_id, guint max, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_device_record_free);
  g_autofree char *path = NULL;
  g_autofree char *buf = NULL;
  g_autoptr(GError) open_error = NULL;
  goffset window = 256 * 1024;
  goffset size;
  int fd;

  if (find_job (ctx, job_id, error) == NULL)
    return NULL;
  path = tb_job_build_path (ctx, job_id, TB_JOURNAL_NAME);
  fd = tb_file_open_for_reading (path, &size, &open_error);
  if (fd < 0 && open_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&open_error));
      return NULL;
    }
  if (fd < 0)
    return g_steal_pointer (&out); /* nothing made yet */
  /* read the last `window` bytes; if they hold too few records, twice as many */
  for (;;)
    {
      goffset start = MAX (0, size - window);
      gsize len = (gsize) (size - start);
      char *line, *end;

      g_ptr_array_set_size (out, 0);
      g_free (buf);
      buf = g_malloc (len + 1);
      if (pread (fd, buf, len, start) != (gssize) len)
        {
          close (fd);
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot read %s"), path);
          return NULL;
        }
      buf[len] = '\0';
      /* complete lines only: not the first one if it was cut, nor a torn last one */
      end = memrchr (buf, '\n', len);
      line = buf;
      if (start > 0 && (line = memchr (buf, '\n', len)) != NULL)
        line++;
      for (char *e = end; line != NULL && e != NULL && e >= line && out->len < max;)
        {
          char *s = e > line ? memrchr (line, '\n', (gsize) (e - line)) : NULL;
          char *first = s != NULL ? s + 1 : line;
          g_autoptr(GError) local = NULL;
          g_autoptr(JsonObject) obj = first < e ? tb_journal_parse_line (first, (gsize) (e - first), NULL, &local) : NULL;
          const char *event = obj != NULL ? tb_json_get_string (obj, "event", "") : "";

          if (first < e && obj == NULL)
            {
              close (fd);
              g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("%s: %s"), path, local->message);
              return NULL;
            }
          if (g_str_equal (event, "made") || g_str_equal (event, "fail"))
            g_ptr_array_add (out, device_record_new (obj, g_str_equal (event, "made")));
          e = s;
        }
      if (out->len >= max || start == 0)
        break;
      window *= 2;
    }
  close (fd);
  return g_steal_pointer (&out);
}

/**
 * tb_job_journal_append_record:
 * @record: a device record
 *
 * Reserves a slot and completes it with @record in two journal entries,
 * no device involved: for tests and the records benchmark.
 */
gboolean
tb_job_journal_append_record (TbContext *ctx, const char *job_id, JsonObject *record, GError **error)
{
  JsonObject *job = find_job (ctx, job_id, error);
  g_autoptr(TbJournal) j = NULL;
  guint64 slot;

  if (job == NULL || (j = tb_journal_open (ctx, job_id, TRUE, error)) == NULL)
    return FALSE;
  if (!tb_journal_slot_available (j, (guint64) tb_json_get_int (job, "count", 0)))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_LIMIT_REACHED, _("The job's count is exhausted"));
      return FALSE;
    }
  if (!tb_journal_reserve (j, (guint64) tb_json_get_int (job, "first", 0), &slot, error))
    return FALSE;
  g_ptr_array_remove_index (j->open, j->open->len - 1);
  j->made++;
  json_object_set_int_member (record, "slot", (gint64) slot);
  return tb_journal_append (j, "made", record, error);
}

/* ---- producing one device ---- */

void
tb_produce_result_clear (TbProduceResult *r)
{
  g_clear_pointer (&r->uid, g_free);
  g_clear_pointer (&r->record_id, g_free);
  g_clear_pointer (&r->result, g_free);
  g_clear_pointer (&r->device_certificate_serial, g_free);
  g_clear_pointer (&r->app_version, g_free);
  g_clear_pointer (&r->receipt, g_bytes_unref);
}

static gboolean
job_window_open (JsonObject *job, GError **error)
{
  const char *not_after = tb_json_get_string (job, "not_after", NULL);
  g_autoptr(GDateTime) end = not_after != NULL ? g_date_time_new_from_iso8601 (not_after, NULL) : NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  if (end != NULL && g_date_time_compare (now, end) >= 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_LIMIT_REACHED, _("Job “%s” expired on %s: no more devices under it"),
                   json_object_get_string_member (job, "job_id"), not_after);
      return FALSE;
    }
  return TRUE;
}

static gboolean
device_type_allowed (JsonObject *job, const char *device_type)
{
  JsonArray *types = json_object_has_member (job, "device_types") ? json_object_get_array_member (job, "device_types")
                                                                   : NULL;

  if (types == NULL || json_array_get_length (types) == 0)
    return TRUE;
  for (guint i = 0; i < json_array_get_length (types); i++)
    if (g_strcmp0 (json_array_get_string_element (types, i), device_type) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
load_identity (TbContext *ctx, JsonObject *job, const char *passphrase, TbUpk *upk, TbProvisionIdentity *id,
               GError **error)
{
  const char *issuer = tb_json_get_string (job, "issuer", NULL);
  const char *product = json_object_get_string_member (job, "product");
  g_autofree char *pk = tb_context_dup_product_key_name (ctx, product);

  if (issuer == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Job “%s” was made here, not imported: import its package into a station context to produce"),
                   json_object_get_string_member (job, "job_id"));
      return FALSE;
    }
  id->product = g_strdup (product);
  id->organization = g_strdup (tb_json_get_string (job, "oem", ""));
  id->issuer_cert = tb_cert_load (ctx, issuer, error);
  if (id->issuer_cert == NULL)
    return FALSE;
  id->issuer_key = tb_key_load_unlocked (ctx, issuer, passphrase, error);
  if (id->issuer_key == NULL)
    return FALSE;
  id->product_key = tb_key_load_unlocked (ctx, pk, passphrase, error);
  if (id->product_key == NULL)
    return FALSE;
  return tb_provision_identity_set_anchor (id, tb_upk_get_signer_cert (upk), error);
}

/* The receipt must be this device's, for this job's image. */
static gboolean
check_receipt (GBytes *receipt, const TbAttestation *att, TbUpk *upk, const guint8 *nonce, GError **error)
{
  g_autoptr(TbReceipt) r = tb_receipt_parse (g_bytes_get_data (receipt, NULL), g_bytes_get_size (receipt),
                                              att->device_public_key, error);

  if (r == NULL)
    return FALSE;
  if (g_strcmp0 (r->uid, att->uid) != 0 || memcmp (r->plaintext_sha256, tb_upk_get_plaintext_sha256 (upk), 32) != 0 ||
      (r->has_image_id && memcmp (r->image_id, tb_upk_get_image_id (upk), TB_UPK_IMAGE_ID_LEN) != 0) ||
      (nonce != NULL && (r->kind != TB_RECEIPT_STATUS || memcmp (r->nonce, nonce, 32) != 0)))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("Device %s signed a receipt for another device, image or request"), att->uid);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  TbContext *ctx;
  JsonObject *job;
  const char *job_id;
  TbJournal *j;
  TbUpk *upk;
  char *upk_path;
  char *image_path;
  TbProbe *probe;
  TbTarget *target;
  TbProgress *progress;
  const TbProduceOptions *options;
  guint64 slot;
  gboolean have_slot;
  TbJournalSlot *bound;              /* the open slot of the device at hand */
} Producer;

static void
random_nonce (guint8 nonce[32])
{
  for (guint i = 0; i < 32; i += 4)
    {
      guint32 r = g_random_int ();
      memcpy (nonce + i, &r, 4);
    }
}

/* Records a failed attempt (best effort: the error at hand matters more). */
static void
record_failure (Producer *p, const char *uid, const GError *failure)
{
  g_autoptr(JsonObject) f = json_object_new ();
  g_autoptr(JsonObject) details = json_object_new ();

  p->j->failed++;
  json_object_set_string_member (f, "job_id", p->job_id);
  if (p->have_slot)
    json_object_set_int_member (f, "slot", (gint64) p->slot);
  if (uid != NULL)
    json_object_set_string_member (f, "uid", uid);
  json_object_set_string_member (f, "reason", failure->message);
  json_object_set_string_member (f, "result", "failed");
  json_object_set_string_member (f, "operator", p->options->operator_name != NULL ? p->options->operator_name
                                                                                   : g_get_user_name ());
  tb_journal_append (p->j, "fail", f, NULL);
  json_object_set_string_member (details, "job_id", p->job_id);
  json_object_set_string_member (details, "reason", failure->message);
  tb_audit_append (p->ctx, "production.fail", uid != NULL ? uid : "-", details, NULL);
}

/* The audit entry of a device made: the record's facts and the hash of its
 * journal line, which ties the two together. */
static gboolean
audit_made (TbContext *ctx, JsonObject *record, const char *journal_hash, gboolean recovered, GError **error)
{
  static const char *const members[] = { "job_id", "slot", "record_id", "result", "image_version" };
  g_autoptr(JsonObject) details = json_object_new ();

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    if (json_object_has_member (record, members[i]))
      json_object_set_member (details, members[i], json_node_copy (json_object_get_member (record, members[i])));
  json_object_set_string_member (details, "journal_hash", journal_hash);
  if (recovered)
    json_object_set_boolean_member (details, "recovered", TRUE);
  return tb_audit_append (ctx, "device.produce", tb_json_get_string (record, "uid", "-"),
                          details, error);
}

/* A run that stopped between a device's record in the journal and its
 * audit entry (both happen under the job's lock, so only the journal's
 * last event can be concerned) left the audit log without it: it is
 * appended now, marked as recovered. */
static gboolean
recover_audit (TbContext *ctx, TbJournal *j, GError **error)
{
  gboolean found = FALSE;

  if (j->last_line == NULL ||
      g_strcmp0 (tb_json_get_string (j->last_line, "event", NULL), "made") != 0)
    return TRUE;
  if (!tb_audit_contains (ctx, j->last_hash, &found, error))
    return FALSE;
  return found || audit_made (ctx, j->last_line, j->last_hash, TRUE, error);
}

static gboolean
complete (Producer *p, const TbAttestation *att, GBytes *receipt, const char *result_kind, TbProduceResult *result,
          GError **error)
{
  g_autoptr(JsonObject) rec = json_object_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *receipt_b64 = g_base64_encode (g_bytes_get_data (receipt, NULL), g_bytes_get_size (receipt));
  g_autofree char *record_id = g_strdup_printf ("%s-%" G_GUINT64_FORMAT, p->job_id, p->slot);
  g_autoptr(TbReceipt) r = tb_receipt_parse (g_bytes_get_data (receipt, NULL), g_bytes_get_size (receipt),
                                              att->device_public_key, NULL);
  const char *operator_name = p->options->operator_name != NULL ? p->options->operator_name : g_get_user_name ();

  json_object_set_string_member (rec, "record_id", record_id);
  json_object_set_string_member (rec, "job_id", p->job_id);
  json_object_set_int_member (rec, "slice", tb_json_get_int (p->job, "slice", 1));
  json_object_set_int_member (rec, "slot", (gint64) p->slot);
  json_object_set_string_member (rec, "uid", att->uid);
  json_object_set_string_member (rec, "device_type", att->device_type);
  json_object_set_string_member (rec, "device_certificate", p->bound->certificate);
  json_object_set_string_member (rec, "device_certificate_serial", p->bound->serial);
  json_object_set_string_member (rec, "image_version", tb_upk_get_version (p->upk));
  json_object_set_string_member (rec, "operator", operator_name);
  json_object_set_string_member (rec, "result", result_kind);
  json_object_set_string_member (rec, "receipt", receipt_b64);
  json_object_set_string_member (rec, "receipt_kind", tb_receipt_kind_to_string (r != NULL ? r->kind
                                                                                           : TB_RECEIPT_INSTALL));
  {
    g_autofree char *when = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
    json_object_set_string_member (rec, "produced", when);
  }
  result->device_certificate_serial = g_strdup (p->bound->serial);
  g_ptr_array_remove (p->j->open, p->bound); /* frees it */
  p->bound = NULL;
  p->j->made++;
  if (!tb_journal_append (p->j, "made", rec, error))
    return FALSE;
  p->have_slot = FALSE;

  if (!audit_made (p->ctx, rec, p->j->last_hash, FALSE, error))
    return FALSE;
  tb_crash_point ("audit");

  result->uid = g_strdup (att->uid);
  result->record_id = g_steal_pointer (&record_id);
  result->result = g_strdup (result_kind);
  result->slot = p->slot;
  result->made = p->j->made;
  result->limit = (guint64) tb_json_get_int (p->job, "count", 0);
  result->app_version = g_strdup (tb_upk_get_version (p->upk));
  result->receipt = g_bytes_ref (receipt);
  return TRUE;
}

static gboolean
produce_locked (Producer *p, const char *passphrase, TbProduceResult *result, GError **error)
{
  g_auto(TbProvisionIdentity) id = { 0 };
  g_autoptr(TbAttestation) att = NULL;
  g_autoptr(GBytes) receipt = NULL;
  guint64 count = (guint64) tb_json_get_int (p->job, "count", 0);
  guint64 first = (guint64) tb_json_get_int (p->job, "first", 0);
  const char *version = tb_upk_get_version (p->upk);

  /* open slots that never got as far as a certificate reached no device */
  for (guint i = p->j->open->len; i > 0; i--)
    {
      TbJournalSlot *o = g_ptr_array_index (p->j->open, i - 1);
      if (o->certificate == NULL && !tb_journal_release (p->j, o->slot, "interrupted before any identity was sent",
                                                      error))
        return FALSE;
    }
  if (!job_window_open (p->job, error) || !load_identity (p->ctx, p->job, passphrase, p->upk, &id, error))
    return FALSE;

  tb_progress_set_range (p->progress, 0.0, 0.1);
  if (tb_journal_slot_available (p->j, count))
    {
      tb_progress_set_stage (p->progress, _("Reserving a slot of job “%s”"), p->job_id);
      if (!tb_journal_reserve (p->j, first, &p->slot, error))
        return FALSE;
      p->have_slot = TRUE;
    }
  else if (p->j->open->len == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_LIMIT_REACHED,
                   _("Job “%s” is complete: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " devices made"), p->job_id,
                   p->j->made, count);
      return FALSE;
    }

  att = tb_provision_identify (p->target, p->progress, error);
  if (att == NULL)
    goto fail_release;
  for (guint i = 0; i < p->j->open->len; i++)
    {
      TbJournalSlot *o = g_ptr_array_index (p->j->open, i);
      if (o->uid != NULL && g_strcmp0 (o->uid, att->uid) == 0 && o->certificate != NULL)
        p->bound = o;
    }
  if (p->bound != NULL)
    {
      /* the device of an interrupted slot came back: finish that slot */
      tb_progress_log (p->progress, _("  device %s is the one of interrupted slot %" G_GUINT64_FORMAT
                                      ": resuming it"), att->uid, p->bound->slot);
      if (p->have_slot && !tb_journal_release (p->j, p->slot, "the device resumes its interrupted slot", error))
        return FALSE;
      p->slot = p->bound->slot;
      p->have_slot = TRUE;
    }
  else
    {
      if (!p->have_slot)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_LIMIT_REACHED,
                       _("Job “%s” has no slot left (%" G_GUINT64_FORMAT " made, %u interrupted and waiting for their "
                         "devices): device %s cannot be made"), p->job_id, p->j->made, p->j->open->len, att->uid);
          return FALSE;
        }
      if (att->lifecycle != TB_LIFECYCLE_SBM_INSTALLED)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                       _("Device %s is already %s, and not by an interrupted slot of this job: a device is made "
                         "once"), att->uid, tb_lifecycle_to_string (att->lifecycle));
          goto fail_release;
        }
      if (!device_type_allowed (p->job, att->device_type))
        {
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                       _("Device %s is a %s: job “%s” does not allow that device type"), att->uid, att->device_type,
                       p->job_id);
          goto fail_release;
        }
      /* what the SBM would refuse only after the device is locked */
      if (!tb_provision_check_image (p->target, att, p->upk, p->upk_path, error))
        goto fail_release;
      p->bound = tb_journal_find_open (p->j, p->slot);
      p->bound->uid = g_strdup (att->uid);
      {
        g_autoptr(JsonObject) f = json_object_new ();
        json_object_set_int_member (f, "slot", (gint64) p->slot);
        json_object_set_string_member (f, "uid", att->uid);
        if (!tb_journal_append (p->j, "bind", f, error))
          return FALSE;
      }
    }

  if (att->lifecycle == TB_LIFECYCLE_SBM_INSTALLED)
    {
      g_autoptr(GBytes) cert_der = NULL;
      g_autoptr(TbCert) cert = NULL;
      g_autoptr(JsonObject) f = json_object_new ();

      tb_progress_set_range (p->progress, 0.1, 0.3);
      tb_progress_set_stage (p->progress, _("Issuing the device certificate"));
      if (tb_progress_set_error_if_cancelled (p->progress, error))
        goto fail_release;
      cert_der = tb_provision_issue_certificate (&id, att, error);
      cert = cert_der != NULL ? tb_cert_new_from_data (g_bytes_get_data (cert_der, NULL), g_bytes_get_size (cert_der),
                                                       "device", error) : NULL;
      if (cert == NULL)
        goto fail_release;
      g_free (p->bound->certificate);
      p->bound->certificate = g_base64_encode (g_bytes_get_data (cert_der, NULL), g_bytes_get_size (cert_der));
      g_free (p->bound->serial);
      p->bound->serial = tb_cert_dup_serial (cert);
      json_object_set_int_member (f, "slot", (gint64) p->slot);
      json_object_set_string_member (f, "uid", att->uid);
      json_object_set_string_member (f, "serial", p->bound->serial);
      if (!tb_journal_append (p->j, "issue", f, error))
        return FALSE;
      /* from here on the slot stays counted until its device completes it */
      tb_progress_set_range (p->progress, 0.3, 0.4);
      tb_progress_set_stage (p->progress, _("Provisioning the OEM identity for product “%s”"), id.product);
      if (!tb_provision_send_identity (p->target, &id, att, cert_der, !p->options->no_lock, error))
        goto fail;
    }
  else
    {
      /* resuming: the device holds the identity of this slot */
      gsize len = 0;
      g_autofree guint8 *der = g_base64_decode (p->bound->certificate, &len);
      g_autoptr(TbCert) cert = tb_cert_new_from_data (der, len, "device", NULL);
      g_autofree char *cert_key = cert != NULL ? tb_cert_dup_public_key_sha256 (cert) : NULL;
      g_autoptr(TbKey) dev = tb_key_new_from_point (att->device_public_key, NULL);
      if (dev == NULL || g_strcmp0 (cert_key, tb_key_get_public_sha256 (dev)) != 0)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                       _("Device %s does not hold the key its slot's certificate was issued for"), att->uid);
          goto fail;
        }
    }

  tb_progress_set_range (p->progress, 0.4, 0.95);
  if (att->lifecycle != TB_LIFECYCLE_SBM_INSTALLED && att->boot == 0 && g_strcmp0 (att->app_version, version) == 0 &&
      att->app_counter == tb_upk_get_security_counter (p->upk))
    {
      guint8 nonce[32];

      tb_progress_set_stage (p->progress, _("The device already runs %s: asking for its receipt"), version);
      random_nonce (nonce);
      receipt = tb_target_get_receipt (p->target, nonce, error);
      if (receipt == NULL || !check_receipt (receipt, att, p->upk, nonce, error))
        goto fail;
      return complete (p, att, receipt, "reconciled", result, error);
    }
  if (!tb_program_device (p->probe, p->upk_path, p->image_path, NULL, &receipt, p->progress, error) ||
      !check_receipt (receipt, att, p->upk, NULL, error))
    goto fail;
  tb_progress_set_range (p->progress, 0.95, 1.0);
  tb_progress_set_stage (p->progress, _("Recording the device"));
  if (!complete (p, att, receipt, att->lifecycle == TB_LIFECYCLE_SBM_INSTALLED ? "made" : "reconciled", result, error))
    return FALSE;
  tb_progress_finish (p->progress);
  return TRUE;

fail_release:
  /* nothing identity-bearing reached the device: the slot goes back */
  if (p->have_slot && (p->bound == NULL || p->bound->certificate == NULL))
    {
      tb_journal_release (p->j, p->slot, "failed before any identity was sent", NULL);
      p->have_slot = FALSE;
    }
fail:
  if (error != NULL && *error != NULL)
    record_failure (p, att != NULL ? att->uid : NULL, *error);
  return FALSE;
}

/**
 * tb_produce:
 * @ctx: a station context holding the imported job
 * @passphrase: the station's passphrase (unlocks the job's keys)
 *
 * Makes one device under the job, crash-safely (see the top of this
 * file). %TB_ERROR_LIMIT_REACHED when the count is exhausted or the job
 * expired; %TB_ERROR_VERIFY_FAILED when the device is refused or refuses.
 */
gboolean
tb_produce (TbContext *ctx, TbProbe *probe, const TbProduceOptions *options, const char *passphrase,
            TbProduceResult *result, TbProgress *progress, GError **error)
{
  JsonObject *entry = find_job (ctx, options->job_id, error);
  g_autoptr(JsonObject) job = entry != NULL ? json_object_ref (entry) : NULL;
  g_autoptr(TbJournal) j = NULL;
  g_autoptr(TbUpk) upk = NULL;
  g_autoptr(TbTarget) target = NULL;
  Producer p = { 0 };
  gboolean ok;

  if (job == NULL)
    return FALSE;
  if (tb_json_get_string (job, "upk", NULL) == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Job “%s” was made here, not imported: import its package into a station context to produce"),
                   options->job_id);
      return FALSE;
    }
  j = tb_journal_open (ctx, options->job_id, TRUE, error);
  if (j == NULL || !recover_audit (ctx, j, error))
    return FALSE;
  p.upk_path = tb_context_build_path (ctx, json_object_get_string_member (job, "upk"));
  p.image_path = tb_context_build_path (ctx, json_object_get_string_member (job, "image"));
  upk = tb_upk_load_file (p.upk_path, error);
  if (upk == NULL)
    {
      g_free (p.upk_path);
      g_free (p.image_path);
      return FALSE;
    }
  target = tb_target_new (probe);
  p.ctx = ctx;
  p.job = job; /* referenced: an audit append may reload the context */
  p.job_id = options->job_id;
  p.j = j;
  p.upk = upk;
  p.probe = probe;
  p.target = target;
  p.progress = progress;
  p.options = options;
  ok = produce_locked (&p, passphrase, result, error);
  g_free (p.upk_path);
  g_free (p.image_path);
  return ok;
}
