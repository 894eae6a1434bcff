/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Verifying TbCerts: strict X.509 chains inside a context (with its
 * revocations) or against a root alone (a station, an offline receipt
 * check), the code-signing check, and revocation. */

#include "config.h"

#include "tb-cert-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "tb-audit-private.h"
#include "tb-context-private.h"
#include "tb-error.h"
#include "tb-json-private.h"
#include "tb-key-private.h"

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
            const char *revoked = entry != NULL ? tb_json_get_string (entry, "revoked", NULL)
                                                : NULL;
            if (revoked != NULL && X509_cmp (c->x509, x) == 0)
              {
                sk_X509_free (untrusted);
                g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                             _("The certificate “%s” on the path was revoked on %s (%s): nothing it certifies can "
                               "be trusted"), c->name, revoked,
                             tb_json_get_string (entry, "revocation_reason", _("no reason given")));
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
                   tb_json_get_string (entry, "revoked", "?"));
      return FALSE;
    }
  if (!tb_context_is_writable (ctx))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("The security context %s is open read-only"),
                   tb_context_get_path (ctx));
      return FALSE;
    }
  json_object_set_string_member (details, "serial", tb_json_get_string (entry, "serial", ""));
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
