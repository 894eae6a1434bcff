/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-trust-graph.h"

G_BEGIN_DECLS

/* Every node is drawn in a box of this size (points). */
#define TB_TRUST_NODE_WIDTH 196.0
#define TB_TRUST_NODE_HEIGHT 64.0

/**
 * TbTrustRect:
 *
 * A node's box in points, origin at the top left of the drawing, y down.
 */
typedef struct {
  double x, y, width, height;
} TbTrustRect;

/**
 * TbTrustLayout:
 * @width: (in points) of the whole drawing
 * @height: (in points)
 * @rects: (element-type utf8 TbTrustRect): node id → box
 * @paths: (element-type GArray): one per edge of the graph, in its order:
 *   cubic Bézier control points as x, y pairs (1 + 3n points)
 */
typedef struct {
  double width;
  double height;
  GHashTable *rects;
  GPtrArray *paths;
} TbTrustLayout;

TbTrustLayout     *tb_trust_layout_compute  (TbTrustGraph   *graph,
                                             GError        **error);
const TbTrustRect *tb_trust_layout_get_rect (TbTrustLayout  *layout,
                                             const char     *id);
void               tb_trust_layout_free     (TbTrustLayout  *layout);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbTrustLayout, tb_trust_layout_free)

G_END_DECLS
