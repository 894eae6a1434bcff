/* SPDX-License-Identifier: GPL-3.0-or-later */

/* A pipeline stage: blocks processed on a thread of their own. */

#include "config.h"

#include "tb-staging-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/evp.h>

#include "tb-error.h"
#include "tb-openssl-private.h"

static gpointer
stage_thread (gpointer data)
{
  TbStage *stage = data;
  TbStagingBlock *b;

  while ((b = g_async_queue_pop (stage->in)) != &stage->stop)
    {
      if (stage->error == NULL && !stage->process (stage, b, &stage->error))
        g_atomic_int_set (&stage->failed, 1);
      g_async_queue_push (stage->done, b);
    }
  return NULL;
}

void
tb_stage_start (TbStage *stage, const char *name, gboolean (*process) (TbStage *, TbStagingBlock *, GError **), gpointer user,
             GAsyncQueue *done)
{
  stage->in = g_async_queue_new ();
  stage->done = g_async_queue_ref (done);
  stage->process = process;
  stage->user = user;
  stage->thread = g_thread_new (name, stage_thread, stage);
}

/* Waits for the stage to drain; returns its error, if any. */
gboolean
tb_stage_finish (TbStage *stage, GError **error)
{
  if (stage->thread == NULL)
    return TRUE;
  g_async_queue_push (stage->in, &stage->stop);
  g_thread_join (stage->thread);
  stage->thread = NULL;
  g_async_queue_unref (stage->in);
  g_async_queue_unref (stage->done);
  if (stage->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&stage->error));
      return FALSE;
    }
  return TRUE;
}

gboolean
tb_stage_hash_block (TbStage *stage, TbStagingBlock *b, GError **error)
{
  if (EVP_DigestUpdate (stage->user, b->data, b->len) == 1)
    return TRUE;
  tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot compute the SHA-256 of the image"));
  return FALSE;
}
