/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-sbm.h"

const TbSbmCrypto *tb_sbm_crypto_mbedtls (void);
/* the static heap; once, before anything else */
int tb_sbm_crypto_mbedtls_init (void);
/* seeds the DRBG behind key generation and blinding with device secrets */
int tb_sbm_crypto_mbedtls_seed (const uint8_t *seed, size_t len);
/* a new P-256 key pair from the seeded DRBG */
int tb_sbm_crypto_mbedtls_generate_key (uint8_t priv[32], uint8_t pub[65]);
