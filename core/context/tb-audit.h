/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "tb-context.h"

G_BEGIN_DECLS

/**
 * TbAuditReport:
 * @valid: no entry was modified, deleted, reordered or truncated
 * @entries: entries read
 * @anchored: entries covered by the head (the rest were appended by a
 *   writer that stopped before it moved the head; they chain correctly)
 * @first_bad: the 1-based entry where the problem is, 0 when none
 * @problem: (nullable): what is wrong, in plain words
 */
typedef struct {
  gboolean valid;
  guint64 entries;
  guint64 anchored;
  guint64 first_bad;
  char *problem;
} TbAuditReport;

gboolean   tb_audit_append        (TbContext      *ctx,
                                   const char     *event,
                                   const char     *subject,
                                   JsonObject     *details,
                                   GError        **error);
gboolean   tb_audit_verify        (TbContext      *ctx,
                                   TbAuditReport  *report,
                                   GError        **error);
GPtrArray *tb_audit_read          (TbContext      *ctx,
                                   GError        **error);
gboolean   tb_audit_contains      (TbContext      *ctx,
                                   const char     *text,
                                   gboolean       *found,
                                   GError        **error);
void       tb_audit_report_clear  (TbAuditReport  *report);
GPtrArray *tb_audit_read_with_hashes (TbContext  *ctx,
                                      GStrv      *hashes,
                                      GError    **error);

char       *tb_audit_entry_describe   (JsonObject *entry);
const char *tb_audit_event_get_kind   (const char *event);

G_END_DECLS
