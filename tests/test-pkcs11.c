/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Keys on a PKCS#11 token, with SoftHSM 2 as the token (a private token
 * directory per test through SOFTHSM2_CONF): listing, generation (never
 * extractable), a whole hierarchy with the root and mastering keys on the
 * token, every chain accepted by `openssl verify`, an image mastered with
 * the token key and verified, and the failures: wrong PIN, module gone,
 * key not found. No private key may appear in the context directory. */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <p11-kit/p11-kit.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "tb-context-private.h"
#include "tb-key-private.h"

#include "tb-test-util.h"
#include "trustbench.h"

#define PIN "123456"
#define SO_PIN "12345678"
#define PASS "file keys passphrase"

typedef struct {
  char *tmp;
  char *module;
  char *token_uri;
} Fixture;

static const char *
softhsm_module (void)
{
  static const char *const paths[] = { "/usr/lib/softhsm/libsofthsm2.so",
                                       "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", NULL };
  for (guint i = 0; paths[i] != NULL; i++)
    if (g_file_test (paths[i], G_FILE_TEST_EXISTS))
      return paths[i];
  return NULL;
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autofree char *conf = NULL, *tokens = NULL, *text = NULL, *cmd = NULL;
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_autofree char *util = g_find_program_in_path ("softhsm2-util");

  f->tmp = tb_test_make_tmpdir ();
  if (softhsm_module () == NULL || util == NULL)
    return;
  f->module = g_strdup (softhsm_module ());
  tokens = g_build_filename (f->tmp, "tokens", NULL);
  g_mkdir (tokens, 0700);
  conf = g_build_filename (f->tmp, "softhsm2.conf", NULL);
  text = g_strdup_printf ("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens);
  tb_test_write_file (conf, text);
  g_setenv ("SOFTHSM2_CONF", conf, TRUE);
  cmd = g_strdup_printf ("softhsm2-util --init-token --free --label tb-test --pin " PIN " --so-pin " SO_PIN);
  g_assert_true (g_spawn_command_line_sync (cmd, &out, &err, &status, NULL));
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("softhsm2-util: %s %s", out, err);
  f->token_uri = g_strdup_printf ("pkcs11:token=tb-test?module-path=%s", f->module);
  tb_pkcs11_set_pin (PIN);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  tb_pkcs11_set_pin (NULL);
  tb_pkcs11_reset (); /* the next test has its own token directory */
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->module);
  g_free (f->token_uri);
}

static gboolean
skip_without_softhsm (Fixture *f)
{
  if (f->module != NULL)
    return FALSE;
  g_test_skip ("SoftHSM 2 (softhsm2) is not installed");
  return TRUE;
}

/* The CKA_ID of a new token key comes from the random number generator:
 * when it fails, no key is made (rather than one whose id is whatever the
 * stack held). Run in a fresh process, the generator broken before its
 * first use. */
static void
test_generate_without_randomness (Fixture *f, gconstpointer data)
{
  if (skip_without_softhsm (f))
    return;
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TbKey) key = NULL;

      g_assert_cmpint (RAND_set_DRBG_type (NULL, "TB-TEST-NO-SUCH-DRBG", NULL, NULL, NULL), ==, 1);
      key = tb_key_generate_on_token (f->token_uri, "no-randomness", "ec-p256", TB_KEY_USAGE_MASTERING, &error);
      g_assert_null (key);
      g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, "random number generator"));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
test_list_and_generate (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  TbTokenInfo *info = NULL;
  const char *const algorithms[] = { "ec-p256", "ec-p384", "rsa-3072" };

  if (skip_without_softhsm (f))
    return;
  tokens = tb_pkcs11_list_tokens (f->module, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < tokens->len; i++)
    if (g_strcmp0 (((TbTokenInfo *) g_ptr_array_index (tokens, i))->label, "tb-test") == 0)
      info = g_ptr_array_index (tokens, i);
  g_assert_nonnull (info);
  g_assert_true (info->initialized);
  g_assert_true (g_str_has_prefix (info->uri, "pkcs11:"));
  g_assert_nonnull (strstr (info->uri, "token=tb-test"));
  g_assert_true (tb_pkcs11_is_uri (info->uri));
  {
    /* one formatter: the module that is not p11-kit's own rides along */
    g_autofree char *escaped = g_uri_escape_string (f->module, "/", FALSE);
    g_autofree char *suffix = g_strconcat ("?module-path=", escaped, NULL);
    g_assert_true (g_str_has_suffix (info->uri, suffix));
    g_assert_true (tb_pkcs11_uri_is_valid (info->uri, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpstr (info->manufacturer, ==, "SoftHSM project");

  for (guint i = 0; i < G_N_ELEMENTS (algorithms); i++)
    {
      g_autoptr(TbKey) key = tb_key_generate_on_token (f->token_uri, algorithms[i], algorithms[i], TB_KEY_USAGE_MASTERING,
                                                             &error);
      gboolean sensitive = FALSE, extractable = TRUE;

      g_assert_no_error (error);
      g_assert_true (tb_key_is_on_token (key));
      g_assert_true (tb_key_has_private (key));
      g_assert_cmpstr (tb_key_get_algorithm (key), ==, algorithms[i]);
      g_assert_true (g_str_has_prefix (tb_key_get_storage (key), "pkcs11:"));
      g_assert_true (tb_pkcs11_is_uri (tb_key_get_storage (key)));
      g_assert_nonnull (strstr (tb_key_get_storage (key), "?module-path="));
      g_assert_true (tb_pkcs11_get_key_flags (tb_key_get_storage (key), &sensitive, &extractable, &error));
      g_assert_no_error (error);
      g_assert_true (sensitive);
      g_assert_false (extractable);

      /* signatures made on the token verify with the public key alone
       * (ECDSA DER from raw r ‖ s; RSA PKCS#1 v1.5 and PSS) */
      for (guint pss = 0; pss < (g_str_has_prefix (algorithms[i], "rsa") ? 2u : 1u); pss++)
        {
          guint8 msg[100], sig[512];
          size_t sig_len = sizeof sig;
          EVP_MD_CTX *md = EVP_MD_CTX_new ();
          EVP_PKEY_CTX *pctx = NULL;
          const char *digest = g_str_equal (algorithms[i], "ec-p384") ? "SHA384" : "SHA256";

          for (guint b = 0; b < sizeof msg; b++)
            msg[b] = (guint8) (b * 3 + i);
          g_assert_cmpint (EVP_DigestSignInit_ex (md, &pctx, digest, NULL, NULL, tb_key_get_private_pkey (key), NULL),
                           ==, 1);
          if (pss)
            {
              g_assert_cmpint (EVP_PKEY_CTX_set_rsa_padding (pctx, RSA_PKCS1_PSS_PADDING), ==, 1);
              g_assert_cmpint (EVP_PKEY_CTX_set_rsa_pss_saltlen (pctx, RSA_PSS_SALTLEN_DIGEST), ==, 1);
            }
          g_assert_cmpint (EVP_DigestSign (md, sig, &sig_len, msg, sizeof msg), ==, 1);
          EVP_MD_CTX_free (md);
          md = EVP_MD_CTX_new ();
          pctx = NULL;
          g_assert_cmpint (EVP_DigestVerifyInit_ex (md, &pctx, digest, NULL, NULL, tb_key_get_public_pkey (key), NULL),
                           ==, 1);
          if (pss)
            {
              g_assert_cmpint (EVP_PKEY_CTX_set_rsa_padding (pctx, RSA_PKCS1_PSS_PADDING), ==, 1);
              g_assert_cmpint (EVP_PKEY_CTX_set_rsa_pss_saltlen (pctx, RSA_PSS_SALTLEN_DIGEST), ==, 1);
            }
          g_assert_cmpint (EVP_DigestVerify (md, sig, sig_len, msg, sizeof msg), ==, 1);
          msg[0] ^= 1; /* and not for another message */
          EVP_MD_CTX_free (md);
          md = EVP_MD_CTX_new ();
          pctx = NULL;
          g_assert_cmpint (EVP_DigestVerifyInit_ex (md, &pctx, digest, NULL, NULL, tb_key_get_public_pkey (key), NULL),
                           ==, 1);
          if (pss)
            EVP_PKEY_CTX_set_rsa_padding (pctx, RSA_PKCS1_PSS_PADDING);
          g_assert_cmpint (EVP_DigestVerify (md, sig, sig_len, msg, sizeof msg), !=, 1);
          EVP_MD_CTX_free (md);
          ERR_clear_error ();
        }
    }
}

/* The uncompressed P-256 point of @key. */
static gboolean
tb_test_key_point (TbKey *key, guint8 point[65], size_t *len)
{
  g_autofree char *pem = tb_key_dup_public_pem (key);
  gsize der_len = 0;
  g_auto(GStrv) lines = g_strsplit (pem, "\n", -1);
  GString *b64 = g_string_new (NULL);
  g_autofree guint8 *raw = NULL;

  for (guint i = 0; lines[i] != NULL; i++)
    if (!g_str_has_prefix (lines[i], "-----"))
      g_string_append (b64, lines[i]);
  raw = g_base64_decode (b64->str, &der_len);
  g_string_free (b64, TRUE);
  /* a P-256 SubjectPublicKeyInfo ends with the 65-byte point */
  if (der_len < 65)
    return FALSE;
  memcpy (point, raw + der_len - 65, 65);
  *len = 65;
  return point[0] == 0x04;
}

static void
openssl_verify (const char *root, const char *untrusted, const char *leaf)
{
  g_autofree char *cmd = g_strdup_printf ("%s verify -x509_strict -CAfile %s %s%s %s", g_getenv ("TB_OPENSSL") ?: "openssl",
                                          root, untrusted != NULL ? "-untrusted " : "", untrusted != NULL ? untrusted : "",
                                          leaf);
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;

  g_assert_true (g_spawn_command_line_sync (cmd, &out, &err, &status, NULL));
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s: %s %s", cmd, out, err);
}

static void
export_cert (TbContext *ctx, const char *name, const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbCert) cert = tb_cert_load (ctx, name, &error);
  g_autoptr(GPtrArray) chain = g_ptr_array_new ();

  g_assert_no_error (error);
  g_ptr_array_add (chain, cert);
  g_assert_true (tb_cert_export (chain, TB_CERT_FORMAT_PEM, NULL, NULL, path, &error));
  g_assert_no_error (error);
}

/* Searches every file of @dir for a private key. */
static void
assert_no_private_key_files (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        assert_no_private_key_files (path);
      else
        {
          g_autofree char *text = tb_test_read_file (path, NULL);
          /* file keys are encrypted; a clear private key is never written */
          g_assert_null (strstr (text, "BEGIN PRIVATE KEY"));
          g_assert_null (strstr (text, "BEGIN EC PRIVATE KEY"));
          g_assert_null (strstr (text, "BEGIN RSA PRIVATE KEY"));
        }
    }
}

static void
test_hierarchy_on_token (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL, *root = NULL, *bin = NULL, *upk = NULL, *image = NULL;
  g_autoptr(TbContext) ctx = NULL;
  const char *products[] = { "widget", NULL };
  TbHierarchyTokens tokens = { NULL, NULL, NULL };

  if (skip_without_softhsm (f))
    return;
  dir = g_build_filename (f->tmp, "ctx", NULL);
  tokens.root_on = f->token_uri;
  tokens.mastering_on = f->token_uri;
  tokens.job_key_on = f->token_uri;
  ctx = tb_context_create (dir, "Token OEM", &error);
  g_assert_no_error (error);
  {
    gboolean ok = tb_hierarchy_create_on_tokens (ctx, products, NULL, PASS, &tokens, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (ok);
  }
  {
    g_autoptr(TbKey) root_key = tb_key_load (ctx, "root-ca", &error);
    g_autoptr(TbKey) prov = tb_key_load (ctx, "provisioning-ca", &error);
    g_assert_no_error (error);
    g_assert_true (tb_key_is_on_token (root_key));
    g_assert_false (tb_key_is_on_token (prov));
  }

  root = g_build_filename (f->tmp, "root.pem", NULL);
  export_cert (ctx, "root-ca", root);
  openssl_verify (root, NULL, root);
  const char *const names[] = { "provisioning-ca", "mastering", "product-widget", "job" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *pem = g_strdup_printf ("%s/%s.pem", f->tmp, names[i]);
      export_cert (ctx, names[i], pem);
      openssl_verify (root, NULL, pem);
    }

  /* an image mastered with the token's mastering key verifies */
  bin = g_build_filename (f->tmp, "app.bin", NULL);
  upk = g_build_filename (f->tmp, "app.tbupk", NULL);
  image = g_build_filename (f->tmp, "app.tbimg", NULL);
  tb_test_write_file (bin, "firmware signed by a key that never leaves its token");
  {
    g_autoptr(TbFirmware) fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, 0x08008000, &error);
    TbMasterOptions mo = { "widget", NULL, NULL, "1.0.0", 1, 0 };
    g_autoptr(TbUpk) u = NULL;
    g_autoptr(GPtrArray) checks = NULL;
    g_assert_no_error (error);
    u = tb_master_image (ctx, fw, &mo, PASS, image, upk, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (tb_image_verify (ctx, upk, image, PASS, &checks, NULL, &error));
    g_assert_no_error (error);
  }
  /* a product key on the token: the image key is unwrapped there (ECDH) */
  {
    g_autoptr(TbKey) pk = tb_key_generate_on_token (f->token_uri, "product-gadget", "ec-p256", TB_KEY_USAGE_PRODUCT,
                                                    &error);
    g_autoptr(JsonObject) product = json_object_new ();
    g_autofree char *gupk = g_build_filename (f->tmp, "gadget.tbupk", NULL);
    g_autofree char *gimg = g_build_filename (f->tmp, "gadget.tbimg", NULL);
    g_autoptr(TbFirmware) fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, 0x08008000, &error);
    TbMasterOptions mo = { "gadget", NULL, NULL, "2.0.0", 1, 0 };
    g_autoptr(TbUpk) u = NULL;
    g_autoptr(GPtrArray) checks = NULL;
    gboolean ok;

    g_assert_no_error (error);
    g_assert_true (tb_key_store (pk, ctx, "product-gadget", TB_KEY_USAGE_PRODUCT, NULL, &error));
    json_object_set_string_member (product, "name", "gadget");
    json_object_set_string_member (product, "key", "product-gadget");
    g_assert_true (tb_context_add_entry (ctx, TB_INVENTORY_PRODUCTS, product, &error));
    g_assert_true (tb_context_save (ctx, &error));
    u = tb_master_image (ctx, fw, &mo, PASS, gimg, gupk, NULL, &error);
    g_assert_no_error (error);
    ok = tb_image_verify (ctx, gupk, gimg, PASS, &checks, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (ok);
    {
      gboolean decrypted = FALSE;
      for (guint i = 0; i < checks->len; i++)
        {
          TbCheck *c = g_ptr_array_index (checks, i);
          if (g_strcmp0 (c->name, "decrypt") == 0)
            decrypted = c->status == TB_CHECK_PASSED;
        }
      g_assert_true (decrypted);
    }
  }

  /* an MCUboot image signed by the token's mastering key */
  {
    g_autofree char *mcuboot = g_build_filename (f->tmp, "app.mcuboot.bin", NULL);
    g_autoptr(TbFirmware) fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, 0x08008000, &error);
    TbMcubootOptions mo = { "1.0.0", 1, 0, NULL };
    g_assert_no_error (error);
    g_assert_true (tb_mcuboot_export (ctx, fw, &mo, PASS, mcuboot, NULL, &error));
    g_assert_no_error (error);
    g_assert_true (g_file_test (mcuboot, G_FILE_TEST_IS_REGULAR));
  }

  /* device certificates issued by a provisioning CA whose key is on the token */
  {
    g_autoptr(TbKey) root_key = tb_key_load (ctx, "root-ca", &error);
    g_autoptr(TbCert) root_cert = tb_cert_load (ctx, "root-ca", &error);
    g_autoptr(TbKey) ca_key = NULL;
    g_autoptr(TbCert) ca_cert = NULL;
    g_autoptr(TbDeviceCertIssuer) issuer = NULL;
    g_autoptr(TbKey) device = tb_key_generate ("ec-p256", &error);
    g_autoptr(GBytes) der = NULL;
    g_autofree char *ca_pem = g_build_filename (f->tmp, "token-ca.pem", NULL);
    g_autofree char *dev_pem = g_build_filename (f->tmp, "device.pem", NULL);
    guint8 point[65];

    g_assert_no_error (error);
    g_assert_true (tb_key_unlock (root_key, ctx, PASS, &error));
    ca_key = tb_key_generate_on_token (f->token_uri, "line-ca", "ec-p256", TB_KEY_USAGE_PROVISIONING_CA,
                                       &error);
    g_assert_no_error (error);
    g_assert_true (tb_key_store (ca_key, ctx, "line-ca", TB_KEY_USAGE_PROVISIONING_CA, NULL, &error));
    ca_cert = tb_cert_issue (root_cert, root_key, ca_key, TB_CERT_PROFILE_PROVISIONING_CA, "Line CA", "Token OEM", 365,
                             &error);
    g_assert_no_error (error);
    issuer = tb_device_cert_issuer_new (ca_cert, ca_key, "Token OEM", 365, &error);
    g_assert_no_error (error);
    {
      g_autoptr(TbCert) dev_cert = NULL;
      g_autoptr(GPtrArray) chain = g_ptr_array_new ();
      size_t len = 0;

      /* the device's point, as a device reports it */
      g_assert_true (tb_test_key_point (device, point, &len));
      der = tb_device_cert_issuer_issue (issuer, point, 65, "00c0ffee", &error);
      g_assert_no_error (error);
      dev_cert = tb_cert_new_from_data (g_bytes_get_data (der, NULL), g_bytes_get_size (der), "device", &error);
      g_assert_no_error (error);
      g_ptr_array_add (chain, ca_cert);
      g_assert_true (tb_cert_export (chain, TB_CERT_FORMAT_PEM, NULL, NULL, ca_pem, &error));
      g_ptr_array_index (chain, 0) = dev_cert;
      g_assert_true (tb_cert_export (chain, TB_CERT_FORMAT_PEM, NULL, NULL, dev_pem, &error));
      g_assert_no_error (error);
      openssl_verify (root, ca_pem, dev_pem);
    }
  }

  /* a production job signed by the token's root key */
  {
    g_autofree char *job = g_build_filename (f->tmp, "run.tbjob", NULL);
    TbJobCreateOptions jo = { "token-run", upk, image, 5, NULL, NULL, 1, job };
    g_autoptr(TbJobPackage) p = NULL;
    g_assert_true (tb_job_create (ctx, &jo, PASS, "job passphrase", NULL, NULL, &error));
    g_assert_no_error (error);
    p = tb_job_package_load (job, &error);
    g_assert_no_error (error);
    g_assert_nonnull (p);
    {
      /* signed by the job key on the token, whose certificate comes along */
      g_autofree char *text = tb_test_read_file (job, NULL);
      g_autoptr(TbCert) job_cert = tb_cert_load (ctx, "job", &error);
      g_autofree char *job_pem = tb_cert_dup_pem (job_cert);
      g_autofree char *escaped = g_strescape (job_pem, NULL);
      g_assert_nonnull (strstr (text, "\"signer_certificate\""));
      g_assert_nonnull (strstr (text, escaped));
    }
  }

  assert_no_private_key_files (dir);
  /* the token keys have no file at all, not even an encrypted one */
  {
    const char *const on_token[] = { "root-ca", "mastering", "job" };
    for (guint i = 0; i < G_N_ELEMENTS (on_token); i++)
      {
        g_autofree char *file = g_strdup_printf ("%s/keys/%s.key", dir, on_token[i]);
        g_autoptr(TbKeyInfo) info = tb_context_lookup_key (ctx, on_token[i], &error);
        g_assert_no_error (error);
        g_assert_false (g_file_test (file, G_FILE_TEST_EXISTS));
        g_assert_null (info->file);
        g_assert_true (g_str_has_prefix (info->storage, "pkcs11:"));
      }
  }
}

static void
test_failures (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKey) key = NULL;
  g_autofree char *uri = NULL;

  if (skip_without_softhsm (f))
    return;
  key = tb_key_generate_on_token (f->token_uri, "signer", "ec-p256", TB_KEY_USAGE_MASTERING, &error);
  g_assert_no_error (error);
  uri = g_strdup (tb_key_get_storage (key));

  tb_pkcs11_reset (); /* log out: the next use logs in again */
  tb_pkcs11_set_pin ("000000");
  {
    g_autoptr(TbKey) k = tb_key_new_from_token (uri, &error);
    g_assert_null (k);
    g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
    g_assert_nonnull (strstr (error->message, "wrong PIN"));
    g_clear_error (&error);
  }
  tb_pkcs11_set_pin (NULL);
  {
    g_autoptr(TbKey) k = tb_key_new_from_token (uri, &error);
    g_assert_null (k);
    g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
    g_assert_nonnull (strstr (error->message, "TRUSTBENCH_PIN"));
    g_clear_error (&error);
  }
  tb_pkcs11_set_pin (PIN);
  {
    g_autofree char *gone = g_strdup_printf ("pkcs11:token=tb-test;object=signer?module-path=%s/no-such-module.so",
                                             f->tmp);
    g_autoptr(TbKey) k = tb_key_new_from_token (gone, &error);
    g_assert_null (k);
    g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
  {
    g_autofree char *missing = g_strdup_printf ("pkcs11:token=tb-test;object=nobody?module-path=%s", f->module);
    g_autoptr(TbKey) k = tb_key_new_from_token (missing, &error);
    g_assert_null (k);
    g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
  {
    g_autofree char *other = g_strdup_printf ("pkcs11:token=another-token;object=signer?module-path=%s", f->module);
    g_autoptr(TbKey) k = tb_key_new_from_token (other, &error);
    g_assert_null (k);
    g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
  /* a token locked out after too many wrong PINs */
  if (g_getenv ("TB_FAKE_PKCS11") != NULL)
    {
      g_autofree char *locked = g_strdup_printf ("pkcs11:token=locked-out;object=root?module-path=%s",
                                                 g_getenv ("TB_FAKE_PKCS11"));
      g_autoptr(TbKey) k = tb_key_new_from_token (locked, &error);
      g_assert_null (k);
      g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
      g_assert_nonnull (strstr (error->message, "locked out"));
      g_clear_error (&error);
    }
  {
    g_autoptr(TbKey) k = tb_key_new_from_token ("not a uri", &error);
    g_assert_null (k);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  }
}

static void
run_or_die (const char *cmd)
{
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;

  g_assert_true (g_spawn_command_line_sync (cmd, &out, &err, &status, NULL));
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s: %s %s", cmd, out, err);
}

/* Stores a certificate object on the token and removes the public key
 * object of the key with @id: what a smart card often holds. Raw PKCS#11,
 * with Trustbench's own module instance unloaded meanwhile. */
static void
keep_only_certificate (Fixture *f, const guint8 *id, gsize id_len, GBytes *cert_der)
{
  CK_FUNCTION_LIST *m;
  CK_SLOT_ID slots[8];
  CK_ULONG n = G_N_ELEMENTS (slots), found = 0;
  CK_SESSION_HANDLE s = 0;
  CK_OBJECT_CLASS cls = CKO_CERTIFICATE, pub_cls = CKO_PUBLIC_KEY;
  CK_CERTIFICATE_TYPE ctype = CKC_X_509;
  CK_BBOOL yes = CK_TRUE;
  CK_OBJECT_HANDLE obj;
  gsize der_len;
  const void *der = g_bytes_get_data (cert_der, &der_len);
  const unsigned char *p = der;
  X509 *x = d2i_X509 (NULL, &p, (long) der_len);
  unsigned char *subject = NULL;
  int subject_len = x != NULL ? i2d_X509_NAME (X509_get_subject_name (x), &subject) : -1;
  CK_ATTRIBUTE cert[] = {
    { CKA_SUBJECT, subject, (CK_ULONG) MAX (subject_len, 0) },
    { CKA_CLASS, &cls, sizeof cls },
    { CKA_CERTIFICATE_TYPE, &ctype, sizeof ctype },
    { CKA_TOKEN, &yes, sizeof yes },
    { CKA_ID, (void *) id, id_len },
    { CKA_LABEL, (void *) "card", 4 },
    { CKA_VALUE, (void *) der, der_len },
  };
  CK_ATTRIBUTE find[] = { { CKA_CLASS, &pub_cls, sizeof pub_cls }, { CKA_ID, (void *) id, id_len } };

  tb_pkcs11_reset ();
  m = p11_kit_module_load (f->module, 0);
  g_assert_nonnull (m);
  g_assert_cmpint (p11_kit_module_initialize (m), ==, CKR_OK);
  g_assert_cmpint (m->C_GetSlotList (CK_TRUE, slots, &n), ==, CKR_OK);
  for (CK_ULONG i = 0; i < n && s == 0; i++)
    {
      CK_TOKEN_INFO ti;
      if (m->C_GetTokenInfo (slots[i], &ti) == CKR_OK && strncmp ((const char *) ti.label, "tb-test ", 8) == 0)
        g_assert_cmpint (m->C_OpenSession (slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), ==,
                         CKR_OK);
    }
  g_assert_cmpuint (s, !=, 0);
  g_assert_cmpint (m->C_Login (s, CKU_USER, (CK_UTF8CHAR_PTR) PIN, strlen (PIN)), ==, CKR_OK);
  g_assert_cmpint (m->C_CreateObject (s, cert, G_N_ELEMENTS (cert), &obj), ==, CKR_OK);
  g_assert_cmpint (m->C_FindObjectsInit (s, find, G_N_ELEMENTS (find)), ==, CKR_OK);
  g_assert_cmpint (m->C_FindObjects (s, &obj, 1, &found), ==, CKR_OK);
  m->C_FindObjectsFinal (s);
  g_assert_cmpuint (found, ==, 1);
  g_assert_cmpint (m->C_DestroyObject (s, obj), ==, CKR_OK);
  m->C_CloseSession (s);
  p11_kit_module_finalize (m);
  p11_kit_module_release (m);
  OPENSSL_free (subject);
  X509_free (x);
}

/* Keys that were put on the token by other tools: with a public key
 * object, or (like many smart cards) with only a certificate. */
static void
test_existing_keys (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = NULL, *der = NULL, *cmd = NULL, *uri = NULL, *card_uri = NULL;
  g_autoptr(TbKey) from_file = NULL;
  g_autoptr(TbKey) on_token = NULL;
  const char *openssl = g_getenv ("TB_OPENSSL") ?: "openssl";
  static const guint8 card_id[] = { 0xc3, 0xd4 };

  if (skip_without_softhsm (f))
    return;
  pem = g_build_filename (f->tmp, "existing.pem", NULL);
  cmd = g_strdup_printf ("%s genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out %s", openssl, pem);
  run_or_die (cmd);
  g_free (cmd);
  cmd = g_strdup_printf ("softhsm2-util --import %s --token tb-test --label existing --id a1b2 --pin " PIN, pem);
  run_or_die (cmd);
  from_file = tb_key_import_file (pem, NULL, &error);
  g_assert_no_error (error);
  uri = g_strdup_printf ("pkcs11:token=tb-test;object=existing?module-path=%s", f->module);
  on_token = tb_key_new_from_token (uri, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tb_key_get_public_sha256 (on_token), ==, tb_key_get_public_sha256 (from_file));

  /* only the private key and a certificate */
  {
    g_autofree char *card_pem = g_build_filename (f->tmp, "card.pem", NULL);
    g_autoptr(TbKey) card = NULL;
    g_autoptr(TbKey) card_file = NULL;
    gsize len = 0;
    g_autofree char *der_data = NULL;

    der = g_build_filename (f->tmp, "card.der", NULL);
    g_free (cmd);
    cmd = g_strdup_printf ("%s genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out %s", openssl, card_pem);
    run_or_die (cmd);
    g_free (cmd);
    cmd = g_strdup_printf ("%s req -new -x509 -key %s -subj /CN=card -days 30 -outform DER -out %s", openssl, card_pem,
                           der);
    run_or_die (cmd);
    g_free (cmd);
    cmd = g_strdup_printf ("softhsm2-util --import %s --token tb-test --label card --id c3d4 --pin " PIN, card_pem);
    run_or_die (cmd);
    der_data = tb_test_read_file (der, &len);
    {
      g_autoptr(GBytes) bytes = g_bytes_new (der_data, len);
      keep_only_certificate (f, card_id, sizeof card_id, bytes);
    }
    card_file = tb_key_import_file (card_pem, NULL, &error);
    g_assert_no_error (error);
    card_uri = g_strdup_printf ("pkcs11:token=tb-test;id=%%c3%%d4?module-path=%s", f->module);
    card = tb_key_new_from_token (card_uri, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (tb_key_get_public_sha256 (card), ==, tb_key_get_public_sha256 (card_file));
    /* and it signs */
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(TbCert) cert = NULL;
      g_autofree char *ctx_dir = g_build_filename (f->tmp, "card-ctx", NULL);
      g_autoptr(TbContext) ctx = tb_context_create (ctx_dir, "Card", &local);
      g_assert_no_error (local);
      g_assert_true (tb_key_store (card, ctx, "card", TB_KEY_USAGE_ROOT_CA, NULL, &local));
      g_assert_no_error (local);
      g_assert_true (tb_key_unlock (card, ctx, NULL, &local));
      g_assert_no_error (local);
      cert = tb_cert_issue_self_signed (card, "Card Root", "Card", 30, &local);
      g_assert_no_error (local);
      g_assert_nonnull (cert);
    }
  }
}

/* The system trust store p11-kit lists with the tokens is told apart from
 * the tokens that hold keys. */
static void
test_trust_store (void)
{
  g_autoptr(GError) error = NULL;
  const char *trust_module = g_getenv ("TB_FAKE_TRUST_STORE");
  const char *token_module = g_getenv ("TB_FAKE_PKCS11");
  TbTokenInfo by_path = { .label = (char *) "Default Trust", .model = (char *) "",
                          .module = (char *) "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-trust.so" };

  if (trust_module == NULL || token_module == NULL)
    {
      g_test_skip ("the fake PKCS#11 modules are not built");
      return;
    }
  {
    g_autoptr(GPtrArray) tokens = tb_pkcs11_list_tokens (trust_module, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (tokens->len, ==, 1);
    g_assert_cmpstr (((TbTokenInfo *) g_ptr_array_index (tokens, 0))->label, ==, "System Trust");
    g_assert_true (tb_token_info_is_trust_store (g_ptr_array_index (tokens, 0)));
  }
  {
    g_autoptr(GPtrArray) tokens = tb_pkcs11_list_tokens (token_module, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (tokens->len, ==, 1);
    g_assert_false (tb_token_info_is_trust_store (g_ptr_array_index (tokens, 0)));
  }
  g_assert_true (tb_token_info_is_trust_store (&by_path));
}

/* The predicate every "is this key on a token" question goes through. */
static void
test_is_uri (void)
{
  g_assert_true (tb_pkcs11_is_uri ("pkcs11:token=tb-test;object=signer"));
  g_assert_true (tb_pkcs11_is_uri ("pkcs11:"));
  g_assert_false (tb_pkcs11_is_uri (NULL));
  g_assert_false (tb_pkcs11_is_uri (""));
  g_assert_false (tb_pkcs11_is_uri ("keys/signer.p8"));
  g_assert_false (tb_pkcs11_is_uri ("/home/lab/pkcs11:token=x"));
  g_assert_false (tb_pkcs11_is_uri ("pkcs11"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/pkcs11/list-and-generate", Fixture, NULL, setup, test_list_and_generate, teardown);
  g_test_add ("/pkcs11/hierarchy-on-token", Fixture, NULL, setup, test_hierarchy_on_token, teardown);
  g_test_add ("/pkcs11/failures", Fixture, NULL, setup, test_failures, teardown);
  g_test_add ("/pkcs11/generate-without-randomness", Fixture, NULL, setup, test_generate_without_randomness, teardown);
  g_test_add ("/pkcs11/existing-keys", Fixture, NULL, setup, test_existing_keys, teardown);
  g_test_add_func ("/pkcs11/trust-store", test_trust_store);
  g_test_add_func ("/pkcs11/is-uri", test_is_uri);
  return g_test_run ();
}
