/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Issuing a certificate from a PKCS#10 request, once for every front end
 * (`trustbench-tool cert issue --csr`, the Keys page's Issue From Request):
 * the same issuer rule (a CA certificate whose key the context holds; no
 * falling back to a key named like the certificate), the same validity,
 * the same checks of the request, the PEM written the same way. */

#include "config.h"

#include "tb-cert-workflow.h"

#include <glib/gi18n-lib.h>

#include "tb-error.h"
#include "tb-file.h"
#include "tb-hierarchy.h"
#include "tb-key.h"

/**
 * tb_cert_workflow_find_issuer:
 * @issuer: (nullable): a certificate name of @ctx; %NULL: provisioning-ca
 *
 * The issuer a request would be issued by: the certificate, which must
 * have its key in the context. A front end calls it before it asks for the
 * passphrase of that key.
 *
 * Returns: (transfer full): the issuer's certificate, or %NULL
 */
TbCert *
tb_cert_workflow_find_issuer (TbContext *ctx, const char *issuer, GError **error)
{
  const char *name = issuer != NULL ? issuer : TB_KEY_NAME_PROVISIONING_CA;
  g_autoptr(TbCert) cert = tb_cert_load (ctx, name, error);
  g_autoptr(TbKey) key = NULL;

  if (cert == NULL)
    return NULL;
  if (tb_cert_get_key_name (cert) == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Certificate “%s” has no key in the context and cannot issue"), name);
      return NULL;
    }
  key = tb_key_load (ctx, tb_cert_get_key_name (cert), error);
  if (key == NULL)
    return NULL;
  return g_steal_pointer (&cert);
}

/**
 * tb_cert_workflow_issue_from_csr:
 * @ctx: the context of the issuer
 * @progress: (nullable): stages
 *
 * Reads the request (at most %TB_CSR_FILE_MAX_BYTES), unlocks the issuer's
 * key, checks the request's signature, issues an end-entity certificate
 * valid for @options->days and writes it as PEM to @options->output.
 *
 * Returns: (transfer full): the certificate issued, or %NULL
 */
TbCert *
tb_cert_workflow_issue_from_csr (TbContext *ctx, const TbCsrIssueOptions *options, TbProgress *progress,
                                 GError **error)
{
  g_autoptr(TbCert) issuer = NULL;
  g_autoptr(TbKey) key = NULL;
  g_autoptr(TbCert) cert = NULL;
  g_autoptr(GPtrArray) one = g_ptr_array_new ();
  g_autofree char *csr = NULL;
  gsize len = 0;

  if (!tb_file_read_bounded (options->csr_path, TB_CSR_FILE_MAX_BYTES, &csr, &len, error))
    return NULL;
  issuer = tb_cert_workflow_find_issuer (ctx, options->issuer, error);
  if (issuer == NULL)
    return NULL;
  tb_progress_set_stage (progress, _("Unlocking the key of “%s”"), tb_cert_get_name (issuer));
  key = tb_key_load (ctx, tb_cert_get_key_name (issuer), error);
  if (key == NULL || !tb_key_unlock (key, ctx, options->passphrase, error))
    return NULL;
  tb_progress_set_fraction (progress, 0.5);
  tb_progress_set_stage (progress, _("Checking the request and issuing the certificate"));
  if (tb_progress_set_error_if_cancelled (progress, error))
    return NULL;
  cert = tb_cert_issue_from_csr (issuer, key, csr, len, options->csr_path,
                                 options->days > 0 ? options->days : TB_CERT_DAYS_LEAF, error);
  if (cert == NULL)
    return NULL;
  g_ptr_array_add (one, cert);
  tb_progress_log (progress, _("Writing %s"), options->output);
  if (!tb_cert_export (one, TB_CERT_FORMAT_PEM, NULL, NULL, options->output, error))
    return NULL;
  tb_progress_finish (progress);
  return g_steal_pointer (&cert);
}
