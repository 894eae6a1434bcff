/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Issuing TbCerts: the fixed profiles (#TbCertProfile) that every chain
 * the context builds follows, self-signed roots, certificates for a key of
 * the context, certificates from a PKCS#10 request, and production job
 * CAs with the job authorization they carry. A key may only issue what its
 * usage allows (see tb-cert.c). */

#include "config.h"

#include "tb-cert-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "tb-error.h"
#include "tb-key-private.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_REQ, X509_REQ_free)

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
