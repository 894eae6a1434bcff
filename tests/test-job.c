/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Job packages (.tbjob, docs/formats/job.md): making them in slices, every
 * option a job refuses, a corpus of malformed packages and what importing
 * refuses, each with its exact error. Forged packages (the signature and
 * the image pair) are in test-production.c with the stations that run
 * them. */

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "tb-test-oem.h"
#include "tb-test-util.h"
#include "trustbench.h"
#include "tb-job-private.h"

#define JOB_PASS "job passphrase 1"
#define STATION_PASS "station passphrase 1"

static TbTestOem *oem;
static TbTestMastered *pair;

static TbJobCreateOptions
options (const char *job_id, guint64 count, guint slices, const char *output)
{
  TbJobCreateOptions o = { job_id, pair->upk, pair->image, count, NULL, NULL, slices, output };
  return o;
}

static char *
path_in_oem (const char *name)
{
  return g_build_filename (oem->tmp, name, NULL);
}

static guint
n_jobs (TbContext *ctx)
{
  g_autoptr(GPtrArray) jobs = tb_job_list (ctx);
  return jobs->len;
}

/* Creating a refused job writes nothing and records nothing. */
static void
assert_refused (const TbJobCreateOptions *o, const char *passphrase, const char *job_pass, gint code,
                const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autofree char *job_id = NULL;
  guint jobs_before = n_jobs (oem->ctx);

  g_assert_false (tb_job_create (oem->ctx, o, passphrase, job_pass, &job_id, &files, &error));
  g_assert_error (error, TB_ERROR, code);
  if (message != NULL)
    g_assert_cmpstr (error->message, ==, message);
  g_assert_null (files);
  g_assert_null (job_id);
  if (o->output != NULL && !g_str_equal (o->output, "-"))
    g_assert_false (g_file_test (o->output, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (n_jobs (oem->ctx), ==, jobs_before);
}

static void
test_create_refusals (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = path_in_oem ("refused.tbjob");
  g_autofree char *missing = path_in_oem ("missing.tbupk");
  g_autofree char *message = NULL;
  g_autoptr(GDateTime) past = g_date_time_new_utc (2020, 1, 2, 3, 4, 5);
  TbJobCreateOptions o;

  o = options ("r1", 0, 1, out);
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_INVALID_ARGUMENT, "A job's count must be 1 to 100000000");
  o = options ("r1", TB_JOB_MAX_COUNT + 1, 1, out);
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_INVALID_ARGUMENT, "A job's count must be 1 to 100000000");
  o = options ("r1", 100, TB_JOB_MAX_SLICES + 1, out);
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_INVALID_ARGUMENT,
                  "65 slices for 100 devices: each slice needs at least one device (at most 64 slices)");
  o = options ("r1", 2, 3, out);
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_INVALID_ARGUMENT,
                  "3 slices for 2 devices: each slice needs at least one device (at most 64 slices)");
  o = options ("r1", 10, 2, "-");
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_INVALID_ARGUMENT,
                  "A job in 2 slices is 2 package files, which cannot all go to standard output; name a file "
                  "(they become FILE-s1, FILE-s2…)");

  /* no output named, with one slice or several */
  o = options ("r1", 10, 1, NULL);
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_INVALID_ARGUMENT,
                  "Name a file for the job package");
  o = options ("r1", 10, 3, NULL);
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_INVALID_ARGUMENT,
                  "Name a file for the job package");
  o = options ("r1", 10, 3, "");
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_INVALID_ARGUMENT,
                  "Name a file for the job package");

  o = options ("r1", 10, 1, out);
  o.not_after = past;
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_INVALID_ARGUMENT,
                  "The job would expire before it starts (2020-01-02T03:04:05Z)");
  o = options ("r1", 10, 1, out);
  assert_refused (&o, TB_TEST_OEM_PASS, "1234567", TB_ERROR_INVALID_ARGUMENT,
                  "The job passphrase protecting the package's keys must have at least 8 characters");
  assert_refused (&o, TB_TEST_OEM_PASS, NULL, TB_ERROR_INVALID_ARGUMENT,
                  "The job passphrase protecting the package's keys must have at least 8 characters");
  o = options ("../r1", 10, 1, out);
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_INVALID_ARGUMENT,
                  "Invalid name “../r1”: it must not start with “.”");

  /* the pair: a UPK that is not there, an image that is not its own, no path */
  o = options ("r1", 10, 1, out);
  o.upk_path = missing;
  message = g_strdup_printf ("Cannot read %s: No such file or directory", missing);
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_NOT_FOUND, message);
  g_clear_pointer (&message, g_free);
  o = options ("r1", 10, 1, out);
  o.image_path = pair->upk;
  message = g_strdup_printf ("%s is not the image of %s", pair->upk, pair->upk);
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_VERIFY_FAILED, message);
  g_clear_pointer (&message, g_free);
  o = options ("r1", 10, 1, out);
  o.upk_path = NULL;
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_INVALID_ARGUMENT, "A job needs a UPK and its image");
  o = options ("r1", 10, 1, out);
  o.image_path = NULL;
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_INVALID_ARGUMENT, "A job needs a UPK and its image");
  o = options ("r1", 10, 1, out);
  o.upk_path = pair->image;
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_INVALID_DATA, NULL);

  /* the OEM's passphrase */
  o = options ("r1", 10, 1, out);
  assert_refused (&o, "not the passphrase", JOB_PASS, TB_ERROR_PERMISSION, NULL);

  /* a job id is used once */
  o = options ("r1", 10, 1, out);
  g_assert_true (tb_job_create (oem->ctx, &o, TB_TEST_OEM_PASS, JOB_PASS, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (out, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (g_unlink (out), ==, 0);
  assert_refused (&o, TB_TEST_OEM_PASS, JOB_PASS, TB_ERROR_EXISTS, "The context already has a job “r1”");
}

/* A job in slices: one package per slice, named FILE-sI before the
 * extension, the devices shared out so that every one is in one slice. */
static void
test_slices (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = path_in_oem ("sliced.tbjob");
  g_autofree char *bare = path_in_oem ("bare");
  g_autofree char *job_id = NULL;
  g_autoptr(GPtrArray) files = NULL;
  TbJobCreateOptions o = options ("sliced", 10, 3, out);
  guint64 next = 0;

  g_assert_true (tb_job_create (oem->ctx, &o, TB_TEST_OEM_PASS, JOB_PASS, &job_id, &files, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (job_id, ==, "sliced");
  g_assert_cmpuint (files->len, ==, 3);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *expected = g_strdup_printf ("%s/sliced-s%u.tbjob", oem->tmp, i + 1);
      g_autoptr(TbJobPackage) p = NULL;
      JsonObject *man;

      g_assert_cmpstr (g_ptr_array_index (files, i), ==, expected);
      p = tb_job_package_load (expected, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (tb_job_package_get_job_id (p), ==, "sliced");
      man = tb_job_package_get_manifest (p);
      g_assert_cmpint (json_object_get_int_member (man, "slice"), ==, i + 1);
      g_assert_cmpint (json_object_get_int_member (man, "slices"), ==, 3);
      g_assert_cmpint (json_object_get_int_member (man, "total_count"), ==, 10);
      g_assert_cmpint (json_object_get_int_member (man, "first"), ==, (gint64) next);
      g_assert_cmpint (json_object_get_int_member (man, "count"), >=, 3);
      next += (guint64) json_object_get_int_member (man, "count");
    }
  g_assert_cmpuint (next, ==, 10);
  g_assert_true (tb_context_has_entry (oem->ctx, TB_INVENTORY_JOBS, "sliced"));

  /* an output without an extension, and a generated job id */
  g_clear_pointer (&files, g_ptr_array_unref);
  g_clear_pointer (&job_id, g_free);
  o = options (NULL, 2, 2, bare);
  g_assert_true (tb_job_create (oem->ctx, &o, TB_TEST_OEM_PASS, JOB_PASS, &job_id, &files, &error));
  g_assert_no_error (error);
  g_assert_true (tb_name_is_valid (job_id, NULL));
  g_assert_true (tb_context_has_entry (oem->ctx, TB_INVENTORY_JOBS, job_id));
  g_assert_cmpuint (files->len, ==, 2);
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *expected = g_strdup_printf ("%s-s%u", bare, i + 1);
      g_assert_cmpstr (g_ptr_array_index (files, i), ==, expected);
      g_assert_true (g_file_test (expected, G_FILE_TEST_IS_REGULAR));
    }
}

/* ---- a corpus of malformed packages ---- */

static char *good_package;

static JsonObject *
parse_package (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static char *
to_text (JsonObject *obj)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), obj);
  return json_to_string (node, FALSE);
}

typedef void (*Mutate) (JsonObject *pkg);

static void set_version_1 (JsonObject *pkg) { json_object_set_int_member (pkg, "version", 1); }
static void set_version_3 (JsonObject *pkg) { json_object_set_int_member (pkg, "version", 3); }
static void set_version_text (JsonObject *pkg) { json_object_set_string_member (pkg, "version", "2"); }
static void set_version_negative (JsonObject *pkg) { json_object_set_int_member (pkg, "version", -2); }
static void set_format (JsonObject *pkg) { json_object_set_string_member (pkg, "format", "trustbench-jobs"); }
static void drop_format (JsonObject *pkg) { json_object_remove_member (pkg, "format"); }
/* found by fuzz-job: an object where the format string is due was a GLib critical */
static void object_format (JsonObject *pkg) { json_object_set_object_member (pkg, "format", json_object_new ()); }
static void drop_manifest (JsonObject *pkg) { json_object_remove_member (pkg, "manifest"); }
static void drop_signature (JsonObject *pkg) { json_object_remove_member (pkg, "signature"); }
static void number_signature (JsonObject *pkg) { json_object_set_int_member (pkg, "signature", 7); }
static void drop_root (JsonObject *pkg) { json_object_remove_member (pkg, "root_certificate"); }
static void garble_root (JsonObject *pkg) { json_object_set_string_member (pkg, "root_certificate", "not PEM"); }
static void set_job_id (JsonObject *pkg) { json_object_set_string_member (pkg, "job_id", "other"); }
static void drop_slice (JsonObject *pkg) { json_object_remove_member (pkg, "slice"); }

static void
garble_signature (JsonObject *pkg)
{
  json_object_set_string_member (pkg, "signature", "MEUCIQDxAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==");
}

/* the manifest said otherwise, the signature kept */
static void
alter_manifest (JsonObject *pkg)
{
  gsize len = 0;
  g_autofree guchar *text = g_base64_decode (json_object_get_string_member (pkg, "manifest"), &len);
  g_autofree char *manifest = g_strndup ((const char *) text, len);
  g_autoptr(JsonObject) man = parse_package (manifest);
  g_autofree char *altered = NULL;
  g_autofree char *b64 = NULL;

  json_object_set_int_member (man, "total_count", 1000);
  altered = to_text (man);
  b64 = g_base64_encode ((const guint8 *) altered, strlen (altered));
  json_object_set_string_member (pkg, "manifest", b64);
}

static void
truncate_image (JsonObject *pkg)
{
  gsize len = 0;
  g_autofree guchar *image = g_base64_decode (json_object_get_string_member (pkg, "image"), &len);
  g_autofree char *b64 = g_base64_encode (image, len - 16);

  json_object_set_string_member (pkg, "image", b64);
}

static void
swap_pair (JsonObject *pkg)
{
  g_autofree char *upk = g_strdup (json_object_get_string_member (pkg, "upk"));

  json_object_set_string_member (pkg, "upk", json_object_get_string_member (pkg, "image"));
  json_object_set_string_member (pkg, "image", upk);
}

static void
load_refused (const char *path, gint code, const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbJobPackage) p = tb_job_package_load (path, &error);

  g_assert_null (p);
  g_assert_error (error, TB_ERROR, code);
  if (message != NULL && g_str_has_suffix (message, "…"))
    {
      g_autofree char *prefix = g_strndup (message, strlen (message) - strlen ("…"));
      g_assert_true (g_str_has_prefix (error->message, prefix));
    }
  else if (message != NULL)
    g_assert_cmpstr (error->message, ==, message);
}

static void
test_package_broken (void)
{
  g_autofree char *broken = path_in_oem ("broken.tbjob");
  g_autofree char *big = path_in_oem ("big.tbjob");
  struct {
    Mutate mutate;
    gint code;
    const char *message; /* %s: the path; a trailing … : a prefix */
  } cases[] = {
    { set_format, TB_ERROR_INVALID_DATA, "%s is not a Trustbench job package" },
    { drop_format, TB_ERROR_INVALID_DATA, "%s is not a Trustbench job package" },
    { object_format, TB_ERROR_INVALID_DATA, "%s is not a Trustbench job package" },
    { set_version_1, TB_ERROR_UNSUPPORTED,
      "%s is a job package of format version 1, whose job id and slice are not covered by its signature; this "
      "Trustbench reads version 2: ask the OEM to make the job again" },
    { set_version_3, TB_ERROR_UNSUPPORTED, "%s is a job package of format version 3; this Trustbench reads version 2" },
    { set_version_text, TB_ERROR_INVALID_DATA, "%s: “version” is missing or out of range" },
    { set_version_negative, TB_ERROR_INVALID_DATA, "%s: “version” is missing or out of range" },
    { drop_manifest, TB_ERROR_INVALID_DATA, "%s: “manifest” is missing or not a string" },
    { drop_signature, TB_ERROR_INVALID_DATA, "%s: “signature” is missing or not a string" },
    { number_signature, TB_ERROR_INVALID_DATA, "%s: “signature” is missing or not a string" },
    { drop_root, TB_ERROR_INVALID_DATA, "%s: “root_certificate” is missing or not a string" },
    { garble_root, TB_ERROR_VERIFY_FAILED, "%s: the job's root certificate is unreadable (…" },
    { garble_signature, TB_ERROR_VERIFY_FAILED, "The job manifest is not signed by the OEM root …" },
    { alter_manifest, TB_ERROR_VERIFY_FAILED, "The job manifest is not signed by the OEM root …" },
    { set_job_id, TB_ERROR_VERIFY_FAILED,
      "%s: the package's “job_id” is missing or not the one its signed manifest says: the package was altered" },
    { drop_slice, TB_ERROR_VERIFY_FAILED,
      "%s: the package's “slice” is missing or not the one its signed manifest says: the package was altered" },
    { truncate_image, TB_ERROR_VERIFY_FAILED, "%s: the image pair is not the one the OEM signed in the job" },
    { swap_pair, TB_ERROR_VERIFY_FAILED, "%s: the image pair is not the one the OEM signed in the job" },
  };

  /* the good one loads */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(TbJobPackage) p = NULL;
    tb_test_write_file (broken, good_package);
    p = tb_job_package_load (broken, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (tb_job_package_get_job_id (p), ==, "corpus");
  }

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) pkg = parse_package (good_package);
      g_autofree char *text = NULL;
      g_autofree char *message = NULL;

      cases[i].mutate (pkg);
      text = to_text (pkg);
      tb_test_write_file (broken, text);
      {
        g_auto(GStrv) parts = g_strsplit (cases[i].message, "%s", -1);
        message = g_strjoinv (broken, parts);
      }
      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, message);
      load_refused (broken, cases[i].code, message);
    }

  /* not a package at all */
  {
    g_autofree char *missing = path_in_oem ("missing.tbjob");
    g_autofree char *m1 = g_strdup_printf ("Cannot read %s: No such file or directory", missing);
    g_autofree char *m2 = g_strdup_printf ("Cannot read %s: not a regular file", oem->tmp);
    g_autofree char *m3 = g_strdup_printf ("%s is not valid JSON: …", broken);
    g_autofree char *m4 = g_strdup_printf ("%s is not a JSON object", broken);
    g_autofree char *m5 = g_strdup_printf ("Cannot read %s: 50331649 bytes is more than the limit of 50331648 bytes",
                                           big);
    int fd;

    load_refused (missing, TB_ERROR_NOT_FOUND, m1);
    load_refused (oem->tmp, TB_ERROR_INVALID_DATA, m2);
    tb_test_write_file (broken, "");
    load_refused (broken, TB_ERROR_INVALID_DATA, m4);
    tb_test_write_file (broken, "{\"format\": \"trustbench-job\",");
    load_refused (broken, TB_ERROR_INVALID_DATA, m3);
    tb_test_write_file (broken, "[\"trustbench-job\"]");
    load_refused (broken, TB_ERROR_INVALID_DATA, m4);
    /* a package over the limit is refused before it is read */
    fd = g_open (big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (ftruncate (fd, TB_JOB_FILE_MAX_BYTES + 1), ==, 0);
    g_assert_cmpint (close (fd), ==, 0);
    load_refused (big, TB_ERROR_INVALID_DATA, m5);
  }
}

/* What a station refuses at import, exactly. */
static void
test_import_refusals (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pkg_path = path_in_oem ("import.tbjob");
  g_autofree char *station_dir = path_in_oem ("station");
  g_autoptr(TbContext) station = tb_context_create (station_dir, "Line 1", &error);
  g_autoptr(TbJobPackage) p = NULL;
  g_autoptr(TbCert) root = tb_cert_load (oem->ctx, TB_KEY_NAME_ROOT_CA, NULL);
  g_autofree char *message = NULL;
  const char *wrong = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

  g_assert_no_error (error);
  tb_test_write_file (pkg_path, good_package);
  p = tb_job_package_load (pkg_path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tb_job_package_get_root_sha256 (p), ==, tb_cert_get_sha256 (root));

  /* a station that trusts no root yet needs its fingerprint */
  g_assert_false (tb_job_import (station, p, NULL, JOB_PASS, STATION_PASS, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  message = g_strdup_printf ("This station trusts no OEM root yet. The job is signed by the root with SHA-256 "
                             "fingerprint %s: confirm it with the OEM out of band, then import with that "
                             "fingerprint", tb_cert_get_sha256 (root));
  g_assert_cmpstr (error->message, ==, message);
  g_clear_error (&error);
  g_clear_pointer (&message, g_free);
  g_assert_false (tb_job_import (station, p, wrong, JOB_PASS, STATION_PASS, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  message = g_strdup_printf ("The job is signed by the root %s, not by the root you confirmed (%s): refused",
                             tb_cert_get_sha256 (root), wrong);
  g_assert_cmpstr (error->message, ==, message);
  g_clear_error (&error);
  /* nothing pinned by a refused import */
  {
    g_autoptr(TbCert) pinned = tb_job_get_pinned_root (station, &error);
    g_assert_no_error (error);
    g_assert_null (pinned);
  }

  /* the package's keys need the job passphrase */
  g_assert_false (tb_job_import (station, p, tb_cert_get_sha256 (root), "wrong job passphrase", STATION_PASS, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
  g_assert_cmpstr (error->message, ==, "Wrong job passphrase: the package's keys do not open with it");
  g_clear_error (&error);
  g_assert_false (tb_context_has_entry (station, TB_INVENTORY_JOBS, "corpus"));

  /* imported once (the fingerprint in either case), then refused */
  {
    g_autofree char *upper = g_ascii_strup (tb_cert_get_sha256 (root), -1);
    g_assert_true (tb_job_import (station, p, upper, JOB_PASS, STATION_PASS, &error));
    g_assert_no_error (error);
  }
  g_assert_true (tb_context_has_entry (station, TB_INVENTORY_JOBS, "corpus"));
  g_assert_false (tb_job_import (station, p, NULL, JOB_PASS, STATION_PASS, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_EXISTS);
  g_assert_cmpstr (error->message, ==, "Job “corpus” is already imported in this context");
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *corpus = NULL;
  TbTestImage image = { 0 };
  TbJobCreateOptions o;
  int rc;

  g_test_init (&argc, &argv, NULL);
  oem = tb_test_oem_new (NULL);
  pair = tb_test_oem_master (oem, "app", &image);
  corpus = path_in_oem ("corpus.tbjob");
  o = options ("corpus", 5, 1, corpus);
  g_assert_true (tb_job_create (oem->ctx, &o, TB_TEST_OEM_PASS, JOB_PASS, NULL, NULL, &error));
  g_assert_no_error (error);
  good_package = tb_test_read_file (corpus, NULL);

  g_test_add_func ("/tb/job/create-refusals", test_create_refusals);
  g_test_add_func ("/tb/job/slices", test_slices);
  g_test_add_func ("/tb/job/package-broken", test_package_broken);
  g_test_add_func ("/tb/job/import-refusals", test_import_refusals);
  rc = g_test_run ();
  g_free (good_package);
  tb_test_mastered_free (pair);
  tb_test_oem_free (oem);
  return rc;
}
