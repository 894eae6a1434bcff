/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Verifying exported records offline, with nothing but the OEM root. */

#include "config.h"

#include "tb-receipts-verify.h"

#include <glib/gi18n-lib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#include "tb-cert-private.h"
#include "tb-file.h"
#include "tb-error.h"
#include "tb-job-private.h"
#include "tb-json-private.h"
#include "tb-receipt.h"

typedef struct {
  char *job_id;
  guint64 total;
  char *plaintext_sha256;
  char *image_id;
  GHashTable *slices;           /* slice number → Slice */
  GHashTable *devices;          /* uid → record id */
  guint64 n_devices;
} Job;

typedef struct {
  guint64 first;
  guint64 count;
  guint64 devices;
  TbCert *ca;
} Slice;

static void
slice_free (Slice *s)
{
  g_clear_object (&s->ca);
  g_free (s);
}

static void
job_free (Job *j)
{
  g_free (j->job_id);
  g_free (j->plaintext_sha256);
  g_free (j->image_id);
  g_hash_table_unref (j->slices);
  g_hash_table_unref (j->devices);
  g_free (j);
}

void
tb_receipts_report_clear (TbReceiptsReport *report)
{
  g_clear_pointer (&report->bad, g_ptr_array_unref);
  g_clear_pointer (&report->jobs, g_ptr_array_unref);
}

static void
receipt_problem_free (TbReceiptProblem *problem)
{
  g_free (problem->record_id);
  g_free (problem->uid);
  g_free (problem->problem);
  g_free (problem);
}

static void
receipt_job_free (TbReceiptJob *job)
{
  g_free (job->job_id);
  g_free (job);
}

static void
add_problem (TbReceiptsReport *report, const char *record_id, const char *uid, const char *problem)
{
  TbReceiptProblem *b = g_new0 (TbReceiptProblem, 1);

  b->record_id = g_strdup (record_id);
  b->uid = g_strdup (uid);
  b->problem = g_strdup (problem);
  g_ptr_array_add (report->bad, b);
  report->valid = FALSE;
}

static void
add_bad (TbReceiptsReport *report, JsonObject *rec, const char *problem)
{
  add_problem (report, tb_json_get_string (rec, "record_id", "?"), tb_json_get_string (rec, "uid", "?"), problem);
}

/* An element of a file's "records" that is not an object: named by its
 * place, since it has no id. */
static void
add_not_a_record (TbReceiptsReport *report, const char *file, guint index)
{
  g_autofree char *place = g_strdup_printf ("%s #%u", file, index + 1);

  add_problem (report, place, "?", _("not a record: an object is due"));
}

/* Adds the signed manifest of one slice to the known jobs. */
static gboolean
learn_slice (GHashTable *jobs, TbCert *root, JsonObject *summary, GError **error)
{
  g_autoptr(JsonObject) man = NULL;
  const char *job_id;
  Job *job;
  Slice *slice;
  guint64 index;
  const char *pem;

  if (!tb_job_verify_manifest (tb_json_get_string (summary, "manifest", ""),
                               tb_json_get_string (summary, "signature", ""),
                               tb_json_get_string (summary, "signer_certificate", NULL), root,
                               &man, error))
    return FALSE;
  job_id = tb_json_get_string (man, "job_id", NULL);
  pem = tb_json_get_string (man, "issuer_certificate", NULL);
  if (job_id == NULL || pem == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("A job manifest lacks its id or issuing certificate"));
      return FALSE;
    }
  job = g_hash_table_lookup (jobs, job_id);
  if (job == NULL)
    {
      job = g_new0 (Job, 1);
      job->job_id = g_strdup (job_id);
      job->total = (guint64) tb_json_get_int (man, "total_count", 0);
      job->plaintext_sha256 = g_strdup (tb_json_get_string (man, "plaintext_sha256", ""));
      job->image_id = g_strdup (tb_json_get_string (man, "image_id", ""));
      job->slices = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) slice_free);
      job->devices = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_insert (jobs, job->job_id, job);
    }
  index = (guint64) tb_json_get_int (man, "slice", 1);
  if (g_hash_table_contains (job->slices, &index))
    return TRUE;
  slice = g_new0 (Slice, 1);
  slice->first = (guint64) tb_json_get_int (man, "first", 0);
  slice->count = (guint64) tb_json_get_int (man, "count", 0);
  slice->ca = tb_cert_new_from_data (pem, strlen (pem), "issuer_certificate", error);
  if (slice->ca == NULL || !tb_cert_verify_with_root (root, NULL, slice->ca, NULL, error))
    {
      slice_free (slice);
      return FALSE;
    }
  g_hash_table_insert (job->slices, g_memdup2 (&index, sizeof index), slice);
  return TRUE;
}

static void
check_record (TbReceiptsReport *report, GHashTable *jobs, TbCert *root, GHashTable *uids, GHashTable *keys,
              GHashTable *slots, JsonObject *rec)
{
  const char *job_id = tb_json_get_string (rec, "job_id", "");
  const char *uid = tb_json_get_string (rec, "uid", NULL);
  const char *record_id = tb_json_get_string (rec, "record_id", "?");
  Job *job = g_hash_table_lookup (jobs, job_id);
  guint64 slice_index = (guint64) tb_json_get_int (rec, "slice", 1);
  guint64 slot = (guint64) tb_json_get_int (rec, "slot", G_MAXINT64);
  Slice *slice = job != NULL ? g_hash_table_lookup (job->slices, &slice_index) : NULL;
  const char *cert_b64 = tb_json_get_string (rec, "device_certificate", NULL);
  const char *receipt_b64 = tb_json_get_string (rec, "receipt", NULL);
  g_autofree guint8 *der = NULL;
  g_autofree guint8 *receipt = NULL;
  gsize der_len = 0, receipt_len = 0;
  g_autoptr(TbCert) cert = NULL;
  g_autoptr(GPtrArray) chain = g_ptr_array_new ();
  g_autoptr(GError) local = NULL;
  g_autoptr(TbReceipt) r = NULL;
  g_autoptr(GDateTime) produced = NULL;
  g_autofree char *slot_key = NULL;
  g_autofree char *key_sha = NULL;
  g_autofree char *problem = NULL;
  guint8 point[65];
  EVP_PKEY *pub;
  size_t point_len = 0;

  if (job == NULL || slice == NULL)
    {
      add_bad (report, rec, _("not in the job: no job or slice signed by the OEM root has this id"));
      return;
    }
  if (uid == NULL || cert_b64 == NULL || receipt_b64 == NULL)
    {
      add_bad (report, rec, _("the record lacks its UID, device certificate or receipt"));
      return;
    }
  der = g_base64_decode (cert_b64, &der_len);
  cert = tb_cert_new_from_data (der, der_len, record_id, &local);
  produced = g_date_time_new_from_iso8601 (tb_json_get_string (rec, "produced", ""), NULL);
  g_ptr_array_add (chain, slice->ca);
  if (cert == NULL || !tb_cert_verify_with_root (root, chain, cert, produced, &local))
    {
      problem = g_strdup_printf (_("not in the job: the device certificate was not issued by the job's CA (%s)"),
                                 local != NULL ? local->message : "?");
      add_bad (report, rec, problem);
      return;
    }
  {
    g_autofree char *subject = tb_cert_dup_subject (cert);
    g_autofree char *want = g_strdup_printf ("serialNumber=%s", uid);
    if (strstr (subject, want) == NULL)
      {
        add_bad (report, rec, _("the device certificate names another UID than the record"));
        return;
      }
  }
  pub = X509_get0_pubkey (tb_cert_get_x509 (cert));
  if (pub == NULL || !EVP_PKEY_get_octet_string_param (pub, "encoded-pub-key", point, sizeof point, &point_len) ||
      point_len != 65)
    {
      add_bad (report, rec, _("the device certificate does not hold a P-256 device key"));
      return;
    }
  receipt = g_base64_decode (receipt_b64, &receipt_len);
  r = tb_receipt_parse (receipt, receipt_len, point, &local);
  if (r == NULL)
    {
      add_bad (report, rec, _("the receipt is not signed by this device's key"));
      return;
    }
  {
    g_autofree char *digest = tb_hex_encode (r->plaintext_sha256, 32);
    g_autofree char *image_id = r->has_image_id ? tb_hex_encode (r->image_id, 16) : NULL;
    if (g_strcmp0 (r->uid, uid) != 0)
      {
        add_bad (report, rec, _("the receipt is from another device (its UID differs)"));
        return;
      }
    if (g_strcmp0 (digest, job->plaintext_sha256) != 0 ||
        (image_id != NULL && g_strcmp0 (image_id, job->image_id) != 0))
      {
        add_bad (report, rec, _("the receipt is for another image than the job's"));
        return;
      }
  }
  if (slot < slice->first || slot >= slice->first + slice->count)
    {
      add_bad (report, rec, _("not in the job: its slot lies outside the slice the OEM signed"));
      return;
    }
  key_sha = tb_cert_dup_public_key_sha256 (cert);
  if (g_hash_table_contains (uids, uid))
    {
      problem = g_strdup_printf (_("duplicate: device %s is also in record %s"), uid,
                                 (const char *) g_hash_table_lookup (uids, uid));
      add_bad (report, rec, problem);
      return;
    }
  if (g_hash_table_contains (keys, key_sha))
    {
      problem = g_strdup_printf (_("clone: the device key is also the key of record %s with another UID"),
                                 (const char *) g_hash_table_lookup (keys, key_sha));
      add_bad (report, rec, problem);
      return;
    }
  slot_key = g_strdup_printf ("%s/%" G_GUINT64_FORMAT, job_id, slot);
  if (g_hash_table_contains (slots, slot_key))
    {
      problem = g_strdup_printf (_("duplicate: slot %" G_GUINT64_FORMAT " is also used by record %s"), slot,
                                 (const char *) g_hash_table_lookup (slots, slot_key));
      add_bad (report, rec, problem);
      return;
    }
  g_hash_table_insert (uids, g_strdup (uid), g_strdup (record_id));
  g_hash_table_insert (keys, g_steal_pointer (&key_sha), g_strdup (record_id));
  g_hash_table_insert (slots, g_steal_pointer (&slot_key), g_strdup (record_id));
  slice->devices++;
  job->n_devices++;
  report->devices++;
  if (slice->devices > slice->count || job->n_devices > job->total)
    add_bad (report, rec, _("over-production: more devices than the job's count"));
}

/**
 * tb_receipts_verify:
 * @root: the OEM root
 * @files: exported records (JSON), from one or several stations
 * @report: (out caller-allocates): what was found
 *
 * Verifies, with nothing but the OEM root, every record of @files merged:
 * each job slice's signed manifest, each device certificate issued by its
 * slice's CA, each receipt signed by that device for the job's image;
 * duplicates (the same device twice), clones (one device key under two
 * UIDs), slots outside the slice, and more devices than a slice's or the
 * job's count. Returns %FALSE only when a file cannot be read; problems
 * with records are in @report.
 */
gboolean
tb_receipts_verify (TbCert *root, const char *const *files, TbReceiptsReport *report, GError **error)
{
  g_autoptr(GHashTable) jobs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) job_free);
  g_autoptr(GHashTable) uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) slots = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GPtrArray) parsers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) docs = g_ptr_array_new ();

  memset (report, 0, sizeof *report);
  report->valid = TRUE;
  report->bad = g_ptr_array_new_with_free_func ((GDestroyNotify) receipt_problem_free);
  report->jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) receipt_job_free);
  for (guint f = 0; files[f] != NULL; f++)
    {
      JsonParser *parser = json_parser_new ();
      JsonNode *root_node;
      JsonObject *doc;
      JsonArray *slices;

      g_ptr_array_add (parsers, parser);
      if (!json_parser_load_from_mapped_file (parser, files[f], error))
        return FALSE;
      root_node = json_parser_get_root (parser);
      doc = root_node != NULL && JSON_NODE_HOLDS_OBJECT (root_node) ? json_node_get_object (root_node) : NULL;
      if (doc == NULL || g_strcmp0 (tb_json_get_string (doc, "format", NULL),
                                    TB_RECORDS_FORMAT) != 0 ||
          tb_json_get_array (doc, "jobs") == NULL || tb_json_get_array (doc, "records") == NULL)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s is not a Trustbench records export (records export --format json)"), files[f]);
          return FALSE;
        }
      slices = tb_json_get_array (doc, "jobs");
      for (guint i = 0; i < json_array_get_length (slices); i++)
        {
          g_autoptr(GError) local = NULL;
          JsonObject *summary = tb_json_array_get_object (slices, i);

          if (summary == NULL)
            {
              g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s: job summary %u is not an object"), files[f],
                           i + 1);
              return FALSE;
            }
          if (!learn_slice (jobs, root, summary, &local))
            {
              g_set_error (error, local->domain, local->code, "%s: %s", files[f], local->message);
              return FALSE;
            }
        }
      g_ptr_array_add (docs, doc);
    }
  for (guint f = 0; f < docs->len; f++)
    {
      JsonArray *records = tb_json_get_array (g_ptr_array_index (docs, f), "records");
      for (guint i = 0; i < json_array_get_length (records); i++)
        {
          JsonObject *rec = tb_json_array_get_object (records, i);
          const char *result = tb_json_get_string (rec, "result", "");
          report->records++;
          if (rec == NULL)
            add_not_a_record (report, files[f], i);
          else if (g_strcmp0 (result, "made") == 0 || g_strcmp0 (result, "reconciled") == 0)
            check_record (report, jobs, root, uids, keys, slots, rec);
        }
    }
  {
    GHashTableIter it;
    Job *job;
    g_hash_table_iter_init (&it, jobs);
    while (g_hash_table_iter_next (&it, NULL, (gpointer *) &job))
      {
        TbReceiptJob *o = g_new0 (TbReceiptJob, 1);
        o->job_id = g_strdup (job->job_id);
        o->total_count = job->total;
        o->devices = job->n_devices;
        o->slices_seen = g_hash_table_size (job->slices);
        g_ptr_array_add (report->jobs, o);
      }
  }
  return TRUE;
}
