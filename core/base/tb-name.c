/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The rule for names that become file names (keys, certificates,
 * products, jobs, device types), shared by the context and the virtual
 * board without either depending on the other. */

#include "config.h"

#include "tb-name.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tb-error.h"

/**
 * tb_name_is_valid:
 * @name: a key, certificate, product or job name
 *
 * Names become file names: 1–64 characters of `A-Z a-z 0-9 . _ -`, not
 * starting with a dot or a dash.
 */
gboolean
tb_name_is_valid (const char *name, GError **error)
{
  gsize len = name != NULL ? strlen (name) : 0;

  if (len == 0 || len > 64)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Invalid name “%s”: it must have 1 to 64 characters"), name != NULL ? name : "");
      return FALSE;
    }
  if (name[0] == '.' || name[0] == '-')
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Invalid name “%s”: it must not start with “%c”"), name, name[0]);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    {
      char c = name[i];
      if (!g_ascii_isalnum (c) && c != '.' && c != '_' && c != '-')
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                       _("Invalid name “%s”: character %" G_GSIZE_FORMAT " is not a letter, digit, “.”, “_” or “-”"),
                       name, i + 1);
          return FALSE;
        }
    }
  return TRUE;
}
