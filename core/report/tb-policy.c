/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Policy checks over a security context: each finding has a severity and
 * a sentence for a security officer. Key and certificate checks (algorithm
 * strength, validity, usage, storage) are added by the key hierarchy. */

#include "config.h"

#include "tb-policy.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tb-cert.h"
#include "tb-context-private.h"
#include "tb-error.h"
#include "tb-json-private.h"
#include "tb-key.h"

void
tb_policy_finding_free (TbPolicyFinding *finding)
{
  if (finding == NULL)
    return;
  g_free (finding->subject);
  g_free (finding->message);
  g_free (finding);
}

const char *
tb_severity_to_string (TbSeverity severity)
{
  switch (severity)
    {
    case TB_SEVERITY_INFO:
      return "info";
    case TB_SEVERITY_WARNING:
      return "warning";
    case TB_SEVERITY_CRITICAL:
      return "critical";
    default:
      g_return_val_if_reached ("warning");
    }
}

static void
add_finding (GPtrArray *findings, TbSeverity severity, const char *subject, const char *message)
{
  TbPolicyFinding *f = g_new0 (TbPolicyFinding, 1);

  f->severity = severity;
  f->subject = g_strdup (subject);
  f->message = g_strdup (message);
  g_ptr_array_add (findings, f);
}

static gboolean
is_ca_usage (const char *usage)
{
  return g_strcmp0 (usage, "root-ca") == 0 || g_strcmp0 (usage, "provisioning-ca") == 0;
}

/* whether a certificate entry says it certifies @key, even one whose
 * file is gone (that is reported once, as the missing file) */
static gboolean
has_certificate_entry (GPtrArray *cert_entries, const char *key)
{
  for (guint i = 0; i < cert_entries->len; i++)
    if (g_strcmp0 (tb_json_get_string (g_ptr_array_index (cert_entries, i), "key", NULL),
                   key) == 0)
      return TRUE;
  return FALSE;
}

static void
check_key (GPtrArray *findings, TbContext *ctx, JsonObject *entry, GPtrArray *certs, GPtrArray *cert_entries,
           GPtrArray *file_problems)
{
  const char *name = json_object_get_string_member (entry, "name");
  const char *usage = tb_json_get_string (entry, "usage", "");
  const char *algorithm = tb_json_get_string (entry, "algorithm", "");
  const char *storage = tb_json_get_string (entry, "storage", "file");
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKey) key = tb_key_load (ctx, name, &error);
  gboolean certified = FALSE;
  g_autofree char *msg = NULL;

  if (key == NULL)
    {
      if (tb_context_entry_has_file_problem (file_problems, TB_INVENTORY_KEYS, name))
        return;
      msg = g_strdup_printf (_("Key “%s” cannot be read: %s"), name, error->message);
      add_finding (findings, TB_SEVERITY_CRITICAL, name, msg);
      return;
    }
  if (g_strcmp0 (usage, "root-ca") == 0 && g_strcmp0 (storage, "file") == 0)
    {
      msg = g_strdup_printf (_("The root CA key “%s” is kept in a file on this computer. Anyone who copies the "
                               "context and learns the passphrase can impersonate the OEM; keep the root key on a "
                               "hardware token (HSM, smart card) or offline."), name);
      add_finding (findings, TB_SEVERITY_WARNING, name, msg);
      g_clear_pointer (&msg, g_free);
    }
  if (g_str_has_prefix (algorithm, "rsa-"))
    {
      guint64 bits = g_ascii_strtoull (algorithm + 4, NULL, 10);
      if (bits < 2048)
        {
          msg = g_strdup_printf (_("Key “%s” is RSA with %" G_GUINT64_FORMAT " bits, which can be broken; "
                                   "replace it."), name, bits);
          add_finding (findings, TB_SEVERITY_CRITICAL, name, msg);
        }
      else if (bits < 3072)
        {
          msg = g_strdup_printf (_("Key “%s” is RSA with %" G_GUINT64_FORMAT " bits, below the 3072 bits "
                                   "recommended for keys used beyond 2030."), name, bits);
          add_finding (findings, TB_SEVERITY_WARNING, name, msg);
        }
    }
  else if (g_str_has_prefix (algorithm, "ec-") && g_strcmp0 (algorithm, "ec-p256") != 0 &&
           g_strcmp0 (algorithm, "ec-p384") != 0)
    {
      msg = g_strdup_printf (_("Key “%s” uses the curve %s, which is not one of the recommended curves "
                               "(P-256, P-384)."), name, algorithm + 3);
      add_finding (findings, TB_SEVERITY_WARNING, name, msg);
    }
  g_clear_pointer (&msg, g_free);
  if (g_strcmp0 (usage, "product") == 0 && g_strcmp0 (algorithm, "ec-p256") != 0)
    {
      msg = g_strdup_printf (_("Product key “%s” is %s: devices unwrap image keys with ECDH P-256, so product "
                               "keys must be ec-p256."), name, algorithm);
      add_finding (findings, TB_SEVERITY_CRITICAL, name, msg);
      g_clear_pointer (&msg, g_free);
    }

  for (guint i = 0; i < certs->len; i++)
    {
      TbCert *cert = g_ptr_array_index (certs, i);
      g_autofree char *pub = NULL;

      if (g_strcmp0 (tb_cert_get_key_name (cert), name) != 0)
        continue;
      certified = TRUE;
      pub = tb_cert_dup_public_key_sha256 (cert);
      if (g_strcmp0 (pub, tb_key_get_public_sha256 (key)) != 0)
        {
          msg = g_strdup_printf (_("Certificate “%s” says it certifies key “%s”, but it holds a different "
                                   "public key."), tb_cert_get_name (cert), name);
          add_finding (findings, TB_SEVERITY_CRITICAL, tb_cert_get_name (cert), msg);
          g_clear_pointer (&msg, g_free);
        }
      if (tb_cert_is_ca (cert) != is_ca_usage (usage))
        {
          msg = g_strdup_printf (tb_cert_is_ca (cert)
                                   ? _("Key “%s” is a %s key but its certificate “%s” makes it a CA: the key "
                                       "could issue certificates outside its usage.")
                                   : _("Key “%s” is a %s key but its certificate “%s” is not a CA certificate: "
                                       "what it issues will not verify."),
                                 name, usage, tb_cert_get_name (cert));
          add_finding (findings, TB_SEVERITY_CRITICAL, name, msg);
          g_clear_pointer (&msg, g_free);
        }
    }
  if (!certified && g_strcmp0 (usage, "job") != 0 && !has_certificate_entry (cert_entries, name))
    {
      msg = g_strdup_printf (_("Key “%s” (%s) has no certificate, so devices cannot tie what it signs or wraps "
                               "to the OEM root."), name, usage);
      add_finding (findings, TB_SEVERITY_WARNING, name, msg);
    }
}

static void
check_cert (GPtrArray *findings, TbContext *ctx, TbCert *cert, GDateTime *now)
{
  const char *name = tb_cert_get_name (cert);
  g_autoptr(GError) error = NULL;
  g_autofree char *msg = NULL;
  g_autofree char *sig = tb_cert_dup_signature_algorithm (cert);
  GDateTime *not_before = tb_cert_get_not_before (cert);
  GDateTime *not_after = tb_cert_get_not_after (cert);
  double years;
  double limit;
  gint64 days_left;

  JsonObject *entry = name != NULL ? tb_context_find_entry (ctx, TB_INVENTORY_CERTIFICATES, name) : NULL;

  /* a revoked certificate is reported once, as revoked */
  if (entry != NULL && json_object_has_member (entry, "revoked"))
    return;
  /* a certificate of the context that cannot be read makes every
   * verification fail; it is reported once, as unreadable */
  if (!tb_cert_verify (ctx, cert, NULL, &error) && g_error_matches (error, TB_ERROR, TB_ERROR_VERIFY_FAILED))
    {
      msg = g_strdup_printf (_("Certificate “%s” does not chain to the root: %s"), name, error->message);
      add_finding (findings, TB_SEVERITY_CRITICAL, name, msg);
      g_clear_pointer (&msg, g_free);
    }
  if (sig != NULL && (strstr (sig, "sha1") != NULL || strstr (sig, "md5") != NULL || strstr (sig, "SHA1") != NULL))
    {
      msg = g_strdup_printf (_("Certificate “%s” is signed with %s, which can be forged."), name, sig);
      add_finding (findings, TB_SEVERITY_CRITICAL, name, msg);
      g_clear_pointer (&msg, g_free);
    }
  if (not_before == NULL || not_after == NULL)
    return;
  days_left = g_date_time_difference (not_after, now) / G_TIME_SPAN_DAY;
  if (days_left < 0)
    {
      msg = g_strdup_printf (_("Certificate “%s” expired %" G_GINT64_FORMAT " days ago; what it certifies is no "
                               "longer trusted."), name, -days_left);
      add_finding (findings, TB_SEVERITY_CRITICAL, name, msg);
      g_clear_pointer (&msg, g_free);
    }
  else if (days_left < TB_POLICY_EXPIRY_WARNING_DAYS)
    {
      msg = g_strdup_printf (_("Certificate “%s” expires in %" G_GINT64_FORMAT " days; renew it before devices "
                               "start refusing it."), name, days_left);
      add_finding (findings, TB_SEVERITY_WARNING, name, msg);
      g_clear_pointer (&msg, g_free);
    }
  years = (double) g_date_time_difference (not_after, not_before) / G_TIME_SPAN_DAY / 365.25;
  limit = tb_cert_is_ca (cert) ? (tb_cert_is_self_signed (cert) ? 25.0 : 15.0) : 20.0;
  if (g_strcmp0 (name, "mastering") == 0)
    limit = 5.0;
  if (years > limit + 0.01)
    {
      msg = g_strdup_printf (_("Certificate “%s” is valid for %.0f years, longer than the %.0f years this policy "
                               "allows for it; a long validity leaves a compromised key trusted for long."),
                             name, years, limit);
      add_finding (findings, TB_SEVERITY_WARNING, name, msg);
    }
}

static int
by_severity (gconstpointer a, gconstpointer b)
{
  const TbPolicyFinding *fa = *(const TbPolicyFinding *const *) a;
  const TbPolicyFinding *fb = *(const TbPolicyFinding *const *) b;

  return (int) fb->severity - (int) fa->severity;
}

/**
 * tb_policy_check_context:
 *
 * Checks every key and certificate of the context: every file it lists is
 * there and readable (tb_context_check_files()), where the root key
 * lives, algorithm strength, key usage against certificate role,
 * chain to the root, validity length and expiry.
 *
 * Returns: (transfer full) (element-type TbPolicyFinding): the findings,
 *   most severe first
 */
GPtrArray *
tb_policy_check_context (TbContext *ctx)
{
  GPtrArray *findings = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_policy_finding_free);
  g_autoptr(GPtrArray) keys = tb_context_get_entries (ctx, TB_INVENTORY_KEYS);
  g_autoptr(GPtrArray) products = tb_context_get_entries (ctx, TB_INVENTORY_PRODUCTS);
  g_autoptr(GPtrArray) cert_entries = tb_context_get_entries (ctx, TB_INVENTORY_CERTIFICATES);
  g_autoptr(GPtrArray) certs = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GPtrArray) file_problems = tb_context_check_files (ctx);
  gboolean has_root = FALSE;

  for (guint i = 0; i < file_problems->len; i++)
    {
      TbContextFileProblem *p = g_ptr_array_index (file_problems, i);
      g_autofree char *msg = g_strdup_printf (_("%s: the context is incomplete; restore the file from a backup of "
                                                "the context."), p->message);
      add_finding (findings, TB_SEVERITY_CRITICAL, p->entry, msg);
    }
  for (guint i = 0; i < cert_entries->len; i++)
    {
      JsonObject *entry = g_ptr_array_index (cert_entries, i);
      const char *name = json_object_get_string_member (entry, "name");
      const char *revoked = tb_json_get_string (entry, "revoked", NULL);
      g_autoptr(GError) error = NULL;

      if (revoked != NULL)
        {
          g_autofree char *msg = g_strdup_printf (
            _("Certificate “%s” was revoked on %s (%s): what it signed or certified is no longer trusted; issue "
              "a replacement and re-provision or re-master what depended on it."),
            name, revoked,
            tb_json_get_string (entry, "revocation_reason", _("no reason given")));
          add_finding (findings, TB_SEVERITY_CRITICAL, name, msg);
        }
      TbCert *cert = tb_cert_load (ctx, name, &error);

      if (cert == NULL)
        {
          g_autofree char *msg = NULL;
          if (tb_context_entry_has_file_problem (file_problems, TB_INVENTORY_CERTIFICATES, name))
            continue;
          msg = g_strdup_printf (_("Certificate “%s” cannot be read: %s"), name, error->message);
          add_finding (findings, TB_SEVERITY_CRITICAL, name, msg);
          continue;
        }
      g_ptr_array_add (certs, cert);
    }

  for (guint i = 0; i < keys->len; i++)
    {
      JsonObject *entry = g_ptr_array_index (keys, i);
      if (g_strcmp0 (tb_json_get_string (entry, "usage", ""), "root-ca") == 0)
        has_root = TRUE;
      check_key (findings, ctx, entry, certs, cert_entries, file_problems);
    }
  if (has_root)
    for (guint i = 0; i < certs->len; i++)
      check_cert (findings, ctx, g_ptr_array_index (certs, i), now);

  if (tb_context_is_demo (ctx))
    add_finding (findings, TB_SEVERITY_INFO, NULL,
                 _("This is a demo context: its passphrase is public (“trustbench-demo”). Use it to learn the "
                   "workflow; never let its keys protect real devices."));
  if (!has_root)
    add_finding (findings, TB_SEVERITY_WARNING, NULL,
                 _("The context has no root CA, so nothing it holds can be trusted yet. "
                   "Create the default key hierarchy."));
  if (products->len == 0)
    add_finding (findings, TB_SEVERITY_INFO, NULL,
                 _("The context has no products, so no image can be mastered for any device."));
  g_ptr_array_sort (findings, by_severity);
  return findings;
}
