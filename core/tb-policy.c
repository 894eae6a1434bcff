/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Policy checks over a security context: each finding has a severity and
 * a sentence for a security officer. Key and certificate checks (algorithm
 * strength, validity, usage, storage) are added by the key hierarchy. */

#include "config.h"

#include "tb-policy.h"

#include <glib/gi18n-lib.h>

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

/**
 * tb_policy_check_context:
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
  gboolean has_root = FALSE;

  for (guint i = 0; i < keys->len; i++)
    if (g_strcmp0 (json_object_get_string_member_with_default (g_ptr_array_index (keys, i), "usage", ""),
                   "root-ca") == 0)
      has_root = TRUE;
  if (!has_root)
    add_finding (findings, TB_SEVERITY_WARNING, NULL,
                 _("The context has no root CA, so nothing it holds can be trusted yet. "
                   "Create the default key hierarchy."));
  if (products->len == 0)
    add_finding (findings, TB_SEVERITY_INFO, NULL,
                 _("The context has no products, so no image can be mastered for any device."));
  return findings;
}
