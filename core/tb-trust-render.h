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

const TbTrustPalette *tb_trust_palette_light (void);
const TbTrustPalette *tb_trust_palette_dark  (void);

void tb_trust_render (cairo_t              *cr,
                      TbTrustGraph         *graph,
                      TbTrustLayout        *layout,
                      const TbTrustPalette *palette,
                      const char           *selected_id);

G_END_DECLS
