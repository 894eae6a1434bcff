/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What TbContext (tb-context.c) takes from the checks of context.json
 * (tb-context-validate.c). */

#include "tb-context.h"

G_BEGIN_DECLS

#define TB_CONTEXT_MAX_JSON_BYTES (32u * 1024u * 1024u)

/* the member naming an entry of each inventory */
extern const char *const tb_context_inventory_id_members[TB_INVENTORY_N];

gboolean    tb_context_relative_path_is_safe (const char *path);
gboolean    tb_context_validate_entry        (const char  *file,
                                              TbInventory  inventory,
                                              guint        index,
                                              JsonNode    *node,
                                              GHashTable  *seen,
                                              GError     **error);
JsonObject *tb_context_parse_json            (const char  *file,
                                              const char  *data,
                                              gsize        len,
                                              GError     **error);

G_END_DECLS
