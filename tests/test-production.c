/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Production: a job made by an OEM context and run by a station context,
 * forged and altered packages, the count limit (also under kill -9 at
 * every crash point of `produce`), records, receipts and tampering. */

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "tb-context-private.h"
#include "tb-test-util.h"
#include "trustbench.h"
#include "tb-journal-private.h"
#include "tb-records-private.h"
#include "tb-virtual-board.h"

#define PASS "oem passphrase 1"
#define STATION_PASS "station passphrase 1"
#define JOB_PASS "job passphrase 1"
#define VERSION "1.4.2"

typedef struct {
  char *tmp;
  char *oem_dir;
  char *station_dir;
  TbContext *oem;
  char *upk;
  char *image;
  char *root_sha256;
  guint boards;
} Fixture;

static void
master (Fixture *f, TbContext *ctx, const char *version, guint32 counter, const char *name, char **upk, char **image)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *bin = g_strdup_printf ("%s/%s.bin", f->tmp, name);
  guint8 data[9000];
  g_autoptr(TbFirmware) fw = NULL;
  g_autoptr(TbUpk) u = NULL;
  TbMasterOptions options = { "widget", NULL, NULL, version, counter, 0 };

  for (gsize k = 0; k < sizeof data; k++)
    data[k] = (guint8) (k * 7 + counter);
  g_assert_true (g_file_set_contents (bin, (const char *) data, sizeof data, NULL));
  fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, TB_BOARD_FLASH_BASE + 0x8000, &error);
  g_assert_no_error (error);
  *upk = g_strdup_printf ("%s/%s.tbupk", f->tmp, name);
  *image = g_strdup_printf ("%s/%s.tbimg", f->tmp, name);
  u = tb_master_image (ctx, fw, &options, PASS, *image, *upk, NULL, &error);
  g_assert_no_error (error);
}

static TbContext *
make_oem (Fixture *f, const char *name, char **dir)
{
  g_autoptr(GError) error = NULL;
  const char *products[] = { "widget", NULL };
  TbContext *ctx;

  *dir = g_build_filename (f->tmp, name, NULL);
  ctx = tb_context_create (*dir, name, &error);
  g_assert_no_error (error);
  g_assert_true (tb_hierarchy_create (ctx, products, NULL, PASS, NULL, &error));
  g_assert_no_error (error);
  return ctx;
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(TbCert) root = NULL;

  f->tmp = tb_test_make_tmpdir ();
  f->oem = make_oem (f, "oem", &f->oem_dir);
  master (f, f->oem, VERSION, 3, "app", &f->upk, &f->image);
  root = tb_cert_load (f->oem, "root-ca", NULL);
  f->root_sha256 = g_strdup (tb_cert_get_sha256 (root));
  f->station_dir = g_build_filename (f->tmp, "station", NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->oem);
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->oem_dir);
  g_free (f->station_dir);
  g_free (f->upk);
  g_free (f->image);
  g_free (f->root_sha256);
}

/* Makes a job in the OEM context; returns its package files. */
static GPtrArray *
create_job (Fixture *f, const char *job_id, guint64 count, guint slices, const char *const *types)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = g_strdup_printf ("%s/%s.tbjob", f->tmp, job_id);
  TbJobCreateOptions o = { job_id, f->upk, f->image, count, types, NULL, slices, out };
  GPtrArray *files = NULL;

  g_assert_true (tb_job_create (f->oem, &o, PASS, JOB_PASS, NULL, &files, &error));
  g_assert_no_error (error);
  return files;
}

static TbContext *
open_station (const char *dir)
{
  g_autoptr(GError) error = NULL;
  TbContext *ctx = g_file_test (dir, G_FILE_TEST_EXISTS) ? tb_context_open (dir, TB_CONTEXT_OPEN_WRITE, &error)
                                                         : tb_context_create (dir, "Line 1", &error);
  g_assert_no_error (error);
  return ctx;
}

static gboolean
import (const char *station_dir, const char *file, const char *fingerprint, const char *job_pass, GError **error)
{
  g_autoptr(TbContext) ctx = open_station (station_dir);
  g_autoptr(TbJobPackage) p = tb_job_package_load (file, error);

  return p != NULL && tb_job_import (ctx, p, fingerprint, job_pass, STATION_PASS, error);
}

static char *
new_board (Fixture *f, const char *device_type)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_strdup_printf ("%s/board-%u", f->tmp, f->boards++);
  g_autoptr(TbVirtualBoard) board = tb_virtual_board_create (dir, device_type, 256 * 1024, 1024, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (board);
  return g_strconcat ("virtual:", dir, NULL);
}

static gboolean
produce (const char *station_dir, const char *job_id, const char *uri, TbProduceResult *result, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(TbContext) ctx = tb_context_open (station_dir, TB_CONTEXT_OPEN_READ, &local);
  g_autoptr(TbProbe) probe = tb_probe_open (uri, &local);
  TbProduceOptions o = { job_id, "tester", FALSE };
  TbProduceResult scratch = { 0 };
  gboolean ok;

  g_assert_no_error (local);
  ok = tb_produce (ctx, probe, &o, STATION_PASS, result != NULL ? result : &scratch, NULL, error);
  tb_produce_result_clear (&scratch);
  return ok;
}

static TbJobCounts
counts (const char *station_dir, const char *job_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_open (station_dir, TB_CONTEXT_OPEN_READ, &error);
  TbJobCounts c;

  g_assert_no_error (error);
  g_assert_true (tb_job_get_counts (ctx, job_id, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.made + c.reserved, <=, c.count);
  return c;
}

static char *
export_records (const char *station_dir, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_open (station_dir, TB_CONTEXT_OPEN_READ, &error);
  char *path = g_strdup_printf ("%s.%s", station_dir, name);

  g_assert_true (tb_records_export (ctx, NULL, g_str_has_suffix (name, "csv") ? TB_RECORDS_FORMAT_CSV
                                                                              : TB_RECORDS_FORMAT_JSON,
                                    path, NULL, &error));
  g_assert_no_error (error);
  return path;
}

static TbCert *
oem_root (Fixture *f)
{
  TbCert *root = tb_cert_load (f->oem, "root-ca", NULL);
  g_assert_nonnull (root);
  return root;
}

static void
verify_receipts (Fixture *f, const char *const *files, TbReceiptsReport *report)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbCert) root = oem_root (f);

  g_assert_true (tb_receipts_verify (root, files, report, &error));
  g_assert_no_error (error);
}

/* A job made by one context, imported and run by another, to its limit. */
static void
test_job_end_to_end (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = create_job (f, "j1", 2, 1, NULL);
  g_autofree char *json = NULL, *csv = NULL, *text = NULL;
  TbReceiptsReport report;
  TbProduceResult r = { 0 };
  TbJobCounts c;

  g_assert_cmpuint (files->len, ==, 1);
  g_assert_true (import (f->station_dir, g_ptr_array_index (files, 0), f->root_sha256, JOB_PASS, &error));
  g_assert_no_error (error);
  {
    /* the station holds no OEM root, provisioning CA or mastering key */
    g_autoptr(TbContext) ctx = open_station (f->station_dir);
    g_assert_false (tb_context_has_entry (ctx, TB_INVENTORY_KEYS, "root-ca"));
    g_assert_false (tb_context_has_entry (ctx, TB_INVENTORY_KEYS, "provisioning-ca"));
    g_assert_false (tb_context_has_entry (ctx, TB_INVENTORY_KEYS, "mastering"));
    g_assert_true (tb_context_has_entry (ctx, TB_INVENTORY_CERTIFICATES, "oem-root"));
  }
  c = counts (f->station_dir, "j1");
  g_assert_cmpuint (c.count, ==, 2);
  g_assert_cmpuint (c.remaining, ==, 2);

  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *uri = new_board (f, NULL);
      g_autoptr(TbProbe) probe = NULL;
      g_autoptr(TbTarget) target = NULL;
      g_autoptr(TbAttestation) att = NULL;

      g_assert_true (produce (f->station_dir, "j1", uri, &r, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (r.result, ==, "made");
      g_assert_cmpuint (r.made, ==, i + 1);
      g_assert_cmpuint (r.limit, ==, 2);
      tb_produce_result_clear (&r);
      probe = tb_probe_open (uri, &error);
      g_assert_true (tb_probe_reset (probe, FALSE, &error));
      target = tb_target_new (probe);
      att = tb_target_attest (target, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (att->boot, ==, 0);
      g_assert_cmpstr (att->app_version, ==, VERSION);
      g_assert_cmpuint (att->lifecycle, ==, TB_LIFECYCLE_LOCKED);
    }
  {
    g_autofree char *uri = new_board (f, NULL);
    g_assert_false (produce (f->station_dir, "j1", uri, NULL, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_LIMIT_REACHED);
    g_clear_error (&error);
    /* the refused board was not touched */
    {
      g_autoptr(TbVirtualBoard) b = tb_virtual_board_open (uri + strlen ("virtual:"), &error);
      g_assert_no_error (error);
      g_assert_cmpint (tb_virtual_board_get_lifecycle (b), ==, TB_LIFECYCLE_BLANK);
    }
  }
  c = counts (f->station_dir, "j1");
  g_assert_cmpuint (c.made, ==, 2);
  g_assert_cmpuint (c.reserved, ==, 0);
  g_assert_cmpuint (c.remaining, ==, 0);

  json = export_records (f->station_dir, "json");
  csv = export_records (f->station_dir, "csv");
  text = tb_test_read_file (csv, NULL);
  g_assert_true (g_str_has_prefix (text, "record_id,job_id,slice,slot,uid,device_type,device_certificate_serial,"
                                         "image_version,produced,operator,result"));
  {
    g_auto(GStrv) rows = g_strsplit (text, "\r\n", -1);
    g_assert_cmpuint (g_strv_length (rows), ==, 4); /* header, 2 rows, "" */
  }
  verify_receipts (f, (const char *const[]){ json, NULL }, &report);
  g_assert_true (report.valid);
  g_assert_cmpuint (report.devices, ==, 2);
  tb_receipts_report_clear (&report);

  /* the audit logs of both contexts hold the job's events and verify */
  {
    g_autoptr(TbContext) ctx = open_station (f->station_dir);
    g_autoptr(GPtrArray) entries = tb_audit_read (ctx, &error);
    TbAuditReport ar;
    guint produced = 0, imported = 0;
    g_assert_no_error (error);
    for (guint i = 0; i < entries->len; i++)
      {
        const char *event = tb_audit_entry_get_event (g_ptr_array_index (entries, i));
        produced += g_strcmp0 (event, "device.produce") == 0;
        imported += g_strcmp0 (event, "job.import") == 0;
      }
    g_assert_cmpuint (produced, ==, 2);
    g_assert_cmpuint (imported, ==, 1);
    g_assert_true (tb_audit_verify (ctx, &ar, &error));
    g_assert_true (ar.valid);
    tb_audit_report_clear (&ar);
  }
  {
    g_autoptr(GPtrArray) entries = tb_audit_read (f->oem, &error);
    gboolean created = FALSE;
    for (guint i = 0; i < entries->len; i++)
      created |= g_strcmp0 (tb_audit_entry_get_event (g_ptr_array_index (entries, i)), "job.create") == 0;
    g_assert_true (created);
  }
}

/* The first import needs the confirmed fingerprint; later ones the pinned
 * root; a package from another OEM is refused. */
static void
test_job_root_pinning (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) a = create_job (f, "ja", 1, 1, NULL);
  g_autoptr(GPtrArray) b = create_job (f, "jb", 1, 1, NULL);
  g_autofree char *other_dir = NULL;
  g_autoptr(TbContext) other = make_oem (f, "other", &other_dir);
  g_autofree char *upk = NULL, *image = NULL, *out = g_strdup_printf ("%s/foreign.tbjob", f->tmp);
  g_autoptr(GPtrArray) foreign = NULL;

  g_assert_false (import (f->station_dir, g_ptr_array_index (a, 0), NULL, JOB_PASS, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_assert_nonnull (strstr (error->message, f->root_sha256));
  g_clear_error (&error);
  g_assert_false (import (f->station_dir, g_ptr_array_index (a, 0),
                          "0000000000000000000000000000000000000000000000000000000000000000", JOB_PASS, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);
  g_assert_false (import (f->station_dir, g_ptr_array_index (a, 0), f->root_sha256, "wrong job pass", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
  g_clear_error (&error);
  g_assert_true (import (f->station_dir, g_ptr_array_index (a, 0), f->root_sha256, JOB_PASS, &error));
  g_assert_no_error (error);
  g_assert_false (import (f->station_dir, g_ptr_array_index (a, 0), NULL, JOB_PASS, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_EXISTS);
  g_clear_error (&error);
  /* pinned now: no fingerprint needed for the same OEM */
  g_assert_true (import (f->station_dir, g_ptr_array_index (b, 0), NULL, JOB_PASS, &error));
  g_assert_no_error (error);

  /* another OEM's job, even with its fingerprint given, is refused */
  {
    g_autoptr(TbCert) other_root = tb_cert_load (other, "root-ca", NULL);
    TbJobCreateOptions o = { "jforeign", NULL, NULL, 1, NULL, NULL, 1, out };
    master (f, other, "2.0.0", 1, "foreign", &upk, &image);
    o.upk_path = upk;
    o.image_path = image;
    g_assert_true (tb_job_create (other, &o, PASS, JOB_PASS, NULL, &foreign, &error));
    g_assert_no_error (error);
    g_assert_false (import (f->station_dir, out, tb_cert_get_sha256 (other_root), JOB_PASS, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  }
}

/* Rewrites one member of a package (or of its signed manifest). */
static char *
alter_package (Fixture *f, const char *file, const char *name, gboolean in_manifest, const char *member,
               const char *value, gint64 int_value)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *out = g_strdup_printf ("%s/%s.tbjob", f->tmp, name);
  g_autofree char *text = NULL;
  JsonObject *pkg, *target;
  g_autoptr(JsonParser) mparser = json_parser_new ();

  g_assert_true (json_parser_load_from_file (parser, file, &error));
  pkg = json_node_get_object (json_parser_get_root (parser));
  target = pkg;
  if (in_manifest)
    {
      gsize len = 0;
      g_autofree guint8 *m = g_base64_decode (json_object_get_string_member (pkg, "manifest"), &len);
      g_assert_true (json_parser_load_from_data (mparser, (const char *) m, (gssize) len, &error));
      target = json_node_get_object (json_parser_get_root (mparser));
    }
  if (value != NULL)
    json_object_set_string_member (target, member, value);
  else
    json_object_set_int_member (target, member, int_value);
  if (in_manifest)
    {
      g_autoptr(JsonGenerator) mg = json_generator_new ();
      g_autofree char *mtext = NULL;
      g_autofree char *b64 = NULL;
      json_generator_set_root (mg, json_parser_get_root (mparser));
      mtext = json_generator_to_data (mg, NULL);
      b64 = g_base64_encode ((const guint8 *) mtext, strlen (mtext));
      json_object_set_string_member (pkg, "manifest", b64);
    }
  json_generator_set_root (gen, json_parser_get_root (parser));
  text = json_generator_to_data (gen, NULL);
  tb_test_write_file (out, text);
  return g_steal_pointer (&out);
}

/* With a job key in the OEM context, it signs the jobs (the root only
 * certifies each job's CA); stations and offline checks follow its
 * certificate to the root. */
static void
test_job_key_signs (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autofree char *uri = new_board (f, NULL);
  g_autofree char *json = NULL;
  TbReceiptsReport report;

  {
    g_autoptr(TbKey) job_key = tb_key_generate ("ec-p256", &error);
    g_autoptr(TbKey) root_key = tb_key_load (f->oem, "root-ca", &error);
    g_autoptr(TbCert) root = tb_cert_load (f->oem, "root-ca", &error);
    g_autoptr(TbCert) cert = NULL;
    g_assert_no_error (error);
    g_assert_true (tb_key_unlock (root_key, f->oem, PASS, &error));
    g_assert_true (tb_key_store (job_key, f->oem, "job", TB_KEY_USAGE_JOB, PASS, &error));
    cert = tb_cert_issue (root, root_key, job_key, TB_CERT_PROFILE_JOB, "Job signing", "oem", 365, &error);
    g_assert_no_error (error);
    g_assert_true (tb_cert_store (cert, f->oem, "job", "job", &error));
    g_assert_true (tb_context_save (f->oem, &error));
  }
  files = create_job (f, "jk2", 1, 1, NULL);
  {
    g_autofree char *text = tb_test_read_file (g_ptr_array_index (files, 0), NULL);
    g_assert_nonnull (strstr (text, "signer_certificate"));
  }
  g_assert_true (import (f->station_dir, g_ptr_array_index (files, 0), f->root_sha256, JOB_PASS, &error));
  g_assert_no_error (error);
  g_assert_true (produce (f->station_dir, "jk2", uri, NULL, &error));
  g_assert_no_error (error);
  json = export_records (f->station_dir, "json");
  verify_receipts (f, (const char *const[]){ json, NULL }, &report);
  g_assert_true (report.valid);
  g_assert_cmpuint (report.devices, ==, 1);
  tb_receipts_report_clear (&report);
  /* a package whose signer certificate was swapped for another is refused */
  {
    g_autofree char *forged = alter_package (f, g_ptr_array_index (files, 0), "swapped-signer", FALSE,
                                             "signer_certificate", "-----BEGIN CERTIFICATE-----\nMIIB\n"
                                             "-----END CERTIFICATE-----\n", 0);
    g_autoptr(TbJobPackage) p = tb_job_package_load (forged, &error);
    g_assert_null (p);
    g_assert_nonnull (error);
  }
}

static void
test_job_forged (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) files = create_job (f, "jf", 5, 1, NULL);
  const char *file = g_ptr_array_index (files, 0);
  g_autofree char *upk_b64 = NULL;
  struct {
    const char *name;
    gboolean in_manifest;
    const char *member;
    const char *value;
    gint64 int_value;
  } cases[] = {
    { "count", TRUE, NULL, NULL, 0 },       /* filled below: the count raised */
    { "product", TRUE, "product", "gadget", 0 },
    { "version", TRUE, "image_version", "9.9.9", 0 },
    { "signature", FALSE, "signature", "MEUCIQDx", 0 },
    { "image", FALSE, "image", "AAAA", 0 },
    { "upk", FALSE, "upk", NULL, 0 },      /* filled below: another UPK */
    /* the package's own fields, outside the signature */
    { "outer-job-id", FALSE, "job_id", "jf2", 0 },
    { "outer-slice", FALSE, "slice", NULL, 2 },
    { "outer-root", FALSE, "root_certificate", NULL, 0 }, /* filled below: another OEM's root */
  };
  g_autofree char *other_dir = NULL;
  g_autoptr(TbContext) other = make_oem (f, "other-oem", &other_dir);
  g_autoptr(TbCert) other_root = tb_cert_load (other, "root-ca", NULL);
  g_autofree char *other_root_pem = tb_cert_dup_pem (other_root);

  cases[0].member = "count";
  cases[0].int_value = 500;
  {
    g_autofree char *other_upk = NULL, *other_image = NULL, *contents = NULL;
    gsize len = 0;
    master (f, f->oem, "1.5.0", 4, "other", &other_upk, &other_image);
    g_assert_true (g_file_get_contents (other_upk, &contents, &len, NULL));
    upk_b64 = g_base64_encode ((const guint8 *) contents, len);
    cases[5].value = upk_b64;
  }
  cases[8].value = other_root_pem;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *forged = alter_package (f, file, cases[i].name, cases[i].in_manifest, cases[i].member,
                                               cases[i].value, cases[i].int_value);
      g_autoptr(TbJobPackage) p = tb_job_package_load (forged, &error);
      g_assert_null (p);
      g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
    }
  /* every single flipped byte of the package is refused (sampled) */
  {
    gsize len = 0;
    g_autofree char *contents = tb_test_read_file (file, &len);
    g_autofree char *flipped = g_strdup_printf ("%s/flipped.tbjob", f->tmp);
    for (gsize off = 7; off < len; off += len / 97 + 1)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(TbJobPackage) p = NULL;
        g_autofree char *copy = g_memdup2 (contents, len);
        copy[off] ^= 0x01;
        g_assert_true (g_file_set_contents (flipped, copy, (gssize) len, NULL));
        p = tb_job_package_load (flipped, &error);
        g_assert_null (p);
        g_assert_nonnull (error);
      }
  }
}

/* A device of a type the job does not allow, or already provisioned,
 * is refused and its slot goes back. */
static void
test_produce_refusals (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = create_job (f, "jr", 2, 1, (const char *const[]){ "tb-vmcu-m4", NULL });
  g_autofree char *wrong = new_board (f, "tb-vmcu-m33");
  g_autofree char *good = new_board (f, NULL);
  TbJobCounts c;

  g_assert_true (import (f->station_dir, g_ptr_array_index (files, 0), f->root_sha256, JOB_PASS, &error));
  g_assert_false (produce (f->station_dir, "jr", wrong, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_assert_nonnull (strstr (error->message, "tb-vmcu-m33"));
  g_clear_error (&error);
  c = counts (f->station_dir, "jr");
  g_assert_cmpuint (c.reserved, ==, 0);
  g_assert_cmpuint (c.remaining, ==, 2);
  g_assert_cmpuint (c.failed, ==, 1);

  g_assert_true (produce (f->station_dir, "jr", good, NULL, &error));
  g_assert_no_error (error);
  /* made once: the same device again is refused, the count unchanged */
  g_assert_false (produce (f->station_dir, "jr", good, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);
  c = counts (f->station_dir, "jr");
  g_assert_cmpuint (c.made, ==, 1);
  g_assert_cmpuint (c.reserved, ==, 0);
  g_assert_cmpuint (c.remaining, ==, 1);
}

/* A job whose image is linked outside the device's application slot: the
 * station refuses the device before it sends the identity and locks it,
 * and the slot goes back. */
static void
test_produce_outside_slot (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *bin = g_strdup_printf ("%s/base.bin", f->tmp);
  g_autofree char *uri = new_board (f, NULL);
  g_autoptr(GPtrArray) files = NULL;
  TbJobCounts c;

  {
    guint8 bytes[5000] = { 0 };
    g_autoptr(TbFirmware) fw = NULL;
    g_autoptr(TbUpk) u = NULL;
    TbMasterOptions options = { "widget", NULL, NULL, "2.0.0", 5, 0 };

    g_assert_true (g_file_set_contents (bin, (const char *) bytes, sizeof bytes, NULL));
    fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, TB_BOARD_FLASH_BASE, &error);
    g_assert_no_error (error);
    g_free (f->upk);
    g_free (f->image);
    f->upk = g_strdup_printf ("%s/base.tbupk", f->tmp);
    f->image = g_strdup_printf ("%s/base.tbimg", f->tmp);
    u = tb_master_image (f->oem, fw, &options, PASS, f->image, f->upk, NULL, &error);
    g_assert_no_error (error);
  }
  files = create_job (f, "jo", 2, 1, NULL);
  g_assert_true (import (f->station_dir, g_ptr_array_index (files, 0), f->root_sha256, JOB_PASS, &error));
  g_assert_false (produce (f->station_dir, "jo", uri, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "0x08008000"));
  g_clear_error (&error);
  {
    g_autoptr(TbVirtualBoard) b = tb_virtual_board_open (uri + strlen ("virtual:"), &error);
    g_assert_no_error (error);
    g_assert_cmpint (tb_virtual_board_get_lifecycle (b), ==, TB_LIFECYCLE_SBM_INSTALLED);
  }
  c = counts (f->station_dir, "jo");
  g_assert_cmpuint (c.made, ==, 0);
  g_assert_cmpuint (c.reserved, ==, 0);
  g_assert_cmpuint (c.remaining, ==, 2);
}

static void
test_produce_expired (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = create_job (f, "je", 2, 1, NULL);
  g_autofree char *uri = new_board (f, NULL);

  g_assert_true (import (f->station_dir, g_ptr_array_index (files, 0), f->root_sha256, JOB_PASS, &error));
  {
    g_autoptr(TbContext) ctx = open_station (f->station_dir);
    JsonObject *job = tb_context_find_entry (ctx, TB_INVENTORY_JOBS, "je");
    json_object_set_string_member (job, "not_after", "2020-01-01T00:00:00Z");
    g_assert_true (tb_context_save (ctx, &error));
  }
  g_assert_false (produce (f->station_dir, "je", uri, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_LIMIT_REACHED);
  g_assert_nonnull (strstr (error->message, "expired"));
}

/* The jobs as both sides list them: typed, from the signed manifest. */
static void
test_job_info (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *types[] = { TB_BOARD_DEFAULT_DEVICE_TYPE, NULL };
  g_autoptr(GPtrArray) files = create_job (f, "ji", 5, 2, types);
  g_autoptr(GPtrArray) oem_jobs = tb_job_list (f->oem);
  g_autoptr(TbJobPackage) package = NULL;
  const TbJobInfo *in_package;
  TbJobInfo *oem;

  /* the OEM's own job: every slice */
  g_assert_cmpuint (oem_jobs->len, ==, 1);
  oem = g_ptr_array_index (oem_jobs, 0);
  g_assert_cmpstr (oem->job_id, ==, "ji");
  g_assert_cmpint (oem->role, ==, TB_JOB_ROLE_OEM);
  g_assert_cmpstr (tb_job_role_to_string (oem->role), ==, "oem");
  g_assert_cmpuint (oem->slices, ==, 2);
  g_assert_cmpuint (oem->total_count, ==, 5);
  g_assert_cmpstr (oem->product, ==, "widget");
  g_assert_cmpstr (oem->image_version, ==, VERSION);
  g_assert_cmpstrv (oem->device_types, types);

  /* the second slice's package, before and after import */
  package = tb_job_package_load (g_ptr_array_index (files, 1), &error);
  g_assert_no_error (error);
  in_package = tb_job_package_get_info (package);
  g_assert_cmpstr (in_package->job_id, ==, "ji");
  g_assert_cmpint (in_package->role, ==, TB_JOB_ROLE_STATION);
  g_assert_cmpuint (in_package->slice, ==, 2);
  g_assert_cmpuint (in_package->slices, ==, 2);
  g_assert_cmpuint (in_package->total_count, ==, 5);
  g_assert_cmpuint (in_package->first + in_package->count, ==, 5);
  g_assert_cmpuint (in_package->count, >=, 1);
  g_assert_cmpstr (in_package->root_sha256, ==, f->root_sha256);
  g_assert_cmpstrv (in_package->device_types, types);
  g_assert_true (import (f->station_dir, g_ptr_array_index (files, 1), f->root_sha256, JOB_PASS, &error));
  g_assert_no_error (error);
  {
    g_autoptr(TbContext) ctx = open_station (f->station_dir);
    g_autoptr(TbJobInfo) got = tb_job_lookup (ctx, "ji", &error);
    g_autoptr(TbJobInfo) copy = NULL;

    g_assert_no_error (error);
    g_assert_cmpint (got->role, ==, TB_JOB_ROLE_STATION);
    g_assert_cmpstr (tb_job_role_to_string (got->role), ==, "station");
    g_assert_cmpuint (got->slice, ==, 2);
    g_assert_cmpuint (got->first, ==, in_package->first);
    g_assert_cmpuint (got->count, ==, in_package->count);
    g_assert_cmpuint (got->total_count, ==, 5);
    g_assert_cmpstr (got->oem, ==, "oem");
    g_assert_cmpstr (got->root_sha256, ==, f->root_sha256);
    copy = tb_job_info_copy (got);
    g_assert_true (copy != got && copy->device_types != got->device_types);
    g_assert_cmpstr (copy->job_id, ==, got->job_id);
    g_assert_cmpstrv (copy->device_types, got->device_types);
    g_assert_cmpuint (copy->count, ==, got->count);

    g_assert_null (tb_job_lookup (ctx, "no-such-job", &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
    g_assert_nonnull (strstr (error->message, "no-such-job"));
  }
}

/* Several stations, each with its slice, no shared counter; the merged
 * records verify against the job's total. */
static void
test_slices (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = create_job (f, "js", 3, 2, NULL);
  g_autofree char *s2 = g_build_filename (f->tmp, "station2", NULL);
  g_autofree char *s3 = g_build_filename (f->tmp, "station3", NULL);
  g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL;
  TbReceiptsReport report;

  g_assert_cmpuint (files->len, ==, 2);
  g_assert_true (g_str_has_suffix (g_ptr_array_index (files, 0), "js-s1.tbjob"));
  g_assert_true (import (f->station_dir, g_ptr_array_index (files, 0), f->root_sha256, JOB_PASS, &error));
  g_assert_true (import (s2, g_ptr_array_index (files, 1), f->root_sha256, JOB_PASS, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counts (f->station_dir, "js").count, ==, 2);
  g_assert_cmpuint (counts (s2, "js").count, ==, 1);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *uri = new_board (f, NULL);
      g_assert_true (produce (i < 2 ? f->station_dir : s2, "js", uri, NULL, &error));
      g_assert_no_error (error);
    }
  e1 = export_records (f->station_dir, "json");
  e2 = export_records (s2, "json");
  verify_receipts (f, (const char *const[]){ e1, e2, NULL }, &report);
  g_assert_true (report.valid);
  g_assert_cmpuint (report.devices, ==, 3);
  g_assert_cmpuint (report.bad->len, ==, 0);
  g_assert_cmpuint (report.jobs->len, ==, 1);
  {
    TbReceiptJob *job = g_ptr_array_index (report.jobs, 0);
    g_assert_cmpstr (job->job_id, ==, "js");
    g_assert_cmpuint (job->total_count, ==, 3);
    g_assert_cmpuint (job->devices, ==, 3);
    g_assert_cmpuint (job->slices_seen, ==, 2);
  }
  tb_receipts_report_clear (&report);

  /* a rogue third station replays slice 2: its device is over the count */
  g_assert_true (import (s3, g_ptr_array_index (files, 1), f->root_sha256, JOB_PASS, &error));
  {
    g_autofree char *uri = new_board (f, NULL);
    g_assert_true (produce (s3, "js", uri, NULL, &error));
  }
  e3 = export_records (s3, "json");
  verify_receipts (f, (const char *const[]){ e1, e2, e3, NULL }, &report);
  g_assert_false (report.valid);
  g_assert_cmpuint (report.bad->len, ==, 1);
  {
    TbReceiptProblem *bad = g_ptr_array_index (report.bad, 0);
    g_assert_nonnull (strstr (bad->problem, "slot"));
    g_assert_cmpstr (bad->record_id, !=, "?");
    g_assert_cmpuint (strlen (bad->uid), >, 1);
  }
  tb_receipts_report_clear (&report);
}

/* Rewrites the records export with @edit applied to its records array. */
static char *
edit_records (const char *path, const char *suffix, void (*edit) (JsonArray *records))
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;
  char *out = g_strconcat (path, suffix, NULL);

  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  edit (json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "records"));
  json_generator_set_root (gen, json_parser_get_root (parser));
  text = json_generator_to_data (gen, NULL);
  tb_test_write_file (out, text);
  return out;
}

static void
swap_receipts (JsonArray *records)
{
  JsonObject *a = json_array_get_object_element (records, 0);
  JsonObject *b = json_array_get_object_element (records, 1);
  g_autofree char *ra = g_strdup (json_object_get_string_member (a, "receipt"));

  json_object_set_string_member (a, "receipt", json_object_get_string_member (b, "receipt"));
  json_object_set_string_member (b, "receipt", ra);
}

static void
duplicate_first (JsonArray *records)
{
  json_array_add_object_element (records, json_object_ref (json_array_get_object_element (records, 0)));
}

static void
clone_first (JsonArray *records)
{
  /* a clone: the first device's certificate and receipt under a new UID and slot */
  JsonObject *copy = json_object_new ();
  JsonObject *a = json_array_get_object_element (records, 0);
  GList *members = json_object_get_members (a);

  for (GList *l = members; l != NULL; l = l->next)
    json_object_set_member (copy, l->data, json_node_copy (json_object_get_member (a, l->data)));
  g_list_free (members);
  json_object_set_string_member (copy, "record_id", "clone");
  json_object_set_int_member (copy, "slot", 2);
  json_array_add_object_element (records, copy);
}

static void
foreign_job (JsonArray *records)
{
  json_object_set_string_member (json_array_get_object_element (records, 1), "job_id", "not-a-job");
}

static void
test_receipts_tampered (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = create_job (f, "jt", 3, 1, NULL);
  g_autofree char *json = NULL;
  struct {
    const char *suffix;
    void (*edit) (JsonArray *);
    const char *problem;
  } cases[] = {
    { ".swap", swap_receipts, "receipt" },
    { ".dup", duplicate_first, "duplicate" },
    { ".clone", clone_first, "duplicate" },
    { ".foreign", foreign_job, "not in the job" },
  };

  g_assert_true (import (f->station_dir, g_ptr_array_index (files, 0), f->root_sha256, JOB_PASS, &error));
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *uri = new_board (f, NULL);
      g_assert_true (produce (f->station_dir, "jt", uri, NULL, &error));
      g_assert_no_error (error);
    }
  json = export_records (f->station_dir, "json");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *bad = edit_records (json, cases[i].suffix, cases[i].edit);
      TbReceiptsReport report;
      verify_receipts (f, (const char *const[]){ bad, NULL }, &report);
      g_assert_false (report.valid);
      g_assert_cmpuint (report.bad->len, >=, 1);
      if (strstr (((TbReceiptProblem *) g_ptr_array_index (report.bad, 0))->problem,
                  cases[i].problem) == NULL)
        g_error ("case %s: problem “%s”", cases[i].suffix,
                 ((TbReceiptProblem *) g_ptr_array_index (report.bad, 0))->problem);
      tb_receipts_report_clear (&report);
    }

  /* the journal itself: a modified, a deleted and a swapped line */
  {
    g_autofree char *journal = g_build_filename (f->station_dir, "jobs", "jt", "journal.jsonl", NULL);
    gsize len = 0;
    g_autofree char *orig = tb_test_read_file (journal, &len);
    g_auto(GStrv) lines = g_strsplit (orig, "\n", -1);
    guint n = g_strv_length (lines) - 1;
    g_autoptr(TbContext) ctx = NULL;

    for (guint how = 0; how < 3; how++)
      {
        GString *s = g_string_new (NULL);
        g_autofree char *text = NULL;
        g_autoptr(JsonObject) doc = NULL;
        for (guint i = 0; i < n; i++)
          {
            const char *line = lines[i];
            g_autofree char *changed = NULL;
            if (how == 0 && i == n - 2)
              {
                changed = g_strdup (line);
                char *p = strstr (changed, "\"operator\":\"tester\"");
                if (p == NULL)
                  p = strstr (changed, "\"time\":\"2");
                g_assert_nonnull (p);
                p[strlen (p) > 20 ? 12 : 0] ^= 0x01;
                line = changed;
              }
            if (how == 1 && i == 2)
              continue;
            if (how == 2 && i == 2)
              line = lines[3];
            else if (how == 2 && i == 3)
              line = lines[2];
            g_string_append_printf (s, "%s\n", line);
          }
        text = g_string_free (s, FALSE);
        g_assert_true (g_file_set_contents (journal, text, -1, NULL));
        ctx = tb_context_open (f->station_dir, TB_CONTEXT_OPEN_READ, &error);
        doc = tb_records_collect (ctx, NULL, &error);
        g_assert_null (doc);
        g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
        g_clear_error (&error);
        g_clear_object (&ctx);
      }
    g_assert_true (g_file_set_contents (journal, orig, (gssize) len, NULL));
  }
}

/* ---- kill -9 at every crash point of produce ---- */

typedef struct {
  gboolean crashed;
  int status;
} ToolRun;

static ToolRun
run_produce (const char *station_dir, const char *job_id, const char *uri, gint64 crash_at)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *at = g_strdup_printf ("%" G_GINT64_FORMAT, crash_at);
  g_autofree char *probe = g_strdup (uri);
  ToolRun r = { FALSE, 0 };

  g_subprocess_launcher_setenv (launcher, "TRUSTBENCH_PASSPHRASE", STATION_PASS, TRUE);
  g_subprocess_launcher_setenv (launcher, "TRUSTBENCH_TEST_CRASH_AT", at, TRUE);
  proc = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("TB_TOOL"), "-C", station_dir, "--quiet", "produce",
                                      "--job", job_id, "--probe", probe, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait (proc, NULL, &error));
  if (g_subprocess_get_if_signaled (proc))
    {
      g_assert_cmpint (g_subprocess_get_term_sig (proc), ==, SIGKILL);
      r.crashed = TRUE;
    }
  else
    r.status = g_subprocess_get_exit_status (proc);
  return r;
}

/* Does the board run the job's image? */
static gboolean
runs_image (const char *uri, char **uid)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = tb_probe_open (uri, &error);
  g_autoptr(TbTarget) target = tb_target_new (probe);
  g_autoptr(TbAttestation) att = NULL;

  g_assert_no_error (error);
  if (!tb_target_has_sbm (target, NULL))
    return FALSE;
  att = tb_target_attest (target, &error);
  g_assert_no_error (error);
  *uid = g_strdup (att->uid);
  return att->boot == 0 && g_strcmp0 (att->app_version, VERSION) == 0;
}

static gboolean
has_record_or_counted_slot (const char *station_dir, const char *job_id, const char *uid)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_open (station_dir, TB_CONTEXT_OPEN_READ, &error);
  g_autoptr(JsonObject) doc = tb_records_collect (ctx, job_id, &error);
  g_autoptr(GPtrArray) open = tb_job_list_interrupted (ctx, job_id, &error);
  JsonArray *records;

  g_assert_no_error (error);
  records = json_object_get_array_member (doc, "records");
  for (guint i = 0; i < json_array_get_length (records); i++)
    {
      JsonObject *r = json_array_get_object_element (records, i);
      if (g_strcmp0 (json_object_get_string_member_with_default (r, "uid", ""), uid) == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (r, "result", ""), "failed") != 0)
        return TRUE;
    }
  for (guint i = 0; i < open->len; i++)
    if (g_strcmp0 (((TbOpenSlot *) g_ptr_array_index (open, i))->uid, uid) == 0)
      return TRUE;
  return FALSE;
}

static void
test_produce_kill9 (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = create_job (f, "jk", 1000, 1, NULL);
  const char *step_text = g_getenv ("TB_CRASH_STEP");
  gint64 step = step_text != NULL ? g_ascii_strtoll (step_text, NULL, 10) : GPOINTER_TO_INT (data);
  guint made = 0, crashes = 0, reconciled_after_crash = 0;
  g_autofree char *json = NULL;
  TbReceiptsReport report;

  if (g_getenv ("TB_TOOL") == NULL)
    {
      g_test_skip ("TB_TOOL is not set");
      return;
    }
  g_assert_true (import (f->station_dir, g_ptr_array_index (files, 0), f->root_sha256, JOB_PASS, &error));
  g_assert_no_error (error);
  for (gint64 n = 1;; n += MAX (step, 1))
    {
      g_autofree char *uri = new_board (f, NULL);
      g_autofree char *uid = NULL;
      ToolRun r = run_produce (f->station_dir, "jk", uri, n);
      TbJobCounts before, after;

      if (!r.crashed)
        {
          /* past the last crash point: a clean run */
          g_assert_cmpint (r.status, ==, 0);
          made++;
          break;
        }
      crashes++;
      before = counts (f->station_dir, "jk");
      g_assert_cmpuint (before.made - made, <=, 1); /* 1: the crash came after the record */
      /* never a device running the image without a record or a counted slot */
      if (runs_image (uri, &uid))
        g_assert_true (has_record_or_counted_slot (f->station_dir, "jk", uid));
      /* the same device comes back: the next run finishes it */
      r = run_produce (f->station_dir, "jk", uri, 0);
      g_assert_false (r.crashed);
      if (r.status == 3)
        {
          /* made already (the crash hit after its record): refused as made once */
          after = counts (f->station_dir, "jk");
          g_assert_cmpuint (after.made, ==, made + 1);
        }
      else
        g_assert_cmpint (r.status, ==, 0);
      made++;
      after = counts (f->station_dir, "jk");
      g_assert_cmpuint (after.made, ==, made);
      g_assert_cmpuint (after.reserved, ==, 0);
      g_clear_pointer (&uid, g_free);
      g_assert_true (runs_image (uri, &uid));
      g_assert_true (has_record_or_counted_slot (f->station_dir, "jk", uid));
      if (before.reserved > 0)
        reconciled_after_crash++;
    }
  g_test_message ("%u crash points hit (step %" G_GINT64_FORMAT "), %u slots left open and completed later", crashes,
                  step, reconciled_after_crash);
  g_assert_cmpuint (crashes, >=, 10);
  /* the audit log names every device made exactly once, including those
   * whose run died between the record and the audit entry */
  {
    g_autoptr(TbContext) ctx = tb_context_open (f->station_dir, TB_CONTEXT_OPEN_READ, &error);
    g_autoptr(GPtrArray) entries = NULL;
    g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
    TbAuditReport ar = { 0 };
    guint recovered = 0;

    g_assert_no_error (error);
    entries = tb_audit_read (ctx, &error);
    g_assert_no_error (error);
    for (guint i = 0; i < entries->len; i++)
      {
        TbAuditEntry *e = g_ptr_array_index (entries, i);
        const char *record_id;

        if (g_strcmp0 (tb_audit_entry_get_event (e), "device.produce") != 0)
          continue;
        record_id = tb_audit_entry_get_detail_string (e, "record_id");
        g_assert_nonnull (record_id);
        g_assert_false (g_hash_table_contains (seen, record_id));
        g_hash_table_add (seen, (gpointer) record_id);
        recovered += tb_audit_entry_get_detail_boolean (e, "recovered", FALSE);
      }
    g_assert_cmpuint (g_hash_table_size (seen), ==, made);
    g_test_message ("%u audit entries recovered after a crash", recovered);
    if (step == 1)
      g_assert_cmpuint (recovered, >=, 1); /* the crash point right after the record */
    g_assert_true (tb_audit_verify (ctx, &ar, &error));
    g_assert_true (ar.valid);
    tb_audit_report_clear (&ar);
  }
  json = export_records (f->station_dir, "json");
  verify_receipts (f, (const char *const[]){ json, NULL }, &report);
  g_assert_true (report.valid);
  g_assert_cmpuint (report.devices, ==, made);
  tb_receipts_report_clear (&report);
}

/* ---- power lost on the device in the middle of produce ---- */

static gboolean
produce_on (const char *station_dir, const char *job_id, TbProbe *probe, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(TbContext) ctx = tb_context_open (station_dir, TB_CONTEXT_OPEN_READ, &local);
  TbProduceOptions o = { job_id, "tester", FALSE };
  TbProduceResult result = { 0 };
  gboolean ok;

  g_assert_no_error (local);
  ok = tb_produce (ctx, probe, &o, STATION_PASS, &result, NULL, error);
  tb_produce_result_clear (&result);
  return ok;
}

/* The device loses power at each flash operation `produce` makes on it
 * (installing the SBM, the identity, the image, the commit), before it,
 * after it or in the middle (torn), by turns; the run fails, power comes
 * back, and the next run finishes the same device. The count is never
 * over or under and each device has one record: the counter and receipt
 * writes hold when the device, not the host, loses power. Every operation
 * and every kind in the `slow` suite, every 25th (operation, kind) by
 * default. */
static void
test_produce_power_cut (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = create_job (f, "jp", 1000, 1, NULL);
  static const TbPowerCut kinds[] = { TB_POWER_CUT_BEFORE, TB_POWER_CUT_AFTER, TB_POWER_CUT_TORN };
  static const char *const kind_names[] = { "before", "after", "torn" };
  guint stride = g_test_slow () ? 1 : 25; /* 25: each kind in turn */
  guint64 ops_total;
  guint made = 0, trials = 0, failed_runs = 0, finished_by_next = 0, made_before_cut = 0;
  guint per_kind[3] = { 0 };
  g_autofree char *json = NULL;
  TbReceiptsReport report;

  g_assert_true (import (f->station_dir, g_ptr_array_index (files, 0), f->root_sha256, JOB_PASS, &error));
  g_assert_no_error (error);
  {
    g_autofree char *uri = new_board (f, NULL);
    g_autoptr(TbProbe) probe = tb_probe_open (uri, &error);
    TbVirtualBoard *board = tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (probe));
    guint64 before = tb_virtual_board_get_flash_ops (board);

    g_assert_true (produce_on (f->station_dir, "jp", probe, &error));
    g_assert_no_error (error);
    ops_total = tb_virtual_board_get_flash_ops (board) - before;
    made++;
  }
  g_assert_cmpuint (ops_total, >, 20);
  for (guint64 cut = 0; cut < ops_total; cut++)
    for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
      {
        g_autofree char *uri = NULL;
        g_autofree char *uid = NULL;
        TbJobCounts c;

        if ((cut * G_N_ELEMENTS (kinds) + k) % stride != 0)
          continue;
        uri = new_board (f, NULL);
        trials++;
        per_kind[k]++;
        {
          g_autoptr(TbProbe) probe = tb_probe_open (uri, &error);
          g_autoptr(GError) cut_error = NULL;
          g_assert_no_error (error);
          tb_virtual_board_set_power_cut (tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (probe)), (gint64) cut,
                                          kinds[k], (guint32) (cut * 3 + k));
          if (!produce_on (f->station_dir, "jp", probe, &cut_error))
            failed_runs++;
        }
        c = counts (f->station_dir, "jp");
        g_assert_cmpuint (c.made, >=, made);
        g_assert_cmpuint (c.made, <=, made + 1);
        made_before_cut += c.made == made + 1;
        if (runs_image (uri, &uid))
          g_assert_true (has_record_or_counted_slot (f->station_dir, "jp", uid));
        g_clear_pointer (&uid, g_free);
        /* power back: the same device again */
        if (c.made == made)
          {
            g_autoptr(TbProbe) probe = tb_probe_open (uri, &error);
            g_assert_no_error (error);
            if (!produce_on (f->station_dir, "jp", probe, &error))
              g_error ("power cut %s flash operation %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                       ", then produce again: %s", kind_names[k], cut, ops_total, error->message);
            finished_by_next++;
          }
        made++;
        c = counts (f->station_dir, "jp");
        g_assert_cmpuint (c.made, ==, made);
        g_assert_cmpuint (c.reserved, ==, 0);
        g_assert_true (runs_image (uri, &uid));
        g_assert_true (has_record_or_counted_slot (f->station_dir, "jp", uid));
      }
  g_test_message ("power cut in produce: %u cuts at %" G_GUINT64_FORMAT " flash operations (%u before, %u after, "
                  "%u torn): %u runs failed, %u devices finished by the next run, %u recorded before the cut; "
                  "%u made", trials, ops_total, per_kind[0], per_kind[1], per_kind[2], failed_runs,
                  finished_by_next, made_before_cut, made);
  json = export_records (f->station_dir, "json");
  verify_receipts (f, (const char *const[]){ json, NULL }, &report);
  g_assert_true (report.valid);
  g_assert_cmpuint (report.devices, ==, made);
  tb_receipts_report_clear (&report);
}

/* The count holds under a crash: an interrupted slot whose device holds
 * its identity stays counted, so another device cannot take it. */
static void
test_produce_interrupted_slot_counted (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = create_job (f, "jc", 1, 1, NULL);
  g_autofree char *first = new_board (f, NULL);
  g_autofree char *second = new_board (f, NULL);
  ToolRun r;
  gint64 n;
  TbJobCounts c;

  if (g_getenv ("TB_TOOL") == NULL)
    {
      g_test_skip ("TB_TOOL is not set");
      return;
    }
  g_assert_true (import (f->station_dir, g_ptr_array_index (files, 0), f->root_sha256, JOB_PASS, &error));
  /* crash late enough that the identity was sent (the device is locked) */
  for (n = 1;; n++)
    {
      g_autoptr(TbVirtualBoard) b = NULL;
      g_autofree char *dir = g_strdup_printf ("%s/probe-%" G_GINT64_FORMAT, f->tmp, n);
      g_autofree char *uri = NULL;
      g_autofree char *copy = NULL;
      b = tb_virtual_board_create (dir, NULL, 256 * 1024, 1024, NULL, &error);
      g_assert_no_error (error);
      g_clear_object (&b); /* one user at a time: `produce` opens it */
      uri = g_strconcat ("virtual:", dir, NULL);
      /* a scratch station to find the crash point, so the real one stays clean */
      copy = g_strdup_printf ("%s/scratch-%" G_GINT64_FORMAT, f->tmp, n);
      g_assert_true (import (copy, g_ptr_array_index (files, 0), f->root_sha256, JOB_PASS, &error));
      r = run_produce (copy, "jc", uri, n);
      g_assert_true (r.crashed);
      b = tb_virtual_board_open (dir, &error);
      if (tb_virtual_board_get_lifecycle (b) == TB_LIFECYCLE_LOCKED)
        break;
    }
  r = run_produce (f->station_dir, "jc", first, n);
  g_assert_true (r.crashed);
  c = counts (f->station_dir, "jc");
  g_assert_cmpuint (c.made, ==, 0);
  g_assert_cmpuint (c.reserved, ==, 1);
  g_assert_cmpuint (c.remaining, ==, 0);
  r = run_produce (f->station_dir, "jc", second, 0);
  g_assert_cmpint (r.status, ==, 4);
  r = run_produce (f->station_dir, "jc", first, 0);
  g_assert_cmpint (r.status, ==, 0);
  c = counts (f->station_dir, "jc");
  g_assert_cmpuint (c.made, ==, 1);
  g_assert_cmpuint (c.reserved, ==, 0);
  r = run_produce (f->station_dir, "jc", second, 0);
  g_assert_cmpint (r.status, ==, 4);
}

/* A journal whose last write was torn (power lost mid-write) opens; the
 * torn bytes are dropped at the next write. */
static void
test_journal_torn_tail (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = create_job (f, "jj", 10, 1, NULL);
  g_autofree char *journal = g_build_filename (f->station_dir, "jobs", "jj", "journal.jsonl", NULL);
  g_autoptr(JsonObject) rec = json_object_new ();
  TbJobCounts c;

  g_assert_true (import (f->station_dir, g_ptr_array_index (files, 0), f->root_sha256, JOB_PASS, &error));
  {
    g_autoptr(TbContext) ctx = tb_context_open (f->station_dir, TB_CONTEXT_OPEN_READ, &error);
    json_object_set_string_member (rec, "uid", "aa");
    json_object_set_string_member (rec, "result", "made");
    g_assert_true (tb_job_journal_append_record (ctx, "jj", rec, &error));
    g_assert_no_error (error);
  }
  {
    FILE *fp = fopen (journal, "a");
    fputs ("{\"seq\":3,\"prev\":\"torn", fp);
    fclose (fp);
  }
  c = counts (f->station_dir, "jj");
  g_assert_cmpuint (c.made, ==, 1);
  {
    g_autoptr(TbContext) ctx = tb_context_open (f->station_dir, TB_CONTEXT_OPEN_READ, &error);
    g_autoptr(JsonObject) doc = NULL;
    g_assert_true (tb_job_journal_append_record (ctx, "jj", rec, &error));
    g_assert_no_error (error);
    doc = tb_records_collect (ctx, "jj", &error);
    g_assert_no_error (error);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (doc, "records")), ==, 2);
  }
  c = counts (f->station_dir, "jj");
  g_assert_cmpuint (c.made, ==, 2);
}

/* The last records of a job, newest first, read from the journal's end
 * (in windows that double until they hold enough). */
static void
test_recent_records (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = create_job (f, "jr", 1000, 1, NULL);
  g_autofree char *journal = g_build_filename (f->station_dir, "jobs", "jr", "journal.jsonl", NULL);
  g_autofree char *note = g_strnfill (2000, 'n');
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(GPtrArray) none = NULL;

  g_assert_true (import (f->station_dir, g_ptr_array_index (files, 0), f->root_sha256, JOB_PASS, &error));
  g_assert_no_error (error);
  ctx = open_station (f->station_dir);
  none = tb_job_recent_records (ctx, "jr", 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (none->len, ==, 0);
  g_assert_null (tb_job_recent_records (ctx, "no-such-job", 10, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
  g_clear_error (&error);

  for (guint i = 0; i < 300; i++)
    {
      g_autoptr(JsonObject) rec = json_object_new ();
      g_autofree char *uid = g_strdup_printf ("dev-%03u", i);
      json_object_set_string_member (rec, "uid", uid);
      json_object_set_string_member (rec, "result", "made");
      json_object_set_string_member (rec, "note", note);
      g_assert_true (tb_job_journal_append_record (ctx, "jr", rec, &error));
      g_assert_no_error (error);
    }
  {
    GStatBuf st;
    g_assert_cmpint (g_stat (journal, &st), ==, 0);
    g_assert_cmpint (st.st_size, >, 512 * 1024); /* more than the first two windows */
  }
  /* a torn last write is not a record */
  {
    FILE *fp = fopen (journal, "a");
    fputs ("{\"seq\":601,\"event\":\"made\",\"uid\":\"torn", fp);
    fclose (fp);
  }

  for (guint k = 0; k < 3; k++)
    {
      const guint max[] = { 5, 280, 1000 };
      const guint expect[] = { 5, 280, 300 };
      g_autoptr(GPtrArray) recent = tb_job_recent_records (ctx, "jr", max[k], &error);

      g_assert_no_error (error);
      g_assert_cmpuint (recent->len, ==, expect[k]);
      for (guint i = 0; i < recent->len; i++)
        {
          TbDeviceRecord *r = g_ptr_array_index (recent, i);
          g_autofree char *uid = g_strdup_printf ("dev-%03u", 299 - i);
          g_assert_cmpstr (r->uid, ==, uid);
          g_assert_true (r->made);
          g_assert_cmpstr (r->result, ==, "made");
          g_assert_null (r->reason);
        }
    }

  /* a record whose bytes were changed is reported, not shown */
  {
    g_autofree char *text = NULL;
    gsize len = 0;
    char *at;
    g_assert_true (g_file_get_contents (journal, &text, &len, NULL));
    at = g_strrstr (text, "dev-298");
    g_assert_nonnull (at);
    at[4] = '9';
    g_assert_true (g_file_set_contents (journal, text, (gssize) len, NULL));
    g_assert_null (tb_job_recent_records (ctx, "jr", 5, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  }
}

/* Records exports of the wrong shape, as a hostile or broken station could
 * hand in: refused, or each bad element a problem of the report, and never
 * a GLib critical (the tests make them fatal). */
static void
test_receipts_malformed (void)
{
  g_autofree char *root_path = g_test_build_filename (G_TEST_DIST, "data", "fuzz-records-root.pem", NULL);
  g_autoptr(TbCert) root = tb_cert_new_from_file (root_path, NULL);
  g_autofree char *dir = g_dir_make_tmp ("tb-receipts-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "records.json", NULL);
  const char *const files[] = { path, NULL };
#define DOC(jobs, records) "{\"format\":\"" TB_RECORDS_FORMAT "\",\"jobs\":" jobs ",\"records\":" records "}"
  static const struct {
    const char *doc;
    int code;             /* the error, or -1: a report */
  } refused[] = {
    { DOC ("5", "[]"), TB_ERROR_INVALID_DATA },
    { DOC ("[]", "{}"), TB_ERROR_INVALID_DATA },
    { "{\"format\":7,\"jobs\":[],\"records\":[]}", TB_ERROR_INVALID_DATA },
    { "[1,2]", TB_ERROR_INVALID_DATA },
    { DOC ("[5]", "[]"), TB_ERROR_INVALID_DATA },
    { DOC ("[{\"manifest\":5}]", "[]"), TB_ERROR_VERIFY_FAILED },
    { DOC ("[{\"manifest\":\"@@\",\"signature\":[1],\"signer_certificate\":{}}]", "[]"), TB_ERROR_VERIFY_FAILED },
  };

  g_assert_nonnull (root);
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GError) error = NULL;
      TbReceiptsReport report;

      g_assert_true (g_file_set_contents (path, refused[i].doc, -1, NULL));
      g_assert_false (tb_receipts_verify (root, files, &report, &error));
      g_assert_error (error, TB_ERROR, refused[i].code);
      g_assert_nonnull (strstr (error->message, "records.json"));
    }

  /* elements that are not records, and a record of the wrong types */
  {
    g_autoptr(GError) error = NULL;
    TbReceiptsReport report;
    const TbReceiptProblem *p;

    g_assert_true (g_file_set_contents (
      path, DOC ("[]", "[5, \"x\", {\"result\":7}, {\"result\":\"made\",\"slot\":\"a\",\"uid\":5,\"job_id\":[]}]"),
      -1, NULL));
    g_assert_true (tb_receipts_verify (root, files, &report, &error));
    g_assert_no_error (error);
    g_assert_false (report.valid);
    g_assert_cmpuint (report.records, ==, 4);
    g_assert_cmpuint (report.devices, ==, 0);
    g_assert_cmpuint (report.bad->len, ==, 3);
    p = g_ptr_array_index (report.bad, 0);
    g_assert_true (g_str_has_suffix (p->record_id, "records.json #1"));
    g_assert_cmpstr (p->problem, ==, "not a record: an object is due");
    p = g_ptr_array_index (report.bad, 1);
    g_assert_true (g_str_has_suffix (p->record_id, "records.json #2"));
    p = g_ptr_array_index (report.bad, 2);
    g_assert_cmpstr (p->record_id, ==, "?");
    g_assert_nonnull (strstr (p->problem, "not in the job"));
    tb_receipts_report_clear (&report);
  }
#undef DOC
  tb_file_remove_tree (dir, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func, data) g_test_add (path, Fixture, data, setup, func, teardown)
  ADD ("/production/job-end-to-end", test_job_end_to_end, NULL);
  ADD ("/production/job-root-pinning", test_job_root_pinning, NULL);
  ADD ("/production/job-forged", test_job_forged, NULL);
  ADD ("/production/job-key-signs", test_job_key_signs, NULL);
  ADD ("/production/refusals", test_produce_refusals, NULL);
  ADD ("/production/outside-slot", test_produce_outside_slot, NULL);
  ADD ("/production/expired", test_produce_expired, NULL);
  ADD ("/production/job-info", test_job_info, NULL);
  ADD ("/production/slices", test_slices, NULL);
  ADD ("/production/receipts-tampered", test_receipts_tampered, NULL);
  g_test_add_func ("/production/receipts-malformed", test_receipts_malformed);
  ADD ("/production/journal-torn-tail", test_journal_torn_tail, NULL);
  ADD ("/production/recent-records", test_recent_records, NULL);
  ADD ("/production/interrupted-slot-counted", test_produce_interrupted_slot_counted, NULL);
  ADD ("/production/power-cut", test_produce_power_cut, NULL);
  if (g_test_slow ())
    ADD ("/production/kill9-every-point", test_produce_kill9, GINT_TO_POINTER (1));
  else
    ADD ("/production/kill9-sampled", test_produce_kill9, GINT_TO_POINTER (3));
  return g_test_run ();
}
