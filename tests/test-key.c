/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "tb-context-private.h"
#include "tb-key-private.h"
#include "tb-test-secrets.h"
#include "tb-test-util.h"
#include "trustbench.h"

#define PASS "correct horse battery"

typedef struct {
  char *tmp;
  char *dir;
  TbContext *ctx;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = tb_test_make_tmpdir ();
  f->dir = g_build_filename (f->tmp, "ctx", NULL);
  f->ctx = tb_context_create (f->dir, "Key Test", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->ctx);
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->dir);
}

/* Runs a command line tool (openssl) and asserts it succeeded. */
static void
run_ok (const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", argv[0], err);
}

static void
test_generate_store_unlock (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) secrets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  const char *const *algs = tb_key_algorithms ();

  for (guint i = 0; algs[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TbKey) key = tb_key_generate (algs[i], &error);
      g_autoptr(TbKey) loaded = NULL;
      g_autofree char *name = g_strdup_printf ("k-%s", algs[i]);

      g_assert_no_error (error);
      g_assert_cmpstr (tb_key_get_algorithm (key), ==, algs[i]);
      g_assert_true (tb_key_has_private (key));
      g_ptr_array_add (secrets, tb_test_private_material (key));
      g_assert_true (tb_key_store (key, f->ctx, name, TB_KEY_USAGE_MASTERING, PASS, &error));
      g_assert_no_error (error);
      g_assert_true (tb_context_save (f->ctx, &error));
      tb_test_assert_no_secret_on_disk (f->dir, secrets);

      loaded = tb_key_load (f->ctx, name, &error);
      g_assert_no_error (error);
      g_assert_false (tb_key_has_private (loaded));
      g_assert_cmpstr (tb_key_get_public_sha256 (loaded), ==, tb_key_get_public_sha256 (key));
      g_assert_cmpstr (tb_key_get_storage (loaded), ==, "file");
      g_assert_cmpint (tb_key_get_usage (loaded), ==, TB_KEY_USAGE_MASTERING);

      g_assert_false (tb_key_unlock (loaded, f->ctx, "not the passphrase", &error));
      g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
      g_assert_nonnull (strstr (error->message, "Wrong passphrase"));
      g_clear_error (&error);
      g_assert_false (tb_key_has_private (loaded));
      g_assert_true (tb_key_unlock (loaded, f->ctx, PASS, &error));
      g_assert_no_error (error);
      g_assert_true (EVP_PKEY_eq (tb_key_get_private_pkey (loaded), tb_key_get_private_pkey (key)) == 1);
    }
}

static void
test_store_refusals (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKey) key = tb_key_generate ("ec-p256", &error);
  g_autoptr(TbKey) pub_only = NULL;

  g_assert_null (tb_key_generate ("ec-p521", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (tb_key_store (key, f->ctx, "short", TB_KEY_USAGE_JOB, "1234567", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (tb_key_store (key, f->ctx, "../k", TB_KEY_USAGE_JOB, PASS, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (tb_key_store (key, f->ctx, "k", TB_KEY_USAGE_JOB, PASS, &error));
  g_assert_false (tb_key_store (key, f->ctx, "k", TB_KEY_USAGE_JOB, PASS, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_true (tb_context_save (f->ctx, &error));
  pub_only = tb_key_load (f->ctx, "k", &error);
  g_assert_false (tb_key_store (pub_only, f->ctx, "k2", TB_KEY_USAGE_JOB, PASS, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
}

static void
test_tampered_public (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKey) a = tb_key_generate ("ec-p256", &error);
  g_autoptr(TbKey) b = tb_key_generate ("ec-p256", &error);
  g_autoptr(TbKey) loaded = NULL;
  g_autofree char *a_pub = g_build_filename (f->dir, "keys", "a.pub", NULL);
  g_autofree char *b_pub = g_build_filename (f->dir, "keys", "b.pub", NULL);
  g_autofree char *b_pem = NULL;
  g_autofree char *a_key = g_build_filename (f->dir, "keys", "a.key", NULL);
  g_autofree char *b_key = g_build_filename (f->dir, "keys", "b.key", NULL);
  g_autofree char *b_key_pem = NULL;

  g_assert_true (tb_key_store (a, f->ctx, "a", TB_KEY_USAGE_JOB, PASS, &error));
  g_assert_true (tb_key_store (b, f->ctx, "b", TB_KEY_USAGE_JOB, PASS, &error));
  g_assert_true (tb_context_save (f->ctx, &error));

  /* a swapped private key file is detected on unlock */
  b_key_pem = tb_test_read_file (b_key, NULL);
  tb_test_write_file (a_key, b_key_pem);
  loaded = tb_key_load (f->ctx, "a", &error);
  g_assert_no_error (error);
  g_assert_false (tb_key_unlock (loaded, f->ctx, PASS, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);
  g_clear_object (&loaded);

  /* a swapped public key file is detected on load */
  b_pem = tb_test_read_file (b_pub, NULL);
  tb_test_write_file (a_pub, b_pem);
  loaded = tb_key_load (f->ctx, "a", &error);
  g_assert_null (loaded);
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);

  /* a key whose storage this build does not know is refused, not guessed */
  {
    g_autoptr(TbKey) elsewhere = NULL;
    JsonObject *entry = tb_context_find_entry (f->ctx, TB_INVENTORY_KEYS, "b");
    json_object_set_string_member (entry, "storage", "tpm2:handle=0x81000001");
    elsewhere = tb_key_load (f->ctx, "b", &error);
    g_assert_no_error (error);
    g_assert_false (tb_key_unlock (elsewhere, f->ctx, PASS, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED);
    g_clear_error (&error);
    g_clear_object (&elsewhere);
    /* a token no module offers: a clear "not found" */
    json_object_set_string_member (entry, "storage", "pkcs11:token=vault;object=b");
    elsewhere = tb_key_load (f->ctx, "b", &error);
    g_assert_no_error (error);
    g_assert_false (tb_key_unlock (elsewhere, f->ctx, PASS, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
    g_clear_error (&error);
    json_object_set_string_member (entry, "storage", "file");
  }

  /* garbage in the key file */
  tb_test_write_file (b_key, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
  loaded = tb_key_load (f->ctx, "b", &error);
  g_assert_no_error (error);
  g_assert_false (tb_key_unlock (loaded, f->ctx, PASS, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
}

static void
test_import (Fixture *f, gconstpointer data)
{
  const char *openssl = g_getenv ("TB_OPENSSL") ?: "openssl";
  g_autofree char *pem = g_build_filename (f->tmp, "ec.pem", NULL);
  g_autofree char *trad = g_build_filename (f->tmp, "ec-trad.pem", NULL);
  g_autofree char *der = g_build_filename (f->tmp, "ec.der", NULL);
  g_autofree char *enc = g_build_filename (f->tmp, "ec-enc.pem", NULL);
  g_autofree char *crt = g_build_filename (f->tmp, "ec.crt", NULL);
  g_autofree char *p12 = g_build_filename (f->tmp, "ec.p12", NULL);
  g_autofree char *pub = g_build_filename (f->tmp, "ec-pub.pem", NULL);
  g_autofree char *junk = g_build_filename (f->tmp, "junk.pem", NULL);
  g_autofree char *empty = g_build_filename (f->tmp, "empty", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *reference = NULL;
  struct {
    const char *path;
    const char *pass;
  } good[] = { { pem, NULL }, { trad, NULL }, { der, NULL }, { enc, "importpass" }, { p12, "p12pass123" } };

  run_ok ((const char *const[]){ openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384",
                                 "-out", pem, NULL });
  run_ok ((const char *const[]){ openssl, "ec", "-in", pem, "-out", trad, NULL });
  run_ok ((const char *const[]){ openssl, "pkey", "-in", pem, "-outform", "DER", "-out", der, NULL });
  run_ok ((const char *const[]){ openssl, "pkcs8", "-topk8", "-in", pem, "-passout", "pass:importpass",
                                 "-v2", "aes-256-cbc", "-out", enc, NULL });
  run_ok ((const char *const[]){ openssl, "req", "-new", "-x509", "-key", pem, "-subj", "/CN=import",
                                 "-days", "10", "-out", crt, NULL });
  run_ok ((const char *const[]){ openssl, "pkcs12", "-export", "-inkey", pem, "-in", crt, "-passout",
                                 "pass:p12pass123", "-out", p12, NULL });
  run_ok ((const char *const[]){ openssl, "pkey", "-in", pem, "-pubout", "-out", pub, NULL });
  tb_test_write_file (junk, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
  tb_test_write_file (empty, "");

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(TbKey) key = tb_key_import_file (good[i].path, good[i].pass, &error);
      if (error != NULL)
        g_error ("%s: %s", good[i].path, error->message);
      g_assert_true (tb_key_has_private (key));
      g_assert_cmpstr (tb_key_get_algorithm (key), ==, "ec-p384");
      if (reference == NULL)
        reference = g_strdup (tb_key_get_public_sha256 (key));
      g_assert_cmpstr (tb_key_get_public_sha256 (key), ==, reference);
    }

  {
    g_autoptr(TbKey) key = tb_key_import_file (enc, "wrong", &error);
    g_assert_null (key);
    g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
    g_clear_error (&error);
    key = tb_key_import_file (enc, NULL, &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
    g_clear_error (&error);
    key = tb_key_import_file (p12, "wrong", &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
    g_clear_error (&error);
    key = tb_key_import_file (pub, NULL, &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_assert_nonnull (strstr (error->message, "only a public key"));
    g_clear_error (&error);
    key = tb_key_import_file (junk, NULL, &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_assert_nonnull (strstr (error->message, junk));
    g_clear_error (&error);
    key = tb_key_import_file (empty, NULL, &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_clear_error (&error);
    key = tb_key_import_file (crt, NULL, &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_clear_error (&error);
  }

  /* an imported key is stored encrypted like a generated one */
  {
    g_autoptr(TbKey) key = tb_key_import_file (trad, NULL, &error);
    g_autoptr(GPtrArray) secrets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
    g_autofree char *exported = g_build_filename (f->tmp, "exported.pub", NULL);
    g_autofree char *exported_text = NULL;
    g_autofree char *pub_text = tb_test_read_file (pub, NULL);

    g_assert_no_error (error);
    g_ptr_array_add (secrets, tb_test_private_material (key));
    g_assert_true (tb_key_store (key, f->ctx, "imported", TB_KEY_USAGE_ROOT_CA, PASS, &error));
    g_assert_true (tb_context_save (f->ctx, &error));
    g_assert_no_error (error);
    tb_test_assert_no_secret_on_disk (f->dir, secrets);
    g_assert_true (tb_key_export_public (key, exported, &error));
    exported_text = tb_test_read_file (exported, NULL);
    g_assert_cmpstr (exported_text, ==, pub_text);
  }
}

static void
test_usage_names (void)
{
  TbKeyUsage usage;
  g_autoptr(GError) error = NULL;

  for (TbKeyUsage u = 0; u < TB_KEY_USAGE_N; u++)
    {
      g_assert_true (tb_key_usage_from_string (tb_key_usage_to_string (u), &usage, NULL));
      g_assert_cmpint (usage, ==, u);
      g_assert_nonnull (tb_key_usage_describe (u));
    }
  g_assert_false (tb_key_usage_from_string ("signing", &usage, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/tb/key/generate-store-unlock", test_generate_store_unlock);
  ADD ("/tb/key/store-refusals", test_store_refusals);
  ADD ("/tb/key/tampered", test_tampered_public);
  ADD ("/tb/key/import", test_import);
#undef ADD
  g_test_add_func ("/tb/key/usage-names", test_usage_names);
  return g_test_run ();
}
