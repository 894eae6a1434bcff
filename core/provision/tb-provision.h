/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-cert.h"
#include "tb-context.h"
#include "tb-device-cert.h"
#include "tb-probe.h"
#include "tb-progress.h"
#include "tb-target.h"
#include "tb-upk.h"

G_BEGIN_DECLS

typedef struct {
  const char *product;          /* NULL: the context's only product */
  const char *upk_path;         /* NULL: provision without an image */
  const char *image_path;
  gboolean no_lock;             /* leave debug access open (lab use) */
} TbProvisionOptions;

typedef struct {
  char *uid;
  char *device_type;
  char *device_certificate;     /* PEM */
  char *device_certificate_serial;
  char *lifecycle;
  char *app_version;            /* NULL when no image was programmed */
  GBytes *receipt;
  char *product;                /* the product it was provisioned for */
} TbProvisionResult;

/**
 * TbProvisionIdentity:
 * @product: the product the device is made for
 * @product_key: (unlocked) wrapped to each device key
 * @issuer_cert: issues the device certificates
 * @issuer_key: (unlocked) its key
 * @anchor: the mastering public key the device will trust
 *
 * The OEM identity a device receives: from an OEM context
 * (tb_provision_identity_from_context()) or from a production job.
 */
typedef struct {
  char *product;
  char *organization;
  TbKey *product_key;
  TbCert *issuer_cert;
  TbKey *issuer_key;
  guint8 anchor[65];
  TbDeviceCertIssuer *issuer;   /* made on first use */
} TbProvisionIdentity;

void     tb_provision_identity_clear (TbProvisionIdentity *id);
gboolean tb_provision_identity_from_context (TbContext  *ctx,
                                    const char             *product,
                                    const char             *passphrase,
                                    TbProvisionIdentity    *id,
                                    GError                **error);
gboolean tb_provision_identity_set_anchor (TbProvisionIdentity *id,
                                    TbCert                 *mastering,
                                    GError                **error);
TbAttestation *tb_provision_identify (TbTarget             *target,
                                    TbProgress             *progress,
                                    GError                **error);
gboolean tb_provision_check_image (TbTarget              *target,
                                    const TbAttestation    *att,
                                    TbUpk                  *upk,
                                    const char             *upk_path,
                                    GError                **error);
GBytes  *tb_provision_issue_certificate (TbProvisionIdentity *id,
                                    const TbAttestation    *att,
                                    GError                **error);
gboolean tb_provision_send_identity (TbTarget              *target,
                                    TbProvisionIdentity    *id,
                                    const TbAttestation    *att,
                                    GBytes                 *cert_der,
                                    gboolean                lock,
                                    GError                **error);

void     tb_provision_result_clear (TbProvisionResult      *result);
gboolean tb_provision_device       (TbContext              *ctx,
                                    TbProbe                *probe,
                                    const TbProvisionOptions *options,
                                    const char             *passphrase,
                                    TbProvisionResult      *result,
                                    TbProgress             *progress,
                                    GError                **error);
char    *tb_provision_record        (TbContext              *ctx,
                                    const TbProvisionResult *result,
                                    GError                **error);
gboolean tb_provision_device_and_record (TbContext         *ctx,
                                    TbProbe                *probe,
                                    const TbProvisionOptions *options,
                                    const char             *passphrase,
                                    TbProvisionResult      *result,
                                    char                  **record_id,
                                    TbProgress             *progress,
                                    GError                **error);
gboolean tb_program_device         (TbProbe                *probe,
                                    const char             *upk_path,
                                    const char             *image_path,
                                    char                  **app_version,
                                    GBytes                **receipt,
                                    TbProgress             *progress,
                                    GError                **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TbProvisionIdentity, tb_provision_identity_clear)

G_END_DECLS
