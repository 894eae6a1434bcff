/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sbm/tb-sbm.h"

G_BEGIN_DECLS

const TbSbmCrypto *tb_sbm_crypto_openssl (void);

G_END_DECLS
