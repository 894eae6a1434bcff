/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The names of a device's lifecycle states, as board.json, the CLI's
 * JSON and the records spell them. */

#include "config.h"

#include "tb-lifecycle.h"

static const char *const lifecycle_names[] = { "blank", "sbm-installed", "provisioned", "locked" };

const char *
tb_lifecycle_to_string (TbLifecycle lifecycle)
{
  g_return_val_if_fail (lifecycle <= TB_LIFECYCLE_LOCKED, NULL);
  return lifecycle_names[lifecycle];
}

/**
 * tb_lifecycle_from_string:
 * @lifecycle: (out) (optional): the state
 *
 * Returns: whether @name is one of the four states
 */
gboolean
tb_lifecycle_from_string (const char *name, TbLifecycle *lifecycle)
{
  for (guint i = 0; i < G_N_ELEMENTS (lifecycle_names); i++)
    if (g_strcmp0 (name, lifecycle_names[i]) == 0)
      {
        if (lifecycle != NULL)
          *lifecycle = (TbLifecycle) i;
        return TRUE;
      }
  return FALSE;
}
