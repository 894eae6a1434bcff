/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-context.h"
#include "tb-inventory.h"
#include "tb-progress.h"

G_BEGIN_DECLS

#define TB_KEY_NAME_ROOT_CA "root-ca"
#define TB_KEY_NAME_PROVISIONING_CA "provisioning-ca"
#define TB_KEY_NAME_MASTERING "mastering"
/* TB_KEY_NAME_PRODUCT_PREFIX (a product key's name): tb-inventory.h */
#define TB_KEY_NAME_JOB "job"

typedef struct {
  const char *root_on;
  const char *mastering_on;
  const char *job_key_on;
} TbHierarchyTokens;

gboolean tb_hierarchy_create (TbContext          *ctx,
                              const char *const  *products,
                              const char         *algorithm,
                              const char         *passphrase,
                              TbProgress         *progress,
                              GError            **error);

gboolean tb_hierarchy_create_on_tokens (TbContext          *ctx,
                                        const char *const  *products,
                                        const char         *algorithm,
                                        const char         *passphrase,
                                        const TbHierarchyTokens *tokens,
                                        TbProgress         *progress,
                                        GError            **error);
G_END_DECLS
