/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-trust-graph.h"

G_BEGIN_DECLS

/* Every node is drawn in a box of this size (points): three lines of
 * text at the body font size or larger. */
#define TB_TRUST_NODE_WIDTH 232.0
#define TB_TRUST_NODE_HEIGHT 82.0

/* The size (points) graphviz reserves for the edge labels' text. */
#define TB_TRUST_EDGE_LABEL_SIZE 12.0

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
 * @labels: (element-type TbTrustRect): one per edge of the graph, in its
 *   order: where graphviz put its relation's label, clear of the other
 *   labels, the nodes and the arrowheads (all 0 when the edge has none)
 */
typedef struct {
  double width;
  double height;
  GHashTable *rects;
  GPtrArray *paths;
  GArray *labels;
} TbTrustLayout;

TbTrustLayout     *tb_trust_layout_compute  (TbTrustGraph   *graph,
                                             GError        **error);
const TbTrustRect *tb_trust_layout_get_rect (TbTrustLayout  *layout,
                                             const char     *id);
void               tb_trust_layout_free     (TbTrustLayout  *layout);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbTrustLayout, tb_trust_layout_free)

G_END_DECLS
