/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The default OEM key hierarchy, made in one step:
 *
 *   root-ca            self-signed, CA pathlen 1, keyCertSign + cRLSign
 *   ├─ provisioning-ca CA pathlen 0, issues device certificates
 *   ├─ mastering       digitalSignature + codeSigning, signs UPKs
 *   └─ product-P       keyAgreement, wraps image keys for product P
 *
 * Each key is written encrypted as soon as it exists; context.json is
 * saved once at the end, so an interrupted run leaves the context as it
 * was (plus unreferenced files that the next run overwrites). */

#include "config.h"

#include "tb-hierarchy.h"

#include <glib/gi18n-lib.h>

#include "tb-cert.h"
#include "tb-context-private.h"
#include "tb-error.h"
#include "tb-key.h"
#include "tb-key-workflow.h"

/* Each key through the one generate → store workflow; context.json is
 * saved once, at the end. */
static gboolean
make_key_on (TbContext *ctx, const char *name, TbKeyUsage usage, const char *algorithm, const char *token_uri,
             const char *passphrase, TbKey **out, GError **error)
{
  const TbKeyGenerateOptions options = {
    .name = name, .usage = usage, .algorithm = algorithm, .token_uri = token_uri, .passphrase = passphrase,
    .defer_save = TRUE,
  };

  *out = tb_key_workflow_generate (ctx, &options, NULL, error);
  return *out != NULL;
}

static gboolean
make_key (TbContext *ctx, const char *name, TbKeyUsage usage, const char *algorithm,
          const char *passphrase, TbKey **out, GError **error)
{
  return make_key_on (ctx, name, usage, algorithm, NULL, passphrase, out, error);
}

/**
 * tb_hierarchy_create:
 * @ctx: an empty context locked for writing
 * @products: product names (at least one)
 * @algorithm: (nullable): key algorithm, default ec-p256; product keys
 *   are always ec-p256 (they wrap image keys with ECDH P-256)
 * @passphrase: protects every private key (8 characters or more)
 *
 * Creates and saves the default hierarchy.
 */
gboolean
tb_hierarchy_create (TbContext *ctx, const char *const *products, const char *algorithm,
                     const char *passphrase, TbProgress *progress, GError **error)
{
  return tb_hierarchy_create_on_tokens (ctx, products, algorithm, passphrase, NULL, progress, error);
}

/**
 * tb_hierarchy_create_on_tokens:
 * @tokens: (nullable): PKCS#11 token URIs for the root, mastering and job
 *   keys (each %NULL: a file key); the token PIN is the process's
 *
 * tb_hierarchy_create() with some keys generated on tokens. With a job
 * key token, the hierarchy also gets a `job` key (usage job) and its
 * certificate.
 */
gboolean
tb_hierarchy_create_on_tokens (TbContext *ctx, const char *const *products, const char *algorithm,
                               const char *passphrase, const TbHierarchyTokens *tokens, TbProgress *progress,
                               GError **error)
{
  const TbHierarchyTokens no_tokens = { NULL, NULL, NULL };
  const char *org = tb_context_get_name (ctx);
  g_autoptr(TbKey) root_key = NULL;
  g_autoptr(TbCert) root_cert = NULL;
  guint n_products = products != NULL ? g_strv_length ((char **) products) : 0;
  guint total = 4 + n_products;
  guint done = 0;
  g_autoptr(GPtrArray) existing = tb_context_get_entries (ctx, TB_INVENTORY_KEYS);
  struct {
    const char *name;
    TbKeyUsage usage;
    TbCertProfile profile;
    guint days;
    const char *cn_suffix;
    const char *token;
  } subs[] = {
    { TB_KEY_NAME_PROVISIONING_CA, TB_KEY_USAGE_PROVISIONING_CA, TB_CERT_PROFILE_PROVISIONING_CA,
      TB_CERT_DAYS_CA, "Provisioning CA", NULL },
    { TB_KEY_NAME_MASTERING, TB_KEY_USAGE_MASTERING, TB_CERT_PROFILE_MASTERING,
      TB_CERT_DAYS_MASTERING, "Mastering", NULL },
    { TB_KEY_NAME_JOB, TB_KEY_USAGE_JOB, TB_CERT_PROFILE_JOB, TB_CERT_DAYS_MASTERING, "Job Signing", NULL },
  };
  guint n_subs = 2;

  if (tokens == NULL)
    tokens = &no_tokens;
  subs[1].token = tokens->mastering_on;
  subs[2].token = tokens->job_key_on;
  if (tokens->job_key_on != NULL)
    n_subs = 3;
  if (algorithm == NULL)
    algorithm = TB_KEY_ALGORITHM_DEFAULT;
  if (!tb_key_algorithm_is_supported (algorithm, error))
    return FALSE;
  if (n_products == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("The hierarchy needs at least one product"));
      return FALSE;
    }
  if (existing->len > 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_EXISTS,
                   _("The context %s already has keys; the default hierarchy is made in an empty context"),
                   tb_context_get_path (ctx));
      return FALSE;
    }
  for (guint i = 0; i < n_products; i++)
    {
      if (!tb_name_is_valid (products[i], error))
        return FALSE;
      /* refused before a key is made: a second product-P key would fail
       * only after the first keys were stored and audited */
      for (guint j = 0; j < i; j++)
        if (g_str_equal (products[i], products[j]))
          {
            g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("Product “%s” is given twice"), products[i]);
            return FALSE;
          }
    }

  tb_progress_set_stage (progress, _("Generating the root CA key (%s)"), algorithm);
  if (tb_progress_set_error_if_cancelled (progress, error) ||
      !make_key_on (ctx, TB_KEY_NAME_ROOT_CA, TB_KEY_USAGE_ROOT_CA, algorithm, tokens->root_on, passphrase,
                    &root_key, error))
    return FALSE;
  {
    g_autofree char *cn = g_strdup_printf ("%s Root CA", org);
    root_cert = tb_cert_issue_self_signed (root_key, cn, org, TB_CERT_DAYS_ROOT_CA, error);
    if (root_cert == NULL || !tb_cert_store (root_cert, ctx, TB_KEY_NAME_ROOT_CA, TB_KEY_NAME_ROOT_CA, error))
      return FALSE;
  }
  tb_progress_set_fraction (progress, (double) ++done / total);

  for (guint i = 0; i < n_subs; i++)
    {
      g_autoptr(TbKey) key = NULL;
      g_autoptr(TbCert) cert = NULL;
      g_autofree char *cn = g_strdup_printf ("%s %s", org, subs[i].cn_suffix);

      tb_progress_set_stage (progress, _("Generating the %s key and its certificate"), subs[i].name);
      if (tb_progress_set_error_if_cancelled (progress, error) ||
          !make_key_on (ctx, subs[i].name, subs[i].usage, algorithm, subs[i].token, passphrase, &key, error))
        return FALSE;
      cert = tb_cert_issue (root_cert, root_key, key, subs[i].profile, cn, org, subs[i].days, error);
      if (cert == NULL || !tb_cert_store (cert, ctx, subs[i].name, subs[i].name, error))
        return FALSE;
      tb_progress_set_fraction (progress, (double) ++done / total);
    }

  for (guint i = 0; i < n_products; i++)
    {
      g_autoptr(TbKey) key = NULL;
      g_autoptr(TbCert) cert = NULL;
      g_autofree char *name = g_strconcat (TB_KEY_NAME_PRODUCT_PREFIX, products[i], NULL);
      g_autofree char *cn = g_strdup_printf ("%s Product %s", org, products[i]);

      tb_progress_set_stage (progress, _("Generating the key of product “%s”"), products[i]);
      if (tb_progress_set_error_if_cancelled (progress, error) ||
          !make_key (ctx, name, TB_KEY_USAGE_PRODUCT, "ec-p256", passphrase, &key, error))
        return FALSE;
      cert = tb_cert_issue (root_cert, root_key, key, TB_CERT_PROFILE_PRODUCT, cn, org, TB_CERT_DAYS_PRODUCT, error);
      if (cert == NULL || !tb_cert_store (cert, ctx, name, name, error))
        return FALSE;
      if (tb_context_find_entry (ctx, TB_INVENTORY_PRODUCTS, products[i]) == NULL)
        {
          g_autoptr(JsonObject) product = json_object_new ();
          json_object_set_string_member (product, "name", products[i]);
          json_object_set_string_member (product, "key", name);
          if (!tb_context_add_entry (ctx, TB_INVENTORY_PRODUCTS, product, error))
            return FALSE;
        }
      else
        json_object_set_string_member (tb_context_find_entry (ctx, TB_INVENTORY_PRODUCTS, products[i]), "key", name);
      tb_progress_set_fraction (progress, (double) ++done / total);
    }

  tb_progress_set_stage (progress, _("Saving the context"));
  if (tb_progress_set_error_if_cancelled (progress, error))
    return FALSE;
  return tb_context_save (ctx, error);
}
