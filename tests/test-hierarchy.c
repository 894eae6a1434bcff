/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The default OEM key hierarchy (core/pki/tb-hierarchy.c): what it makes, and
 * every refusal with its exact error, leaving the context as it was (no
 * key, nothing audited, another attempt on the same context succeeds). */

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "tb-test-util.h"
#include "trustbench.h"

#define PASS "hierarchy passphrase"

typedef struct {
  char *tmp;
  char *dir;
  TbContext *ctx;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = tb_test_make_tmpdir ();
  f->dir = g_build_filename (f->tmp, "ctx", NULL);
  f->ctx = tb_context_create (f->dir, "Acme", &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->ctx);
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->dir);
}

static guint
count (TbContext *ctx, TbInventory inventory)
{
  g_auto(GStrv) ids = tb_context_dup_ids (ctx, inventory);
  return g_strv_length (ids);
}

static guint
count_events (TbContext *ctx, const char *event)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) log = tb_audit_read (ctx, &error);
  guint n = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < log->len; i++)
    if (g_strcmp0 (tb_audit_entry_get_event (g_ptr_array_index (log, i)), event) == 0)
      n++;
  return n;
}

static void
assert_key (TbContext *ctx, const char *name, TbKeyUsage usage, const char *algorithm)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKey) key = tb_key_load (ctx, name, &error);
  g_autoptr(TbCert) cert = NULL;
  g_autofree char *cert_key = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (tb_key_get_usage (key), ==, usage);
  g_assert_cmpstr (tb_key_get_algorithm (key), ==, algorithm);
  g_assert_false (tb_key_has_private (key));
  cert = tb_cert_load (ctx, name, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tb_cert_get_key_name (cert), ==, name);
  cert_key = tb_cert_dup_public_key_sha256 (cert);
  g_assert_cmpstr (cert_key, ==, tb_key_get_public_sha256 (key));
  g_assert_true (tb_cert_verify (ctx, cert, NULL, &error));
  g_assert_no_error (error);
}

static void
test_create (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *products[] = { "sensor", "gateway", NULL };
  g_autoptr(TbContext) reopened = NULL;

  g_assert_true (tb_hierarchy_create (f->ctx, products, "ec-p384", PASS, NULL, &error));
  g_assert_no_error (error);

  /* read back from disk, not from the context that made it */
  reopened = tb_context_open (f->dir, TB_CONTEXT_OPEN_READ, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count (reopened, TB_INVENTORY_KEYS), ==, 5);
  g_assert_cmpuint (count (reopened, TB_INVENTORY_CERTIFICATES), ==, 5);
  g_assert_cmpuint (count (reopened, TB_INVENTORY_PRODUCTS), ==, 2);
  assert_key (reopened, TB_KEY_NAME_ROOT_CA, TB_KEY_USAGE_ROOT_CA, "ec-p384");
  assert_key (reopened, TB_KEY_NAME_PROVISIONING_CA, TB_KEY_USAGE_PROVISIONING_CA, "ec-p384");
  assert_key (reopened, TB_KEY_NAME_MASTERING, TB_KEY_USAGE_MASTERING, "ec-p384");
  /* product keys wrap image keys with ECDH P-256, whatever the others are */
  assert_key (reopened, "product-sensor", TB_KEY_USAGE_PRODUCT, "ec-p256");
  assert_key (reopened, "product-gateway", TB_KEY_USAGE_PRODUCT, "ec-p256");
  {
    g_autoptr(TbProductInfo) gateway = tb_context_lookup_product (reopened, "gateway", &error);
    g_assert_no_error (error);
    g_assert_cmpstr (gateway->key, ==, "product-gateway");
  }
  g_assert_false (tb_context_has_entry (reopened, TB_INVENTORY_KEYS, TB_KEY_NAME_JOB));
  g_assert_cmpuint (count_events (reopened, "key.store"), ==, 5);

  /* the profiles: a self-signed root, CAs below it, one code signer */
  {
    g_autoptr(TbCert) root = tb_cert_load (reopened, TB_KEY_NAME_ROOT_CA, NULL);
    g_autoptr(TbCert) prov = tb_cert_load (reopened, TB_KEY_NAME_PROVISIONING_CA, NULL);
    g_autoptr(TbCert) mastering = tb_cert_load (reopened, TB_KEY_NAME_MASTERING, NULL);
    g_autoptr(TbCert) product = tb_cert_load (reopened, "product-sensor", NULL);
    g_autofree char *root_subject = tb_cert_dup_subject (root);
    g_autofree char *product_subject = tb_cert_dup_subject (product);
    g_autofree char *product_issuer = tb_cert_dup_issuer (product);

    g_assert_true (tb_cert_is_self_signed (root));
    g_assert_true (tb_cert_is_ca (root));
    g_assert_cmpstr (root_subject, ==, "CN=Acme Root CA,O=Acme");
    g_assert_true (tb_cert_is_ca (prov));
    g_assert_false (tb_cert_is_self_signed (prov));
    g_assert_false (tb_cert_is_ca (mastering));
    g_assert_false (tb_cert_is_ca (product));
    g_assert_cmpstr (product_subject, ==, "CN=Acme Product sensor,O=Acme");
    g_assert_cmpstr (product_issuer, ==, root_subject);
    g_assert_true (tb_cert_check_code_signing (mastering, &error));
    g_assert_no_error (error);
    g_assert_false (tb_cert_check_code_signing (product, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
    g_clear_error (&error);
  }

  /* every private key opens with the passphrase, and only with it */
  {
    g_autoptr(TbKey) key = tb_key_load_unlocked (reopened, TB_KEY_NAME_MASTERING, PASS, &error);
    g_assert_no_error (error);
    g_assert_true (tb_key_has_private (key));
    g_clear_object (&key);
    key = tb_key_load_unlocked (reopened, "product-gateway", "not the passphrase", &error);
    g_assert_null (key);
    g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
    g_clear_error (&error);
  }

  /* a hierarchy is made once */
  {
    g_autofree char *message = g_strdup_printf ("The context %s already has keys; the default hierarchy is made in an "
                                                "empty context", tb_context_get_path (f->ctx));
    const char *more[] = { "other", NULL };
    g_assert_false (tb_hierarchy_create (f->ctx, more, NULL, PASS, NULL, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_EXISTS);
    g_assert_cmpstr (error->message, ==, message);
    g_clear_error (&error);
    g_assert_cmpuint (count (f->ctx, TB_INVENTORY_KEYS), ==, 5);
  }
}

/* Each refusal leaves the context as it was: no key in it, none on disk,
 * nothing audited, and the next attempt on the same context succeeds. */
static void
test_refusals (Fixture *f, gconstpointer data)
{
  const char *one[] = { "widget", NULL };
  const char *none[] = { NULL };
  const char *bad_name[] = { "widget", "../etc", NULL };
  const char *twice[] = { "widget", "gadget", "widget", NULL };
  const char *long_name[] = { "p123456789012345678901234567890123456789012345678901234567890123456789", NULL };
  struct {
    const char *const *products;
    const char *algorithm;
    const char *passphrase;
    gint code;
    const char *message;
  } cases[] = {
    { NULL, NULL, PASS, TB_ERROR_INVALID_ARGUMENT, "The hierarchy needs at least one product" },
    { none, NULL, PASS, TB_ERROR_INVALID_ARGUMENT, "The hierarchy needs at least one product" },
    { one, "ec-p521", PASS, TB_ERROR_INVALID_ARGUMENT,
      "Unknown key algorithm “ec-p521”: expected ec-p256, ec-p384, ed25519 or rsa-3072" },
    { bad_name, NULL, PASS, TB_ERROR_INVALID_ARGUMENT, "Invalid name “../etc”: it must not start with “.”" },
    { long_name, NULL, PASS, TB_ERROR_INVALID_ARGUMENT, NULL },
    { twice, NULL, PASS, TB_ERROR_INVALID_ARGUMENT, "Product “widget” is given twice" },
    { one, NULL, "short", TB_ERROR_INVALID_ARGUMENT,
      "The passphrase protecting the keys must have at least 8 characters" },
    { one, NULL, NULL, TB_ERROR_INVALID_ARGUMENT,
      "The passphrase protecting the keys must have at least 8 characters" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TbContext) reopened = NULL;

      g_test_message ("case %u", i);
      g_assert_false (tb_hierarchy_create (f->ctx, cases[i].products, cases[i].algorithm, cases[i].passphrase, NULL,
                                           &error));
      g_assert_error (error, TB_ERROR, cases[i].code);
      if (cases[i].message != NULL)
        g_assert_cmpstr (error->message, ==, cases[i].message);
      g_clear_error (&error);
      g_assert_cmpuint (count (f->ctx, TB_INVENTORY_KEYS), ==, 0);
      g_assert_cmpuint (count (f->ctx, TB_INVENTORY_CERTIFICATES), ==, 0);
      g_assert_cmpuint (count (f->ctx, TB_INVENTORY_PRODUCTS), ==, 0);
      g_assert_cmpuint (count_events (f->ctx, "key.store"), ==, 0);
      reopened = tb_context_open (f->dir, TB_CONTEXT_OPEN_READ, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (count (reopened, TB_INVENTORY_KEYS), ==, 0);
    }

  {
    g_autoptr(GError) error = NULL;
    g_assert_true (tb_hierarchy_create (f->ctx, one, NULL, PASS, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (count (f->ctx, TB_INVENTORY_KEYS), ==, 4);
  }
}

/* Cancelled before it starts: nothing made. */
static void
test_cancelled (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(TbProgress) progress = tb_progress_new (cancellable);
  const char *products[] = { "widget", NULL };
  g_autoptr(TbContext) reopened = NULL;

  g_cancellable_cancel (cancellable);
  g_assert_false (tb_hierarchy_create (f->ctx, products, NULL, PASS, progress, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (count (f->ctx, TB_INVENTORY_KEYS), ==, 0);
  reopened = tb_context_open (f->dir, TB_CONTEXT_OPEN_READ, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count (reopened, TB_INVENTORY_KEYS), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/tb/hierarchy/create", Fixture, NULL, setup, test_create, teardown);
  g_test_add ("/tb/hierarchy/refusals", Fixture, NULL, setup, test_refusals, teardown);
  g_test_add ("/tb/hierarchy/cancelled", Fixture, NULL, setup, test_cancelled, teardown);
  return g_test_run ();
}
