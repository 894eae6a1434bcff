/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "trustbench.h"

G_BEGIN_DECLS

/*
 * TbWorkHost: what a page asks of the window it sits in, and nothing more —
 * run a piece of work off the main thread with the progress panel, say so
 * in a toast, tell whether something is already running. The window
 * implements it (tb-window.c); pages find it among their ancestors, so no
 * page includes the window and the window is the only one that knows every
 * page.
 */
#define TB_TYPE_WORK_HOST (tb_work_host_get_type ())
G_DECLARE_INTERFACE (TbWorkHost, tb_work_host, TB, WORK_HOST, GObject)

struct _TbWorkHostInterface
{
  GTypeInterface parent_iface;

  gboolean (*is_busy)         (TbWorkHost          *self);
  void     (*add_toast)       (TbWorkHost          *self,
                               const char          *message);
  void     (*run_work)        (TbWorkHost          *self,
                               const char          *title,
                               TbWorkFunc           func,
                               gpointer             data,
                               GDestroyNotify       data_free,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data);
  gboolean (*run_work_finish) (TbWorkHost          *self,
                               GAsyncResult        *result,
                               GError             **error);
};

TbWorkHost *tb_work_host_find            (GtkWidget           *widget);
gboolean    tb_work_host_is_busy         (TbWorkHost          *self);
void        tb_work_host_add_toast       (TbWorkHost          *self,
                                          const char          *message);
void        tb_work_host_run_work        (TbWorkHost          *self,
                                          const char          *title,
                                          TbWorkFunc           func,
                                          gpointer             data,
                                          GDestroyNotify       data_free,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
gboolean    tb_work_host_run_work_finish (TbWorkHost          *self,
                                          GAsyncResult        *result,
                                          GError             **error);

G_END_DECLS
