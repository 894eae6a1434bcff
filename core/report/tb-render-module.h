/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-trust-graph.h"

G_BEGIN_DECLS

/* libtrustbench-render: what draws (graphviz layout, cairo rendering, the
 * drawn report). It is a library of its own so that the command-line tool,
 * which draws only for `report`, does not load graphviz, cairo and their
 * ~20 libraries in every process; the GUI links it. */

#define TB_RENDER_MODULE_NAME "libtrustbench-render.so"

typedef gboolean (*TbTrustReportDrawFunc) (TbContext    *ctx,
                                           TbTrustGraph *graph,
                                           GPtrArray    *findings,
                                           const char   *path,
                                           gboolean      pdf,
                                           GError      **error);

TbTrustReportDrawFunc tb_render_module_get_report_draw (GError **error);

/* in libtrustbench-render */
gboolean tb_trust_report_draw (TbContext    *ctx,
                               TbTrustGraph *graph,
                               GPtrArray    *findings,
                               const char   *path,
                               gboolean      pdf,
                               GError      **error);

G_END_DECLS
