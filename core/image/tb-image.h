/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-context.h"
#include "tb-key.h"
#include "tb-progress.h"
#include "tb-upk.h"

G_BEGIN_DECLS

/* The encrypted image (.tbimg), byte by byte in docs/formats/tbimg.md. */
#define TB_IMAGE_MAGIC "TBIMG\r\n\x1a"
#define TB_IMAGE_FORMAT_VERSION 1
#define TB_IMAGE_HEADER_LEN 64
#define TB_IMAGE_TAG_LEN 16
#define TB_IMAGE_NONCE_PREFIX_LEN 8
#define TB_IMAGE_DEFAULT_CHUNK_SIZE 4096u
#define TB_IMAGE_MIN_CHUNK_SIZE 1024u
#define TB_IMAGE_MAX_CHUNK_SIZE 65536u

typedef struct {
  guint32 chunk_size;
  guint64 plaintext_size;
  guint32 chunk_count;
  guint8 image_id[TB_UPK_IMAGE_ID_LEN];
  guint8 nonce_prefix[TB_IMAGE_NONCE_PREFIX_LEN];
} TbImageHeader;

void     tb_image_header_encode (const TbImageHeader *header,
                                 guint8              *out);
gboolean tb_image_header_decode (const guint8        *data,
                                 TbImageHeader       *header,
                                 const char          *origin,
                                 GError             **error);
guint64  tb_image_file_size     (const TbImageHeader *header);

typedef enum {
  TB_CHECK_PASSED,
  TB_CHECK_FAILED,
  TB_CHECK_SKIPPED,
} TbCheckStatus;

typedef struct {
  char *name;
  TbCheckStatus status;
  char *message;
} TbCheck;

void        tb_check_free            (TbCheck      *check);
const char *tb_check_status_to_string (TbCheckStatus status);

gboolean tb_image_verify        (TbContext     *ctx,
                                 const char    *upk_path,
                                 const char    *image_path,
                                 const char    *passphrase,
                                 GPtrArray    **checks,
                                 TbProgress    *progress,
                                 GError       **error);
gboolean tb_image_decrypt_mastered (TbContext  *ctx,
                                 const char    *upk_path,
                                 const char    *image_path,
                                 const char    *passphrase,
                                 const char    *output_path,
                                 TbProgress    *progress,
                                 GError       **error);
gboolean tb_image_decrypt       (TbUpk         *upk,
                                 const char    *image_path,
                                 TbKey         *recipient,
                                 const char    *output_path,
                                 guint8        *plaintext_sha256,
                                 TbProgress    *progress,
                                 GError       **error);

G_END_DECLS
