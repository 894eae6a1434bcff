/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The inventories as typed records (core/context/tb-inventory.c): every
 * field of the keys, certificates and products the default hierarchy
 * makes, read back from disk; the defaults of a hand-written context.json;
 * lookups that miss; copies; the identifiers and the JSON the command line
 * prints. */

#include "config.h"

#include <string.h>

#include "tb-test-context.h"
#include "tb-test-util.h"
#include "trustbench.h"

#define PASS "inventory passphrase"

typedef struct {
  TbTestContext t;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  tb_test_context_setup (&f->t, "Acme");
}

static void
teardown (Fixture *f, gconstpointer data)
{
  tb_test_context_teardown (&f->t);
}

/* The default hierarchy for two products, saved. */
static void
make_hierarchy (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  const char *products[] = { "sensor", "gateway", NULL };

  g_assert_true (tb_hierarchy_create (f->t.ctx, products, NULL, PASS, NULL, &error));
  g_assert_no_error (error);
}

static TbContext *
reopen (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  TbContext *ctx = tb_context_open (f->t.dir, TB_CONTEXT_OPEN_READ, &error);

  g_assert_no_error (error);
  return ctx;
}

static char *
iso8601 (GDateTime *t)
{
  return g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ");
}

static void
assert_iso8601 (const char *text)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) t = NULL;

  g_assert_nonnull (text);
  g_assert_true (g_str_has_suffix (text, "Z"));
  t = g_date_time_new_from_iso8601 (text, utc);
  g_assert_nonnull (t);
}

static const char *const hierarchy_keys[] = {
  "root-ca", "provisioning-ca", "mastering", "product-sensor", "product-gateway",
};

static const char *const hierarchy_usages[] = {
  "root-ca", "provisioning-ca", "mastering", "product", "product",
};

/* Every field of every key the hierarchy made, against the key itself. */
static void
assert_hierarchy_keys (TbContext *ctx)
{
  g_autoptr(GPtrArray) keys = tb_context_list_keys (ctx);

  g_assert_cmpuint (keys->len, ==, G_N_ELEMENTS (hierarchy_keys));
  for (guint i = 0; i < keys->len; i++)
    {
      const TbKeyInfo *k = g_ptr_array_index (keys, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(TbKey) key = tb_key_load (ctx, hierarchy_keys[i], &error);
      g_autofree char *file = g_strdup_printf ("keys/%s.key", hierarchy_keys[i]);
      g_autofree char *public_file = g_strdup_printf ("keys/%s.pub", hierarchy_keys[i]);

      g_assert_no_error (error);
      g_assert_cmpstr (k->name, ==, hierarchy_keys[i]);
      g_assert_cmpstr (k->usage, ==, hierarchy_usages[i]);
      g_assert_cmpstr (k->usage, ==, tb_key_usage_to_string (tb_key_get_usage (key)));
      g_assert_cmpstr (k->algorithm, ==, "ec-p256");
      g_assert_cmpstr (k->storage, ==, "file");
      g_assert_cmpstr (k->file, ==, file);
      g_assert_cmpstr (k->public_file, ==, public_file);
      g_assert_cmpuint (strlen (k->public_key_sha256), ==, 64);
      g_assert_cmpstr (k->public_key_sha256, ==, tb_key_get_public_sha256 (key));
      assert_iso8601 (k->created);
    }
}

/* Every field of every certificate, against the certificate itself. */
static void
assert_hierarchy_certificates (TbContext *ctx)
{
  g_autoptr(GPtrArray) certs = tb_context_list_certificates (ctx);
  g_autofree char *root_subject = NULL;

  g_assert_cmpuint (certs->len, ==, G_N_ELEMENTS (hierarchy_keys));
  for (guint i = 0; i < certs->len; i++)
    {
      const TbCertInfo *c = g_ptr_array_index (certs, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(TbCert) cert = tb_cert_load (ctx, hierarchy_keys[i], &error);
      g_autofree char *file = g_strdup_printf ("certs/%s.pem", hierarchy_keys[i]);
      g_autofree char *subject = NULL;
      g_autofree char *issuer = NULL;
      g_autofree char *serial = NULL;
      g_autofree char *not_before = NULL;
      g_autofree char *not_after = NULL;

      g_assert_no_error (error);
      subject = tb_cert_dup_subject (cert);
      issuer = tb_cert_dup_issuer (cert);
      serial = tb_cert_dup_serial (cert);
      not_before = iso8601 (tb_cert_get_not_before (cert));
      not_after = iso8601 (tb_cert_get_not_after (cert));
      if (i == 0)
        root_subject = g_strdup (subject);

      g_assert_cmpstr (c->name, ==, hierarchy_keys[i]);
      g_assert_cmpstr (c->key, ==, hierarchy_keys[i]);
      g_assert_cmpstr (c->file, ==, file);
      g_assert_cmpstr (c->subject, ==, subject);
      g_assert_cmpstr (c->issuer, ==, issuer);
      g_assert_cmpstr (c->issuer, ==, root_subject);
      g_assert_cmpstr (c->serial, ==, serial);
      g_assert_cmpstr (c->not_before, ==, not_before);
      g_assert_cmpstr (c->not_after, ==, not_after);
      g_assert_cmpstr (c->sha256, ==, tb_cert_get_sha256 (cert));
      g_assert_null (c->revoked);
      g_assert_null (c->revocation_reason);
    }
}

static void
assert_hierarchy_products (TbContext *ctx)
{
  g_autoptr(GPtrArray) products = tb_context_list_products (ctx);
  const TbProductInfo *p;

  g_assert_cmpuint (products->len, ==, 2);
  p = g_ptr_array_index (products, 0);
  g_assert_cmpstr (p->name, ==, "sensor");
  g_assert_cmpstr (p->key, ==, "product-sensor");
  g_assert_null (p->description);
  g_assert_nonnull (p->device_types);
  g_assert_cmpuint (g_strv_length (p->device_types), ==, 0);
  p = g_ptr_array_index (products, 1);
  g_assert_cmpstr (p->name, ==, "gateway");
  g_assert_cmpstr (p->key, ==, "product-gateway");
}

/* The records of the default hierarchy, in memory and read back from disk. */
static void
test_hierarchy (Fixture *f, gconstpointer data)
{
  g_autoptr(TbContext) reopened = NULL;

  make_hierarchy (f);
  assert_hierarchy_keys (f->t.ctx);
  assert_hierarchy_certificates (f->t.ctx);
  assert_hierarchy_products (f->t.ctx);

  reopened = reopen (f);
  assert_hierarchy_keys (reopened);
  assert_hierarchy_certificates (reopened);
  assert_hierarchy_products (reopened);
}

/* One lookup per kind, the same record as the list's. */
static void
test_lookup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKeyInfo) key = NULL;
  g_autoptr(TbCertInfo) cert = NULL;
  g_autoptr(TbProductInfo) product = NULL;
  g_autoptr(GPtrArray) keys = NULL;

  make_hierarchy (f);
  keys = tb_context_list_keys (f->t.ctx);
  key = tb_context_lookup_key (f->t.ctx, "mastering", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (key->name, ==, "mastering");
  g_assert_cmpstr (key->usage, ==, "mastering");
  g_assert_cmpstr (key->public_key_sha256, ==, ((TbKeyInfo *) g_ptr_array_index (keys, 2))->public_key_sha256);
  g_assert_cmpstr (key->created, ==, ((TbKeyInfo *) g_ptr_array_index (keys, 2))->created);

  cert = tb_context_lookup_certificate (f->t.ctx, "provisioning-ca", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cert->name, ==, "provisioning-ca");
  g_assert_cmpstr (cert->key, ==, "provisioning-ca");
  g_assert_cmpstr (cert->file, ==, "certs/provisioning-ca.pem");

  product = tb_context_lookup_product (f->t.ctx, "gateway", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (product->name, ==, "gateway");
  g_assert_cmpstr (product->key, ==, "product-gateway");
}

/* A name the context does not list: NOT_FOUND, naming it and the context. */
static void
test_lookup_missing (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  make_hierarchy (f);

  g_assert_null (tb_context_lookup_key (f->t.ctx, "no-such-key", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "“no-such-key”"));
  g_assert_nonnull (strstr (error->message, "key"));
  g_assert_nonnull (strstr (error->message, f->t.dir));
  g_clear_error (&error);

  g_assert_null (tb_context_lookup_certificate (f->t.ctx, "no-such-cert", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "“no-such-cert”"));
  g_assert_nonnull (strstr (error->message, "certificate"));
  g_clear_error (&error);

  /* a product's name is not one of its key's */
  g_assert_null (tb_context_lookup_product (f->t.ctx, "product-sensor", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "“product-sensor”"));
  /* the error names the products there are (one check for every workflow) */
  g_assert_nonnull (strstr (error->message, "(its products: sensor, gateway)"));
  g_clear_error (&error);
  g_assert_false (tb_context_check_product (f->t.ctx, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (tb_context_check_product (f->t.ctx, "gateway", &error));
  g_assert_no_error (error);

  /* nor is a key a certificate of another name, nor a certificate a key */
  g_assert_null (tb_context_lookup_key (f->t.ctx, "sensor", NULL));
  g_assert_false (tb_context_has_entry (f->t.ctx, TB_INVENTORY_KEYS, "sensor"));
  g_assert_false (tb_context_has_entry (f->t.ctx, TB_INVENTORY_JOBS, "root-ca"));
  g_assert_true (tb_context_has_entry (f->t.ctx, TB_INVENTORY_CERTIFICATES, "root-ca"));
  g_assert_true (tb_context_has_entry (f->t.ctx, TB_INVENTORY_PRODUCTS, "sensor"));
  g_assert_false (tb_context_has_entry (f->t.ctx, TB_INVENTORY_PRODUCTS, NULL));
}

/* A revoked certificate, with and without a reason; the records taken
 * before stay as they were. */
static void
test_revoked (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbCertInfo) before = NULL;
  g_autoptr(TbCertInfo) with_reason = NULL;
  g_autoptr(TbCertInfo) without = NULL;
  g_autoptr(TbContext) reopened = NULL;

  make_hierarchy (f);
  before = tb_context_lookup_certificate (f->t.ctx, "mastering", &error);
  g_assert_no_error (error);
  g_assert_true (tb_cert_revoke (f->t.ctx, "mastering", "key compromise", &error));
  g_assert_no_error (error);
  g_assert_true (tb_cert_revoke (f->t.ctx, "provisioning-ca", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (tb_context_save (f->t.ctx, &error));
  g_assert_no_error (error);

  g_assert_null (before->revoked);
  g_assert_null (before->revocation_reason);

  reopened = reopen (f);
  with_reason = tb_context_lookup_certificate (reopened, "mastering", &error);
  g_assert_no_error (error);
  assert_iso8601 (with_reason->revoked);
  g_assert_cmpstr (with_reason->revocation_reason, ==, "key compromise");
  g_assert_cmpstr (with_reason->serial, ==, before->serial);
  without = tb_context_lookup_certificate (reopened, "provisioning-ca", &error);
  g_assert_no_error (error);
  assert_iso8601 (without->revoked);
  g_assert_null (without->revocation_reason);
}

/* What a hand-written context.json gets: the documented defaults for
 * what an entry does not say, or says with another type. */
static void
test_defaults (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = g_build_filename (f->t.dir, "context.json", NULL);
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbKeyInfo) bare_key = NULL;
  g_autoptr(TbKeyInfo) token_key = NULL;
  g_autoptr(TbCertInfo) bare_cert = NULL;
  g_autoptr(TbProductInfo) bare = NULL;
  g_autoptr(TbProductInfo) typed = NULL;

  g_clear_object (&f->t.ctx); /* unlocked: the file is ours */
  tb_test_write_file (json,
                      "{\"schema_version\": 1, \"id\": \"0\", \"name\": \"Hand\", \"created\": \"2026-01-01T00:00:00Z\",\n"
                      " \"keys\": [{\"name\": \"bare\"},\n"
                      "          {\"name\": \"token\", \"usage\": \"mastering\", \"algorithm\": \"ec-p384\",\n"
                      "           \"storage\": \"pkcs11:token=T;object=m\", \"public_file\": \"keys/token.pub\",\n"
                      "           \"created\": null, \"extra\": {\"kept\": true}}],\n"
                      " \"certificates\": [{\"name\": \"bare\", \"not_before\": 17}],\n"
                      " \"products\": [{\"name\": \"bare\", \"description\": 5},\n"
                      "              {\"name\": \"typed\", \"key\": \"shared-key\", \"description\": \"A valve\",\n"
                      "               \"device_types\": [\"tb-vmcu-m4\", 3, \"other-mcu\", null]}]}\n");
  ctx = tb_context_open (f->t.dir, TB_CONTEXT_OPEN_READ, &error);
  g_assert_no_error (error);

  bare_key = tb_context_lookup_key (ctx, "bare", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bare_key->name, ==, "bare");
  g_assert_cmpstr (bare_key->usage, ==, "");
  g_assert_cmpstr (bare_key->algorithm, ==, "");
  g_assert_cmpstr (bare_key->storage, ==, "file");
  g_assert_null (bare_key->file);
  g_assert_null (bare_key->public_file);
  g_assert_cmpstr (bare_key->public_key_sha256, ==, "");
  g_assert_null (bare_key->created);

  token_key = tb_context_lookup_key (ctx, "token", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (token_key->usage, ==, "mastering");
  g_assert_cmpstr (token_key->algorithm, ==, "ec-p384");
  g_assert_cmpstr (token_key->storage, ==, "pkcs11:token=T;object=m");
  g_assert_null (token_key->file);
  g_assert_cmpstr (token_key->public_file, ==, "keys/token.pub");
  g_assert_null (token_key->created);

  bare_cert = tb_context_lookup_certificate (ctx, "bare", &error);
  g_assert_no_error (error);
  g_assert_null (bare_cert->key);
  g_assert_null (bare_cert->file);
  g_assert_cmpstr (bare_cert->subject, ==, "");
  g_assert_cmpstr (bare_cert->issuer, ==, "");
  g_assert_cmpstr (bare_cert->serial, ==, "");
  g_assert_cmpstr (bare_cert->not_before, ==, "");
  g_assert_cmpstr (bare_cert->not_after, ==, "");
  g_assert_null (bare_cert->sha256);
  g_assert_null (bare_cert->revoked);
  g_assert_null (bare_cert->revocation_reason);

  bare = tb_context_lookup_product (ctx, "bare", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bare->key, ==, TB_KEY_NAME_PRODUCT_PREFIX "bare");
  g_assert_null (bare->description);
  g_assert_cmpuint (g_strv_length (bare->device_types), ==, 0);

  typed = tb_context_lookup_product (ctx, "typed", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (typed->key, ==, "shared-key");
  g_assert_cmpstr (typed->description, ==, "A valve");
  g_assert_cmpuint (g_strv_length (typed->device_types), ==, 2);
  g_assert_cmpstr (typed->device_types[0], ==, "tb-vmcu-m4");
  g_assert_cmpstr (typed->device_types[1], ==, "other-mcu");

  /* the one rule for a product's key name, for every workflow */
  {
    g_autofree char *of_bare = tb_context_dup_product_key_name (ctx, "bare");
    g_autofree char *of_typed = tb_context_dup_product_key_name (ctx, "typed");
    g_autofree char *of_unlisted = tb_context_dup_product_key_name (ctx, "unlisted");

    g_assert_cmpstr (of_bare, ==, "product-bare");
    g_assert_cmpstr (of_typed, ==, "shared-key");
    g_assert_cmpstr (of_unlisted, ==, "product-unlisted");
  }

  /* the JSON for output keeps everything, in the file's order */
  {
    g_autoptr(JsonNode) node = tb_context_inventory_to_json (ctx, TB_INVENTORY_KEYS);
    g_autoptr(JsonGenerator) gen = json_generator_new ();
    g_autofree char *text = NULL;

    json_generator_set_root (gen, node);
    text = json_generator_to_data (gen, NULL);
    g_assert_cmpstr (text, ==,
                     "[{\"name\":\"bare\"},{\"name\":\"token\",\"usage\":\"mastering\",\"algorithm\":\"ec-p384\","
                     "\"storage\":\"pkcs11:token=T;object=m\",\"public_file\":\"keys/token.pub\",\"created\":null,"
                     "\"extra\":{\"kept\":true}}]");
  }
}

/* A copy holds the same values in memory of its own. */
static void
test_copy (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKeyInfo) key = NULL;
  g_autoptr(TbKeyInfo) key_copy = NULL;
  g_autoptr(TbCertInfo) cert = NULL;
  g_autoptr(TbCertInfo) cert_copy = NULL;
  g_autoptr(TbProductInfo) product = NULL;
  g_autoptr(TbProductInfo) product_copy = NULL;

  make_hierarchy (f);
  g_assert_true (tb_cert_revoke (f->t.ctx, "product-sensor", "superseded", &error));
  g_assert_no_error (error);

  key = tb_context_lookup_key (f->t.ctx, "root-ca", &error);
  g_assert_no_error (error);
  key_copy = g_boxed_copy (TB_TYPE_KEY_INFO, key);
  g_assert_true (key_copy != key);
  g_assert_true (key_copy->name != key->name);
  g_assert_cmpstr (key_copy->name, ==, key->name);
  g_assert_cmpstr (key_copy->usage, ==, key->usage);
  g_assert_cmpstr (key_copy->algorithm, ==, key->algorithm);
  g_assert_cmpstr (key_copy->storage, ==, key->storage);
  g_assert_cmpstr (key_copy->file, ==, key->file);
  g_assert_cmpstr (key_copy->public_file, ==, key->public_file);
  g_assert_cmpstr (key_copy->public_key_sha256, ==, key->public_key_sha256);
  g_assert_cmpstr (key_copy->created, ==, key->created);
  g_clear_pointer (&key, tb_key_info_free);
  g_assert_cmpstr (key_copy->name, ==, "root-ca");

  cert = tb_context_lookup_certificate (f->t.ctx, "product-sensor", &error);
  g_assert_no_error (error);
  cert_copy = tb_cert_info_copy (cert);
  g_assert_true (cert_copy->subject != cert->subject);
  g_assert_cmpstr (cert_copy->name, ==, cert->name);
  g_assert_cmpstr (cert_copy->key, ==, cert->key);
  g_assert_cmpstr (cert_copy->file, ==, cert->file);
  g_assert_cmpstr (cert_copy->subject, ==, cert->subject);
  g_assert_cmpstr (cert_copy->issuer, ==, cert->issuer);
  g_assert_cmpstr (cert_copy->serial, ==, cert->serial);
  g_assert_cmpstr (cert_copy->not_before, ==, cert->not_before);
  g_assert_cmpstr (cert_copy->not_after, ==, cert->not_after);
  g_assert_cmpstr (cert_copy->sha256, ==, cert->sha256);
  g_assert_cmpstr (cert_copy->revoked, ==, cert->revoked);
  g_assert_cmpstr (cert_copy->revocation_reason, ==, "superseded");
  g_boxed_free (TB_TYPE_CERT_INFO, g_steal_pointer (&cert));
  g_assert_cmpstr (cert_copy->name, ==, "product-sensor");
  g_assert_cmpstr (cert_copy->revocation_reason, ==, "superseded");

  product = tb_context_lookup_product (f->t.ctx, "sensor", &error);
  g_assert_no_error (error);
  product_copy = tb_product_info_copy (product);
  g_assert_true (product_copy->device_types != product->device_types);
  g_assert_cmpstr (product_copy->name, ==, product->name);
  g_assert_cmpstr (product_copy->key, ==, product->key);
  g_assert_cmpstr (product_copy->description, ==, product->description);
  g_assert_cmpuint (g_strv_length (product_copy->device_types), ==, g_strv_length (product->device_types));
  g_clear_pointer (&product, tb_product_info_free);
  g_assert_cmpstr (product_copy->key, ==, "product-sensor");

  /* the boxed types are registered, and freeing nothing is fine */
  g_assert_true (G_TYPE_IS_BOXED (TB_TYPE_KEY_INFO));
  g_assert_true (G_TYPE_IS_BOXED (TB_TYPE_PRODUCT_INFO));
  tb_key_info_free (NULL);
  tb_cert_info_free (NULL);
  tb_product_info_free (NULL);
}

/* The identifiers of each inventory, and what tb_context_add_product() adds
 * or refuses. */
static void
test_ids_and_add_product (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) keys = NULL;
  g_auto(GStrv) jobs = NULL;
  g_auto(GStrv) products = NULL;
  g_autoptr(TbContext) reopened = NULL;
  g_autoptr(TbProductInfo) valve = NULL;

  jobs = tb_context_dup_ids (f->t.ctx, TB_INVENTORY_JOBS);
  g_assert_nonnull (jobs);
  g_assert_cmpuint (g_strv_length (jobs), ==, 0);
  make_hierarchy (f);
  keys = tb_context_dup_ids (f->t.ctx, TB_INVENTORY_KEYS);
  g_assert_cmpuint (g_strv_length (keys), ==, G_N_ELEMENTS (hierarchy_keys));
  for (guint i = 0; i < G_N_ELEMENTS (hierarchy_keys); i++)
    g_assert_cmpstr (keys[i], ==, hierarchy_keys[i]);

  g_assert_true (tb_context_add_product (f->t.ctx, "valve", &error));
  g_assert_no_error (error);
  g_assert_false (tb_context_add_product (f->t.ctx, "valve", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "“valve”"));
  g_clear_error (&error);
  g_assert_false (tb_context_add_product (f->t.ctx, "../up", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (tb_context_add_product (f->t.ctx, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_true (tb_context_save (f->t.ctx, &error));
  g_assert_no_error (error);

  reopened = reopen (f);
  products = tb_context_dup_ids (reopened, TB_INVENTORY_PRODUCTS);
  g_assert_cmpuint (g_strv_length (products), ==, 3);
  g_assert_cmpstr (products[0], ==, "sensor");
  g_assert_cmpstr (products[1], ==, "gateway");
  g_assert_cmpstr (products[2], ==, "valve");
  valve = tb_context_lookup_product (reopened, "valve", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (valve->key, ==, "product-valve");
  g_assert_null (valve->description);
}

/* The JSON for output is a copy: changing it changes nothing in the context. */
static void
test_json_is_a_copy (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) certs = NULL;
  g_autoptr(JsonNode) jobs = NULL;
  g_autoptr(TbCertInfo) root = NULL;
  JsonObject *first;

  make_hierarchy (f);
  certs = tb_context_inventory_to_json (f->t.ctx, TB_INVENTORY_CERTIFICATES);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (certs));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (certs)), ==, G_N_ELEMENTS (hierarchy_keys));
  first = json_array_get_object_element (json_node_get_array (certs), 0);
  g_assert_cmpstr (json_object_get_string_member (first, "name"), ==, "root-ca");
  json_object_set_string_member (first, "subject", "CN=Changed");
  json_object_set_string_member (first, "revoked", "2020-01-01T00:00:00Z");

  root = tb_context_lookup_certificate (f->t.ctx, "root-ca", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (root->subject, !=, "CN=Changed");
  g_assert_null (root->revoked);

  jobs = tb_context_inventory_to_json (f->t.ctx, TB_INVENTORY_JOBS);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (jobs));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (jobs)), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/tb/inventory/hierarchy", Fixture, NULL, setup, test_hierarchy, teardown);
  g_test_add ("/tb/inventory/lookup", Fixture, NULL, setup, test_lookup, teardown);
  g_test_add ("/tb/inventory/lookup-missing", Fixture, NULL, setup, test_lookup_missing, teardown);
  g_test_add ("/tb/inventory/revoked", Fixture, NULL, setup, test_revoked, teardown);
  g_test_add ("/tb/inventory/defaults", Fixture, NULL, setup, test_defaults, teardown);
  g_test_add ("/tb/inventory/copy", Fixture, NULL, setup, test_copy, teardown);
  g_test_add ("/tb/inventory/ids-and-add-product", Fixture, NULL, setup, test_ids_and_add_product, teardown);
  g_test_add ("/tb/inventory/json-is-a-copy", Fixture, NULL, setup, test_json_is_a_copy, teardown);
  return g_test_run ();
}
