/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include "tb-test-util.h"
#include "trustbench.h"

#define PASS "correct horse battery"

typedef struct {
  char *tmp;
  TbContext *ctx;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  const char *products[] = { "sensor", NULL };

  f->tmp = tb_test_make_tmpdir ();
  dir = g_build_filename (f->tmp, "ctx", NULL);
  f->ctx = tb_context_create (dir, "Policy", &error);
  g_assert_no_error (error);
  g_assert_true (tb_hierarchy_create (f->ctx, products, NULL, PASS, NULL, &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->ctx);
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
}

/* Returns the finding about @subject containing @text, or NULL. */
static TbPolicyFinding *
find (GPtrArray *findings, const char *subject, const char *text)
{
  for (guint i = 0; i < findings->len; i++)
    {
      TbPolicyFinding *f = g_ptr_array_index (findings, i);
      if (g_strcmp0 (f->subject, subject) == 0 && strstr (f->message, text) != NULL)
        return f;
    }
  return NULL;
}

static void
dump (GPtrArray *findings)
{
  for (guint i = 0; i < findings->len; i++)
    {
      TbPolicyFinding *f = g_ptr_array_index (findings, i);
      g_test_message ("%s %s: %s", tb_severity_to_string (f->severity), f->subject, f->message);
    }
}

static void
test_default_hierarchy (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) findings = tb_policy_check_context (f->ctx);
  TbPolicyFinding *root;

  dump (findings);
  g_assert_cmpuint (findings->len, ==, 1);
  root = find (findings, "root-ca", "hardware token");
  g_assert_nonnull (root);
  g_assert_cmpint (root->severity, ==, TB_SEVERITY_WARNING);
}

static TbCert *
issue_from_root (Fixture *f, TbKey *subject, TbCertProfile profile, guint days)
{
  g_autoptr(TbCert) root = tb_cert_load (f->ctx, "root-ca", NULL);
  g_autoptr(TbKey) root_key = tb_key_load (f->ctx, "root-ca", NULL);
  g_autoptr(GError) error = NULL;
  TbCert *cert;

  g_assert_true (tb_key_unlock (root_key, f->ctx, PASS, NULL));
  cert = tb_cert_issue (root, root_key, subject, profile, "subject", "Policy", days, &error);
  g_assert_no_error (error);
  return cert;
}

static void
test_findings (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKey) soon = tb_key_generate ("ec-p256", NULL);
  g_autoptr(TbKey) wrong_role = tb_key_generate ("ec-p256", NULL);
  g_autoptr(TbKey) bad_product = tb_key_generate ("ec-p384", NULL);
  g_autoptr(TbKey) lonely = tb_key_generate ("ec-p256", NULL);
  g_autoptr(TbCert) soon_cert = NULL;
  g_autoptr(TbCert) wrong_cert = NULL;
  g_autoptr(TbCert) long_cert = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  TbPolicyFinding *finding;

  g_assert_true (tb_key_store (soon, f->ctx, "soon", TB_KEY_USAGE_JOB, PASS, &error));
  soon_cert = issue_from_root (f, soon, TB_CERT_PROFILE_JOB, 10);
  g_assert_true (tb_cert_store (soon_cert, f->ctx, "soon", "soon", &error));

  /* a provisioning-ca key certified as an end entity */
  g_assert_true (tb_key_store (wrong_role, f->ctx, "wrong-role", TB_KEY_USAGE_PROVISIONING_CA, PASS, &error));
  wrong_cert = issue_from_root (f, wrong_role, TB_CERT_PROFILE_JOB, 100);
  g_assert_true (tb_cert_store (wrong_cert, f->ctx, "wrong-role", "wrong-role", &error));

  /* a product key that devices cannot use, certified for 30 years */
  g_assert_true (tb_key_store (bad_product, f->ctx, "product-big", TB_KEY_USAGE_PRODUCT, PASS, &error));
  long_cert = issue_from_root (f, bad_product, TB_CERT_PROFILE_PRODUCT, 30 * 365);
  g_assert_true (tb_cert_store (long_cert, f->ctx, "product-big", "product-big", &error));

  g_assert_true (tb_key_store (lonely, f->ctx, "lonely", TB_KEY_USAGE_MASTERING, PASS, &error));
  g_assert_no_error (error);

  findings = tb_policy_check_context (f->ctx);
  dump (findings);
  finding = find (findings, "soon", "expires in");
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, TB_SEVERITY_WARNING);
  finding = find (findings, "wrong-role", "not a CA certificate");
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, TB_SEVERITY_CRITICAL);
  finding = find (findings, "product-big", "must be ec-p256");
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, TB_SEVERITY_CRITICAL);
  finding = find (findings, "product-big", "valid for 30 years");
  g_assert_nonnull (finding);
  finding = find (findings, "lonely", "no certificate");
  g_assert_nonnull (finding);
  /* most severe first */
  g_assert_cmpint (((TbPolicyFinding *) g_ptr_array_index (findings, 0))->severity, ==, TB_SEVERITY_CRITICAL);
}

static void
test_weak_and_tampered (Fixture *f, gconstpointer data)
{
  const char *openssl = g_getenv ("TB_OPENSSL") ?: "openssl";
  g_autofree char *rsa1024 = g_build_filename (f->tmp, "rsa1024.pem", NULL);
  g_autofree char *rsa2048 = g_build_filename (f->tmp, "rsa2048.pem", NULL);
  g_autofree char *cmd1 = g_strdup_printf ("%s genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out %s",
                                           openssl, rsa1024);
  g_autofree char *cmd2 = g_strdup_printf ("%s genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s",
                                           openssl, rsa2048);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKey) weak = NULL;
  g_autoptr(TbKey) medium = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autofree char *cert_file = g_build_filename (tb_context_get_path (f->ctx), "certs", "mastering.pem", NULL);
  g_autofree char *other = g_build_filename (tb_context_get_path (f->ctx), "certs", "provisioning-ca.pem", NULL);
  g_autofree char *other_pem = NULL;
  int status = 0;

  g_assert_true (g_spawn_command_line_sync (cmd1, NULL, NULL, &status, NULL));
  g_assert_true (g_spawn_command_line_sync (cmd2, NULL, NULL, &status, NULL));
  weak = tb_key_import_file (rsa1024, NULL, &error);
  g_assert_no_error (error);
  medium = tb_key_import_file (rsa2048, NULL, &error);
  g_assert_true (tb_key_store (weak, f->ctx, "weak", TB_KEY_USAGE_JOB, PASS, &error));
  g_assert_true (tb_key_store (medium, f->ctx, "medium", TB_KEY_USAGE_JOB, PASS, &error));
  g_assert_no_error (error);
  /* a certificate file replaced behind the context's back */
  other_pem = tb_test_read_file (other, NULL);
  tb_test_write_file (cert_file, other_pem);

  findings = tb_policy_check_context (f->ctx);
  dump (findings);
  g_assert_cmpint (find (findings, "weak", "1024 bits")->severity, ==, TB_SEVERITY_CRITICAL);
  g_assert_cmpint (find (findings, "medium", "2048 bits")->severity, ==, TB_SEVERITY_WARNING);
  g_assert_cmpint (find (findings, "mastering", "cannot be read")->severity, ==, TB_SEVERITY_CRITICAL);
}

/* Files deleted or made unreadable behind the context's back: each is one
 * critical finding naming it, whether or not anything reads it (a private
 * key is read only to sign), and nothing else is blamed for it. */
static void
test_missing_files (Fixture *f, gconstpointer data)
{
  const char *dir = tb_context_get_path (f->ctx);
  g_autofree char *cert_file = g_build_filename (dir, "certs", "mastering.pem", NULL);
  g_autofree char *key_file = g_build_filename (dir, "keys", "product-sensor.key", NULL);
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  TbContextFileProblem *p;

  g_assert_cmpint (g_unlink (cert_file), ==, 0);
  /* a directory in its place: there, but no file to read */
  g_assert_cmpint (g_unlink (key_file), ==, 0);
  g_assert_cmpint (g_mkdir (key_file, 0700), ==, 0);

  problems = tb_context_check_files (f->ctx);
  g_assert_cmpuint (problems->len, ==, 2);
  p = g_ptr_array_index (problems, 0);
  g_assert_cmpint (p->inventory, ==, TB_INVENTORY_KEYS);
  g_assert_cmpstr (p->entry, ==, "product-sensor");
  g_assert_cmpstr (p->file, ==, "keys/product-sensor.key");
  g_assert_cmpstr (p->message, ==, "keys/product-sensor.key, listed for key “product-sensor”, is not a regular file");
  p = g_ptr_array_index (problems, 1);
  g_assert_cmpint (p->inventory, ==, TB_INVENTORY_CERTIFICATES);
  g_assert_cmpstr (p->message, ==, "certs/mastering.pem, listed for certificate “mastering”, is missing");
  g_assert_true (tb_context_entry_has_file_problem (problems, TB_INVENTORY_CERTIFICATES, "mastering"));
  g_assert_false (tb_context_entry_has_file_problem (problems, TB_INVENTORY_KEYS, "mastering"));

  findings = tb_policy_check_context (f->ctx);
  dump (findings);
  g_assert_cmpint (find (findings, "mastering", "certs/mastering.pem, listed for certificate “mastering”, is "
                                                "missing")->severity, ==, TB_SEVERITY_CRITICAL);
  g_assert_cmpint (find (findings, "product-sensor", "keys/product-sensor.key")->severity, ==, TB_SEVERITY_CRITICAL);
  /* reported once: not again as unreadable, as a key without a
   * certificate, nor as a chain failure of the certificates still there */
  g_assert_null (find (findings, "mastering", "cannot be read"));
  g_assert_null (find (findings, "mastering", "has no certificate"));
  g_assert_null (find (findings, "root-ca", "does not chain"));
  g_assert_null (find (findings, "provisioning-ca", "does not chain"));
  /* the two, the root key in a file, nothing more */
  g_assert_cmpuint (findings->len, ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/tb/policy/default-hierarchy", test_default_hierarchy);
  ADD ("/tb/policy/findings", test_findings);
  ADD ("/tb/policy/weak-and-tampered", test_weak_and_tampered);
  ADD ("/tb/policy/missing-files", test_missing_files);
#undef ADD
  return g_test_run ();
}
