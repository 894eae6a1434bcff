/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* The job journal (jobs/ID/journal.jsonl), shared by production, the job
 * counts and the records export; see tb-journal.c for the format. */

#include <json-glib/json-glib.h>

#include "tb-context.h"
#include "tb-file.h"

G_BEGIN_DECLS

#define TB_JOURNAL_NAME "journal.jsonl"

/* An open slot: reserved, not completed. */
typedef struct {
  guint64 slot;
  char *uid;
  char *certificate;            /* base64 DER, once issued */
  char *serial;
} TbJournalSlot;

/* The journal of one job, as its last entry left it. */
typedef struct {
  char *path;
  char *dir;
  TbLock *lock;
  int fd;
  guint64 seq;
  char *last_hash;
  JsonObject *last_line;        /* the last event, parsed */
  guint64 made;
  guint64 failed;
  guint64 next;                 /* next never-used slot */
  GArray *free_slots;           /* guint64, released */
  GPtrArray *open;              /* TbJournalSlot */
} TbJournal;

void           tb_journal_slot_free      (TbJournalSlot  *slot);
TbJournal     *tb_journal_open           (TbContext      *ctx,
                                          const char     *job_id,
                                          gboolean        write,
                                          GError        **error);
void           tb_journal_free           (TbJournal      *journal);
TbJournalSlot *tb_journal_find_open      (TbJournal      *journal,
                                          guint64         slot);
JsonObject    *tb_journal_parse_line     (const char     *line,
                                          gsize           len,
                                          char          **hash_out,
                                          GError        **error);
gboolean       tb_journal_append         (TbJournal      *journal,
                                          const char     *event,
                                          JsonObject     *fields,
                                          GError        **error);
gboolean       tb_journal_slot_available (TbJournal      *journal,
                                          guint64         count);
gboolean       tb_journal_reserve        (TbJournal      *journal,
                                          guint64         first,
                                          guint64        *slot,
                                          GError        **error);
gboolean       tb_journal_release        (TbJournal      *journal,
                                          guint64         slot,
                                          const char     *why,
                                          GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbJournal, tb_journal_free)

/* Reserves a slot and completes it with @record in two journal entries, no
 * device involved: for tests and the records benchmark (tb-production.c). */
gboolean tb_job_journal_append_record (TbContext  *ctx,
                                       const char *job_id,
                                       JsonObject *record,
                                       GError    **error);

G_END_DECLS
