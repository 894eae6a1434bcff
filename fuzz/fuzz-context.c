/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Fuzz harness for the security context's context.json (docs/context.md):
 * the input is written as context.json in a scratch directory, which is
 * opened read-only; then every inventory is listed and looked up and the
 * policy checks (which read every entry's members) run over it. */

#include "config.h"

#include "trustbench.h"
#include "tb-context-private.h"
#include "tb-fuzz.h"

static char *context_dir;

void
tb_fuzz_setup (void)
{
  context_dir = g_build_filename (tb_fuzz_scratch_dir (), "context", NULL);
  g_assert (g_mkdir_with_parents (context_dir, 0700) == 0);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (context_dir, TB_CONTEXT_FILE_NAME, NULL);
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(GPtrArray) findings = NULL;

  g_assert (g_file_set_contents (path, (const char *) data, (gssize) size, NULL));
  ctx = tb_context_open (context_dir, TB_CONTEXT_OPEN_READ, &error);
  g_assert ((ctx == NULL) == (error != NULL));
  if (ctx == NULL)
    return 0;
  tb_context_get_name (ctx);
  tb_context_get_id (ctx);
  tb_context_get_created (ctx);
  tb_context_get_schema_version (ctx);
  tb_context_is_demo (ctx);
  for (TbInventory inv = 0; inv < TB_INVENTORY_N; inv++)
    {
      g_autoptr(GPtrArray) entries = tb_context_get_entries (ctx, inv);

      g_assert (entries != NULL);
      tb_inventory_to_string (inv);
      tb_context_find_entry (ctx, inv, "root-ca");
    }
  findings = tb_policy_check_context (ctx);
  return 0;
}
