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

/**
 * TbAuditEntry:
 *
 * One entry of the audit log, as read: an opaque, reference-counted record.
 */
typedef struct _TbAuditEntry TbAuditEntry;

#define TB_TYPE_AUDIT_ENTRY (tb_audit_entry_get_type ())

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

GType         tb_audit_entry_get_type           (void) G_GNUC_CONST;
TbAuditEntry *tb_audit_entry_ref                (TbAuditEntry *entry);
void          tb_audit_entry_unref              (TbAuditEntry *entry);
guint64       tb_audit_entry_get_seq            (TbAuditEntry *entry);
const char   *tb_audit_entry_get_time           (TbAuditEntry *entry);
const char   *tb_audit_entry_get_event          (TbAuditEntry *entry);
const char   *tb_audit_entry_get_subject        (TbAuditEntry *entry);
const char   *tb_audit_entry_get_prev           (TbAuditEntry *entry);
GStrv         tb_audit_entry_dup_detail_names   (TbAuditEntry *entry);
char         *tb_audit_entry_dup_detail_text    (TbAuditEntry *entry,
                                                 const char   *name);
const char   *tb_audit_entry_get_detail_string  (TbAuditEntry *entry,
                                                 const char   *name);
gint64        tb_audit_entry_get_detail_int     (TbAuditEntry *entry,
                                                 const char   *name,
                                                 gint64        missing);
gboolean      tb_audit_entry_get_detail_boolean (TbAuditEntry *entry,
                                                 const char   *name,
                                                 gboolean      missing);
JsonNode     *tb_audit_entry_to_json            (TbAuditEntry *entry);

char       *tb_audit_entry_describe   (TbAuditEntry *entry);
const char *tb_audit_event_get_kind   (const char *event);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbAuditEntry, tb_audit_entry_unref)

G_END_DECLS
