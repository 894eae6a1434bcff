/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "trustbench.h"

G_BEGIN_DECLS

/**
 * TbTestContext:
 * @tmp: a fresh temporary directory, removed by the teardown
 * @dir: `TMP/ctx`, the context's directory
 * @ctx: a new empty context there, locked for writing
 *
 * The fixture most core tests start from.
 */
typedef struct {
  char *tmp;
  char *dir;
  TbContext *ctx;
} TbTestContext;

void tb_test_context_setup    (TbTestContext *t,
                               const char    *name);
void tb_test_context_teardown (TbTestContext *t);

G_END_DECLS
