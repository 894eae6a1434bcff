/* SPDX-License-Identifier: GPL-3.0-or-later */

/* tb_key_workflow_generate() and tb_key_workflow_import(): the one way a
 * key enters a context, for the CLI, the Keys page and the hierarchy. */

#include "config.h"

#include <glib/gstdio.h>

#include "tb-test-context.h"
#include "tb-test-util.h"
#include "trustbench.h"

#define PASS "correct horse battery"

typedef struct {
  TbTestContext t;
  char *json;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  tb_test_context_setup (&f->t, "Workflow Test");
  f->json = g_build_filename (f->t.dir, TB_CONTEXT_FILE_NAME, NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  tb_test_context_teardown (&f->t);
  g_free (f->json);
}

/* The key as a fresh process sees it: from context.json on disk. */
static TbKey *
load_from_disk (Fixture *f, const char *name, GError **error)
{
  g_autoptr(TbContext) ctx = tb_context_open (f->t.dir, TB_CONTEXT_OPEN_READ, error);

  return ctx != NULL ? tb_key_load (ctx, name, error) : NULL;
}

static void
test_generate_stores_and_saves (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const TbKeyGenerateOptions options = {
    .name = "signer", .usage = TB_KEY_USAGE_MASTERING, .algorithm = "ec-p384", .passphrase = PASS,
  };
  g_autoptr(TbKey) key = tb_key_workflow_generate (f->t.ctx, &options, NULL, &error);
  g_autoptr(TbKey) loaded = NULL;
  g_autoptr(TbContext) ctx = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (key);
  loaded = load_from_disk (f, "signer", &error);
  g_assert_no_error (error);
  g_assert_cmpint (tb_key_get_usage (loaded), ==, TB_KEY_USAGE_MASTERING);
  g_assert_cmpstr (tb_key_get_algorithm (loaded), ==, "ec-p384");
  g_assert_cmpstr (tb_key_get_public_sha256 (loaded), ==, tb_key_get_public_sha256 (key));
  ctx = tb_context_open (f->t.dir, TB_CONTEXT_OPEN_READ, &error);
  g_assert_no_error (error);
  g_assert_false (tb_key_unlock (loaded, ctx, "not the passphrase", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_true (tb_key_unlock (loaded, ctx, PASS, &error));
  g_assert_no_error (error);
}

/* A name already taken, a bad name or an unknown algorithm: refused
 * before anything is generated, context.json untouched. */
static void
test_generate_refuses (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  TbKeyGenerateOptions options = { .name = "signer", .usage = TB_KEY_USAGE_JOB, .passphrase = PASS };
  g_autoptr(TbKey) first = tb_key_workflow_generate (f->t.ctx, &options, NULL, &error);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gsize before_len, after_len;
  TbKey *again;

  g_assert_no_error (error);
  g_assert_nonnull (first);
  before = tb_test_read_file (f->json, &before_len);

  again = tb_key_workflow_generate (f->t.ctx, &options, NULL, &error);
  g_assert_null (again);
  g_assert_error (error, TB_ERROR, TB_ERROR_EXISTS);
  g_assert_cmpstr (error->message, ==, "The context already has a key “signer”");
  g_clear_error (&error);

  options.name = "../escape";
  g_assert_null (tb_key_workflow_generate (f->t.ctx, &options, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  options.name = "other";
  options.algorithm = "dsa-1024";
  g_assert_null (tb_key_workflow_generate (f->t.ctx, &options, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "Unknown key algorithm “dsa-1024”: expected ec-p256, ec-p384, ed25519 or "
                                       "rsa-3072");
  g_clear_error (&error);

  after = tb_test_read_file (f->json, &after_len);
  g_assert_cmpmem (before, before_len, after, after_len);
  g_assert_false (tb_context_has_entry (f->t.ctx, TB_INVENTORY_KEYS, "other"));
}

/* Cancelled before it stores: no key in the context. */
static void
test_generate_cancelled (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(TbProgress) progress = tb_progress_new (cancellable);
  const TbKeyGenerateOptions options = { .name = "late", .usage = TB_KEY_USAGE_JOB, .passphrase = PASS };

  g_cancellable_cancel (cancellable);
  g_assert_null (tb_key_workflow_generate (f->t.ctx, &options, progress, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (tb_context_has_entry (f->t.ctx, TB_INVENTORY_KEYS, "late"));
}

/* defer_save: stored in memory, on disk only once the caller saves (the
 * hierarchy saves once for all its keys). */
static void
test_generate_defer_save (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const TbKeyGenerateOptions options = {
    .name = "batch", .usage = TB_KEY_USAGE_PRODUCT, .passphrase = PASS, .defer_save = TRUE,
  };
  g_autoptr(TbKey) key = tb_key_workflow_generate (f->t.ctx, &options, NULL, &error);
  g_autoptr(TbKey) loaded = NULL;

  g_assert_no_error (error);
  g_assert_true (tb_context_has_entry (f->t.ctx, TB_INVENTORY_KEYS, "batch"));
  loaded = load_from_disk (f, "batch", &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (tb_context_save (f->t.ctx, &error));
  g_assert_no_error (error);
  loaded = load_from_disk (f, "batch", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tb_key_get_public_sha256 (loaded), ==, tb_key_get_public_sha256 (key));
}

static char *
write_openssl_key (Fixture *f)
{
  const char *openssl = g_getenv ("TB_OPENSSL") ?: "openssl";
  char *pem = g_build_filename (f->t.tmp, "imported.pem", NULL);
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char *[]){ (char *) openssl, "genpkey", "-algorithm", "EC", "-pkeyopt",
                                  "ec_paramgen_curve:P-256", "-out", pem, NULL },
                NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return pem;
}

static void
test_import_file (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = write_openssl_key (f);
  const TbKeyImportOptions options = {
    .name = "imported", .usage = TB_KEY_USAGE_JOB, .file = pem, .passphrase = PASS,
  };
  g_autoptr(TbKey) read = tb_key_workflow_read (&options, &error);
  g_autoptr(TbKey) stored = NULL;
  g_autoptr(TbKey) loaded = NULL;

  g_assert_no_error (error);
  /* read here, without a key: the workflow reads the file itself */
  stored = tb_key_workflow_import (f->t.ctx, &options, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tb_key_get_public_sha256 (stored), ==, tb_key_get_public_sha256 (read));
  loaded = load_from_disk (f, "imported", &error);
  g_assert_no_error (error);
  g_assert_cmpint (tb_key_get_usage (loaded), ==, TB_KEY_USAGE_JOB);
  g_assert_cmpstr (tb_key_get_public_sha256 (loaded), ==, tb_key_get_public_sha256 (read));
}

/* A broken file, an empty one, or none at all: a clear error, nothing
 * stored. */
static void
test_import_refuses (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *garbage = g_build_filename (f->t.tmp, "garbage.pem", NULL);
  g_autofree char *empty = g_build_filename (f->t.tmp, "empty.pem", NULL);
  g_autofree char *expected = NULL;
  TbKeyImportOptions options = { .name = "broken", .usage = TB_KEY_USAGE_JOB, .passphrase = PASS };

  tb_test_write_file (garbage, "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n");
  tb_test_write_file (empty, "");

  options.file = garbage;
  g_assert_null (tb_key_workflow_import (f->t.ctx, &options, NULL, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_true (g_str_has_prefix (error->message, garbage));
  g_clear_error (&error);

  options.file = empty;
  g_assert_null (tb_key_workflow_import (f->t.ctx, &options, NULL, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  expected = g_strdup_printf ("%s is empty", empty);
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);

  options.file = NULL;
  g_assert_null (tb_key_workflow_import (f->t.ctx, &options, NULL, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_false (tb_context_has_entry (f->t.ctx, TB_INVENTORY_KEYS, "broken"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add ("/tb/key-workflow/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("generate-stores-and-saves", test_generate_stores_and_saves);
  ADD ("generate-refuses", test_generate_refuses);
  ADD ("generate-cancelled", test_generate_cancelled);
  ADD ("generate-defer-save", test_generate_defer_save);
  ADD ("import-file", test_import_file);
  ADD ("import-refuses", test_import_refuses);
#undef ADD
  return g_test_run ();
}
