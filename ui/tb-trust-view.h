/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "trustbench.h"
#include "tb-trust-layout.h"
#include "tb-trust-render.h"

G_BEGIN_DECLS

#define TB_TYPE_TRUST_VIEW (tb_trust_view_get_type ())
G_DECLARE_FINAL_TYPE (TbTrustView, tb_trust_view, TB, TRUST_VIEW, GtkWidget)

/* Fitting never zooms out further: below, the text is too small to read. */
#define TB_TRUST_VIEW_MIN_FIT_ZOOM 0.5

GtkWidget   *tb_trust_view_new           (void);
void         tb_trust_view_set_graph     (TbTrustView  *self,
                                          TbTrustGraph *graph,
                                          TbTrustLayout *layout);
TbTrustGraph *tb_trust_view_get_graph    (TbTrustView  *self);
void         tb_trust_view_set_zoom      (TbTrustView  *self,
                                          double        zoom);
double       tb_trust_view_get_zoom      (TbTrustView  *self);
void         tb_trust_view_zoom_in       (TbTrustView  *self);
void         tb_trust_view_zoom_out      (TbTrustView  *self);
void         tb_trust_view_zoom_at       (TbTrustView  *self,
                                          double        factor,
                                          double        x,
                                          double        y);
void         tb_trust_view_fit           (TbTrustView  *self);
gboolean     tb_trust_view_is_fitting    (TbTrustView  *self);
TbTrustNode *tb_trust_view_get_selected  (TbTrustView  *self);
gboolean     tb_trust_view_select        (TbTrustView  *self,
                                          const char   *id);
void         tb_trust_view_move_selection (TbTrustView *self,
                                          int           delta);
GtkWidget   *tb_trust_view_get_node_widget (TbTrustView *self,
                                           const char  *id);

G_END_DECLS
