/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The interface between a page and the window that runs its work
 * (tb-work-host.h). */

#include "config.h"

#include "tb-work-host.h"

G_DEFINE_INTERFACE (TbWorkHost, tb_work_host, G_TYPE_OBJECT)

static void
tb_work_host_default_init (TbWorkHostInterface *iface)
{
}

/**
 * tb_work_host_find:
 * @widget: a widget inside a window
 *
 * Returns: (transfer none) (nullable): the nearest ancestor of @widget that
 *   hosts work, or %NULL while @widget is not in one
 */
TbWorkHost *
tb_work_host_find (GtkWidget *widget)
{
  GtkWidget *host;

  g_return_val_if_fail (GTK_IS_WIDGET (widget), NULL);
  host = gtk_widget_get_ancestor (widget, TB_TYPE_WORK_HOST);
  return host != NULL ? TB_WORK_HOST (host) : NULL;
}

/* A page outside any window (not yet added, or being torn down) is busy:
 * it can start nothing. */
gboolean
tb_work_host_is_busy (TbWorkHost *self)
{
  if (self == NULL)
    return TRUE;
  g_return_val_if_fail (TB_IS_WORK_HOST (self), TRUE);
  return TB_WORK_HOST_GET_IFACE (self)->is_busy (self);
}

/* A toast for a page outside any window goes nowhere. */
void
tb_work_host_add_toast (TbWorkHost *self, const char *message)
{
  if (self == NULL)
    return;
  g_return_if_fail (TB_IS_WORK_HOST (self));
  TB_WORK_HOST_GET_IFACE (self)->add_toast (self, message);
}

void
tb_work_host_run_work (TbWorkHost *self, const char *title, TbWorkFunc func, gpointer data, GDestroyNotify data_free,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (TB_IS_WORK_HOST (self));
  TB_WORK_HOST_GET_IFACE (self)->run_work (self, title, func, data, data_free, callback, user_data);
}

gboolean
tb_work_host_run_work_finish (TbWorkHost *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (TB_IS_WORK_HOST (self), FALSE);
  return TB_WORK_HOST_GET_IFACE (self)->run_work_finish (self, result, error);
}
