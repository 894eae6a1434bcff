/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Production jobs: what the OEM authorizes a station to make.
 *
 * The OEM context makes a job (tb-job-create.c) from a mastered pair: for each slice (one
 * station each) it generates a job issuing key and certifies it from the
 * root as a CA (pathlen 0) whose certificate carries the job id, the
 * slice's slot range and the job total. The slice's package holds a
 * manifest signed by the root — job id, product, device types, counts,
 * validity window, digests of the image pair, the root, issuing and
 * mastering certificates, and the issuing and product keys encrypted
 * under a job passphrase given to the station out of band — plus the
 * image pair itself.
 *
 * A station context imports a package only under an OEM root it already
 * pins or whose fingerprint the operator confirms (recorded as the
 * certificate `oem-root`); every signature, chain and digest is checked,
 * the keys are re-encrypted under the station's passphrase. The station
 * never holds the OEM root or provisioning CA key: it issues device
 * certificates with the job's own CA, which the OEM can later hold to the
 * count it signed. docs/production.md tells the whole story. */

#include "config.h"

#include "tb-job.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <string.h>

#include "tb-audit-private.h"
#include "tb-cert-private.h"
#include "tb-context-private.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-hierarchy.h"
#include "tb-job-private.h"
#include "tb-json-private.h"
#include "tb-key-private.h"
#include "tb-secret.h"
#include "tb-upk.h"

struct _TbJobPackage {
  char *path;
  JsonObject *manifest;
  TbJobInfo *info;              /* the manifest, typed */
  char *manifest_b64;
  char *signature_b64;
  char *signer_pem;
  TbCert *root;
  TbCert *issuer;
  TbCert *mastering;
  GBytes *upk;
  GBytes *image;
  char *package_text;
  gsize package_len;
};

static TbJobInfo *job_info_new (JsonObject *obj,
                                const char *root_sha256);

void
tb_job_package_free (TbJobPackage *p)
{
  if (p == NULL)
    return;
  g_free (p->path);
  g_clear_pointer (&p->manifest, json_object_unref);
  tb_job_info_free (p->info);
  g_free (p->manifest_b64);
  g_free (p->signature_b64);
  g_free (p->signer_pem);
  g_clear_object (&p->root);
  g_clear_object (&p->issuer);
  g_clear_object (&p->mastering);
  g_clear_pointer (&p->upk, g_bytes_unref);
  g_clear_pointer (&p->image, g_bytes_unref);
  g_free (p->package_text);
  g_free (p);
}

char *
tb_job_build_path (TbContext *ctx, const char *job_id, const char *file)
{
  g_autofree char *rel = g_build_filename ("jobs", job_id, file, NULL);
  return tb_context_build_path (ctx, rel);
}

static JsonObject *
parse_object (const char *text, gsize len, const char *origin, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;
  JsonNode *root;

  if (!json_parser_load_from_data (parser, text, (gssize) len, &local))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is not valid JSON: %s"), origin, local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is not a JSON object"), origin);
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

static const char *
member_string (JsonObject *obj, const char *member, const char *origin, GError **error)
{
  const char *s = tb_json_get_string (obj, member, NULL);

  if (s == NULL)
    g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s: “%s” is missing or not a string"), origin, member);
  return s;
}

static gboolean
member_uint (JsonObject *obj, const char *member, guint64 max, guint64 *out, const char *origin, GError **error)
{
  JsonNode *node = tb_json_value_member (obj, member, G_TYPE_INT64);
  gint64 v;

  if (node == NULL || (v = json_node_get_int (node)) < 0 || (guint64) v > max)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s: “%s” is missing or out of range"), origin, member);
      return FALSE;
    }
  *out = (guint64) v;
  return TRUE;
}

static GBytes *
decode_b64 (JsonObject *obj, const char *member, const char *origin, GError **error)
{
  const char *text = member_string (obj, member, origin, error);
  gsize len = 0;
  guchar *data;

  if (text == NULL)
    return NULL;
  data = g_base64_decode (text, &len);
  return g_bytes_new_take (data, len);
}

/**
 * tb_job_verify_manifest:
 * @signer_pem: (nullable): the certificate of the OEM job key that signed,
 *   which must chain to @root; %NULL when the root itself signed
 * @root: the OEM root the manifest must be signed by
 * @manifest: (out) (optional): the parsed manifest
 *
 * Checks the root's signature over a job manifest (base64 as carried in
 * the package and in exported records). %TB_ERROR_VERIFY_FAILED when it
 * does not verify.
 */
gboolean
tb_job_verify_manifest (const char *manifest_b64, const char *signature_b64, const char *signer_pem, TbCert *root,
                        JsonObject **manifest, GError **error)
{
  gsize mlen = 0, slen = 0;
  g_autofree guint8 *m = g_base64_decode (manifest_b64, &mlen);
  g_autofree guint8 *sig = g_base64_decode (signature_b64, &slen);
  g_autoptr(EVP_MD_CTX) mctx = EVP_MD_CTX_new ();
  g_autoptr(TbCert) signer = NULL;
  EVP_PKEY *pub;

  /* signed by the OEM's job key (certified by the root), or by the root */
  if (signer_pem != NULL && signer_pem[0] != '\0')
    {
      g_autoptr(GError) local = NULL;
      signer = tb_cert_new_from_data (signer_pem, strlen (signer_pem), "signer_certificate", &local);
      if (signer == NULL)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                       _("The job's signer certificate is unreadable (%s): the package was altered"), local->message);
          return FALSE;
        }
      if (!tb_cert_verify_with_root (root, NULL, signer, NULL, error))
        return FALSE;
      if (tb_cert_is_ca (signer))
        {
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("The job's signer certificate is a CA, not a job key"));
          return FALSE;
        }
    }
  pub = X509_get0_pubkey (tb_cert_get_x509 (signer != NULL ? signer : root));
  const EVP_MD *md = pub != NULL ? tb_cert_digest_for_key (pub) : NULL;
  int rc;

  rc = pub != NULL && mctx != NULL && mlen > 0 && slen > 0
         ? EVP_DigestVerifyInit_ex (mctx, NULL, md != NULL ? EVP_MD_get0_name (md) : NULL, NULL, NULL, pub, NULL)
         : 0;
  if (rc == 1)
    rc = EVP_DigestVerify (mctx, sig, slen, m, mlen);
  ERR_clear_error ();
  if (rc != 1)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The job manifest is not signed by the OEM root %.16s…: it was forged or altered"),
                   tb_cert_get_sha256 (root));
      return FALSE;
    }
  /* only now, signed, is the manifest read (it holds the encrypted keys) */
  if (manifest != NULL)
    *manifest = parse_object ((const char *) m, mlen, _("the job manifest"), error);
  tb_secret_wipe (m, mlen);
  return manifest == NULL || *manifest != NULL;
}

char *
tb_job_sha256_bytes (GBytes *bytes)
{
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
}

char *
tb_job_format_time (GDateTime *t)
{
  return t != NULL ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ") : NULL;
}

/* ---- reading and importing a package (station side) ---- */

static TbCert *
cert_member (JsonObject *man, const char *member, GError **error)
{
  const char *pem = member_string (man, member, _("the job manifest"), error);

  return pem != NULL ? tb_cert_new_from_data (pem, strlen (pem), member, error) : NULL;
}

static gboolean
check_authorization (TbJobPackage *p, GError **error)
{
  g_autofree char *auth_text = tb_cert_dup_job_authorization (p->issuer);
  g_autoptr(JsonObject) auth = NULL;
  static const char *const numbers[] = { "slice", "slices", "first", "count", "total_count" };

  if (auth_text == NULL || (auth = parse_object (auth_text, strlen (auth_text), "job authorization", NULL)) == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The job's issuing certificate carries no job authorization"));
      return FALSE;
    }
  if (g_strcmp0 (tb_json_get_string (auth, "job_id", NULL),
                 tb_json_get_string (p->manifest, "job_id", "")) != 0 ||
      g_strcmp0 (tb_json_get_string (auth, "product", NULL),
                 tb_json_get_string (p->manifest, "product", "")) != 0)
    goto mismatch;
  for (guint i = 0; i < G_N_ELEMENTS (numbers); i++)
    if (tb_json_get_int (auth, numbers[i], -1) != tb_json_get_int (p->manifest, numbers[i], -2))
      goto mismatch;
  return TRUE;

mismatch:
  g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
               _("The job's issuing certificate authorizes another job, slice or count than the manifest"));
  return FALSE;
}

/* The package's job id and slice, outside the signature, must be the
 * signed manifest's (a station never acts on them, but a reader of the
 * file must not be misled either). */
static gboolean
check_outer_equals_signed (JsonObject *pkg, JsonObject *man, const char *path, GError **error)
{
  static const char *const members[] = { "job_id", "slice" };

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      JsonNode *outer = json_object_get_member (pkg, members[i]);
      JsonNode *inner = json_object_get_member (man, members[i]);

      if (outer == NULL || inner == NULL || !json_node_equal (outer, inner))
        {
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                       _("%s: the package's “%s” is missing or not the one its signed manifest says: the package "
                         "was altered"), path, members[i]);
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * tb_job_package_load:
 *
 * Reads a job package and checks everything that does not depend on
 * which root the station trusts: the manifest's signature by the root it
 * carries, the issuing and mastering certificates' chains to that root,
 * the job authorization in the issuing certificate, the digests and
 * signature of the image pair. A forged or altered package is
 * %TB_ERROR_VERIFY_FAILED; a malformed one %TB_ERROR_INVALID_DATA.
 */
TbJobPackage *
tb_job_package_load (const char *path, GError **error)
{
  g_autoptr(TbJobPackage) p = g_new0 (TbJobPackage, 1);
  g_autoptr(JsonObject) pkg = NULL;
  g_autoptr(TbUpk) upk = NULL;
  const char *s;
  guint64 version = 0, first = 0, count = 0, total = 0, slice = 0, slices = 0;

  p->path = g_strdup (path);
  if (!tb_file_read_bounded (path, TB_JOB_FILE_MAX_BYTES, &p->package_text, &p->package_len, error))
    return NULL;
  pkg = parse_object (p->package_text, p->package_len, path, error);
  if (pkg == NULL)
    return NULL;
  if (g_strcmp0 (tb_json_get_string (pkg, "format", NULL), TB_JOB_FORMAT) != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is not a Trustbench job package"), path);
      return NULL;
    }
  if (!member_uint (pkg, "version", G_MAXUINT32, &version, path, error))
    return NULL;
  if (version != TB_JOB_PACKAGE_VERSION)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED,
                   version < TB_JOB_PACKAGE_VERSION
                     ? _("%s is a job package of format version %" G_GUINT64_FORMAT ", whose job id and slice are "
                         "not covered by its signature; this Trustbench reads version %d: ask the OEM to make the "
                         "job again")
                     : _("%s is a job package of format version %" G_GUINT64_FORMAT "; this Trustbench reads "
                         "version %d"),
                   path, version, TB_JOB_PACKAGE_VERSION);
      return NULL;
    }
  /* the signature first, with the root the package names outside the
   * signed manifest (the station then holds that root to the one it pins);
   * the manifest is parsed only once it verifies */
  if ((s = member_string (pkg, "manifest", path, error)) == NULL)
    return NULL;
  p->manifest_b64 = g_strdup (s);
  if ((s = member_string (pkg, "signature", path, error)) == NULL)
    return NULL;
  p->signature_b64 = g_strdup (s);
  p->signer_pem = g_strdup (tb_json_get_string (pkg, "signer_certificate", NULL));
  if ((s = member_string (pkg, "root_certificate", path, error)) == NULL)
    return NULL;
  {
    g_autoptr(GError) local = NULL;
    p->root = tb_cert_new_from_data (s, strlen (s), "root_certificate", &local);
    if (p->root == NULL)
      {
        g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                     _("%s: the job's root certificate is unreadable (%s): the package was altered"), path,
                     local->message);
        return NULL;
      }
  }
  if (!tb_cert_is_self_signed (p->root) || !tb_cert_is_ca (p->root))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("The job's root certificate is not a self-signed CA"));
      return NULL;
    }
  if (!tb_job_verify_manifest (p->manifest_b64, p->signature_b64, p->signer_pem, p->root, &p->manifest, error))
    return NULL;
  /* what the station acts on is the signed manifest's; the package's own
   * copies must say the same */
  {
    g_autoptr(TbCert) signed_root = cert_member (p->manifest, "root_certificate", NULL);
    g_autoptr(GBytes) a = signed_root != NULL ? tb_cert_get_der (signed_root) : NULL;
    g_autoptr(GBytes) b = tb_cert_get_der (p->root);
    if (a == NULL || !g_bytes_equal (a, b))
      {
        g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                     _("%s: the root certificate outside the manifest is not the one it signs"), path);
        return NULL;
      }
  }
  if (!check_outer_equals_signed (pkg, p->manifest, path, error))
    return NULL;
  if (g_strcmp0 (tb_json_get_string (p->manifest, "format", NULL),
                 TB_JOB_MANIFEST_FORMAT) != 0 ||
      member_string (p->manifest, "job_id", path, error) == NULL ||
      member_string (p->manifest, "product", path, error) == NULL ||
      member_string (p->manifest, "image_version", path, error) == NULL ||
      member_string (p->manifest, "plaintext_sha256", path, error) == NULL ||
      !member_uint (p->manifest, "slice", TB_JOB_MAX_SLICES, &slice, path, error) ||
      !member_uint (p->manifest, "slices", TB_JOB_MAX_SLICES, &slices, path, error) ||
      !member_uint (p->manifest, "first", TB_JOB_MAX_COUNT, &first, path, error) ||
      !member_uint (p->manifest, "count", TB_JOB_MAX_COUNT, &count, path, error) ||
      !member_uint (p->manifest, "total_count", TB_JOB_MAX_COUNT, &total, path, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s: the manifest is not a job manifest"), path);
      return NULL;
    }
  if (count == 0 || first + count > total || slice == 0 || slice > slices ||
      !tb_name_is_valid (json_object_get_string_member (p->manifest, "job_id"), NULL))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s: the job's counts or id are inconsistent"), path);
      return NULL;
    }
  p->issuer = cert_member (p->manifest, "issuer_certificate", error);
  p->mastering = p->issuer != NULL ? cert_member (p->manifest, "mastering_certificate", error) : NULL;
  if (p->mastering == NULL || !tb_cert_verify_with_root (p->root, NULL, p->issuer, NULL, error) ||
      !tb_cert_verify_with_root (p->root, NULL, p->mastering, NULL, error) || !check_authorization (p, error))
    return NULL;

  p->upk = decode_b64 (pkg, "upk", path, error);
  p->image = p->upk != NULL ? decode_b64 (pkg, "image", path, error) : NULL;
  if (p->image == NULL)
    return NULL;
  {
    g_autofree char *upk_sha = tb_job_sha256_bytes (p->upk);
    g_autofree char *image_sha = tb_job_sha256_bytes (p->image);
    if (g_strcmp0 (upk_sha, tb_json_get_string (p->manifest, "upk_sha256", "")) != 0 ||
        g_strcmp0 (image_sha, tb_json_get_string (p->manifest, "image_sha256", "")) != 0)
      {
        g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                     _("%s: the image pair is not the one the OEM signed in the job"), path);
        return NULL;
      }
  }
  upk = tb_upk_parse (g_bytes_get_data (p->upk, NULL), g_bytes_get_size (p->upk), path, error);
  if (upk == NULL || !tb_upk_verify_signature (upk, error))
    return NULL;
  {
    g_autoptr(GBytes) a = tb_cert_get_der (tb_upk_get_signer_cert (upk));
    g_autoptr(GBytes) b = tb_cert_get_der (p->mastering);
    if (!g_bytes_equal (a, b) || g_strcmp0 (tb_upk_get_product (upk), json_object_get_string_member (p->manifest,
                                                                                                      "product")) != 0)
      {
        g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                     _("%s: the UPK is signed by another mastering key or for another product than the job says"),
                     path);
        return NULL;
      }
  }
  p->info = job_info_new (p->manifest, tb_cert_get_sha256 (p->root));
  return g_steal_pointer (&p);
}

const char *
tb_job_package_get_job_id (TbJobPackage *p)
{
  return json_object_get_string_member (p->manifest, "job_id");
}

const char *
tb_job_package_get_root_sha256 (TbJobPackage *p)
{
  return tb_cert_get_sha256 (p->root);
}

TbCert *
tb_job_package_get_root (TbJobPackage *p)
{
  return p->root;
}

JsonObject *
tb_job_package_get_manifest (TbJobPackage *p)
{
  return p->manifest;
}

/**
 * tb_job_package_get_info:
 *
 * Returns: (transfer none): the job as the package's signed manifest
 *   describes it (the slice a station imports)
 */
const TbJobInfo *
tb_job_package_get_info (TbJobPackage *p)
{
  return p->info;
}

/* ---- the job as a typed record ---- */

static const char *const role_names[] = {
  [TB_JOB_ROLE_STATION] = "station",
  [TB_JOB_ROLE_OEM] = "oem",
};

const char *
tb_job_role_to_string (TbJobRole role)
{
  g_return_val_if_fail (role < G_N_ELEMENTS (role_names), NULL);
  return role_names[role];
}

G_DEFINE_BOXED_TYPE (TbJobInfo, tb_job_info, tb_job_info_copy, tb_job_info_free)

TbJobInfo *
tb_job_info_copy (const TbJobInfo *info)
{
  TbJobInfo *copy = g_memdup2 (info, sizeof *info);

  copy->job_id = g_strdup (info->job_id);
  copy->oem = g_strdup (info->oem);
  copy->product = g_strdup (info->product);
  copy->image_version = g_strdup (info->image_version);
  copy->device_types = g_strdupv (info->device_types);
  copy->not_after = g_strdup (info->not_after);
  copy->root_sha256 = g_strdup (info->root_sha256);
  return copy;
}

void
tb_job_info_free (TbJobInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->job_id);
  g_free (info->oem);
  g_free (info->product);
  g_free (info->image_version);
  g_strfreev (info->device_types);
  g_free (info->not_after);
  g_free (info->root_sha256);
  g_free (info);
}

static guint64
optional_count (JsonObject *obj, const char *member, guint64 fallback)
{
  gint64 v = tb_json_get_int (obj, member, (gint64) fallback);

  return v >= 0 ? (guint64) v : fallback;
}

/* A job's inventory entry or its manifest (the same members) as a
 * TbJobInfo; what is missing or of another type gets its default. The
 * OEM's entry lists its slices as an array; a station's numbers them. */
static TbJobInfo *
job_info_new (JsonObject *obj, const char *root_sha256)
{
  TbJobInfo *info = g_new0 (TbJobInfo, 1);
  JsonNode *slices = json_object_get_member (obj, "slices");

  info->job_id = g_strdup (tb_json_get_string (obj, "job_id", ""));
  info->role = g_strcmp0 (tb_json_get_string (obj, "role", NULL), "oem") == 0 ? TB_JOB_ROLE_OEM : TB_JOB_ROLE_STATION;
  info->oem = g_strdup (tb_json_get_string (obj, "oem", NULL));
  info->product = g_strdup (tb_json_get_string (obj, "product", NULL));
  info->image_version = g_strdup (tb_json_get_string (obj, "image_version", NULL));
  info->device_types = tb_json_dup_strv (obj, "device_types");
  info->slice = (guint) MIN (optional_count (obj, "slice", 1), G_MAXUINT);
  if (slices != NULL && JSON_NODE_HOLDS_ARRAY (slices))
    info->slices = json_array_get_length (json_node_get_array (slices));
  else
    info->slices = (guint) MIN (optional_count (obj, "slices", 1), G_MAXUINT);
  info->first = optional_count (obj, "first", 0);
  info->count = optional_count (obj, "count", 0);
  info->total_count = optional_count (obj, "total_count", info->count);
  info->not_after = g_strdup (tb_json_get_string (obj, "not_after", NULL));
  info->root_sha256 = g_strdup (root_sha256 != NULL ? root_sha256 : tb_json_get_string (obj, "root_sha256", NULL));
  return info;
}

/**
 * tb_job_list:
 *
 * Returns: (transfer full) (element-type TbJobInfo): the context's jobs, in
 *   the order they came
 */
GPtrArray *
tb_job_list (TbContext *ctx)
{
  g_autoptr(GPtrArray) entries = tb_context_get_entries (ctx, TB_INVENTORY_JOBS);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_job_info_free);

  for (guint i = 0; i < entries->len; i++)
    g_ptr_array_add (out, job_info_new (g_ptr_array_index (entries, i), NULL));
  return out;
}

/**
 * tb_job_lookup:
 *
 * Returns: (transfer full): the job, or %NULL with %TB_ERROR_NOT_FOUND
 */
TbJobInfo *
tb_job_lookup (TbContext *ctx, const char *job_id, GError **error)
{
  JsonObject *entry = tb_context_find_entry (ctx, TB_INVENTORY_JOBS, job_id);

  if (entry == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("The context has no job “%s” (job list shows the jobs)"),
                   job_id);
      return NULL;
    }
  return job_info_new (entry, NULL);
}

/**
 * tb_job_get_pinned_root:
 *
 * Returns: (transfer full) (nullable): the OEM root this context trusts
 *   for jobs — its `oem-root` certificate, else its own `root-ca` — or
 *   %NULL (without @error) when it trusts none yet
 */
TbCert *
tb_job_get_pinned_root (TbContext *ctx, GError **error)
{
  const char *names[] = { TB_CERT_NAME_OEM_ROOT, TB_KEY_NAME_ROOT_CA };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (tb_context_find_entry (ctx, TB_INVENTORY_CERTIFICATES, names[i]) != NULL)
      return tb_cert_load (ctx, names[i], error);
  return NULL;
}

static gboolean
same_public_key (TbKey *a, const char *public_sha256)
{
  return g_strcmp0 (tb_key_get_public_sha256 (a), public_sha256) == 0;
}

static TbKey *
open_package_key (JsonObject *man, const char *member, const char *job_passphrase, GError **error)
{
  const char *pem = member_string (man, member, _("the job manifest"), error);
  g_autoptr(GError) local = NULL;
  TbKey *key;

  if (pem == NULL)
    return NULL;
  key = tb_key_import_data (pem, strlen (pem), member, job_passphrase, &local);
  if (key == NULL)
    {
      if (g_error_matches (local, TB_ERROR, TB_ERROR_PERMISSION))
        g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION,
                     _("Wrong job passphrase: the package's keys do not open with it"));
      else
        g_propagate_error (error, g_steal_pointer (&local));
    }
  return key;
}

/**
 * tb_job_import:
 * @ctx: a station context locked for writing
 * @root_sha256: (nullable): the OEM root fingerprint the operator
 *   confirmed out of band; needed while @ctx pins no root yet
 * @job_passphrase: opens the package's keys
 * @passphrase: the station's passphrase, which re-encrypts them
 *
 * Imports a checked package (tb_job_package_load()): the root must be the
 * one @ctx pins, or, on a first import, have the fingerprint
 * @root_sha256 (then it is pinned as `oem-root`). Stores the job's
 * issuing key and certificate, the product key, the image pair and the
 * job entry, and audits the import with the fingerprint.
 */
gboolean
tb_job_import (TbContext *ctx, TbJobPackage *p, const char *root_sha256, const char *job_passphrase,
               const char *passphrase, GError **error)
{
  const char *job_id = tb_job_package_get_job_id (p);
  const char *product = json_object_get_string_member (p->manifest, "product");
  g_autoptr(TbCert) pinned = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(TbKey) issuer_key = NULL;
  g_autoptr(TbKey) product_key = NULL;
  g_autoptr(TbUpk) upk = NULL;
  g_autofree char *ca_name = g_strdup_printf ("%s-ca", job_id);
  g_autofree char *pk_name = NULL;
  g_autoptr(JsonObject) entry = json_object_new ();
  g_autoptr(JsonObject) details = json_object_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *imported = tb_job_format_time (now);
  g_autofree char *rel_upk = g_build_filename ("jobs", job_id, "image.tbupk", NULL);
  g_autofree char *rel_img = g_build_filename ("jobs", job_id, "image.tbimg", NULL);
  g_autofree char *rel_pkg = g_build_filename ("jobs", job_id, "job.tbjob", NULL);
  gboolean pin_now = FALSE;

  pinned = tb_job_get_pinned_root (ctx, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (pinned != NULL)
    {
      if (g_strcmp0 (tb_cert_get_sha256 (pinned), tb_cert_get_sha256 (p->root)) != 0)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                       _("The job is signed by the OEM root %s, not by the root this station trusts (%s): refused"),
                       tb_cert_get_sha256 (p->root), tb_cert_get_sha256 (pinned));
          return FALSE;
        }
    }
  else
    {
      if (root_sha256 == NULL)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                       _("This station trusts no OEM root yet. The job is signed by the root with SHA-256 "
                         "fingerprint %s: confirm it with the OEM out of band, then import with that fingerprint"),
                       tb_cert_get_sha256 (p->root));
          return FALSE;
        }
      if (g_ascii_strcasecmp (root_sha256, tb_cert_get_sha256 (p->root)) != 0)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                       _("The job is signed by the root %s, not by the root you confirmed (%s): refused"),
                       tb_cert_get_sha256 (p->root), root_sha256);
          return FALSE;
        }
      pin_now = TRUE;
    }
  if (tb_context_find_entry (ctx, TB_INVENTORY_JOBS, job_id) != NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_EXISTS, _("Job “%s” is already imported in this context"), job_id);
      return FALSE;
    }

  issuer_key = open_package_key (p->manifest, "issuer_key", job_passphrase, error);
  if (issuer_key == NULL)
    return FALSE;
  product_key = open_package_key (p->manifest, "product_key", job_passphrase, error);
  if (product_key == NULL)
    return FALSE;
  upk = tb_upk_parse (g_bytes_get_data (p->upk, NULL), g_bytes_get_size (p->upk), p->path, error);
  if (upk == NULL)
    return FALSE;
  if (X509_check_private_key (tb_cert_get_x509 (p->issuer), tb_key_get_private_pkey (issuer_key)) != 1 ||
      tb_upk_find_recipient (upk, tb_key_get_public_sha256 (product_key)) == NULL)
    {
      ERR_clear_error ();
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The package's keys do not belong to its issuing certificate or image"));
      return FALSE;
    }

  if (pin_now && !tb_cert_store (p->root, ctx, TB_CERT_NAME_OEM_ROOT, NULL, error))
    return FALSE;
  if (!tb_key_store (issuer_key, ctx, ca_name, TB_KEY_USAGE_PROVISIONING_CA, passphrase, error) ||
      !tb_cert_store (p->issuer, ctx, ca_name, ca_name, error))
    return FALSE;
  pk_name = tb_context_dup_product_key_name (ctx, product);
  if (tb_context_find_entry (ctx, TB_INVENTORY_KEYS, pk_name) != NULL)
    {
      JsonObject *k = tb_context_find_entry (ctx, TB_INVENTORY_KEYS, pk_name);
      if (!same_public_key (product_key, tb_json_get_string (k, "public_key_sha256", "")))
        {
          g_set_error (error, TB_ERROR, TB_ERROR_EXISTS,
                       _("The context already has a different key “%s” for product “%s”"), pk_name, product);
          return FALSE;
        }
    }
  else if (!tb_key_store (product_key, ctx, pk_name, TB_KEY_USAGE_PRODUCT, passphrase, error))
    return FALSE;
  if (tb_context_find_entry (ctx, TB_INVENTORY_PRODUCTS, product) == NULL)
    {
      g_autoptr(JsonObject) prod = json_object_new ();
      json_object_set_string_member (prod, "name", product);
      json_object_set_string_member (prod, "key", pk_name);
      if (!tb_context_add_entry (ctx, TB_INVENTORY_PRODUCTS, prod, error))
        return FALSE;
    }
  if (!tb_context_write_file (ctx, rel_upk, g_bytes_get_data (p->upk, NULL), g_bytes_get_size (p->upk), 0644,
                              error) ||
      !tb_context_write_file (ctx, rel_img, g_bytes_get_data (p->image, NULL), g_bytes_get_size (p->image), 0644,
                              error) ||
      !tb_context_write_file (ctx, rel_pkg, p->package_text, p->package_len, 0600, error))
    return FALSE;

  json_object_set_string_member (entry, "job_id", job_id);
  json_object_set_string_member (entry, "role", "station");
  json_object_set_string_member (entry, "oem", tb_json_get_string (p->manifest, "oem", ""));
  json_object_set_string_member (entry, "product", product);
  {
    JsonNode *types = json_object_get_member (p->manifest, "device_types");
    if (types != NULL && JSON_NODE_HOLDS_ARRAY (types))
      json_object_set_member (entry, "device_types", json_node_copy (types));
    else
      json_object_set_array_member (entry, "device_types", json_array_new ());
  }
  {
    static const char *const copy[] = { "slice", "slices", "first", "count", "total_count", "security_counter" };
    for (guint i = 0; i < G_N_ELEMENTS (copy); i++)
      json_object_set_int_member (entry, copy[i], tb_json_get_int (p->manifest, copy[i], 0));
  }
  json_object_set_string_member (entry, "image_version", json_object_get_string_member (p->manifest,
                                                                                         "image_version"));
  json_object_set_string_member (entry, "plaintext_sha256",
                                 json_object_get_string_member (p->manifest, "plaintext_sha256"));
  json_object_set_string_member (entry, "image_id",
                                 tb_json_get_string (p->manifest, "image_id", ""));
  if (tb_json_get_string (p->manifest, "not_after", NULL) != NULL)
    json_object_set_string_member (entry, "not_after", json_object_get_string_member (p->manifest, "not_after"));
  json_object_set_string_member (entry, "issuer", ca_name);
  json_object_set_string_member (entry, "upk", rel_upk);
  json_object_set_string_member (entry, "image", rel_img);
  json_object_set_string_member (entry, "package", rel_pkg);
  json_object_set_string_member (entry, "root_sha256", tb_cert_get_sha256 (p->root));
  json_object_set_string_member (entry, "imported", imported);
  if (!tb_context_add_entry (ctx, TB_INVENTORY_JOBS, entry, error))
    return FALSE;

  json_object_set_string_member (details, "root_sha256", tb_cert_get_sha256 (p->root));
  json_object_set_boolean_member (details, "root_pinned_now", pin_now);
  json_object_set_string_member (details, "product", product);
  json_object_set_int_member (details, "slice", json_object_get_int_member (p->manifest, "slice"));
  json_object_set_int_member (details, "count", json_object_get_int_member (p->manifest, "count"));
  json_object_set_int_member (details, "total_count", json_object_get_int_member (p->manifest, "total_count"));
  return tb_audit_append (ctx, "job.import", job_id, details, error) && tb_context_save (ctx, error);
}

