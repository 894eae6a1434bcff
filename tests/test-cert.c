/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Certificates: the default hierarchy, CSR issuance, verification and
 * export, with the openssl command line as the external judge. */

#include "config.h"

#include <openssl/core_names.h>
#include <openssl/x509v3.h>

#include "tb-key-private.h"

#include "tb-cert-private.h"
#include "tb-test-secrets.h"
#include "tb-test-util.h"
#include "trustbench.h"

#define PASS "correct horse battery"

typedef struct {
  char *tmp;
  char *dir;
  TbContext *ctx;
} Fixture;

static const char *
openssl (void)
{
  return g_getenv ("TB_OPENSSL") ?: "openssl";
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *products[] = { "sensor", "gateway", NULL };

  f->tmp = tb_test_make_tmpdir ();
  f->dir = g_build_filename (f->tmp, "ctx", NULL);
  f->ctx = tb_context_create (f->dir, "ACME Test", &error);
  g_assert_no_error (error);
  g_assert_true (tb_hierarchy_create (f->ctx, products, data, PASS, NULL, &error));
  g_assert_no_error (error);
}

/* After every test: no private key of the context lies in clear anywhere
 * in the context directory, whatever the test did with it. */
static void
assert_no_secret (Fixture *f)
{
  g_autoptr(GPtrArray) secrets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_auto(GStrv) keys = tb_context_dup_ids (f->ctx, TB_INVENTORY_KEYS);

  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autoptr(TbKey) key = tb_key_load (f->ctx, keys[i], NULL);
      if (key != NULL && tb_key_unlock (key, f->ctx, PASS, NULL))
        g_ptr_array_add (secrets, tb_test_private_material (key));
    }
  g_assert_cmpuint (secrets->len, >=, 4);
  tb_test_assert_no_secret_on_disk (f->dir, secrets);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  assert_no_secret (f);
  g_clear_object (&f->ctx);
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->dir);
}

/* Runs openssl; returns its exit status, stdout in @out. */
static int
run_openssl (const char *const *args, char **out)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_ptr_array_add (argv, (gpointer) openssl ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_test_message ("openssl said: %s", err);
  return g_spawn_check_wait_status (status, NULL) ? 0 : 1;
}

static char *
cert_path (Fixture *f, const char *name)
{
  g_autofree char *file = g_strdup_printf ("%s.pem", name);
  return g_build_filename (f->dir, "certs", file, NULL);
}

static void
assert_openssl_verifies (Fixture *f, const char *leaf_path, gboolean via_provisioning)
{
  g_autofree char *root = cert_path (f, "root-ca");
  g_autofree char *prov = cert_path (f, "provisioning-ca");
  g_autofree char *out = NULL;

  if (via_provisioning)
    g_assert_cmpint (run_openssl ((const char *const[]){ "verify", "-x509_strict", "-CAfile", root,
                                                         "-untrusted", prov, leaf_path, NULL }, &out), ==, 0);
  else
    g_assert_cmpint (run_openssl ((const char *const[]){ "verify", "-x509_strict", "-CAfile", root,
                                                         leaf_path, NULL }, &out), ==, 0);
  g_assert_nonnull (strstr (out, ": OK"));
}

static void
test_hierarchy (Fixture *f, gconstpointer data)
{
  const char *names[] = { "root-ca", "provisioning-ca", "mastering", "product-sensor", "product-gateway" };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) serials = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(TbCert) cert = tb_cert_load (f->ctx, names[i], &error);
      g_autoptr(TbKey) key = tb_key_load (f->ctx, names[i], &error);
      g_autoptr(GPtrArray) chain = NULL;
      g_autofree char *path = cert_path (f, names[i]);
      g_autofree char *pub = NULL;
      g_autofree char *serial = NULL;
      X509 *x = NULL;
      const ASN1_INTEGER *sn;
      BIGNUM *bn;

      g_assert_no_error (error);
      g_assert_cmpstr (tb_cert_get_key_name (cert), ==, names[i]);
      pub = tb_cert_dup_public_key_sha256 (cert);
      g_assert_cmpstr (pub, ==, tb_key_get_public_sha256 (key));
      assert_openssl_verifies (f, path, FALSE);
      g_assert_true (tb_cert_verify (f->ctx, cert, &chain, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (chain->len, ==, i == 0 ? 1 : 2);

      x = tb_cert_get_x509 (cert);
      g_assert_cmpint (X509_get_version (x), ==, X509_VERSION_3);
      g_assert_nonnull (X509_get0_subject_key_id (x));
      g_assert_nonnull (X509_get0_authority_key_id (x));
      sn = X509_get0_serialNumber (x);
      bn = ASN1_INTEGER_to_BN (sn, NULL);
      g_assert_cmpint (BN_num_bits (bn), >=, 64);
      g_assert_false (BN_is_negative (bn));
      BN_free (bn);
      serial = tb_cert_dup_serial (cert);
      for (guint j = 0; j < serials->len; j++)
        g_assert_cmpstr (g_ptr_array_index (serials, j), !=, serial);
      g_ptr_array_add (serials, g_steal_pointer (&serial));

      if (i < 2)
        {
          g_assert_true (tb_cert_is_ca (cert));
          g_assert_true (X509_get_key_usage (x) & KU_KEY_CERT_SIGN);
          g_assert_cmpint (X509_get_pathlen (x), ==, i == 0 ? 1 : 0);
        }
      else
        g_assert_false (tb_cert_is_ca (cert));
      if (i == 2)
        {
          g_assert_true (X509_get_key_usage (x) & KU_DIGITAL_SIGNATURE);
          g_assert_true (X509_get_extended_key_usage (x) & XKU_CODE_SIGN);
        }
    }
  g_assert_true (tb_context_has_entry (f->ctx, TB_INVENTORY_PRODUCTS, "gateway"));
}

static void
make_csr (Fixture *f, const char *name, char **csr_path)
{
  g_autofree char *key = g_strdup_printf ("%s/%s.key", f->tmp, name);
  g_autofree char *out = NULL;

  *csr_path = g_strdup_printf ("%s/%s.csr", f->tmp, name);
  g_assert_cmpint (run_openssl ((const char *const[]){ "req", "-new", "-newkey", "ec", "-pkeyopt",
                                                       "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                                                       "-subj", "/O=Lab/CN=bench board 7", "-out", *csr_path,
                                                       NULL }, &out), ==, 0);
}

static TbCert *
issue_csr (Fixture *f, const char *csr, gsize len, const char *origin, GError **error)
{
  g_autoptr(TbCert) issuer = tb_cert_load (f->ctx, "provisioning-ca", NULL);
  g_autoptr(TbKey) key = tb_key_load (f->ctx, "provisioning-ca", NULL);

  g_assert_true (tb_key_unlock (key, f->ctx, PASS, NULL));
  return tb_cert_issue_from_csr (issuer, key, csr, len, origin, 30, error);
}

static void
test_csr (Fixture *f, gconstpointer data)
{
  g_autofree char *csr_path = NULL;
  g_autofree char *csr = NULL;
  g_autofree char *der_path = g_build_filename (f->tmp, "req.der", NULL);
  g_autofree char *der = NULL;
  g_autofree char *leaf = g_build_filename (f->tmp, "leaf.pem", NULL);
  g_autofree char *out = NULL;
  gsize len = 0, der_len = 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(TbCert) cert = NULL;
  g_autoptr(GPtrArray) one = g_ptr_array_new ();
  g_autofree char *subject = NULL;

  make_csr (f, "board", &csr_path);
  csr = tb_test_read_file (csr_path, &len);
  cert = issue_csr (f, csr, len, csr_path, &error);
  g_assert_no_error (error);
  subject = tb_cert_dup_subject (cert);
  g_assert_cmpstr (subject, ==, "CN=bench board 7,O=Lab");
  g_ptr_array_add (one, cert);
  g_assert_true (tb_cert_export (one, TB_CERT_FORMAT_PEM, NULL, NULL, leaf, &error));
  assert_openssl_verifies (f, leaf, TRUE);
  g_clear_object (&cert);

  /* DER requests work too */
  g_assert_cmpint (run_openssl ((const char *const[]){ "req", "-in", csr_path, "-outform", "DER", "-out", der_path,
                                                       NULL }, &out), ==, 0);
  der = tb_test_read_file (der_path, &der_len);
  cert = issue_csr (f, der, der_len, der_path, &error);
  g_assert_no_error (error);
  g_clear_object (&cert);

  /* every flipped byte of the signature or the signed content is refused */
  for (gsize off = 8; off < der_len; off += 7)
    {
      g_autofree char *forged = g_memdup2 (der, der_len);
      forged[off] ^= 0x01;
      cert = issue_csr (f, forged, der_len, "forged.der", &error);
      g_assert_null (cert);
      if (!g_error_matches (error, TB_ERROR, TB_ERROR_VERIFY_FAILED) &&
          !g_error_matches (error, TB_ERROR, TB_ERROR_INVALID_DATA))
        g_error ("flip at %" G_GSIZE_FORMAT ": unexpected %s", off, error->message);
      g_clear_error (&error);
    }
  /* a flip in the signature itself is a forgery, not a parse error */
  {
    g_autofree char *forged = g_memdup2 (der, der_len);
    forged[der_len - 3] ^= 0x01;
    cert = issue_csr (f, forged, der_len, "forged.der", &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
    g_assert_nonnull (strstr (error->message, "forged or altered"));
    g_clear_error (&error);
  }

  /* malformed input */
  cert = issue_csr (f, "-----BEGIN CERTIFICATE REQUEST-----\nnope\n-----END CERTIFICATE REQUEST-----\n", 70,
                    "bad.pem", &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "bad.pem"));
  g_clear_error (&error);
  cert = issue_csr (f, der, der_len / 2, "short.der", &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_clear_error (&error);
  cert = issue_csr (f, "", 0, "empty", &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
}

static void
test_usage_refused (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbCert) mastering = tb_cert_load (f->ctx, "mastering", NULL);
  g_autoptr(TbKey) mastering_key = tb_key_load (f->ctx, "mastering", NULL);
  g_autoptr(TbCert) root = tb_cert_load (f->ctx, "root-ca", NULL);
  g_autoptr(TbKey) root_key = tb_key_load (f->ctx, "root-ca", NULL);
  g_autoptr(TbKey) subject = tb_key_generate ("ec-p256", NULL);
  g_autoptr(TbCert) cert = NULL;
  g_autofree char *csr_path = NULL;
  g_autofree char *csr = NULL;
  gsize len = 0;

  /* locked keys cannot issue */
  cert = tb_cert_issue (root, root_key, subject, TB_CERT_PROFILE_JOB, "job", "ACME", 10, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
  g_clear_error (&error);

  g_assert_true (tb_key_unlock (mastering_key, f->ctx, PASS, NULL));
  g_assert_true (tb_key_unlock (root_key, f->ctx, PASS, NULL));
  /* the mastering key signs images, not certificates */
  cert = tb_cert_issue (mastering, mastering_key, subject, TB_CERT_PROFILE_JOB, "job", "ACME", 10, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "mastering"));
  g_clear_error (&error);
  /* the root does not issue device or CSR certificates directly */
  make_csr (f, "x", &csr_path);
  csr = tb_test_read_file (csr_path, &len);
  cert = tb_cert_issue_from_csr (root, root_key, csr, len, csr_path, 10, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* a root-ca key cannot self-sign under another usage, and a product key is no root */
  cert = tb_cert_issue_self_signed (mastering_key, "fake root", "ACME", 10, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* the issuer key must belong to the issuer certificate */
  {
    g_autoptr(TbCert) prov = tb_cert_load (f->ctx, "provisioning-ca", NULL);
    g_autoptr(TbKey) other = tb_key_generate ("ec-p256", NULL);
    g_assert_true (tb_key_store (other, f->ctx, "rogue-ca", TB_KEY_USAGE_PROVISIONING_CA, PASS, NULL));
    cert = tb_cert_issue_from_csr (prov, other, csr, len, csr_path, 10, &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "does not belong"));
    g_clear_error (&error);
  }
  /* the root key may certify a job key */
  cert = tb_cert_issue (root, root_key, subject, TB_CERT_PROFILE_JOB, "job", "ACME", 10, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cert);
}

static void
test_verify_foreign (Fixture *f, gconstpointer data)
{
  g_autofree char *other_dir = g_build_filename (f->tmp, "other", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) other = tb_context_create (other_dir, "Mallory", &error);
  const char *products[] = { "x", NULL };
  g_autoptr(TbCert) foreign = NULL;
  g_autoptr(TbCert) own = tb_cert_load (f->ctx, "mastering", NULL);
  g_autoptr(GBytes) der = NULL;
  g_autofree guint8 *tampered = NULL;
  gsize len = 0;

  g_assert_true (tb_hierarchy_create (other, products, NULL, PASS, NULL, &error));
  foreign = tb_cert_load (other, "mastering", &error);
  g_assert_no_error (error);
  g_assert_false (tb_cert_verify (f->ctx, foreign, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);

  /* one flipped bit in the signature of our own certificate */
  der = tb_cert_get_der (own);
  tampered = g_memdup2 (g_bytes_get_data (der, &len), g_bytes_get_size (der));
  tampered[len - 2] ^= 0x04;
  {
    g_autoptr(TbCert) bad = tb_cert_new_from_data (tampered, len, "tampered.der", &error);
    g_assert_no_error (error);
    g_assert_false (tb_cert_verify (f->ctx, bad, NULL, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
    g_clear_error (&error);
  }
  /* malformed certificate input */
  g_assert_null (tb_cert_new_from_data (tampered, len / 2, "half.der", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_null (tb_cert_new_from_data ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 60,
                                        "bad.pem", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_clear_error (&error);
  {
    g_autofree guint8 *longer = g_malloc (len + 4);
    memcpy (longer, g_bytes_get_data (der, NULL), len);
    memset (longer + len, 0, 4);
    g_assert_null (tb_cert_new_from_data (longer, len + 4, "trailing.der", &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_assert_nonnull (strstr (error->message, "trailing"));
  }
}

static void
test_export (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbCert) prov = tb_cert_load (f->ctx, "provisioning-ca", NULL);
  g_autoptr(TbKey) key = tb_key_load (f->ctx, "provisioning-ca", NULL);
  g_autoptr(GPtrArray) chain = tb_cert_build_chain (f->ctx, prov, &error);
  g_autoptr(GPtrArray) leaf_only = g_ptr_array_new ();
  g_autofree char *pem = g_build_filename (f->tmp, "chain.pem", NULL);
  g_autofree char *der = g_build_filename (f->tmp, "leaf.der", NULL);
  g_autofree char *p12 = g_build_filename (f->tmp, "chain.p12", NULL);
  g_autofree char *out = NULL;
  g_autofree char *text = NULL;
  g_autofree char *root_subject = NULL;
  char *first, *second;

  g_assert_no_error (error);
  g_assert_cmpuint (chain->len, ==, 2);
  g_assert_true (g_ptr_array_index (chain, 0) == prov);
  g_assert_true (tb_cert_export (chain, TB_CERT_FORMAT_PEM, NULL, NULL, pem, &error));
  text = tb_test_read_file (pem, NULL);
  first = strstr (text, "BEGIN CERTIFICATE");
  second = first != NULL ? strstr (first + 1, "BEGIN CERTIFICATE") : NULL;
  g_assert_nonnull (second);
  /* leaf first: openssl reads the first certificate of the file */
  g_assert_cmpint (run_openssl ((const char *const[]){ "x509", "-in", pem, "-noout", "-subject", NULL }, &out), ==, 0);
  g_assert_nonnull (strstr (out, "Provisioning CA"));
  g_clear_pointer (&out, g_free);

  g_assert_false (tb_cert_export (chain, TB_CERT_FORMAT_DER, NULL, NULL, der, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_ptr_array_add (leaf_only, prov);
  g_assert_true (tb_cert_export (leaf_only, TB_CERT_FORMAT_DER, NULL, NULL, der, &error));
  g_assert_cmpint (run_openssl ((const char *const[]){ "x509", "-inform", "DER", "-in", der, "-noout", "-subject",
                                                       NULL }, &out), ==, 0);
  g_clear_pointer (&out, g_free);

  g_assert_true (tb_key_unlock (key, f->ctx, PASS, NULL));
  g_assert_false (tb_cert_export (chain, TB_CERT_FORMAT_PKCS12, key, "short", p12, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (tb_cert_export (chain, TB_CERT_FORMAT_PKCS12, key, "export-pass", p12, &error));
  g_assert_no_error (error);
  g_assert_cmpint (run_openssl ((const char *const[]){ "pkcs12", "-in", p12, "-passin", "pass:export-pass",
                                                       "-nokeys", NULL }, &out), ==, 0);
  root_subject = g_strdup ("ACME Test Root CA");
  g_assert_nonnull (strstr (out, root_subject));
  /* the PKCS#12 key round-trips through our importer */
  {
    g_autoptr(TbKey) back = tb_key_import_file (p12, "export-pass", &error);
    g_assert_no_error (error);
    g_assert_cmpstr (tb_key_get_public_sha256 (back), ==, tb_key_get_public_sha256 (key));
  }
}

static void
test_device (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbCert) prov = tb_cert_load (f->ctx, "provisioning-ca", NULL);
  g_autoptr(TbKey) prov_key = tb_key_load (f->ctx, "provisioning-ca", NULL);
  g_autoptr(TbKey) root_key = tb_key_load (f->ctx, "root-ca", NULL);
  g_autoptr(TbCert) root = tb_cert_load (f->ctx, "root-ca", NULL);
  g_autoptr(TbDeviceCertIssuer) dci = NULL;
  g_autoptr(TbKey) device = tb_key_generate ("ec-p256", NULL);
  g_autoptr(GBytes) der = NULL;
  g_autoptr(TbCert) cert = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *pub = NULL;
  g_autofree char *path = g_build_filename (f->tmp, "device.pem", NULL);
  g_autoptr(GPtrArray) one = g_ptr_array_new ();
  guint8 point[TB_DEVICE_POINT_LEN];
  size_t len = 0;
  X509 *x;

  g_assert_true (EVP_PKEY_get_octet_string_param (tb_key_get_public_pkey (device),
                                                  OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point, &len));
  g_assert_cmpuint (len, ==, TB_DEVICE_POINT_LEN);

  /* locked or wrong-usage issuers are refused */
  dci = tb_device_cert_issuer_new (prov, prov_key, "ACME Test", 365, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
  g_clear_error (&error);
  g_assert_true (tb_key_unlock (root_key, f->ctx, PASS, NULL));
  dci = tb_device_cert_issuer_new (root, root_key, "ACME Test", 365, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (tb_key_unlock (prov_key, f->ctx, PASS, NULL));
  dci = tb_device_cert_issuer_new (prov, prov_key, "ACME Test", TB_CERT_DAYS_DEVICE, &error);
  g_assert_no_error (error);
  der = tb_device_cert_issuer_issue (dci, point, sizeof point, "0123456789abcdef", &error);
  g_assert_no_error (error);
  cert = tb_cert_new_from_data (g_bytes_get_data (der, NULL), g_bytes_get_size (der), "device", &error);
  g_assert_no_error (error);
  subject = tb_cert_dup_subject (cert);
  g_assert_cmpstr (subject, ==, "serialNumber=0123456789abcdef,CN=Device 0123456789abcdef,O=ACME Test");
  pub = tb_cert_dup_public_key_sha256 (cert);
  g_assert_cmpstr (pub, ==, tb_key_get_public_sha256 (device));
  g_assert_false (tb_cert_is_ca (cert));
  x = tb_cert_get_x509 (cert);
  g_assert_true (X509_get_key_usage (x) & KU_KEY_AGREEMENT);
  g_assert_true (X509_get_extended_key_usage (x) & XKU_SSL_CLIENT);
  g_assert_true (tb_cert_verify (f->ctx, cert, NULL, &error));
  g_assert_no_error (error);
  g_ptr_array_add (one, cert);
  g_assert_true (tb_cert_export (one, TB_CERT_FORMAT_PEM, NULL, NULL, path, &error));
  assert_openssl_verifies (f, path, TRUE);

  /* two devices with the same key get different serials */
  {
    g_autoptr(GBytes) again = tb_device_cert_issuer_issue (dci, point, sizeof point, "0123456789abcdef", &error);
    g_autoptr(TbCert) c2 = tb_cert_new_from_data (g_bytes_get_data (again, NULL), g_bytes_get_size (again), "d2",
                                                  &error);
    g_autofree char *s1 = tb_cert_dup_serial (cert);
    g_autofree char *s2 = tb_cert_dup_serial (c2);
    g_assert_cmpstr (s1, !=, s2);
  }

  /* bad points and UIDs */
  {
    guint8 bad[TB_DEVICE_POINT_LEN];
    GBytes *none;

    memcpy (bad, point, sizeof bad);
    bad[64] ^= 0x01; /* off the curve */
    none = tb_device_cert_issuer_issue (dci, bad, sizeof bad, "01", &error);
    g_assert_null (none);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_clear_error (&error);
    none = tb_device_cert_issuer_issue (dci, point, 33, "01", &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_clear_error (&error);
    memcpy (bad, point, sizeof bad);
    bad[0] = 0x02;
    none = tb_device_cert_issuer_issue (dci, bad, sizeof bad, "01", &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_clear_error (&error);
    for (const char *const *uid = (const char *const[]){ "", "1", "0g", "ab cd", NULL }; *uid != NULL; uid++)
      {
        none = tb_device_cert_issuer_issue (dci, point, sizeof point, *uid, &error);
        g_assert_null (none);
        g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
        g_clear_error (&error);
      }
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, alg, fn) g_test_add (path, Fixture, alg, fixture_setup, fn, fixture_teardown)
  ADD ("/tb/cert/hierarchy/ec-p256", "ec-p256", test_hierarchy);
  ADD ("/tb/cert/hierarchy/ec-p384", "ec-p384", test_hierarchy);
  ADD ("/tb/cert/hierarchy/ed25519", "ed25519", test_hierarchy);
  ADD ("/tb/cert/hierarchy/rsa-3072", "rsa-3072", test_hierarchy);
  ADD ("/tb/cert/csr", NULL, test_csr);
  ADD ("/tb/cert/usage-refused", NULL, test_usage_refused);
  ADD ("/tb/cert/verify-foreign", NULL, test_verify_foreign);
  ADD ("/tb/cert/export", NULL, test_export);
  ADD ("/tb/cert/device", NULL, test_device);
#undef ADD
  return g_test_run ();
}
