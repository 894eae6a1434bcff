/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "trustbench.h"

G_BEGIN_DECLS

/* The chain the provisioning tests run on any device (a virtual board,
 * the SBM in QEMU): a context, mastered images, the SBM's refusals. */

#define TB_TEST_PASS "correct horse battery"

TbContext *tb_test_chain_context (const char          *dir,
                                  const char          *name,
                                  const char *const   *products);
void       tb_test_chain_master  (TbContext           *ctx,
                                  const char          *tmp,
                                  const char          *name,
                                  guint64              load_address,
                                  gsize                size,
                                  guint                pattern,
                                  const char          *version,
                                  guint32              counter,
                                  const char *const   *uids,
                                  const char          *product,
                                  char               **upk_path,
                                  char               **image_path);
void       tb_test_chain_tamper_chunk (const char     *image_path,
                                  const char          *tampered_path);

/* What a refusal must leave as it was: the signature table and the
 * application slot of the device behind @probe. */
typedef GBytes *(*TbTestFlashSnapshot) (TbProbe *probe,
                                        gpointer user_data);

void       tb_test_chain_assert_refused (TbProbe      *probe,
                                  const char          *upk_path,
                                  const char          *image_path,
                                  const char          *why,
                                  const char          *running_version,
                                  TbTestFlashSnapshot  snapshot,
                                  gpointer             user_data);
void       tb_test_chain_assert_refusals (TbContext   *ctx,
                                  const char          *tmp,
                                  guint64              load_address,
                                  TbProbe             *probe,
                                  const char          *running_version,
                                  TbTestFlashSnapshot  snapshot,
                                  gpointer             user_data);

G_END_DECLS
