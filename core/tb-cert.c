/* SPDX-License-Identifier: GPL-3.0-or-later */

/**
 * TbCert:
 *
 * An X.509 certificate of a security context (`certs/NAME.pem`), or one
 * read from a file. Issuance follows fixed profiles (#TbCertProfile) so
 * that every chain the context builds passes `openssl verify -x509_strict`:
 * version 3, random positive 127-bit serials, SKI on every certificate,
 * AKI on every certificate, critical basicConstraints and keyUsage.
 *
 * A key may only issue what its usage allows: the root CA key certifies
 * CAs, the mastering key and product keys; the provisioning CA key issues
 * device and CSR-based certificates; other keys issue nothing.
 */

#include "config.h"

#include "tb-cert-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "tb-audit.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-key-private.h"

#define TB_CERT_FILE_MAX_BYTES (1024u * 1024u)

struct _TbCert {
  GObject parent_instance;

  X509 *x509;
  char *name;
  char *key_name;
  char *sha256;
  GDateTime *not_before;
  GDateTime *not_after;
};

G_DEFINE_FINAL_TYPE (TbCert, tb_cert, G_TYPE_OBJECT)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_REQ, X509_REQ_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free)

static void
tb_cert_finalize (GObject *object)
{
  TbCert *self = TB_CERT (object);

  X509_free (self->x509);
  g_free (self->name);
  g_free (self->key_name);
  g_free (self->sha256);
  g_clear_pointer (&self->not_before, g_date_time_unref);
  g_clear_pointer (&self->not_after, g_date_time_unref);
  G_OBJECT_CLASS (tb_cert_parent_class)->finalize (object);
}

static void
tb_cert_class_init (TbCertClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tb_cert_finalize;
}

static void
tb_cert_init (TbCert *self)
{
}

static GDateTime *
asn1_time_to_date_time (const ASN1_TIME *t)
{
  struct tm tm = { 0 };

  if (!ASN1_TIME_to_tm (t, &tm))
    return NULL;
  return g_date_time_new_utc (tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/**
 * tb_cert_new_for_x509: (skip)
 * @x509: a certificate; the new object takes it over
 */
TbCert *
tb_cert_new_for_x509 (X509 *x509)
{
  TbCert *self = g_object_new (TB_TYPE_CERT, NULL);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;

  self->x509 = x509;
  if (!X509_digest (x509, EVP_sha256 (), md, &md_len))
    md_len = 0;
  self->sha256 = g_malloc (md_len * 2 + 1);
  self->sha256[0] = '\0';
  for (unsigned int i = 0; i < md_len; i++)
    g_snprintf (self->sha256 + 2 * i, 3, "%02x", md[i]);
  self->not_before = asn1_time_to_date_time (X509_get0_notBefore (x509));
  self->not_after = asn1_time_to_date_time (X509_get0_notAfter (x509));
  return self;
}

/**
 * tb_cert_new_from_data:
 * @origin: the file name (or a description) for error messages
 *
 * Parses a PEM or DER certificate.
 */
TbCert *
tb_cert_new_from_data (const void *data, gsize len, const char *origin, GError **error)
{
  X509 *x509 = NULL;

  if (len == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is empty"), origin);
      return NULL;
    }
  if (len > TB_CERT_FILE_MAX_BYTES || len > G_MAXINT)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is too large for a certificate"), origin);
      return NULL;
    }
  if (g_strstr_len (data, (gssize) len, "-----BEGIN CERTIFICATE-----") != NULL)
    {
      g_autoptr(BIO) bio = BIO_new_mem_buf (data, (int) len);
      x509 = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
    }
  else
    {
      const unsigned char *p = data;
      x509 = d2i_X509 (NULL, &p, (long) len);
      if (x509 != NULL && p != (const unsigned char *) data + len)
        {
          X509_free (x509);
          ERR_clear_error ();
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s: %" G_GSIZE_FORMAT " bytes of trailing data after the DER certificate"),
                       origin, len - (gsize) (p - (const unsigned char *) data));
          return NULL;
        }
    }
  if (x509 == NULL)
    {
      tb_set_error_from_openssl (error, TB_ERROR_INVALID_DATA,
                                 _("%s is not an X.509 certificate in PEM or DER form"), origin);
      return NULL;
    }
  return tb_cert_new_for_x509 (x509);
}

TbCert *
tb_cert_new_from_file (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!tb_file_read_bounded (path, TB_CERT_FILE_MAX_BYTES, &data, &len, error))
    return NULL;
  return tb_cert_new_from_data (data, len, path, error);
}

/**
 * tb_cert_load:
 *
 * Loads a certificate of the context's inventory.
 */
TbCert *
tb_cert_load (TbContext *ctx, const char *name, GError **error)
{
  JsonObject *entry = tb_context_find_entry (ctx, TB_INVENTORY_CERTIFICATES, name);
  g_autofree char *path = NULL;
  TbCert *self;
  const char *file;
  const char *sha;

  if (entry == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND,
                   _("The context %s has no certificate “%s”"), tb_context_get_path (ctx), name);
      return NULL;
    }
  file = json_object_get_string_member_with_default (entry, "file", NULL);
  if (file == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("Certificate “%s” in the context has no “file”"), name);
      return NULL;
    }
  path = tb_context_build_path (ctx, file);
  self = tb_cert_new_from_file (path, error);
  if (self == NULL)
    return NULL;
  sha = json_object_get_string_member_with_default (entry, "sha256", NULL);
  if (sha != NULL && g_ascii_strcasecmp (sha, self->sha256) != 0)
    {
      g_object_unref (self);
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("%s does not match the fingerprint of certificate “%s” in context.json"), path, name);
      return NULL;
    }
  self->name = g_strdup (name);
  self->key_name = g_strdup (json_object_get_string_member_with_default (entry, "key", NULL));
  return self;
}

/**
 * tb_cert_load_all:
 *
 * Returns: (transfer container) (element-type TbCert): every certificate
 *   of the context, in inventory order
 */
GPtrArray *
tb_cert_load_all (TbContext *ctx, GError **error)
{
  g_autoptr(GPtrArray) entries = tb_context_get_entries (ctx, TB_INVENTORY_CERTIFICATES);
  g_autoptr(GPtrArray) certs = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < entries->len; i++)
    {
      const char *name = json_object_get_string_member (g_ptr_array_index (entries, i), "name");
      TbCert *cert = tb_cert_load (ctx, name, error);
      if (cert == NULL)
        return NULL;
      g_ptr_array_add (certs, cert);
    }
  return g_steal_pointer (&certs);
}

static char *
time_to_iso8601 (GDateTime *t)
{
  return t != NULL ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("");
}

/**
 * tb_cert_store:
 * @ctx: a context locked for writing
 * @key_name: (nullable): the context key certified, if any
 *
 * Writes `certs/NAME.pem` and adds the inventory entry.
 */
gboolean
tb_cert_store (TbCert *self, TbContext *ctx, const char *name, const char *key_name, GError **error)
{
  g_autofree char *file = NULL;
  g_autofree char *pem = tb_cert_dup_pem (self);
  g_autoptr(JsonObject) entry = json_object_new ();
  g_autofree char *subject = tb_cert_dup_subject (self);
  g_autofree char *issuer = tb_cert_dup_issuer (self);
  g_autofree char *serial = tb_cert_dup_serial (self);
  g_autofree char *not_before = time_to_iso8601 (self->not_before);
  g_autofree char *not_after = time_to_iso8601 (self->not_after);

  if (!tb_name_is_valid (name, error))
    return FALSE;
  if (tb_context_find_entry (ctx, TB_INVENTORY_CERTIFICATES, name) != NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_EXISTS, _("The context already has a certificate “%s”"), name);
      return FALSE;
    }
  file = g_strdup_printf ("certs/%s.pem", name);
  if (!tb_context_write_file (ctx, file, pem, strlen (pem), 0644, error))
    return FALSE;
  json_object_set_string_member (entry, "name", name);
  if (key_name != NULL)
    json_object_set_string_member (entry, "key", key_name);
  json_object_set_string_member (entry, "file", file);
  json_object_set_string_member (entry, "subject", subject);
  json_object_set_string_member (entry, "issuer", issuer);
  json_object_set_string_member (entry, "serial", serial);
  json_object_set_string_member (entry, "not_before", not_before);
  json_object_set_string_member (entry, "not_after", not_after);
  json_object_set_string_member (entry, "sha256", self->sha256);
  if (!tb_context_add_entry (ctx, TB_INVENTORY_CERTIFICATES, entry, error))
    return FALSE;
  {
    g_autoptr(JsonObject) details = json_object_new ();
    json_object_set_string_member (details, "subject", subject);
    json_object_set_string_member (details, "issuer", issuer);
    json_object_set_string_member (details, "serial", serial);
    json_object_set_string_member (details, "sha256", self->sha256);
    if (!tb_audit_append (ctx, "cert.issue", name, details, error))
      return FALSE;
  }
  g_free (self->name);
  self->name = g_strdup (name);
  g_free (self->key_name);
  self->key_name = g_strdup (key_name);
  return TRUE;
}

/* ---- issuance ---- */

/**
 * tb_cert_digest_for_key: (skip)
 *
 * Returns: the digest to sign with @pkey: none for Ed25519, SHA-384 for
 *   P-384, SHA-256 otherwise
 */
const EVP_MD *
tb_cert_digest_for_key (EVP_PKEY *pkey)
{
  if (EVP_PKEY_is_a (pkey, "ED25519"))
    return NULL;
  if (EVP_PKEY_is_a (pkey, "EC") && EVP_PKEY_get_bits (pkey) > 256)
    return EVP_sha384 ();
  return EVP_sha256 ();
}

/**
 * tb_cert_random_serial: (skip)
 *
 * Sets a random positive serial of 127 bits (RFC 5280 allows 20 octets;
 * the CA/B Forum asks for at least 64 bits of randomness).
 */
gboolean
tb_cert_random_serial (X509 *x509, GError **error)
{
  unsigned char bytes[16];
  BIGNUM *bn;
  gboolean ok;

  if (RAND_bytes (bytes, sizeof bytes) != 1)
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot draw a random serial number"));
      return FALSE;
    }
  bytes[0] &= 0x7f;
  bytes[0] |= 0x40; /* full length, positive */
  bn = BN_bin2bn (bytes, sizeof bytes, NULL);
  ok = bn != NULL && BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (x509)) != NULL;
  BN_free (bn);
  if (!ok)
    tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot set the serial number"));
  return ok;
}

static gboolean
add_ext (X509 *x509, X509V3_CTX *v3, int nid, const char *value, GError **error)
{
  X509_EXTENSION *ext = X509V3_EXT_conf_nid (NULL, v3, nid, value);

  if (ext == NULL || !X509_add_ext (x509, ext, -1))
    {
      X509_EXTENSION_free (ext);
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot add the extension %s = %s"),
                                 OBJ_nid2sn (nid), value);
      return FALSE;
    }
  X509_EXTENSION_free (ext);
  return TRUE;
}

static gboolean
subject_key_is_ec (X509 *x509)
{
  X509_PUBKEY *pub = X509_get_X509_PUBKEY (x509);
  ASN1_OBJECT *alg = NULL;

  X509_PUBKEY_get0_param (&alg, NULL, NULL, NULL, pub);
  return alg != NULL && OBJ_obj2nid (alg) == NID_X9_62_id_ecPublicKey;
}

/**
 * tb_cert_add_profile_extensions: (skip)
 * @issuer: (nullable): the issuer, %NULL for a self-signed certificate
 *
 * Adds the extensions of @profile. The subject public key must be set.
 */
gboolean
tb_cert_add_profile_extensions (X509 *x509, X509 *issuer, TbCertProfile profile, GError **error)
{
  X509V3_CTX v3;
  const char *bc = "critical,CA:FALSE";
  const char *ku = "critical,digitalSignature";
  const char *eku = NULL;

  X509V3_set_ctx (&v3, issuer != NULL ? issuer : x509, x509, NULL, NULL, 0);
  switch (profile)
    {
    case TB_CERT_PROFILE_ROOT_CA:
      bc = "critical,CA:TRUE,pathlen:1";
      ku = "critical,keyCertSign,cRLSign";
      break;
    case TB_CERT_PROFILE_PROVISIONING_CA:
      bc = "critical,CA:TRUE,pathlen:0";
      ku = "critical,keyCertSign,cRLSign";
      break;
    case TB_CERT_PROFILE_MASTERING:
      eku = "codeSigning";
      break;
    case TB_CERT_PROFILE_PRODUCT:
      ku = subject_key_is_ec (x509) ? "critical,keyAgreement" : "critical,keyEncipherment";
      break;
    case TB_CERT_PROFILE_DEVICE:
      ku = "critical,digitalSignature,keyAgreement";
      eku = "clientAuth";
      break;
    case TB_CERT_PROFILE_JOB:
    case TB_CERT_PROFILE_LEAF:
    default:
      break;
    }
  return add_ext (x509, &v3, NID_basic_constraints, bc, error) &&
         add_ext (x509, &v3, NID_key_usage, ku, error) &&
         (eku == NULL || add_ext (x509, &v3, NID_ext_key_usage, eku, error)) &&
         add_ext (x509, &v3, NID_subject_key_identifier, "hash", error) &&
         add_ext (x509, &v3, NID_authority_key_identifier, "keyid:always", error);
}

static X509_NAME *
make_name (const char *common_name, const char *organization, const char *serial_number)
{
  X509_NAME *name = X509_NAME_new ();

  if (organization != NULL && organization[0] != '\0')
    X509_NAME_add_entry_by_NID (name, NID_organizationName, MBSTRING_UTF8,
                                (const unsigned char *) organization, -1, -1, 0);
  X509_NAME_add_entry_by_NID (name, NID_commonName, MBSTRING_UTF8, (const unsigned char *) common_name, -1, -1, 0);
  if (serial_number != NULL)
    X509_NAME_add_entry_by_NID (name, NID_serialNumber, MBSTRING_UTF8,
                                (const unsigned char *) serial_number, -1, -1, 0);
  return name;
}

static gboolean
require_private (TbKey *key, GError **error)
{
  if (tb_key_has_private (key))
    return TRUE;
  g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION,
               _("Key “%s” is locked: unlock it with the passphrase first"), tb_key_get_name (key));
  return FALSE;
}

/* Builds and signs a certificate. @issuer NULL means self-signed. */
static TbCert *
issue_internal (X509 *issuer, EVP_PKEY *issuer_pkey, EVP_PKEY *subject_pkey, X509_NAME *subject,
                TbCertProfile profile, guint days, X509_EXTENSION *extra, GError **error)
{
  g_autoptr(X509) x509 = X509_new ();

  if (days == 0 || days > 100 * 365)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("A validity of %u days is not acceptable (1 to 36500)"), days);
      return NULL;
    }
  if (!X509_set_version (x509, X509_VERSION_3) ||
      !tb_cert_random_serial (x509, error) ||
      !X509_set_subject_name (x509, subject) ||
      !X509_set_issuer_name (x509, issuer != NULL ? X509_get_subject_name (issuer) : subject) ||
      X509_gmtime_adj (X509_getm_notBefore (x509), 0) == NULL ||
      X509_time_adj_ex (X509_getm_notAfter (x509), (int) days, 0, NULL) == NULL ||
      !X509_set_pubkey (x509, subject_pkey))
    {
      if (error == NULL || *error == NULL)
        tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot build the certificate"));
      return NULL;
    }
  if (!tb_cert_add_profile_extensions (x509, issuer, profile, error))
    return NULL;
  if (extra != NULL && !X509_add_ext (x509, extra, -1))
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot add an extension to the certificate"));
      return NULL;
    }
  if (X509_sign (x509, issuer_pkey, tb_cert_digest_for_key (issuer_pkey)) <= 0)
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot sign the certificate"));
      return NULL;
    }
  return tb_cert_new_for_x509 (g_steal_pointer (&x509));
}

/**
 * tb_cert_issue_self_signed:
 * @key: an unlocked root-ca key
 *
 * Makes the OEM root certificate.
 */
TbCert *
tb_cert_issue_self_signed (TbKey *key, const char *common_name, const char *organization,
                           guint days, GError **error)
{
  X509_NAME *name;
  TbCert *cert;

  if (!tb_key_require_usage (key, TB_KEY_USAGE_ROOT_CA, _("make a self-signed root certificate"), error) ||
      !require_private (key, error))
    return NULL;
  name = make_name (common_name, organization, NULL);
  cert = issue_internal (NULL, tb_key_get_private_pkey (key), tb_key_get_public_pkey (key), name,
                         TB_CERT_PROFILE_ROOT_CA, days, NULL, error);
  X509_NAME_free (name);
  return cert;
}

static gboolean
issuer_may_issue (TbKey *issuer_key, TbCertProfile profile, GError **error)
{
  switch (profile)
    {
    case TB_CERT_PROFILE_PROVISIONING_CA:
    case TB_CERT_PROFILE_MASTERING:
    case TB_CERT_PROFILE_PRODUCT:
    case TB_CERT_PROFILE_JOB:
      return tb_key_require_usage (issuer_key, TB_KEY_USAGE_ROOT_CA, _("certify a CA, mastering, product or job key"),
                                   error);
    case TB_CERT_PROFILE_DEVICE:
    case TB_CERT_PROFILE_LEAF:
      return tb_key_require_usage (issuer_key, TB_KEY_USAGE_PROVISIONING_CA,
                                   _("issue device or end-entity certificates"), error);
    case TB_CERT_PROFILE_ROOT_CA:
    default:
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("A root certificate is self-signed"));
      return FALSE;
    }
}

static gboolean
check_issuer_pair (TbCert *issuer, TbKey *issuer_key, GError **error)
{
  if (!tb_cert_is_ca (issuer))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Certificate “%s” is not a CA certificate and cannot issue"),
                   issuer->name != NULL ? issuer->name : "?");
      return FALSE;
    }
  if (X509_check_private_key (issuer->x509, tb_key_get_private_pkey (issuer_key)) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Key “%s” does not belong to certificate “%s”"), tb_key_get_name (issuer_key),
                   issuer->name != NULL ? issuer->name : "?");
      return FALSE;
    }
  return TRUE;
}

/**
 * tb_cert_issue:
 * @issuer: the issuing CA certificate
 * @issuer_key: its unlocked key
 * @subject_key: the key to certify (public half suffices)
 *
 * Issues a certificate of @profile, refusing issuers whose key usage
 * does not allow it.
 */
TbCert *
tb_cert_issue (TbCert *issuer, TbKey *issuer_key, TbKey *subject_key, TbCertProfile profile,
               const char *common_name, const char *organization, guint days, GError **error)
{
  X509_NAME *name;
  TbCert *cert;

  if (!issuer_may_issue (issuer_key, profile, error) ||
      !require_private (issuer_key, error) ||
      !check_issuer_pair (issuer, issuer_key, error))
    return NULL;
  name = make_name (common_name, organization, NULL);
  cert = issue_internal (issuer->x509, tb_key_get_private_pkey (issuer_key), tb_key_get_public_pkey (subject_key),
                         name, profile, days, NULL, error);
  X509_NAME_free (name);
  return cert;
}

/**
 * tb_cert_issue_from_csr:
 * @csr: a PKCS#10 request, PEM or DER
 * @origin: its file name, for messages
 *
 * Checks the request's signature (a forged or altered request is refused
 * with %TB_ERROR_VERIFY_FAILED) and issues an end-entity certificate for
 * its subject and key. Extensions requested in the CSR are not copied:
 * the profile decides.
 */
TbCert *
tb_cert_issue_from_csr (TbCert *issuer, TbKey *issuer_key, const void *csr, gsize csr_len,
                        const char *origin, guint days, GError **error)
{
  g_autoptr(X509_REQ) req = NULL;
  EVP_PKEY *req_key;
  X509_NAME *subject;

  if (!issuer_may_issue (issuer_key, TB_CERT_PROFILE_LEAF, error) ||
      !require_private (issuer_key, error) ||
      !check_issuer_pair (issuer, issuer_key, error))
    return NULL;
  if (csr_len == 0 || csr_len > TB_CERT_FILE_MAX_BYTES)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is not a certificate request (size %" G_GSIZE_FORMAT ")"),
                   origin, csr_len);
      return NULL;
    }
  if (g_strstr_len (csr, (gssize) csr_len, "-----BEGIN") != NULL)
    {
      g_autoptr(BIO) bio = BIO_new_mem_buf (csr, (int) csr_len);
      req = PEM_read_bio_X509_REQ (bio, NULL, NULL, NULL);
    }
  else
    {
      const unsigned char *p = csr;
      req = d2i_X509_REQ (NULL, &p, (long) csr_len);
    }
  if (req == NULL)
    {
      tb_set_error_from_openssl (error, TB_ERROR_INVALID_DATA,
                                 _("%s is not a PKCS#10 certificate request in PEM or DER form"), origin);
      return NULL;
    }
  req_key = X509_REQ_get0_pubkey (req);
  if (req_key == NULL)
    {
      tb_set_error_from_openssl (error, TB_ERROR_INVALID_DATA, _("%s: the request's public key cannot be read"), origin);
      return NULL;
    }
  if (X509_REQ_verify_ex (req, req_key, NULL, NULL) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("%s: the request's signature does not verify: it was forged or altered"), origin);
      return NULL;
    }
  subject = X509_REQ_get_subject_name (req);
  if (subject == NULL || X509_NAME_entry_count (subject) == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s: the request has an empty subject"), origin);
      return NULL;
    }
  return issue_internal (issuer->x509, tb_key_get_private_pkey (issuer_key), req_key, subject,
                         TB_CERT_PROFILE_LEAF, days, NULL, error);
}

/* ---- verification ---- */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE, X509_STORE_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE_CTX, X509_STORE_CTX_free)

static TbCert *
find_root (GPtrArray *certs)
{
  for (guint i = 0; i < certs->len; i++)
    {
      TbCert *c = g_ptr_array_index (certs, i);
      if (tb_cert_is_ca (c) && tb_cert_is_self_signed (c))
        return c;
    }
  return NULL;
}

/**
 * tb_cert_check_code_signing:
 *
 * A certificate signs code only if it says so: its extended key usage must
 * be present and hold codeSigning, and its key usage, if present, must
 * allow digitalSignature. (OpenSSL treats a missing extended key usage as
 * "any", which would let a root, provisioning or product certificate pass.)
 * A failure is %TB_ERROR_VERIFY_FAILED.
 */
gboolean
tb_cert_check_code_signing (TbCert *self, GError **error)
{
  X509 *x = tb_cert_get_x509 (self);
  uint32_t flags = X509_get_extension_flags (x);
  g_autofree char *subject = tb_cert_dup_subject (self);

  if (!(flags & EXFLAG_XKUSAGE) || !(X509_get_extended_key_usage (x) & XKU_CODE_SIGN) ||
      ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage (x) & KU_DIGITAL_SIGNATURE)))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The certificate of %s is not for code signing (no codeSigning extended key usage): only the "
                     "mastering certificate signs images"), subject);
      return FALSE;
    }
  return TRUE;
}

/**
 * tb_cert_verify:
 * @leaf: the certificate to verify
 * @chain: (out) (optional) (transfer container) (element-type TbCert):
 *   the verified chain, leaf first, named where it is the context's
 *
 * Verifies @leaf against the context's root CA, with the context's CA
 * certificates as intermediates, in X.509 strict mode. A failure is
 * %TB_ERROR_VERIFY_FAILED naming the reason.
 */
gboolean
tb_cert_verify (TbContext *ctx, TbCert *leaf, GPtrArray **chain, GError **error)
{
  g_autoptr(GPtrArray) certs = tb_cert_load_all (ctx, error);
  g_autoptr(X509_STORE) store = NULL;
  g_autoptr(X509_STORE_CTX) vctx = NULL;
  STACK_OF (X509) *untrusted = NULL;
  STACK_OF (X509) *verified = NULL;
  TbCert *root;
  gboolean ok;

  if (certs == NULL)
    return FALSE;
  root = find_root (certs);
  if (root == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The context has no root CA certificate to verify against"));
      return FALSE;
    }
  store = X509_STORE_new ();
  vctx = X509_STORE_CTX_new ();
  untrusted = sk_X509_new_null ();
  X509_STORE_add_cert (store, root->x509);
  for (guint i = 0; i < certs->len; i++)
    {
      TbCert *c = g_ptr_array_index (certs, i);
      if (c != root && tb_cert_is_ca (c))
        sk_X509_push (untrusted, c->x509);
    }
  X509_STORE_set_flags (store, X509_V_FLAG_X509_STRICT);
  if (!X509_STORE_CTX_init (vctx, store, leaf->x509, untrusted))
    {
      sk_X509_free (untrusted);
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot set up certificate verification"));
      return FALSE;
    }
  ok = X509_verify_cert (vctx) == 1;
  if (!ok)
    {
      int err = X509_STORE_CTX_get_error (vctx);
      int depth = X509_STORE_CTX_get_error_depth (vctx);
      g_autofree char *subject = tb_cert_dup_subject (leaf);
      sk_X509_free (untrusted);
      ERR_clear_error ();
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The certificate “%s” does not verify against the context's root: %s (at depth %d)"),
                   subject, X509_verify_cert_error_string (err), depth);
      return FALSE;
    }
  /* a revoked certificate anywhere on the path voids it */
  {
    STACK_OF (X509) *path = X509_STORE_CTX_get0_chain (vctx);

    for (int i = 0; i < sk_X509_num (path); i++)
      {
        X509 *x = sk_X509_value (path, i);
        for (guint j = 0; j < certs->len; j++)
          {
            TbCert *c = g_ptr_array_index (certs, j);
            JsonObject *entry = c->name != NULL ? tb_context_find_entry (ctx, TB_INVENTORY_CERTIFICATES, c->name) : NULL;
            const char *revoked = entry != NULL ? json_object_get_string_member_with_default (entry, "revoked", NULL)
                                                : NULL;
            if (revoked != NULL && X509_cmp (c->x509, x) == 0)
              {
                sk_X509_free (untrusted);
                g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                             _("The certificate “%s” on the path was revoked on %s (%s): nothing it certifies can "
                               "be trusted"), c->name, revoked,
                             json_object_get_string_member_with_default (entry, "revocation_reason", _("no reason given")));
                return FALSE;
              }
          }
      }
  }
  if (chain != NULL)
    {
      *chain = g_ptr_array_new_with_free_func (g_object_unref);
      verified = X509_STORE_CTX_get0_chain (vctx);
      for (int i = 0; i < sk_X509_num (verified); i++)
        {
          X509 *x = sk_X509_value (verified, i);
          TbCert *match = NULL;
          for (guint j = 0; j < certs->len && i > 0; j++)
            if (X509_cmp (((TbCert *) g_ptr_array_index (certs, j))->x509, x) == 0)
              match = g_ptr_array_index (certs, j);
          if (i == 0)
            match = leaf;
          if (match != NULL)
            g_ptr_array_add (*chain, g_object_ref (match));
          else
            {
              X509_up_ref (x);
              g_ptr_array_add (*chain, tb_cert_new_for_x509 (x));
            }
        }
    }
  sk_X509_free (untrusted);
  return TRUE;
}

/**
 * tb_cert_revoke:
 * @ctx: a context locked for writing
 * @reason: (nullable): why, in words (key compromise, superseded…)
 *
 * Marks the certificate NAME revoked in the inventory (call
 * tb_context_save()): verification then fails for it and everything it
 * certifies, the policy check reports it and the trust chain shows it.
 * Audited.
 */
gboolean
tb_cert_revoke (TbContext *ctx, const char *name, const char *reason, GError **error)
{
  JsonObject *entry = tb_context_find_entry (ctx, TB_INVENTORY_CERTIFICATES, name);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  g_autoptr(JsonObject) details = json_object_new ();

  if (entry == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("The context has no certificate “%s”"), name);
      return FALSE;
    }
  if (json_object_has_member (entry, "revoked"))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_EXISTS, _("The certificate “%s” was already revoked on %s"), name,
                   json_object_get_string_member_with_default (entry, "revoked", "?"));
      return FALSE;
    }
  if (!tb_context_is_writable (ctx))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("The security context %s is open read-only"),
                   tb_context_get_path (ctx));
      return FALSE;
    }
  json_object_set_string_member (details, "serial", json_object_get_string_member_with_default (entry, "serial", ""));
  json_object_set_string_member (details, "reason", reason != NULL ? reason : "");
  if (!tb_audit_append (ctx, "cert.revoke", name, details, error))
    return FALSE;
  json_object_set_string_member (entry, "revoked", when);
  if (reason != NULL)
    json_object_set_string_member (entry, "revocation_reason", reason);
  return TRUE;
}

/**
 * tb_cert_build_chain:
 *
 * Returns: (transfer container) (element-type TbCert): the chain of
 *   @leaf up to the context root, leaf first, or %NULL if it does not verify
 */
GPtrArray *
tb_cert_build_chain (TbContext *ctx, TbCert *leaf, GError **error)
{
  GPtrArray *chain = NULL;

  if (!tb_cert_verify (ctx, leaf, &chain, error))
    return NULL;
  return chain;
}

gboolean
tb_cert_format_from_string (const char *text, TbCertFormat *format, GError **error)
{
  if (g_strcmp0 (text, "pem") == 0)
    *format = TB_CERT_FORMAT_PEM;
  else if (g_strcmp0 (text, "der") == 0)
    *format = TB_CERT_FORMAT_DER;
  else if (g_strcmp0 (text, "p12") == 0 || g_strcmp0 (text, "pkcs12") == 0)
    *format = TB_CERT_FORMAT_PKCS12;
  else
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Unknown certificate format “%s”: expected pem, der or p12"), text);
      return FALSE;
    }
  return TRUE;
}

/**
 * tb_cert_export:
 * @chain: (element-type TbCert): certificates, leaf first
 * @key: (nullable): an unlocked key to include (PKCS#12 only)
 * @p12_passphrase: (nullable): the PKCS#12 password (required with @key)
 *
 * Writes PEM (every certificate of @chain), DER (exactly one) or PKCS#12
 * (the leaf, the rest as CA certificates, AES-256 encrypted, SHA-256 MAC).
 */
gboolean
tb_cert_export (GPtrArray *chain, TbCertFormat format, TbKey *key, const char *p12_passphrase,
                const char *path, GError **error)
{
  g_return_val_if_fail (chain != NULL && chain->len > 0, FALSE);

  if (format == TB_CERT_FORMAT_PEM)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      for (guint i = 0; i < chain->len; i++)
        {
          g_autofree char *pem = tb_cert_dup_pem (g_ptr_array_index (chain, i));
          g_string_append (out, pem);
        }
      return tb_file_write_output (path, out->str, out->len, 0644, error);
    }
  if (format == TB_CERT_FORMAT_DER)
    {
      g_autoptr(GBytes) der = NULL;
      if (chain->len > 1)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                       _("DER holds one certificate; export a chain as pem or p12"));
          return FALSE;
        }
      der = tb_cert_get_der (g_ptr_array_index (chain, 0));
      return tb_file_write_output (path, g_bytes_get_data (der, NULL), g_bytes_get_size (der), 0644, error);
    }

  /* PKCS#12 */
  {
    TbCert *leaf = g_ptr_array_index (chain, 0);
    STACK_OF (X509) *cas = sk_X509_new_null ();
    PKCS12 *p12;
    unsigned char *der = NULL;
    int len;
    gboolean ok;

    if (key != NULL && (p12_passphrase == NULL || strlen (p12_passphrase) < 8))
      {
        sk_X509_free (cas);
        g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                     _("A PKCS#12 file holding a private key needs a passphrase of at least 8 characters"));
        return FALSE;
      }
    for (guint i = 1; i < chain->len; i++)
      sk_X509_push (cas, ((TbCert *) g_ptr_array_index (chain, i))->x509);
    p12 = PKCS12_create_ex (p12_passphrase, leaf->name, key != NULL ? tb_key_get_private_pkey (key) : NULL,
                            leaf->x509, cas, NID_aes_256_cbc, NID_aes_256_cbc, 100000, 1, 0, NULL, NULL);
    sk_X509_free (cas);
    if (p12 == NULL)
      {
        tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot build the PKCS#12 file"));
        return FALSE;
      }
    if (p12_passphrase != NULL &&
        !PKCS12_set_mac (p12, p12_passphrase, -1, NULL, 0, 100000, EVP_sha256 ()))
      {
        PKCS12_free (p12);
        tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot protect the PKCS#12 file"));
        return FALSE;
      }
    len = i2d_PKCS12 (p12, &der);
    PKCS12_free (p12);
    if (len <= 0)
      {
        tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot encode the PKCS#12 file"));
        return FALSE;
      }
    ok = tb_file_write_output (path, der, (gsize) len, key != NULL ? 0600 : 0644, error);
    OPENSSL_clear_free (der, (size_t) len);
    return ok;
  }
}

/* ---- accessors ---- */

const char *
tb_cert_get_name (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), NULL);
  return self->name;
}

const char *
tb_cert_get_key_name (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), NULL);
  return self->key_name;
}

static char *
name_to_string (const X509_NAME *name)
{
  g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
  char *ptr = NULL;
  long n;

  X509_NAME_print_ex (bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  n = BIO_get_mem_data (bio, &ptr);
  return g_strndup (ptr, (gsize) n);
}

char *
tb_cert_dup_subject (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), NULL);
  return name_to_string (X509_get_subject_name (self->x509));
}

char *
tb_cert_dup_issuer (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), NULL);
  return name_to_string (X509_get_issuer_name (self->x509));
}

char *
tb_cert_dup_serial (TbCert *self)
{
  BIGNUM *bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (self->x509), NULL);
  char *hex = bn != NULL ? BN_bn2hex (bn) : NULL;
  char *out = hex != NULL ? g_ascii_strdown (hex, -1) : g_strdup ("");

  OPENSSL_free (hex);
  BN_free (bn);
  return out;
}

GDateTime *
tb_cert_get_not_before (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), NULL);
  return self->not_before;
}

GDateTime *
tb_cert_get_not_after (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), NULL);
  return self->not_after;
}

const char *
tb_cert_get_sha256 (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), NULL);
  return self->sha256;
}

char *
tb_cert_dup_public_key_sha256 (TbCert *self)
{
  return tb_pkey_public_sha256 (X509_get0_pubkey (self->x509));
}

char *
tb_cert_dup_key_algorithm (TbCert *self)
{
  EVP_PKEY *pkey = X509_get0_pubkey (self->x509);

  return pkey != NULL ? tb_pkey_describe_algorithm (pkey) : g_strdup ("unknown");
}

char *
tb_cert_dup_signature_algorithm (TbCert *self)
{
  return g_strdup (OBJ_nid2ln (X509_get_signature_nid (self->x509)));
}

gboolean
tb_cert_is_ca (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), FALSE);
  return X509_check_ca (self->x509) != 0;
}

gboolean
tb_cert_is_self_signed (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), FALSE);
  return X509_self_signed (self->x509, 1) == 1;
}

char *
tb_cert_dup_pem (TbCert *self)
{
  g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
  char *ptr = NULL;
  long n;

  PEM_write_bio_X509 (bio, self->x509);
  n = BIO_get_mem_data (bio, &ptr);
  return g_strndup (ptr, (gsize) n);
}

GBytes *
tb_cert_get_der (TbCert *self)
{
  unsigned char *der = NULL;
  int len = i2d_X509 (self->x509, &der);
  GBytes *bytes;

  if (len <= 0)
    return g_bytes_new (NULL, 0);
  bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return bytes;
}

X509 *
tb_cert_get_x509 (TbCert *self)
{
  return self->x509;
}

/* ---- production job CAs ---- */

/* A private extension (OID in the UUID arc of ITU-T X.667, no registration
 * needed) holding the job authorization as a UTF8String of compact JSON:
 * job id, slice, first slot, slice count, job total, product. Not
 * critical: other verifiers may ignore it; Trustbench reads it. */
#define TB_CERT_JOB_OID "2.25.683455246303960272276866362310974843"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ASN1_OBJECT, ASN1_OBJECT_free)

/**
 * tb_cert_issue_job_ca:
 * @root: the OEM root certificate
 * @root_key: its unlocked key
 * @subject_key: the job's issuing key
 * @authorization: the job authorization (compact JSON) to embed
 *
 * Issues the certificate of a production job's issuing CA: a CA with
 * pathlen 0 directly under the root (so it can issue device
 * certificates) that carries the job id and count it is limited to.
 */
TbCert *
tb_cert_issue_job_ca (TbCert *root, TbKey *root_key, TbKey *subject_key, const char *common_name,
                      const char *organization, guint days, const char *authorization, GError **error)
{
  g_autoptr(ASN1_OBJECT) obj = OBJ_txt2obj (TB_CERT_JOB_OID, 1);
  ASN1_UTF8STRING *text = ASN1_UTF8STRING_new ();
  ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new ();
  X509_EXTENSION *ext = NULL;
  unsigned char *der = NULL;
  int der_len;
  X509_NAME *name;
  TbCert *cert = NULL;

  if (!tb_key_require_usage (root_key, TB_KEY_USAGE_ROOT_CA, _("certify a production job"), error) ||
      !require_private (root_key, error) || !check_issuer_pair (root, root_key, error))
    goto out;
  if (obj == NULL || text == NULL || value == NULL ||
      !ASN1_STRING_set (text, authorization, (int) strlen (authorization)) ||
      (der_len = i2d_ASN1_UTF8STRING (text, &der)) <= 0 || !ASN1_OCTET_STRING_set (value, der, der_len) ||
      (ext = X509_EXTENSION_create_by_OBJ (NULL, obj, 0, value)) == NULL)
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot encode the job authorization"));
      goto out;
    }
  name = make_name (common_name, organization, NULL);
  cert = issue_internal (root->x509, tb_key_get_private_pkey (root_key), tb_key_get_public_pkey (subject_key), name,
                         TB_CERT_PROFILE_PROVISIONING_CA, days, ext, error);
  X509_NAME_free (name);

out:
  OPENSSL_free (der);
  X509_EXTENSION_free (ext);
  ASN1_OCTET_STRING_free (value);
  ASN1_UTF8STRING_free (text);
  return cert;
}

/**
 * tb_cert_dup_job_authorization:
 *
 * Returns: (transfer full) (nullable): the job authorization a job CA
 *   certificate carries (compact JSON), %NULL when it carries none
 */
char *
tb_cert_dup_job_authorization (TbCert *self)
{
  g_autoptr(ASN1_OBJECT) obj = OBJ_txt2obj (TB_CERT_JOB_OID, 1);
  int i = obj != NULL ? X509_get_ext_by_OBJ (self->x509, obj, -1) : -1;
  X509_EXTENSION *ext = i >= 0 ? X509_get_ext (self->x509, i) : NULL;
  ASN1_OCTET_STRING *value = ext != NULL ? X509_EXTENSION_get_data (ext) : NULL;
  const unsigned char *p;
  ASN1_UTF8STRING *text;
  char *out = NULL;

  if (value == NULL)
    return NULL;
  p = ASN1_STRING_get0_data (value);
  text = d2i_ASN1_UTF8STRING (NULL, &p, ASN1_STRING_length (value));
  if (text != NULL)
    out = g_strndup ((const char *) ASN1_STRING_get0_data (text), (gsize) ASN1_STRING_length (text));
  ASN1_UTF8STRING_free (text);
  ERR_clear_error ();
  return out;
}

/**
 * tb_cert_verify_with_root:
 * @root: the trust anchor
 * @intermediates: (nullable) (element-type TbCert): untrusted CAs
 * @at: (nullable): the time to verify at, %NULL for now
 *
 * Verifies @leaf against @root alone (strict X.509), outside any context:
 * what a station and an offline receipt check rely on.
 */
gboolean
tb_cert_verify_with_root (TbCert *root, GPtrArray *intermediates, TbCert *leaf, GDateTime *at, GError **error)
{
  g_autoptr(X509_STORE) store = X509_STORE_new ();
  g_autoptr(X509_STORE_CTX) vctx = X509_STORE_CTX_new ();
  STACK_OF (X509) *untrusted = sk_X509_new_null ();
  gboolean ok;

  X509_STORE_add_cert (store, root->x509);
  for (guint i = 0; intermediates != NULL && i < intermediates->len; i++)
    sk_X509_push (untrusted, ((TbCert *) g_ptr_array_index (intermediates, i))->x509);
  X509_STORE_set_flags (store, X509_V_FLAG_X509_STRICT);
  if (!X509_STORE_CTX_init (vctx, store, leaf->x509, untrusted))
    {
      sk_X509_free (untrusted);
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot set up certificate verification"));
      return FALSE;
    }
  if (at != NULL)
    X509_STORE_CTX_set_time (vctx, 0, (time_t) g_date_time_to_unix (at));
  ok = X509_verify_cert (vctx) == 1;
  if (!ok)
    {
      int err = X509_STORE_CTX_get_error (vctx);
      int depth = X509_STORE_CTX_get_error_depth (vctx);
      g_autofree char *subject = tb_cert_dup_subject (leaf);
      ERR_clear_error ();
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The certificate “%s” does not verify against the OEM root: %s (at depth %d)"), subject,
                   X509_verify_cert_error_string (err), depth);
    }
  sk_X509_free (untrusted);
  return ok;
}
