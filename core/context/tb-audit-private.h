/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* The audit log's JSON, for the core modules that write entries and the
 * tests: the front ends read entries through TbAuditEntry (tb-audit.h). */

#include <json-glib/json-glib.h>

#include "tb-audit.h"

G_BEGIN_DECLS

gboolean      tb_audit_append               (TbContext   *ctx,
                                             const char  *event,
                                             const char  *subject,
                                             JsonObject  *details,
                                             GError     **error);
gboolean      tb_audit_check_appendable     (TbContext   *ctx,
                                             GError     **error);
TbAuditEntry *tb_audit_entry_new_for_object (JsonObject  *object);

G_END_DECLS
