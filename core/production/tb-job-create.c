/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Making a production job (OEM side): the package of each slice, its
 * manifest signed by the OEM, the job's issuing CA; see the top of
 * tb-job.c and docs/formats/job.md. */

#include "config.h"

#include "tb-job.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <string.h>

#include "tb-audit-private.h"
#include "tb-cert-private.h"
#include "tb-context-private.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-hierarchy.h"
#include "tb-job-private.h"
#include "tb-key-private.h"
#include "tb-name.h"
#include "tb-secret.h"
#include "tb-upk.h"

static char *
to_json (JsonObject *obj)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  json_node_set_object (node, obj);
  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

/* ---- signing the manifest with the root key ---- */

static char *
sign_b64 (TbKey *key, const char *data, gsize len, GError **error)
{
  g_autoptr(EVP_MD_CTX) mctx = EVP_MD_CTX_new ();
  EVP_PKEY *pkey = tb_key_get_private_pkey (key);
  const EVP_MD *md = tb_cert_digest_for_key (pkey);
  g_autofree guint8 *sig = NULL;
  size_t sig_len = 0;

  if (mctx == NULL ||
      EVP_DigestSignInit_ex (mctx, NULL, md != NULL ? EVP_MD_get0_name (md) : NULL, NULL, NULL, pkey, NULL) != 1 ||
      EVP_DigestSign (mctx, NULL, &sig_len, (const guint8 *) data, len) != 1)
    goto fail;
  sig = g_malloc (sig_len);
  if (EVP_DigestSign (mctx, sig, &sig_len, (const guint8 *) data, len) != 1)
    goto fail;
  return g_base64_encode (sig, sig_len);

fail:
  tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot sign the job manifest"));
  return NULL;
}

/* ---- making a job (OEM side) ---- */

static char *
slice_path (const char *output, guint index, guint n)
{
  const char *dot;
  g_autofree char *base = NULL;

  if (n <= 1)
    return g_strdup (output);
  dot = strrchr (output, '.');
  if (dot != NULL && strchr (dot, '/') == NULL && dot != output)
    {
      base = g_strndup (output, (gsize) (dot - output));
      return g_strdup_printf ("%s-s%u%s", base, index, dot);
    }
  return g_strdup_printf ("%s-s%u", output, index);
}

static char *
generate_job_id (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *day = g_date_time_format (now, "%Y%m%d");
  return g_strdup_printf ("job-%s-%04x", day, g_random_int_range (0, 0x10000));
}

static GBytes *
read_file_bytes (const char *path, gsize max, GError **error)
{
  char *data = NULL;
  gsize len = 0;

  if (!tb_file_read_bounded (path, max, &data, &len, error))
    return NULL;
  return g_bytes_new_take (data, len);
}

static char *
authorization_json (const char *job_id, guint slice, guint slices, guint64 first, guint64 count, guint64 total,
                    const char *product)
{
  g_autoptr(JsonObject) a = json_object_new ();

  json_object_set_string_member (a, "job_id", job_id);
  json_object_set_int_member (a, "slice", slice);
  json_object_set_int_member (a, "slices", slices);
  json_object_set_int_member (a, "first", (gint64) first);
  json_object_set_int_member (a, "count", (gint64) count);
  json_object_set_int_member (a, "total_count", (gint64) total);
  json_object_set_string_member (a, "product", product);
  return to_json (a);
}

static JsonArray *
strv_to_array (const char *const *strv)
{
  JsonArray *a = json_array_new ();
  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    json_array_add_string_element (a, strv[i]);
  return a;
}

static gboolean
check_device_types (TbUpk *upk, const char *const *wanted, GError **error)
{
  const char *const *allowed = tb_upk_get_device_types (upk);

  if (allowed == NULL || allowed[0] == NULL || wanted == NULL)
    return TRUE;
  for (guint i = 0; wanted[i] != NULL; i++)
    if (!g_strv_contains (allowed, wanted[i]))
      {
        g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                     _("The image is mastered for device types other than “%s”: a job cannot widen its binding"),
                     wanted[i]);
        return FALSE;
      }
  return TRUE;
}

typedef struct {
  TbContext *ctx;
  const TbJobCreateOptions *o;
  const char *job_id;
  const char *job_passphrase;
  TbUpk *upk;
  GBytes *upk_bytes;
  GBytes *image_bytes;
  TbCert *root;
  TbKey *root_key;
  TbKey *product_key;
  TbKey *signer_key;            /* the job key, or the root key */
  char *signer_pem;             /* the job key's certificate; NULL: the root signs */
  TbCert *mastering;
  const char *const *device_types;
  char *created;
  char *not_after;
} Maker;

static gboolean
make_slice (Maker *m, guint index, guint n, guint64 first, guint64 count, JsonArray *slices, GPtrArray *files,
            GError **error)
{
  g_autoptr(TbKey) key = tb_key_generate ("ec-p256", error);
  g_autofree char *auth = NULL;
  g_autofree char *cn = NULL;
  g_autoptr(TbCert) ca = NULL;
  g_autoptr(JsonObject) man = json_object_new ();
  g_autoptr(JsonObject) pkg = json_object_new ();
  g_autofree char *issuer_pem = NULL, *product_pem = NULL, *manifest = NULL, *manifest_b64 = NULL;
  g_autofree char *sig_b64 = NULL, *text = NULL, *path = NULL, *root_pem = NULL, *ca_pem = NULL;
  g_autofree char *mastering_pem = NULL, *upk_sha = NULL, *image_sha = NULL;
  gsize issuer_len = 0, product_len = 0;
  g_autoptr(JsonObject) slice = json_object_new ();
  gboolean ok;

  if (key == NULL)
    return FALSE;
  auth = authorization_json (m->job_id, index, n, first, count, m->o->count, tb_upk_get_product (m->upk));
  cn = n > 1 ? g_strdup_printf ("Job %s slice %u/%u", m->job_id, index, n) : g_strdup_printf ("Job %s", m->job_id);
  ca = tb_cert_issue_job_ca (m->root, m->root_key, key, cn, tb_context_get_name (m->ctx), TB_CERT_DAYS_DEVICE, auth,
                             error);
  if (ca == NULL)
    return FALSE;
  issuer_pem = tb_key_dup_encrypted_pem (key, m->job_passphrase, &issuer_len, error);
  if (issuer_pem == NULL)
    return FALSE;
  product_pem = tb_key_dup_encrypted_pem (m->product_key, m->job_passphrase, &product_len, error);
  if (product_pem == NULL)
    {
      tb_secret_wipe (issuer_pem, issuer_len);
      return FALSE;
    }
  root_pem = tb_cert_dup_pem (m->root);
  ca_pem = tb_cert_dup_pem (ca);
  mastering_pem = tb_cert_dup_pem (m->mastering);
  upk_sha = tb_job_sha256_bytes (m->upk_bytes);
  image_sha = tb_job_sha256_bytes (m->image_bytes);

  json_object_set_string_member (man, "format", TB_JOB_MANIFEST_FORMAT);
  json_object_set_int_member (man, "version", TB_JOB_FORMAT_VERSION);
  json_object_set_string_member (man, "job_id", m->job_id);
  json_object_set_string_member (man, "oem", tb_context_get_name (m->ctx));
  json_object_set_string_member (man, "product", tb_upk_get_product (m->upk));
  json_object_set_array_member (man, "device_types", strv_to_array (m->device_types));
  json_object_set_int_member (man, "total_count", (gint64) m->o->count);
  json_object_set_int_member (man, "slice", index);
  json_object_set_int_member (man, "slices", n);
  json_object_set_int_member (man, "first", (gint64) first);
  json_object_set_int_member (man, "count", (gint64) count);
  json_object_set_string_member (man, "created", m->created);
  if (m->not_after != NULL)
    json_object_set_string_member (man, "not_after", m->not_after);
  else
    json_object_set_null_member (man, "not_after");
  json_object_set_string_member (man, "image_version", tb_upk_get_version (m->upk));
  json_object_set_int_member (man, "security_counter", tb_upk_get_security_counter (m->upk));
  {
    g_autofree char *digest = tb_hex_encode (tb_upk_get_plaintext_sha256 (m->upk), 32);
    g_autofree char *image_id = tb_hex_encode (tb_upk_get_image_id (m->upk), TB_UPK_IMAGE_ID_LEN);
    json_object_set_string_member (man, "plaintext_sha256", digest);
    json_object_set_string_member (man, "image_id", image_id);
  }
  json_object_set_string_member (man, "upk_sha256", upk_sha);
  json_object_set_string_member (man, "image_sha256", image_sha);
  json_object_set_string_member (man, "root_certificate", root_pem);
  json_object_set_string_member (man, "issuer_certificate", ca_pem);
  json_object_set_string_member (man, "mastering_certificate", mastering_pem);
  json_object_set_string_member (man, "issuer_key", issuer_pem);
  json_object_set_string_member (man, "product_key", product_pem);
  manifest = to_json (man);
  tb_secret_wipe (issuer_pem, issuer_len);
  tb_secret_wipe (product_pem, product_len);
  sig_b64 = sign_b64 (m->signer_key, manifest, strlen (manifest), error);
  if (sig_b64 == NULL)
    return FALSE;
  manifest_b64 = g_base64_encode ((const guint8 *) manifest, strlen (manifest));

  json_object_set_string_member (pkg, "format", TB_JOB_FORMAT);
  json_object_set_int_member (pkg, "version", TB_JOB_PACKAGE_VERSION);
  json_object_set_string_member (pkg, "job_id", m->job_id);
  json_object_set_int_member (pkg, "slice", index);
  json_object_set_string_member (pkg, "root_certificate", root_pem);
  json_object_set_string_member (pkg, "manifest", manifest_b64);
  json_object_set_string_member (pkg, "signature", sig_b64);
  if (m->signer_pem != NULL)
    json_object_set_string_member (pkg, "signer_certificate", m->signer_pem);
  {
    g_autofree char *u = g_base64_encode (g_bytes_get_data (m->upk_bytes, NULL), g_bytes_get_size (m->upk_bytes));
    g_autofree char *i = g_base64_encode (g_bytes_get_data (m->image_bytes, NULL), g_bytes_get_size (m->image_bytes));
    json_object_set_string_member (pkg, "upk", u);
    json_object_set_string_member (pkg, "image", i);
  }
  text = to_json (pkg);
  path = slice_path (m->o->output, index, n);
  ok = tb_file_write_output (path, text, strlen (text), 0600, error);
  tb_secret_wipe (manifest, strlen (manifest));
  if (!ok)
    return FALSE;
  g_ptr_array_add (files, g_steal_pointer (&path));

  json_object_set_int_member (slice, "slice", index);
  json_object_set_int_member (slice, "first", (gint64) first);
  json_object_set_int_member (slice, "count", (gint64) count);
  json_object_set_string_member (slice, "issuer_certificate", ca_pem);
  json_object_set_string_member (slice, "manifest", manifest_b64);
  json_object_set_string_member (slice, "signature", sig_b64);
  if (m->signer_pem != NULL)
    json_object_set_string_member (slice, "signer_certificate", m->signer_pem);
  json_array_add_object_element (slices, g_steal_pointer (&slice));
  return TRUE;
}

/**
 * tb_job_create:
 * @ctx: an OEM context locked for writing
 * @passphrase: unlocks the root and product keys
 * @job_passphrase: encrypts the job's keys in the package (at least 8
 *   characters; the station needs it to import)
 * @job_id: (out) (optional): the job id
 * @files: (out) (optional) (element-type utf8): the packages written
 *
 * Makes a production job from a mastered pair (see the top of this file),
 * records it in @ctx and audits it.
 */
gboolean
tb_job_create (TbContext *ctx, const TbJobCreateOptions *o, const char *passphrase, const char *job_passphrase,
               char **job_id, GPtrArray **files, GError **error)
{
  g_autofree char *id = o->job_id != NULL ? g_strdup (o->job_id) : generate_job_id ();
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonArray) slices = json_array_new ();
  g_autoptr(TbUpk) upk = NULL;
  g_autoptr(GBytes) upk_bytes = NULL;
  g_autoptr(GBytes) image_bytes = NULL;
  g_autoptr(TbCert) root = NULL;
  g_autoptr(TbKey) root_key = NULL;
  g_autoptr(TbKey) product_key = NULL;
  g_autoptr(TbKey) job_key = NULL;
  g_autofree char *signer_pem = NULL;
  g_autofree char *pk_name = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = tb_job_format_time (now);
  g_autofree char *not_after = tb_job_format_time (o->not_after);
  guint n = o->slices == 0 ? 1 : o->slices;
  guint64 first = 0;
  Maker m = { 0 };

  if (!tb_name_is_valid (id, error))
    return FALSE;
  if (o->count == 0 || o->count > TB_JOB_MAX_COUNT)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("A job's count must be 1 to %u"), TB_JOB_MAX_COUNT);
      return FALSE;
    }
  if (n > TB_JOB_MAX_SLICES || n > o->count)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("%u slices for %" G_GUINT64_FORMAT " devices: each slice needs at least one device (at most %u "
                     "slices)"), n, o->count, TB_JOB_MAX_SLICES);
      return FALSE;
    }
  if (o->upk_path == NULL || o->image_path == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("A job needs a UPK and its image"));
      return FALSE;
    }
  if (o->output == NULL || o->output[0] == '\0')
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("Name a file for the job package"));
      return FALSE;
    }
  if (n > 1 && tb_file_is_stdout (o->output))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("A job in %u slices is %u package files, which cannot all go to standard output; name a file "
                     "(they become FILE-s1, FILE-s2…)"), n, n);
      return FALSE;
    }
  if (o->not_after != NULL && g_date_time_compare (o->not_after, now) <= 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("The job would expire before it starts (%s)"),
                   not_after);
      return FALSE;
    }
  if (job_passphrase == NULL || strlen (job_passphrase) < 8)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("The job passphrase protecting the package's keys must have at least 8 characters"));
      return FALSE;
    }
  if (tb_context_find_entry (ctx, TB_INVENTORY_JOBS, id) != NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_EXISTS, _("The context already has a job “%s”"), id);
      return FALSE;
    }

  upk_bytes = read_file_bytes (o->upk_path, TB_UPK_MAX_BYTES, error);
  if (upk_bytes == NULL)
    return FALSE;
  upk = tb_upk_parse (g_bytes_get_data (upk_bytes, NULL), g_bytes_get_size (upk_bytes), o->upk_path, error);
  if (upk == NULL || !tb_upk_verify_signature (upk, error) ||
      !tb_cert_verify (ctx, tb_upk_get_signer_cert (upk), NULL, error) ||
      !tb_cert_check_code_signing (tb_upk_get_signer_cert (upk), error) ||
      !check_device_types (upk, o->device_types, error))
    return FALSE;
  image_bytes = read_file_bytes (o->image_path, TB_JOB_FILE_MAX_BYTES / 2, error);
  if (image_bytes == NULL)
    return FALSE;
  {
    guint8 digest[32];
    gsize dlen = sizeof digest;
    g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
    g_checksum_update (sum, g_bytes_get_data (image_bytes, NULL), MIN (g_bytes_get_size (image_bytes), 64));
    g_checksum_get_digest (sum, digest, &dlen);
    if (g_bytes_get_size (image_bytes) < 64 || memcmp (digest, tb_upk_get_image_header_sha256 (upk), 32) != 0)
      {
        g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("%s is not the image of %s"), o->image_path,
                     o->upk_path);
        return FALSE;
      }
  }

  root = tb_cert_load (ctx, TB_KEY_NAME_ROOT_CA, error);
  if (root == NULL)
    return FALSE;
  root_key = tb_key_load_unlocked (ctx, tb_cert_get_key_name (root) != NULL ? tb_cert_get_key_name (root)
                                                                      : TB_KEY_NAME_ROOT_CA, passphrase, error);
  if (root_key == NULL)
    return FALSE;
  pk_name = tb_context_dup_product_key_name (ctx, tb_upk_get_product (upk));
  product_key = tb_key_load_unlocked (ctx, pk_name, passphrase, error);
  if (product_key == NULL)
    return FALSE;
  if (tb_upk_find_recipient (upk, tb_key_get_public_sha256 (product_key)) == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The image key of %s is not wrapped for the key of product “%s”"), o->upk_path,
                   tb_upk_get_product (upk));
      return FALSE;
    }

  {
    /* the OEM's job key signs jobs when the context has one (init
     * --job-key-on); the root still certifies each job's issuing CA */
    g_autoptr(TbCert) job_cert = tb_context_find_entry (ctx, TB_INVENTORY_CERTIFICATES, TB_KEY_NAME_JOB) != NULL
                                   ? tb_cert_load (ctx, TB_KEY_NAME_JOB, error) : NULL;
    if (job_cert != NULL)
      {
        job_key = tb_key_load_unlocked (ctx, tb_cert_get_key_name (job_cert) != NULL ? tb_cert_get_key_name (job_cert)
                                                                               : TB_KEY_NAME_JOB, passphrase, error);
        if (job_key == NULL || !tb_key_require_usage (job_key, TB_KEY_USAGE_JOB, _("sign production jobs"), error))
          return FALSE;
        signer_pem = tb_cert_dup_pem (job_cert);
      }
    else if (error != NULL && *error != NULL)
      return FALSE;
  }
  m.signer_key = job_key != NULL ? job_key : root_key;
  m.signer_pem = signer_pem;
  m.ctx = ctx;
  m.o = o;
  m.job_id = id;
  m.job_passphrase = job_passphrase;
  m.upk = upk;
  m.upk_bytes = upk_bytes;
  m.image_bytes = image_bytes;
  m.root = root;
  m.root_key = root_key;
  m.product_key = product_key;
  m.mastering = tb_upk_get_signer_cert (upk);
  m.device_types = o->device_types != NULL && o->device_types[0] != NULL ? o->device_types
                                                                          : tb_upk_get_device_types (upk);
  m.created = created;
  m.not_after = not_after;
  for (guint i = 1; i <= n; i++)
    {
      guint64 count = o->count / n + (i <= o->count % n ? 1 : 0);
      if (!make_slice (&m, i, n, first, count, slices, written, error))
        {
          for (guint j = 0; j < written->len; j++)
            g_unlink (g_ptr_array_index (written, j));
          return FALSE;
        }
      first += count;
    }

  {
    g_autoptr(JsonObject) entry = json_object_new ();
    g_autoptr(JsonObject) details = json_object_new ();
    g_autofree char *upk_sha = tb_job_sha256_bytes (upk_bytes);
    g_autofree char *image_sha = tb_job_sha256_bytes (image_bytes);

    json_object_set_string_member (entry, "job_id", id);
    json_object_set_string_member (entry, "role", "oem");
    json_object_set_string_member (entry, "product", tb_upk_get_product (upk));
    json_object_set_string_member (entry, "image_version", tb_upk_get_version (upk));
    json_object_set_int_member (entry, "count", (gint64) o->count);
    json_object_set_int_member (entry, "total_count", (gint64) o->count);
    json_object_set_array_member (entry, "device_types", strv_to_array (m.device_types));
    json_object_set_string_member (entry, "created", created);
    if (not_after != NULL)
      json_object_set_string_member (entry, "not_after", not_after);
    json_object_set_string_member (entry, "upk_sha256", upk_sha);
    json_object_set_string_member (entry, "image_sha256", image_sha);
    json_object_set_array_member (entry, "slices", json_array_ref (slices));
    if (!tb_context_add_entry (ctx, TB_INVENTORY_JOBS, entry, error))
      return FALSE;
    json_object_set_string_member (details, "product", tb_upk_get_product (upk));
    json_object_set_string_member (details, "image_version", tb_upk_get_version (upk));
    json_object_set_int_member (details, "count", (gint64) o->count);
    json_object_set_int_member (details, "slices", n);
    json_object_set_string_member (details, "upk_sha256", upk_sha);
    if (not_after != NULL)
      json_object_set_string_member (details, "not_after", not_after);
    if (!tb_audit_append (ctx, "job.create", id, details, error) || !tb_context_save (ctx, error))
      return FALSE;
  }
  if (job_id != NULL)
    *job_id = g_steal_pointer (&id);
  if (files != NULL)
    *files = g_steal_pointer (&written);
  return TRUE;
}
