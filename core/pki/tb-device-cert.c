/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Device certificates from the public key a device reports (a raw P-256
 * point) and its UID, the path provisioning and production take for every
 * device. It is built for volume:
 *
 *  - the SubjectPublicKeyInfo is set from the raw point directly (no
 *    EVP_PKEY per device: decoding and re-encoding a key through the
 *    provider decoders costs far more than the signature); the point is
 *    still checked to lie on the curve;
 *  - the extensions that are the same for every device (basicConstraints,
 *    keyUsage, extKeyUsage, authorityKeyIdentifier) are built once;
 *  - the signing context is prepared once and copied for each signature.
 *
 * Profile: subject O=<organization>, CN=Device <UID> (CN=<UID> for a UID of
 * 58 digits or more: a CN holds 64 characters), serialNumber=<UID>;
 * CA:FALSE, digitalSignature + keyAgreement, clientAuth, SKI = SHA-1 of the
 * point (RFC 5280 method 1), AKI = the issuer's SKI. */

#include "config.h"

#include "tb-device-cert.h"

#include <glib/gi18n-lib.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "tb-cert-private.h"
#include "tb-error.h"
#include "tb-key-private.h"

#define TB_DEVICE_CN_MAX_LEN 64

struct _TbDeviceCertIssuer {
  X509_NAME *issuer_name;
  char *organization;
  guint days;
  X509_EXTENSION *ext_bc;
  X509_EXTENSION *ext_ku;
  X509_EXTENSION *ext_eku;
  X509_EXTENSION *ext_aki;
  EVP_MD_CTX *sign_template;
  EC_GROUP *group;
  EC_POINT *scratch;
  BN_CTX *bn_ctx;
  ASN1_OBJECT *alg_ec;
  ASN1_OBJECT *curve_p256;
};

void
tb_device_cert_issuer_free (TbDeviceCertIssuer *self)
{
  if (self == NULL)
    return;
  X509_NAME_free (self->issuer_name);
  g_free (self->organization);
  X509_EXTENSION_free (self->ext_bc);
  X509_EXTENSION_free (self->ext_ku);
  X509_EXTENSION_free (self->ext_eku);
  X509_EXTENSION_free (self->ext_aki);
  EVP_MD_CTX_free (self->sign_template);
  EC_POINT_free (self->scratch);
  EC_GROUP_free (self->group);
  BN_CTX_free (self->bn_ctx);
  ASN1_OBJECT_free (self->alg_ec);
  ASN1_OBJECT_free (self->curve_p256);
  g_free (self);
}

/**
 * tb_device_uid_is_valid:
 * @uid_hex: a device UID as hex digits
 *
 * A UID is 2 to 64 hex digits, an even number of them.
 */
gboolean
tb_device_uid_is_valid (const char *uid_hex, GError **error)
{
  gsize len = uid_hex != NULL ? strlen (uid_hex) : 0;

  if (len < 2 || len > TB_DEVICE_UID_MAX_LEN || len % 2 != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Invalid device UID “%s”: expected 2 to %d hex digits, an even number of them"),
                   uid_hex != NULL ? uid_hex : "", TB_DEVICE_UID_MAX_LEN);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (uid_hex[i]))
      {
        g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                     _("Invalid device UID “%s”: character %" G_GSIZE_FORMAT " is not a hex digit"), uid_hex, i + 1);
        return FALSE;
      }
  return TRUE;
}

/**
 * tb_device_cert_issuer_new:
 * @issuer: the provisioning CA certificate
 * @issuer_key: its unlocked key (usage provisioning-ca)
 * @organization: subject O of the device certificates
 * @days: validity
 */
TbDeviceCertIssuer *
tb_device_cert_issuer_new (TbCert *issuer, TbKey *issuer_key, const char *organization, guint days,
                           GError **error)
{
  g_autoptr(TbDeviceCertIssuer) self = g_new0 (TbDeviceCertIssuer, 1);
  X509 *issuer_x509 = tb_cert_get_x509 (issuer);
  EVP_PKEY *pkey = tb_key_get_private_pkey (issuer_key);
  const ASN1_OCTET_STRING *issuer_ski;
  AUTHORITY_KEYID *akid;
  const EVP_MD *md;

  if (!tb_key_require_usage (issuer_key, TB_KEY_USAGE_PROVISIONING_CA, _("issue device certificates"), error))
    return NULL;
  if (pkey == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION,
                   _("Key “%s” is locked: unlock it with the passphrase first"), tb_key_get_name (issuer_key));
      return NULL;
    }
  if (!tb_cert_is_ca (issuer) || X509_check_private_key (issuer_x509, pkey) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Key “%s” and certificate “%s” are not a CA pair"), tb_key_get_name (issuer_key),
                   tb_cert_get_name (issuer) != NULL ? tb_cert_get_name (issuer) : "?");
      return NULL;
    }
  if (days == 0 || days > 100 * 365)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("A validity of %u days is not acceptable (1 to 36500)"), days);
      return NULL;
    }
  issuer_ski = X509_get0_subject_key_id (issuer_x509);
  if (issuer_ski == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("The issuer certificate has no subject key identifier"));
      return NULL;
    }

  self->issuer_name = X509_NAME_dup (X509_get_subject_name (issuer_x509));
  self->organization = g_strdup (organization);
  self->days = days;
  self->ext_bc = X509V3_EXT_conf_nid (NULL, NULL, NID_basic_constraints, "critical,CA:FALSE");
  self->ext_ku = X509V3_EXT_conf_nid (NULL, NULL, NID_key_usage, "critical,digitalSignature,keyAgreement");
  self->ext_eku = X509V3_EXT_conf_nid (NULL, NULL, NID_ext_key_usage, "clientAuth");
  akid = AUTHORITY_KEYID_new ();
  akid->keyid = ASN1_OCTET_STRING_dup (issuer_ski);
  self->ext_aki = X509V3_EXT_i2d (NID_authority_key_identifier, 0, akid);
  AUTHORITY_KEYID_free (akid);

  md = tb_cert_digest_for_key (pkey);
  self->sign_template = EVP_MD_CTX_new ();
  self->group = EC_GROUP_new_by_curve_name (NID_X9_62_prime256v1);
  self->scratch = self->group != NULL ? EC_POINT_new (self->group) : NULL;
  self->bn_ctx = BN_CTX_new ();
  self->alg_ec = OBJ_nid2obj (NID_X9_62_id_ecPublicKey);
  self->curve_p256 = OBJ_nid2obj (NID_X9_62_prime256v1);
  if (self->ext_bc == NULL || self->ext_ku == NULL || self->ext_eku == NULL || self->ext_aki == NULL ||
      self->sign_template == NULL || self->scratch == NULL || self->bn_ctx == NULL ||
      EVP_DigestSignInit_ex (self->sign_template, NULL, md != NULL ? EVP_MD_get0_name (md) : NULL, NULL, NULL,
                             pkey, NULL) != 1)
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot prepare device certificate issuance"));
      return NULL;
    }
  return g_steal_pointer (&self);
}

static gboolean
set_subject (X509 *x509, const char *organization, const char *uid_hex)
{
  X509_NAME *name = X509_get_subject_name (x509);
  char cn[16 + TB_DEVICE_UID_MAX_LEN];

  /* a common name holds at most 64 characters (RFC 5280 ub-common-name):
   * a UID of 58 digits or more is the name alone */
  if (strlen ("Device ") + strlen (uid_hex) <= TB_DEVICE_CN_MAX_LEN)
    g_snprintf (cn, sizeof cn, "Device %s", uid_hex);
  else
    g_strlcpy (cn, uid_hex, sizeof cn);
  return (organization == NULL || organization[0] == '\0' ||
          X509_NAME_add_entry_by_NID (name, NID_organizationName, MBSTRING_UTF8,
                                      (const unsigned char *) organization, -1, -1, 0)) &&
         X509_NAME_add_entry_by_NID (name, NID_commonName, MBSTRING_ASC, (const unsigned char *) cn, -1, -1, 0) &&
         X509_NAME_add_entry_by_NID (name, NID_serialNumber, MBSTRING_ASC, (const unsigned char *) uid_hex, -1, -1,
                                     0);
}

static gboolean
add_ski (X509 *x509, const guint8 *point)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  ASN1_OCTET_STRING *ski;
  gboolean ok;

  if (!EVP_Digest (point, TB_DEVICE_POINT_LEN, md, &md_len, EVP_sha1 (), NULL))
    return FALSE;
  ski = ASN1_OCTET_STRING_new ();
  ok = ski != NULL && ASN1_OCTET_STRING_set (ski, md, (int) md_len) &&
       X509_add1_ext_i2d (x509, NID_subject_key_identifier, ski, 0, X509V3_ADD_DEFAULT) == 1;
  ASN1_OCTET_STRING_free (ski);
  return ok;
}

/**
 * tb_device_cert_issuer_issue:
 * @point: the device's public key, an uncompressed P-256 point (65 bytes)
 * @uid_hex: the device UID, hex
 *
 * Returns: (transfer full): the DER certificate
 */
GBytes *
tb_device_cert_issuer_issue (TbDeviceCertIssuer *self, const guint8 *point, gsize point_len, const char *uid_hex,
                             GError **error)
{
  g_autoptr(X509) x509 = NULL;
  EVP_MD_CTX *sign = NULL;
  unsigned char *penc;
  unsigned char *der = NULL;
  int der_len;
  GBytes *result;

  if (!tb_device_uid_is_valid (uid_hex, error))
    return NULL;
  if (point == NULL || point_len != TB_DEVICE_POINT_LEN || point[0] != 0x04 ||
      /* decoding an uncompressed point checks that it lies on the curve */
      EC_POINT_oct2point (self->group, self->scratch, point, point_len, self->bn_ctx) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("The public key of device %s is not an uncompressed P-256 point on the curve "
                     "(%" G_GSIZE_FORMAT " bytes, expected %d starting with 04)"),
                   uid_hex, point_len, TB_DEVICE_POINT_LEN);
      return NULL;
    }

  x509 = X509_new ();
  penc = OPENSSL_memdup (point, point_len);
  if (x509 == NULL || penc == NULL ||
      !X509_set_version (x509, X509_VERSION_3) ||
      !tb_cert_random_serial (x509, error) ||
      !X509_set_issuer_name (x509, self->issuer_name) ||
      !set_subject (x509, self->organization, uid_hex) ||
      X509_gmtime_adj (X509_getm_notBefore (x509), 0) == NULL ||
      X509_time_adj_ex (X509_getm_notAfter (x509), (int) self->days, 0, NULL) == NULL ||
      !X509_PUBKEY_set0_param (X509_get_X509_PUBKEY (x509), self->alg_ec, V_ASN1_OBJECT, self->curve_p256, penc,
                               (int) point_len))
    {
      OPENSSL_free (penc);
      if (error == NULL || *error == NULL)
        tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot build the certificate of device %s"), uid_hex);
      return NULL;
    }
  if (!X509_add_ext (x509, self->ext_bc, -1) || !X509_add_ext (x509, self->ext_ku, -1) ||
      !X509_add_ext (x509, self->ext_eku, -1) || !add_ski (x509, point) || !X509_add_ext (x509, self->ext_aki, -1))
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot add the extensions of device %s"), uid_hex);
      return NULL;
    }
  sign = EVP_MD_CTX_new ();
  if (sign == NULL || !EVP_MD_CTX_copy_ex (sign, self->sign_template) || X509_sign_ctx (x509, sign) <= 0)
    {
      EVP_MD_CTX_free (sign);
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot sign the certificate of device %s"), uid_hex);
      return NULL;
    }
  EVP_MD_CTX_free (sign);
  der_len = i2d_X509 (x509, &der);
  if (der_len <= 0)
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot encode the certificate of device %s"), uid_hex);
      return NULL;
    }
  result = g_bytes_new (der, (gsize) der_len);
  OPENSSL_free (der);
  return result;
}
