/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* For core/ only (and the tests, fuzzers and benchmarks): the inventory
 * entries as the JSON objects context.json holds, which the code that
 * reads and writes them (keys, certificates, products, jobs) works on;
 * and what TbContext (tb-context.c) takes from the checks of context.json
 * (tb-context-validate.c). The front ends read the entries as typed
 * records (tb-inventory.h). */

#include <json-glib/json-glib.h>

#include "tb-context.h"

G_BEGIN_DECLS

#define TB_CONTEXT_MAX_JSON_BYTES (32u * 1024u * 1024u)

/* the member naming an entry of each inventory */
extern const char *const tb_context_inventory_id_members[TB_INVENTORY_N];

GPtrArray  *tb_context_get_entries           (TbContext   *self,
                                              TbInventory  inventory);
JsonObject *tb_context_find_entry            (TbContext   *self,
                                              TbInventory  inventory,
                                              const char  *id);
gboolean    tb_context_add_entry             (TbContext   *self,
                                              TbInventory  inventory,
                                              JsonObject  *entry,
                                              GError     **error);
JsonNode   *tb_context_to_json               (TbContext   *self);

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
