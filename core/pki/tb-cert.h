/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-context.h"
#include "tb-key.h"

G_BEGIN_DECLS

/**
 * TbCertProfile:
 * @TB_CERT_PROFILE_ROOT_CA: self-signed OEM root: CA, pathlen 1,
 *   keyCertSign + cRLSign
 * @TB_CERT_PROFILE_PROVISIONING_CA: intermediate CA issuing device
 *   certificates: CA, pathlen 0, keyCertSign + cRLSign
 * @TB_CERT_PROFILE_MASTERING: digitalSignature, extendedKeyUsage codeSigning
 * @TB_CERT_PROFILE_PRODUCT: keyAgreement (EC) / keyEncipherment (RSA)
 * @TB_CERT_PROFILE_JOB: digitalSignature
 * @TB_CERT_PROFILE_DEVICE: device identity: digitalSignature +
 *   keyAgreement, extendedKeyUsage clientAuth; subject serialNumber = UID
 * @TB_CERT_PROFILE_LEAF: end entity issued from a CSR: digitalSignature
 */
typedef enum {
  TB_CERT_PROFILE_ROOT_CA,
  TB_CERT_PROFILE_PROVISIONING_CA,
  TB_CERT_PROFILE_MASTERING,
  TB_CERT_PROFILE_PRODUCT,
  TB_CERT_PROFILE_JOB,
  TB_CERT_PROFILE_DEVICE,
  TB_CERT_PROFILE_LEAF,
} TbCertProfile;

typedef enum {
  TB_CERT_FORMAT_PEM,
  TB_CERT_FORMAT_DER,
  TB_CERT_FORMAT_PKCS12,
} TbCertFormat;

/* Validity periods of the default hierarchy, in days. */
#define TB_CERT_DAYS_ROOT_CA (15 * 365)
#define TB_CERT_DAYS_CA (10 * 365)
#define TB_CERT_DAYS_MASTERING (3 * 365)
#define TB_CERT_DAYS_PRODUCT (10 * 365)
#define TB_CERT_DAYS_DEVICE (20 * 365)
#define TB_CERT_DAYS_LEAF 365

#define TB_TYPE_CERT (tb_cert_get_type ())
G_DECLARE_FINAL_TYPE (TbCert, tb_cert, TB, CERT, GObject)

TbCert     *tb_cert_new_from_data       (const void   *data,
                                         gsize         len,
                                         const char   *origin,
                                         GError      **error);
TbCert     *tb_cert_new_from_file       (const char   *path,
                                         GError      **error);
TbCert     *tb_cert_load                (TbContext    *ctx,
                                         const char   *name,
                                         GError      **error);
GPtrArray  *tb_cert_load_all            (TbContext    *ctx,
                                         GError      **error);
gboolean    tb_cert_store               (TbCert       *self,
                                         TbContext    *ctx,
                                         const char   *name,
                                         const char   *key_name,
                                         GError      **error);

TbCert     *tb_cert_issue_self_signed   (TbKey        *key,
                                         const char   *common_name,
                                         const char   *organization,
                                         guint         days,
                                         GError      **error);
TbCert     *tb_cert_issue               (TbCert       *issuer,
                                         TbKey        *issuer_key,
                                         TbKey        *subject_key,
                                         TbCertProfile profile,
                                         const char   *common_name,
                                         const char   *organization,
                                         guint         days,
                                         GError      **error);
TbCert     *tb_cert_issue_from_csr      (TbCert       *issuer,
                                         TbKey        *issuer_key,
                                         const void   *csr,
                                         gsize         csr_len,
                                         const char   *origin,
                                         guint         days,
                                         GError      **error);

TbCert     *tb_cert_issue_job_ca        (TbCert       *root,
                                         TbKey        *root_key,
                                         TbKey        *subject_key,
                                         const char   *common_name,
                                         const char   *organization,
                                         guint         days,
                                         const char   *authorization,
                                         GError      **error);
char       *tb_cert_dup_job_authorization (TbCert     *self);
gboolean    tb_cert_verify_with_root    (TbCert       *root,
                                         GPtrArray    *intermediates,
                                         TbCert       *leaf,
                                         GDateTime    *at,
                                         GError      **error);

gboolean    tb_cert_revoke              (TbContext    *ctx,
                                         const char   *name,
                                         const char   *reason,
                                         GError      **error);
gboolean    tb_cert_verify              (TbContext    *ctx,
                                         TbCert       *leaf,
                                         GPtrArray   **chain,
                                         GError      **error);
gboolean    tb_cert_check_code_signing  (TbCert       *cert,
                                         GError      **error);
GPtrArray  *tb_cert_build_chain         (TbContext    *ctx,
                                         TbCert       *leaf,
                                         GError      **error);
gboolean    tb_cert_export              (GPtrArray    *chain,
                                         TbCertFormat  format,
                                         TbKey        *key,
                                         const char   *p12_passphrase,
                                         const char   *path,
                                         GError      **error);
gboolean    tb_cert_format_from_string  (const char   *text,
                                         TbCertFormat *format,
                                         GError      **error);

const char *tb_cert_get_name            (TbCert       *self);
const char *tb_cert_get_key_name        (TbCert       *self);
char       *tb_cert_dup_subject         (TbCert       *self);
char       *tb_cert_dup_issuer          (TbCert       *self);
char       *tb_cert_dup_serial          (TbCert       *self);
GDateTime  *tb_cert_get_not_before      (TbCert       *self);
GDateTime  *tb_cert_get_not_after       (TbCert       *self);
const char *tb_cert_get_sha256          (TbCert       *self);
char       *tb_cert_dup_public_key_sha256 (TbCert     *self);
char       *tb_cert_dup_key_algorithm   (TbCert       *self);
char       *tb_cert_dup_signature_algorithm (TbCert   *self);
gboolean    tb_cert_is_ca               (TbCert       *self);
gboolean    tb_cert_is_self_signed      (TbCert       *self);
char       *tb_cert_dup_pem             (TbCert       *self);
GBytes     *tb_cert_get_der             (TbCert       *self);

G_END_DECLS
