/* SPDX-License-Identifier: GPL-3.0-or-later */

/* tb_cert_workflow_issue_from_csr(): `cert issue --csr` and the Keys
 * page's Issue From Request, one issuer rule and one validity. */

#include "config.h"

#include <glib/gstdio.h>

#include "tb-test-context.h"
#include "trustbench.h"

#define PASS "correct horse battery"

typedef struct {
  TbTestContext t;
  char *csr;
  char *out;
} Fixture;

/* A context with the default hierarchy, and a request for a board made
 * by openssl. */
static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *products[] = { "sensor", NULL };
  g_autofree char *key = NULL;
  g_autofree char *err = NULL;
  const char *openssl = g_getenv ("TB_OPENSSL") ?: "openssl";
  int status = 0;

  tb_test_context_setup (&f->t, "Issue Test");
  f->csr = g_build_filename (f->t.tmp, "board.csr", NULL);
  f->out = g_build_filename (f->t.tmp, "board.cert.pem", NULL);
  key = g_build_filename (f->t.tmp, "board.key", NULL);
  g_assert_true (tb_hierarchy_create (f->t.ctx, products, NULL, PASS, NULL, &error));
  g_assert_no_error (error);
  g_spawn_sync (NULL, (char *[]){ (char *) openssl, "req", "-new", "-newkey", "ec", "-pkeyopt",
                                  "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj",
                                  "/O=Lab/CN=bench board 9", "-out", f->csr, NULL },
                NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("openssl req failed: %s", err);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  tb_test_context_teardown (&f->t);
  g_free (f->csr);
  g_free (f->out);
}

static gint64
validity_days (TbCert *cert)
{
  return g_date_time_difference (tb_cert_get_not_after (cert), tb_cert_get_not_before (cert)) / G_TIME_SPAN_DAY;
}

/* The validity asked for is the validity issued (the GUI used to ignore
 * it), and what is written is the certificate returned. */
static void
test_issue_validity (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const TbCsrIssueOptions options = { .csr_path = f->csr, .days = 30, .output = f->out, .passphrase = PASS };
  g_autoptr(TbCert) cert = tb_cert_workflow_issue_from_csr (f->t.ctx, &options, NULL, &error);
  g_autoptr(TbCert) written = NULL;
  g_autoptr(GPtrArray) chain = NULL;
  g_autofree char *subject = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (validity_days (cert), ==, 30);
  subject = tb_cert_dup_subject (cert);
  g_assert_nonnull (strstr (subject, "bench board 9"));
  written = tb_cert_new_from_file (f->out, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tb_cert_get_sha256 (written), ==, tb_cert_get_sha256 (cert));
  /* issued by the provisioning CA (the default issuer), chained to the root */
  g_assert_true (tb_cert_verify (f->t.ctx, written, &chain, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (chain->len, ==, 3);
}

static void
test_issue_default_validity (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const TbCsrIssueOptions options = {
    .issuer = "provisioning-ca", .csr_path = f->csr, .output = f->out, .passphrase = PASS,
  };
  g_autoptr(TbCert) cert = tb_cert_workflow_issue_from_csr (f->t.ctx, &options, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (validity_days (cert), ==, TB_CERT_DAYS_LEAF);
}

/* A certificate with no key of its own cannot issue, even when a key of
 * the same name exists (the GUI used to fall back to it). */
static void
test_issuer_without_key (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbCert) ca = tb_cert_load (f->t.ctx, "provisioning-ca", &error);
  const TbKeyGenerateOptions key_options = {
    .name = "spare-ca", .usage = TB_KEY_USAGE_PROVISIONING_CA, .passphrase = PASS,
  };
  g_autoptr(TbKey) spare = NULL;
  const TbCsrIssueOptions options = {
    .issuer = "spare-ca", .csr_path = f->csr, .output = f->out, .passphrase = PASS,
  };

  g_assert_no_error (error);
  g_assert_true (tb_cert_store (ca, f->t.ctx, "spare-ca", NULL, &error));
  g_assert_no_error (error);
  spare = tb_key_workflow_generate (f->t.ctx, &key_options, NULL, &error);
  g_assert_no_error (error);

  g_assert_null (tb_cert_workflow_find_issuer (f->t.ctx, "spare-ca", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "Certificate “spare-ca” has no key in the context and cannot issue");
  g_clear_error (&error);
  g_assert_null (tb_cert_workflow_issue_from_csr (f->t.ctx, &options, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_false (g_file_test (f->out, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  g_assert_null (tb_cert_workflow_find_issuer (f->t.ctx, "no-such-ca", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
}

/* A wrong passphrase, a missing request, an altered request: refused,
 * nothing written. */
static void
test_issue_refuses (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename (f->t.tmp, "missing.csr", NULL);
  g_autofree char *altered = g_build_filename (f->t.tmp, "altered.csr", NULL);
  g_autofree char *der = g_build_filename (f->t.tmp, "board.der", NULL);
  TbCsrIssueOptions options = { .csr_path = f->csr, .output = f->out, .passphrase = "not the passphrase" };
  const char *openssl = g_getenv ("TB_OPENSSL") ?: "openssl";
  g_autofree char *data_der = NULL;
  gsize len = 0;
  int status = 0;

  g_assert_null (tb_cert_workflow_issue_from_csr (f->t.ctx, &options, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
  g_clear_error (&error);

  options.passphrase = PASS;
  options.csr_path = missing;
  g_assert_null (tb_cert_workflow_issue_from_csr (f->t.ctx, &options, NULL, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  /* the subject changed after signing: the request's signature fails */
  g_spawn_sync (NULL, (char *[]){ (char *) openssl, "req", "-in", f->csr, "-outform", "DER", "-out", der, NULL },
                NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (der, &data_der, &len, &error));
  for (gsize i = 0; i + 5 < len; i++)
    if (memcmp (data_der + i, "board", 5) == 0)
      data_der[i] = 'B';
  g_assert_true (g_file_set_contents (altered, data_der, (gssize) len, &error));
  options.csr_path = altered;
  g_assert_null (tb_cert_workflow_issue_from_csr (f->t.ctx, &options, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);

  g_assert_false (g_file_test (f->out, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add ("/tb/cert-workflow/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("issue-validity", test_issue_validity);
  ADD ("issue-default-validity", test_issue_default_validity);
  ADD ("issuer-without-key", test_issuer_without_key);
  ADD ("issue-refuses", test_issue_refuses);
#undef ADD
  return g_test_run ();
}
