/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What mastering (tb-master.c) and the image checks (tb-image.c) share. */

#include <openssl/evp.h>

#include "tb-context.h"
#include "tb-image.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)

/* A power of two from TB_IMAGE_MIN_CHUNK_SIZE to TB_IMAGE_MAX_CHUNK_SIZE. */
gboolean tb_image_chunk_size_is_valid (guint32 size);
/* The GCM nonce and additional data of chunk @index. */
void  tb_image_chunk_nonce_aad  (const TbImageHeader *header,
                                 guint32              index,
                                 guint8               nonce[12],
                                 guint8               aad[25]);

G_END_DECLS
