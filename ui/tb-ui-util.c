/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Small pieces the pages share. */
#include "config.h"

#include "tb-ui-util.h"

/**
 * tb_ui_follow_context:
 * @owner: the page; @on_changed is called with it when the context changes
 * @slot: where the page keeps its context
 *
 * Makes the page show @context: drops the old one's "changed" handler,
 * keeps a reference to the new one and connects @on_changed to it.
 *
 * Returns: %FALSE if @context was already the page's (nothing to reload)
 */
gboolean
tb_ui_follow_context (gpointer owner, TbContext **slot, TbContext *context, GCallback on_changed)
{
  if (*slot == context)
    return FALSE;
  tb_ui_unfollow_context (owner, slot);
  g_set_object (slot, context);
  if (context != NULL)
    g_signal_connect_swapped (context, "changed", on_changed, owner);
  return TRUE;
}

/**
 * tb_ui_unfollow_context:
 *
 * Disconnects the page from its context and drops it (for dispose).
 */
void
tb_ui_unfollow_context (gpointer owner, TbContext **slot)
{
  if (*slot != NULL)
    g_signal_handlers_disconnect_by_data (*slot, owner);
  g_clear_object (slot);
}
