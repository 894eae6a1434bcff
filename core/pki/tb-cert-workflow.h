/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-cert.h"
#include "tb-context.h"
#include "tb-progress.h"

G_BEGIN_DECLS

/**
 * TbCsrIssueOptions:
 * @issuer: (nullable): the issuing CA's certificate name; %NULL:
 *   provisioning-ca
 * @csr_path: the PKCS#10 request, PEM or DER
 * @days: validity in days; 0: %TB_CERT_DAYS_LEAF
 * @output: where the PEM certificate is written
 * @passphrase: (nullable): unlocks the issuer's key (a file key)
 */
typedef struct {
  const char *issuer;
  const char *csr_path;
  guint days;
  const char *output;
  const char *passphrase;
} TbCsrIssueOptions;

/* the largest CSR file read */
#define TB_CSR_FILE_MAX_BYTES (1024 * 1024)

TbCert *tb_cert_workflow_find_issuer    (TbContext                *ctx,
                                         const char               *issuer,
                                         GError                  **error);
TbCert *tb_cert_workflow_issue_from_csr (TbContext                *ctx,
                                         const TbCsrIssueOptions  *options,
                                         TbProgress               *progress,
                                         GError                  **error);

G_END_DECLS
