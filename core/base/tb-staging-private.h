/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* The block pipeline that mastering and decryption share: plaintext
 * blocks handed to a stage that runs on its own thread (the SHA-256 of
 * the image) and come back to a queue of free buffers when done. */

#include <glib.h>

G_BEGIN_DECLS

#define TB_STAGING_BLOCK_SIZE (256u * 1024u)   /* plaintext read per step: a multiple of every chunk size */
#define TB_STAGING_N_BUFFERS 8

typedef struct {
  guint8 *data;
  gsize len;
} TbStagingBlock;

typedef struct _TbStage TbStage;
struct _TbStage {
  GAsyncQueue *in;        /* blocks to process */
  GAsyncQueue *done;      /* where processed blocks go back */
  gboolean (*process) (TbStage *stage, TbStagingBlock *block, GError **error);
  gpointer user;
  GError *error;          /* the first failure; later blocks pass through */
  gint failed;
  GThread *thread;
  TbStagingBlock stop;
};

void     tb_stage_start      (TbStage         *stage,
                              const char      *name,
                              gboolean       (*process) (TbStage *, TbStagingBlock *, GError **),
                              gpointer         user,
                              GAsyncQueue     *done);
gboolean tb_stage_finish     (TbStage         *stage,
                              GError         **error);
/* A stage's process function: @user is an EVP_MD_CTX. */
gboolean tb_stage_hash_block (TbStage         *stage,
                              TbStagingBlock  *block,
                              GError         **error);

G_END_DECLS
