/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <cairo.h>

#include "tb-trust-layout.h"

G_BEGIN_DECLS

/**
 * TbTrustPalette:
 *
 * The colours a drawing uses (RGB, 0–1), so that the workbench can pass
 * its light or dark libadwaita colours and a report stays printable.
 */
typedef struct {
  double background[3];
  double card[3];
  double text[3];
  double dim_text[3];
  double edge[3];
  double valid[3];
  double expiring[3];
  double expired[3];
  double warning[3];
  double accent[3];
} TbTrustPalette;

/**
 * TbTrustText:
 * @TB_TRUST_TEXT_KIND: a node's first line, what it is ("Root CA")
 * @TB_TRUST_TEXT_NAME: a node's name, in bold
 * @TB_TRUST_TEXT_DETAIL: a node's last line: algorithm, storage and
 *   validity, or its policy findings
 * @TB_TRUST_TEXT_EDGE: an edge's relation ("issues", "signs")
 *
 * The texts of a drawing, each with its font.
 */
typedef enum {
  TB_TRUST_TEXT_KIND,
  TB_TRUST_TEXT_NAME,
  TB_TRUST_TEXT_DETAIL,
  TB_TRUST_TEXT_EDGE,
  TB_TRUST_N_TEXTS,
} TbTrustText;

const TbTrustPalette *tb_trust_palette_light (void);
const TbTrustPalette *tb_trust_palette_dark  (void);

void tb_trust_render (cairo_t              *cr,
                      TbTrustGraph         *graph,
                      TbTrustLayout        *layout,
                      const TbTrustPalette *palette,
                      const char           *selected_id);

double tb_trust_render_get_font_size (TbTrustText  text);
void   tb_trust_render_set_font      (cairo_t     *cr,
                                      TbTrustText  text);
char  *tb_trust_render_node_text     (TbTrustNode *node,
                                      TbTrustText  text);

G_END_DECLS
