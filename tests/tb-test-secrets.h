/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "trustbench.h"

G_BEGIN_DECLS

GBytes *tb_test_private_material         (TbKey      *key);
void    tb_test_assert_no_secret_on_disk (const char *dir,
                                          GPtrArray  *secrets);

G_END_DECLS
