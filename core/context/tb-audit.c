/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The audit log: append-only, hash-chained (docs/audit.md).
 *
 * `audit/log.jsonl` holds one JSON object per line: seq, time, event,
 * subject, details, prev. `prev` is the SHA-256 of the previous line's bytes
 * (64 zeros for the first), so changing, deleting or swapping a line breaks
 * the chain at the line after it. `audit/head.json`, rewritten atomically
 * after each append, records how many entries and bytes the log has and the
 * hash of its last line: a truncated log or a changed last line no longer
 * matches it. */
#include "config.h"

#include "tb-audit-private.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb-error.h"
#include "tb-file.h"
#include "tb-json-private.h"
#include "tb-pkcs11-uri.h"

#define LOG_FILE "audit/log.jsonl"
#define HEAD_FILE "audit/head.json"
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
/* a line longer than this is not one the library wrote */
#define MAX_LINE (64 * 1024)

typedef struct {
  guint64 entries;
  guint64 size;
  char hash[65];
} Head;

static void
line_hash (const char *line, gsize len, char out[65])
{
  g_autofree char *hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) line, len);
  memcpy (out, hex, 65);
}

/* Reads the head; a missing head is an empty log. */
static gboolean
read_head (TbContext *ctx, Head *head, gboolean *exists, GError **error)
{
  g_autofree char *path = tb_context_build_path (ctx, HEAD_FILE);
  g_autofree char *data = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *o;
  gsize len = 0;
  const char *hash;

  memset (head, 0, sizeof *head);
  memcpy (head->hash, ZERO_HASH, 65);
  *exists = g_file_test (path, G_FILE_TEST_EXISTS);
  if (!*exists)
    return TRUE;
  if (!tb_file_read_bounded (path, 4096, &data, &len, error))
    return FALSE;
  o = json_parser_load_from_data (parser, data, (gssize) len, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))
        ? json_node_get_object (json_parser_get_root (parser))
        : NULL;
  hash = o != NULL ? json_object_get_string_member_with_default (o, "hash", NULL) : NULL;
  if (o == NULL || json_object_get_int_member_with_default (o, "entries", -1) < 0 ||
      json_object_get_int_member_with_default (o, "size", -1) < 0 || hash == NULL || strlen (hash) != 64)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is damaged: it is not an audit head"), path);
      return FALSE;
    }
  head->entries = (guint64) json_object_get_int_member (o, "entries");
  head->size = (guint64) json_object_get_int_member (o, "size");
  memcpy (head->hash, hash, 65);
  return TRUE;
}

static gboolean
write_head (TbContext *ctx, const Head *head, GError **error)
{
  g_autofree char *text = g_strdup_printf ("{\"entries\": %" G_GUINT64_FORMAT ", \"size\": %" G_GUINT64_FORMAT
                                           ", \"hash\": \"%s\"}\n", head->entries, head->size, head->hash);

  return tb_context_write_file (ctx, HEAD_FILE, text, strlen (text), 0644, error);
}

/* Checks one line against what precedes it; fills @hash. Returns the
 * problem, or NULL. */
static char *
check_line (const char *line, gsize len, guint64 seq, const char *prev, char hash[65])
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *o;

  line_hash (line, len, hash);
  if (len > MAX_LINE || !json_parser_load_from_data (parser, line, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return g_strdup_printf (_("entry %" G_GUINT64_FORMAT " is not an audit entry (modified or damaged)"), seq);
  o = json_node_get_object (json_parser_get_root (parser));
  if (json_object_get_int_member_with_default (o, "seq", -1) != (gint64) seq)
    return g_strdup_printf (_("entry %" G_GUINT64_FORMAT " is out of place (entries deleted or reordered)"), seq);
  if (g_strcmp0 (json_object_get_string_member_with_default (o, "prev", NULL), prev) != 0)
    return g_strdup_printf (_("entry %" G_GUINT64_FORMAT " does not follow the one before it (that entry was "
                              "modified, or entries were deleted or reordered)"), seq);
  return NULL;
}

/* Walks @data (the log's bytes, from @offset), starting after an entry
 * numbered @seq with hash @hash; stops at the first problem. */
static char *
walk (const char *data, gsize len, gsize offset, guint64 *seq, char hash[65], gsize *end)
{
  gsize pos = offset;

  while (pos < len)
    {
      const char *nl = memchr (data + pos, '\n', len - pos);
      char next[65];
      char *problem;

      if (nl == NULL)
        {
          *end = pos;
          return g_strdup_printf (_("entry %" G_GUINT64_FORMAT " is cut short (the log was truncated or a write "
                                    "was interrupted)"), *seq + 1);
        }
      problem = check_line (data + pos, (gsize) (nl - (data + pos)), *seq + 1, hash, next);
      if (problem != NULL)
        {
          *end = pos;
          return problem;
        }
      (*seq)++;
      memcpy (hash, next, 65);
      pos = (gsize) (nl - data) + 1;
    }
  *end = pos;
  return NULL;
}

/* Whether the bytes from @end on are the torn end of an append: no
 * newline, so no entry was ever completed there. */
static gboolean
is_torn_tail (const char *data, gsize len, gsize end)
{
  return end < len && memchr (data + end, '\n', len - end) == NULL;
}

/* Whether the line ending at byte @size of the log is the one whose hash
 * the head records: a cheap check (no walk of the whole log) that the end
 * of the log was not modified. */
static gboolean
last_line_matches (const char *path, const Head *head)
{
  gsize want = (gsize) MIN (head->size, (guint64) MAX_LINE + 1);
  g_autofree char *buf = g_malloc (want);
  const char *start;
  char hash[65];
  int fd;
  gssize n;

  if (head->entries == 0)
    return head->size == 0;
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  n = pread (fd, buf, want, (off_t) (head->size - want));
  close (fd);
  if (n != (gssize) want || buf[want - 1] != '\n')
    return FALSE;
  start = g_strrstr_len (buf, (gssize) want - 1, "\n");
  start = start != NULL ? start + 1 : buf;
  if (start == buf && want < head->size)
    return FALSE; /* longer than any line we write */
  line_hash (start, (gsize) (buf + want - 1 - start), hash);
  return strcmp (hash, head->hash) == 0;
}

static gboolean
read_log (TbContext *ctx, char **data, gsize *len, GError **error)
{
  g_autofree char *path = tb_context_build_path (ctx, LOG_FILE);

  *data = NULL;
  *len = 0;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      *data = g_strdup ("");
      return TRUE;
    }
  return tb_file_read_bounded (path, TB_FILE_MAX_SLURP_BYTES, data, len, error);
}

/**
 * tb_audit_append:
 * @event: what happened, e.g. "key.create"
 * @subject: what it happened to (a key name, a device UID…)
 * @details: (nullable): more facts, copied into the entry
 *
 * Appends one entry and moves the head. Takes the context lock for the
 * time of the append if the context is not already locked. Entries a
 * writer appended without moving the head (it stopped in between) are
 * checked and adopted. A log whose end no longer matches its head
 * (truncated, last entry changed) is refused: nothing is appended to it.
 * Changes further back are found by tb_audit_verify(), which walks it all;
 * an append does not, so that it stays as fast with 100 000 entries as
 * with ten.
 */
gboolean
tb_audit_append (TbContext *ctx, const char *event, const char *subject, JsonObject *details, GError **error)
{
  gboolean locked_here = FALSE;
  gboolean ok = FALSE;
  gboolean exists;
  Head head;
  g_autofree char *log_path = tb_context_build_path (ctx, LOG_FILE);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");

  g_return_val_if_fail (event != NULL && subject != NULL, FALSE);
  if (!tb_context_is_writable (ctx))
    {
      /* another writer holds the context for a moment (a key being
       * generated…): wait for it rather than lose the entry */
      gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
      g_autoptr(GError) busy = NULL;

      while (!tb_context_lock (ctx, &busy))
        {
          if (!g_error_matches (busy, TB_ERROR, TB_ERROR_BUSY) || g_get_monotonic_time () > deadline)
            {
              g_propagate_error (error, g_steal_pointer (&busy));
              return FALSE;
            }
          g_clear_error (&busy);
          g_usleep (50 * 1000);
        }
      locked_here = TRUE;
    }

  if (!read_head (ctx, &head, &exists, error))
    goto out;
  {
    GStatBuf st;
    guint64 size = g_stat (log_path, &st) == 0 ? (guint64) st.st_size : 0;

    if (size < head.size)
      {
        g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                     _("The audit log %s is shorter than its head records: it was truncated. Nothing is appended "
                       "to it; run “audit verify”"), log_path);
        goto out;
      }
    if (!last_line_matches (log_path, &head))
      {
        g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                     _("The last entry of the audit log %s is not the one its head records: it was modified. "
                       "Nothing is appended to it; run “audit verify”"), log_path);
        goto out;
      }
    if (size > head.size)
      {
        /* a writer stopped between its append and the head: adopt what chains */
        g_autofree char *data = NULL;
        g_autofree char *problem = NULL;
        gsize len = 0, end = 0;

        if (!read_log (ctx, &data, &len, error))
          goto out;
        problem = walk (data, len, (gsize) head.size, &head.entries, head.hash, &end);
        if (problem != NULL && is_torn_tail (data, len, end))
          {
            /* the last append was cut short (a crash mid-write): its
             * bytes were never an entry; cut them off */
            if (truncate (log_path, (off_t) end) != 0)
              {
                int saved_errno = errno;
                g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot cut the torn end of %s: %s"), log_path,
                             g_strerror (saved_errno));
                goto out;
              }
            g_clear_pointer (&problem, g_free);
          }
        if (problem != NULL)
          {
            g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                         _("The audit log %s does not match its head: %s. Nothing is appended to it; run “audit "
                           "verify”"), log_path, problem);
            goto out;
          }
        head.size = end;
      }
  }

  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autoptr(JsonGenerator) gen = json_generator_new ();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *line = NULL;
    g_autofree char *full = NULL;
    gsize len = 0;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "seq");
    json_builder_add_int_value (b, (gint64) head.entries + 1);
    json_builder_set_member_name (b, "time");
    json_builder_add_string_value (b, when);
    json_builder_set_member_name (b, "event");
    json_builder_add_string_value (b, event);
    json_builder_set_member_name (b, "subject");
    json_builder_add_string_value (b, subject);
    json_builder_set_member_name (b, "details");
    if (details != NULL)
      {
        g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
        json_node_set_object (node, details);
        json_builder_add_value (b, json_node_copy (node));
      }
    else
      {
        json_builder_begin_object (b);
        json_builder_end_object (b);
      }
    json_builder_set_member_name (b, "prev");
    json_builder_add_string_value (b, head.hash);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    json_generator_set_root (gen, root);
    line = json_generator_to_data (gen, &len);
    full = g_strconcat (line, "\n", NULL);
    if (!tb_file_append_durable (log_path, full, len + 1, error))
      goto out;
    head.entries++;
    head.size += len + 1;
    line_hash (line, len, head.hash);
  }
  ok = write_head (ctx, &head, error);

out:
  if (locked_here)
    tb_context_unlock (ctx);
  return ok;
}

/**
 * tb_audit_verify:
 * @report: (out caller-allocates): what was found; clear it with
 *   tb_audit_report_clear()
 *
 * Walks the whole chain and compares its end with the head. Tampering is
 * reported in @report (valid = FALSE), not as an error; @error is for
 * files that cannot be read.
 */
gboolean
tb_audit_verify (TbContext *ctx, TbAuditReport *report, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0, end = 0;
  Head head;
  gboolean exists;
  guint64 seq = 0;
  char hash[65];
  g_autofree char *problem = NULL;

  memset (report, 0, sizeof *report);
  if (!read_head (ctx, &head, &exists, error) || !read_log (ctx, &data, &len, error))
    return FALSE;
  memcpy (hash, ZERO_HASH, 65);
  problem = walk (data, len, 0, &seq, hash, &end);
  report->entries = seq;
  report->anchored = MIN (seq, head.entries);
  /* a torn last append past the head is no entry (the next append cuts it) */
  if (problem != NULL && end >= head.size && is_torn_tail (data, len, end))
    g_clear_pointer (&problem, g_free);
  if (problem != NULL)
    {
      report->first_bad = seq + 1;
      report->problem = g_steal_pointer (&problem);
      return TRUE;
    }
  /* the first append writes the log, then creates the head: one entry and
   * no head is a first writer that stopped in between */
  if (!exists && seq > 1)
    {
      report->first_bad = 1;
      report->problem = g_strdup (_("the audit head is missing: the log cannot be checked for truncation"));
      return TRUE;
    }
  if (seq < head.entries)
    {
      report->first_bad = seq + 1;
      report->problem = g_strdup_printf (_("the log ends after %" G_GUINT64_FORMAT " entries but its head records %"
                                           G_GUINT64_FORMAT ": entries were removed from its end"), seq, head.entries);
      return TRUE;
    }
  if (head.entries > 0)
    {
      /* the head's entry must be the one the chain reaches at that point */
      guint64 n = 0;
      char at_head[65];
      gsize head_end = 0;
      g_autofree char *again = NULL;

      memcpy (at_head, ZERO_HASH, 65);
      again = walk (data, MIN ((gsize) head.size, len), 0, &n, at_head, &head_end);
      if (again != NULL || n != head.entries || strcmp (at_head, head.hash) != 0)
        {
          report->first_bad = head.entries;
          report->problem = g_strdup_printf (_("entry %" G_GUINT64_FORMAT " is not the one the head records: it "
                                               "was modified"), head.entries);
          return TRUE;
        }
    }
  report->valid = TRUE;
  return TRUE;
}

/* ---- entries ---- */

struct _TbAuditEntry {
  grefcount ref_count;
  JsonObject *object;  /* the line, sealed */
  JsonObject *details; /* NULL when the line has none, or not an object */
};

G_DEFINE_BOXED_TYPE (TbAuditEntry, tb_audit_entry, tb_audit_entry_ref, tb_audit_entry_unref)

/**
 * tb_audit_entry_new_for_object:
 * @object: one line of the log, parsed
 *
 * The entry takes a reference on @object and seals it (json_object_seal()):
 * it must not be changed afterwards.
 *
 * Returns: (transfer full): an entry reading @object
 */
TbAuditEntry *
tb_audit_entry_new_for_object (JsonObject *object)
{
  TbAuditEntry *entry;
  JsonNode *details;

  g_return_val_if_fail (object != NULL, NULL);

  entry = g_new0 (TbAuditEntry, 1);
  g_ref_count_init (&entry->ref_count);
  json_object_seal (object);
  entry->object = json_object_ref (object);
  details = json_object_get_member (object, "details");
  if (details != NULL && JSON_NODE_HOLDS_OBJECT (details))
    entry->details = json_object_ref (json_node_get_object (details));
  return entry;
}

/**
 * tb_audit_entry_ref:
 * @entry: an entry
 *
 * Returns: (transfer full): @entry, with one more reference
 */
TbAuditEntry *
tb_audit_entry_ref (TbAuditEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  g_ref_count_inc (&entry->ref_count);
  return entry;
}

/**
 * tb_audit_entry_unref:
 * @entry: (transfer full): an entry
 *
 * Drops a reference on @entry, freeing it with the last one.
 */
void
tb_audit_entry_unref (TbAuditEntry *entry)
{
  g_return_if_fail (entry != NULL);

  if (!g_ref_count_dec (&entry->ref_count))
    return;
  g_clear_pointer (&entry->details, json_object_unref);
  json_object_unref (entry->object);
  g_free (entry);
}

/**
 * tb_audit_entry_get_seq:
 * @entry: an entry
 *
 * Returns: the entry's 1-based number in the log; 0 when its line has no
 *   `seq`, or one that is not a whole number ≥ 0
 */
guint64
tb_audit_entry_get_seq (TbAuditEntry *entry)
{
  gint64 seq;

  g_return_val_if_fail (entry != NULL, 0);

  seq = tb_json_get_int (entry->object, "seq", 0);
  return seq > 0 ? (guint64) seq : 0;
}

/**
 * tb_audit_entry_get_time:
 * @entry: an entry
 *
 * Returns: (nullable): when the entry was recorded, in ISO 8601 UTC as
 *   stored ("2026-12-04T15:29:57Z"); %NULL when its line has no `time`
 *   string (so for the other string members below)
 */
const char *
tb_audit_entry_get_time (TbAuditEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  return tb_json_get_string (entry->object, "time", NULL);
}

/**
 * tb_audit_entry_get_event:
 * @entry: an entry
 *
 * Returns: (nullable): what happened, e.g. "image.master"
 */
const char *
tb_audit_entry_get_event (TbAuditEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  return tb_json_get_string (entry->object, "event", NULL);
}

/**
 * tb_audit_entry_get_subject:
 * @entry: an entry
 *
 * Returns: (nullable): what it happened to (a key name, a device UID…)
 */
const char *
tb_audit_entry_get_subject (TbAuditEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  return tb_json_get_string (entry->object, "subject", NULL);
}

/**
 * tb_audit_entry_get_prev:
 * @entry: an entry
 *
 * Returns: (nullable): the SHA-256 (hex) of the line before it, 64 zeros
 *   for the first
 */
const char *
tb_audit_entry_get_prev (TbAuditEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  return tb_json_get_string (entry->object, "prev", NULL);
}

/**
 * tb_audit_entry_dup_detail_names:
 * @entry: an entry
 *
 * Returns: (transfer full): the names of the entry's details, in the
 *   order of its line; empty when it has none
 */
GStrv
tb_audit_entry_dup_detail_names (TbAuditEntry *entry)
{
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();

  g_return_val_if_fail (entry != NULL, NULL);

  if (entry->details != NULL)
    {
      g_autoptr(GList) members = json_object_get_members (entry->details);
      for (GList *l = members; l != NULL; l = l->next)
        g_strv_builder_add (names, l->data);
    }
  return g_strv_builder_end (names);
}

/**
 * tb_audit_entry_dup_detail_text:
 * @entry: an entry
 * @name: a detail's name
 *
 * Returns: (transfer full) (nullable): the detail @name for people: a
 *   string as it is, a boolean as "yes" or "no", anything else (number,
 *   null, list, object) as JSON; %NULL when the entry has no such detail
 */
char *
tb_audit_entry_dup_detail_text (TbAuditEntry *entry, const char *name)
{
  g_autoptr(JsonGenerator) gen = NULL;
  JsonNode *node;

  g_return_val_if_fail (entry != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  node = entry->details != NULL ? json_object_get_member (entry->details, name) : NULL;
  if (node == NULL)
    return NULL;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    return g_strdup (json_node_get_boolean (node) ? _("yes") : _("no"));
  gen = json_generator_new ();
  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

/**
 * tb_audit_entry_get_detail_string:
 * @entry: an entry
 * @name: a detail's name
 *
 * Returns: (nullable): the detail @name, %NULL when the entry has none or
 *   it is not a string
 */
const char *
tb_audit_entry_get_detail_string (TbAuditEntry *entry, const char *name)
{
  g_return_val_if_fail (entry != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return tb_json_get_string (entry->details, name, NULL);
}

/**
 * tb_audit_entry_get_detail_int:
 * @entry: an entry
 * @name: a detail's name
 * @missing: what to return when there is no such whole number
 *
 * Returns: the detail @name, or @missing when the entry has none or it is
 *   not a whole number
 */
gint64
tb_audit_entry_get_detail_int (TbAuditEntry *entry, const char *name, gint64 missing)
{
  g_return_val_if_fail (entry != NULL, missing);
  g_return_val_if_fail (name != NULL, missing);

  return tb_json_get_int (entry->details, name, missing);
}

/**
 * tb_audit_entry_get_detail_boolean:
 * @entry: an entry
 * @name: a detail's name
 * @missing: what to return when there is no such boolean
 *
 * Returns: the detail @name, or @missing when the entry has none or it is
 *   not a boolean
 */
gboolean
tb_audit_entry_get_detail_boolean (TbAuditEntry *entry, const char *name, gboolean missing)
{
  g_return_val_if_fail (entry != NULL, missing);
  g_return_val_if_fail (name != NULL, missing);

  return tb_json_get_boolean (entry->details, name, missing);
}

/**
 * tb_audit_entry_to_json:
 * @entry: an entry
 *
 * The entry as its line holds it, every member in its order (docs/audit.md),
 * for a machine-readable listing of the log (`audit show --json`).
 *
 * Returns: (transfer full): a JSON object node; the object is the entry's
 *   own, sealed
 */
JsonNode *
tb_audit_entry_to_json (TbAuditEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  return json_node_init_object (json_node_alloc (), entry->object);
}

/**
 * tb_audit_read:
 *
 * Entries whose line is not a JSON object are left out; an entry that
 * lacks a member, or holds one of another type, reads as its accessors'
 * defaults.
 *
 * Returns: (transfer container) (element-type TbAuditEntry): the entries
 *   that parse, oldest first (use tb_audit_verify() to trust them)
 */
GPtrArray *
tb_audit_read (TbContext *ctx, GError **error)
{
  return tb_audit_read_with_hashes (ctx, NULL, error);
}

/**
 * tb_audit_read_with_hashes:
 * @hashes: (out) (optional): the SHA-256 (hex) of each returned entry's
 *   line, in the same order: the value the next entry holds as `prev`
 *
 * Like tb_audit_read(), with the hash of each entry, for a reader who
 * shows where an entry sits in the chain.
 */
GPtrArray *
tb_audit_read_with_hashes (TbContext *ctx, GStrv *hashes, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_audit_entry_unref);
  g_autoptr(GStrvBuilder) line_hashes = g_strv_builder_new ();
  g_auto(GStrv) lines = NULL;

  if (hashes != NULL)
    *hashes = NULL;
  if (!read_log (ctx, &data, &len, error))
    return NULL;
  lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      char hash[65];

      if (lines[i][0] == '\0' || !json_parser_load_from_data (parser, lines[i], -1, NULL) ||
          !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        continue;
      g_ptr_array_add (entries, tb_audit_entry_new_for_object (json_node_get_object (json_parser_get_root (parser))));
      line_hash (lines[i], strlen (lines[i]), hash);
      g_strv_builder_add (line_hashes, hash);
    }
  if (hashes != NULL)
    *hashes = g_strv_builder_end (line_hashes);
  return g_steal_pointer (&entries);
}

/**
 * tb_audit_contains:
 * @text: what to look for, e.g. a hash one entry's details hold
 * @found: (out): whether an entry holds it
 *
 * Looks for @text in the log, from its end backwards, without parsing it:
 * what was appended last is found after reading one block, a missing text
 * costs one pass over the file. A log that does not exist holds nothing.
 *
 * Returns: %FALSE if the log cannot be read
 */
gboolean
tb_audit_contains (TbContext *ctx, const char *text, gboolean *found, GError **error)
{
  g_autofree char *path = tb_context_build_path (ctx, LOG_FILE);
  gsize text_len = strlen (text);
  const gsize block = 64 * 1024;
  g_autofree char *buf = NULL;
  g_autoptr(GError) local = NULL;
  goffset size, end;
  int fd;

  g_return_val_if_fail (text_len > 0 && text_len < block, FALSE);
  *found = FALSE;
  fd = tb_file_open_for_reading (path, &size, &local);
  if (fd < 0 && local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (fd < 0)
    return TRUE; /* no log: nothing in it */
  /* blocks overlap by the text's length, so none is missed at a boundary */
  buf = g_malloc (block + text_len);
  for (end = size; end > 0 && !*found;)
    {
      goffset start = MAX (0, end - (goffset) block);
      gsize want = (gsize) (MIN (size, end + (goffset) text_len) - start);
      gssize n = pread (fd, buf, want, start);

      if (n != (gssize) want)
        {
          close (fd);
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot read %s"), path);
          return FALSE;
        }
      *found = memmem (buf, want, text, text_len) != NULL;
      end = start;
    }
  close (fd);
  return TRUE;
}

void
tb_audit_report_clear (TbAuditReport *report)
{
  g_clear_pointer (&report->problem, g_free);
}

/* ---- entries in words ---- */

/* The detail @name, if it is a non-empty string. */
static const char *
detail_string (TbAuditEntry *entry, const char *name)
{
  const char *value = tb_audit_entry_get_detail_string (entry, name);

  return value != NULL && value[0] != '\0' ? value : NULL;
}

/* A device UID is long hex: its first 8 digits name it well enough in a
 * sentence (the entry's subject keeps it whole). */
static char *
short_uid (const char *uid)
{
  if (g_utf8_strlen (uid, -1) <= 12)
    return g_strdup (uid);
  {
    g_autofree char *head = g_utf8_substring (uid, 0, 8);
    return g_strconcat (head, "…", NULL);
  }
}

/* The CN of a distinguished name ("CN=Demo Root CA, O=Demo"), or the whole
 * name when it has none. */
static char *
common_name (const char *dn)
{
  const char *cn = strstr (dn, "CN=");
  const char *end;

  if (cn == NULL || (cn != dn && cn[-1] != ',' && cn[-1] != ' ' && cn[-1] != '/'))
    return g_strdup (dn);
  cn += 3;
  end = strpbrk (cn, ",/");
  return end != NULL ? g_strndup (cn, (gsize) (end - cn)) : g_strdup (cn);
}

static const char *
usage_words (const char *usage)
{
  static const struct {
    const char *usage;
    const char *words;
  } table[] = {
    { "root-ca", N_("root CA key") },
    { "provisioning-ca", N_("provisioning CA key") },
    { "mastering", N_("mastering key") },
    { "product", N_("product key") },
    { "job", N_("job key") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    if (g_strcmp0 (usage, table[i].usage) == 0)
      return _(table[i].words);
  return usage != NULL ? usage : _("key");
}

static char *
describe_key_store (TbAuditEntry *entry, const char *name)
{
  const char *storage = detail_string (entry, "storage");
  const char *algorithm = detail_string (entry, "algorithm");
  const char *usage = usage_words (detail_string (entry, "usage"));
  g_autofree char *what = algorithm != NULL ? g_strdup_printf ("%s, %s", usage, algorithm) : g_strdup (usage);

  if (tb_pkcs11_is_uri (storage))
    {
      g_autofree char *label = tb_pkcs11_uri_dup_token_label (storage);
      /* TRANSLATORS: "Stored key mastering (mastering key, ec-p256) on token ui-token" */
      return g_strdup_printf (_("Stored key %s (%s) on token %s"), name, what,
                              label != NULL && label[0] != '\0' ? label : "?");
    }
  /* TRANSLATORS: "Stored key mastering (mastering key, ec-p256) in an encrypted file" */
  return g_strdup_printf (_("Stored key %s (%s) in an encrypted file"), name, what);
}

static char *
describe_cert_issue (TbAuditEntry *entry, const char *name)
{
  const char *subject = detail_string (entry, "subject");
  const char *issuer = detail_string (entry, "issuer");
  g_autofree char *to = subject != NULL ? common_name (subject) : NULL;
  g_autofree char *by = issuer != NULL ? common_name (issuer) : NULL;

  if (to == NULL || by == NULL)
    return g_strdup_printf (_("Issued certificate %s"), name);
  if (g_strcmp0 (subject, issuer) == 0)
    /* TRANSLATORS: "Issued self-signed certificate root-ca for Demo OEM Root CA" */
    return g_strdup_printf (_("Issued self-signed certificate %s for %s"), name, to);
  /* TRANSLATORS: "Issued certificate mastering for Demo Mastering, signed by Demo OEM Root CA" */
  return g_strdup_printf (_("Issued certificate %s for %s, signed by %s"), name, to, by);
}

static char *
describe_image_master (TbAuditEntry *entry, const char *subject)
{
  const char *product = detail_string (entry, "product");
  const char *version = detail_string (entry, "version");
  /* images are signed by the context's "mastering" certificate's key
   * (tb_master_image()); an entry may name it */
  const char *signer = detail_string (entry, "signer") != NULL ? detail_string (entry, "signer") : "mastering";
  g_autofree char *image = product != NULL && version != NULL ? g_strdup_printf ("%s %s", product, version)
                                                              : g_strdup (subject);
  gint64 counter = tb_audit_entry_get_detail_int (entry, "security_counter", -1);

  if (counter >= 0)
    /* TRANSLATORS: "Mastered sensor 1.0.0, signed by mastering (security counter 3)" */
    return g_strdup_printf (_("Mastered %s, signed by %s (security counter %" G_GINT64_FORMAT ")"), image, signer,
                            counter);
  /* TRANSLATORS: "Mastered sensor 1.0.0, signed by mastering" */
  return g_strdup_printf (_("Mastered %s, signed by %s"), image, signer);
}

static char *
describe_device_provision (TbAuditEntry *entry, const char *uid)
{
  g_autofree char *device = short_uid (uid);
  const char *product = detail_string (entry, "product");
  const char *version = detail_string (entry, "app_version");

  if (product != NULL && version != NULL)
    /* TRANSLATORS: "Provisioned device 1a2b3c4d… with sensor 1.0.0" */
    return g_strdup_printf (_("Provisioned device %s with %s %s"), device, product, version);
  if (product != NULL)
    /* TRANSLATORS: "Provisioned device 1a2b3c4d… for sensor" */
    return g_strdup_printf (_("Provisioned device %s for %s"), device, product);
  return g_strdup_printf (_("Provisioned device %s"), device);
}

static char *
describe_device_produce (TbAuditEntry *entry, const char *uid)
{
  g_autofree char *device = short_uid (uid);
  const char *job = detail_string (entry, "job_id") != NULL ? detail_string (entry, "job_id") : "?";
  gint64 slot = tb_audit_entry_get_detail_int (entry, "slot", -1);
  g_autofree char *where = slot >= 0 ? g_strdup_printf (_("job %s, slot %" G_GINT64_FORMAT), job, slot)
                                     : g_strdup_printf (_("job %s"), job);

  if (detail_string (entry, "result") != NULL && g_strcmp0 (detail_string (entry, "result"), "made") != 0)
    /* TRANSLATORS: "Recorded device 1a2b3c4d… in job J-1, slot 3 (reconciled)" */
    return g_strdup_printf (_("Recorded device %s in %s (%s)"), device, where, detail_string (entry, "result"));
  /* TRANSLATORS: "Produced device 1a2b3c4d… in job J-1, slot 3" */
  return g_strdup_printf (_("Produced device %s in %s"), device, where);
}

static char *
describe_production_fail (TbAuditEntry *entry, const char *uid)
{
  const char *job = detail_string (entry, "job_id") != NULL ? detail_string (entry, "job_id") : "?";
  const char *reason = detail_string (entry, "reason");
  g_autofree char *device = g_strcmp0 (uid, "-") != 0 ? short_uid (uid) : NULL;
  g_autofree char *what = device != NULL ? g_strdup_printf (_("Production of device %s failed in job %s"), device, job)
                                         : g_strdup_printf (_("Production failed in job %s"), job);

  return reason != NULL ? g_strdup_printf ("%s: %s", what, reason) : g_steal_pointer (&what);
}

static char *
describe_job (TbAuditEntry *entry, const char *job, gboolean imported)
{
  const char *product = detail_string (entry, "product") != NULL ? detail_string (entry, "product") : "?";
  const char *version = detail_string (entry, "image_version");
  g_autofree char *image = version != NULL ? g_strdup_printf ("%s %s", product, version) : g_strdup (product);
  gint64 count = tb_audit_entry_get_detail_int (entry, "count", 0);
  gint64 total = tb_audit_entry_get_detail_int (entry, "total_count", count);
  gint64 slices = tb_audit_entry_get_detail_int (entry, "slices", 1);

  if (imported)
    /* TRANSLATORS: "Imported job J-1, slice 2: 50 of 100 devices of sensor" */
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Imported job %s, slice %" G_GINT64_FORMAT ": %"
                                         G_GINT64_FORMAT " of %" G_GINT64_FORMAT " device of %s",
                                         "Imported job %s, slice %" G_GINT64_FORMAT ": %" G_GINT64_FORMAT " of %"
                                         G_GINT64_FORMAT " devices of %s", (gulong) total),
                            job, tb_audit_entry_get_detail_int (entry, "slice", 0), count, total, image);
  if (slices > 1)
    /* TRANSLATORS: "Created job J-1: 100 devices of sensor 1.0.0, in 2 slices" */
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Created job %s: %" G_GINT64_FORMAT " device of %s, in %"
                                         G_GINT64_FORMAT " slices",
                                         "Created job %s: %" G_GINT64_FORMAT " devices of %s, in %" G_GINT64_FORMAT
                                         " slices", (gulong) count),
                            job, count, image, slices);
  /* TRANSLATORS: "Created job J-1: 100 devices of sensor 1.0.0" */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Created job %s: %" G_GINT64_FORMAT " device of %s",
                                       "Created job %s: %" G_GINT64_FORMAT " devices of %s", (gulong) count),
                          job, count, image);
}

/**
 * tb_audit_entry_describe:
 * @entry: an entry from tb_audit_read()
 *
 * Says what an entry records, in one sentence for people: "Mastered sensor
 * 1.0.0, signed by mastering", "Provisioned device 1a2b3c4d… with sensor
 * 1.0.0". An event this version does not know reads as its name and
 * subject.
 *
 * Returns: (transfer full): the sentence
 */
char *
tb_audit_entry_describe (TbAuditEntry *entry)
{
  const char *event = tb_audit_entry_get_event (entry) != NULL ? tb_audit_entry_get_event (entry) : "?";
  const char *subject = tb_audit_entry_get_subject (entry) != NULL ? tb_audit_entry_get_subject (entry) : "";

  if (g_str_equal (event, "key.store"))
    return describe_key_store (entry, subject);
  if (g_str_equal (event, "cert.issue"))
    return describe_cert_issue (entry, subject);
  if (g_str_equal (event, "cert.revoke"))
    {
      const char *serial = detail_string (entry, "serial");
      const char *reason = detail_string (entry, "reason");
      g_autofree char *what = serial != NULL ? g_strdup_printf (_("Revoked certificate %s (serial %s)"), subject, serial)
                                             : g_strdup_printf (_("Revoked certificate %s"), subject);
      return reason != NULL ? g_strdup_printf ("%s: %s", what, reason) : g_steal_pointer (&what);
    }
  if (g_str_equal (event, "image.master"))
    return describe_image_master (entry, subject);
  if (g_str_equal (event, "device.provision"))
    return describe_device_provision (entry, subject);
  if (g_str_equal (event, "device.produce"))
    return describe_device_produce (entry, subject);
  if (g_str_equal (event, "production.fail"))
    return describe_production_fail (entry, subject);
  if (g_str_equal (event, "job.create") || g_str_equal (event, "job.import"))
    return describe_job (entry, subject, g_str_equal (event, "job.import"));
  return subject[0] != '\0' ? g_strdup_printf ("%s %s", event, subject) : g_strdup (event);
}

/**
 * tb_audit_event_get_kind:
 * @event: an entry's event, e.g. "image.master"
 *
 * Returns: (nullable): what the event is about, in one word for people
 *   ("Key", "Certificate", "Image", "Device", "Job", "Production"), or
 *   %NULL for an event this version does not know
 */
const char *
tb_audit_event_get_kind (const char *event)
{
  static const struct {
    const char *prefix;
    const char *kind;
  } table[] = {
    { "key.", N_("Key") },       { "cert.", N_("Certificate") },       { "image.", N_("Image") },
    { "device.", N_("Device") }, { "production.", N_("Production") }, { "job.", N_("Job") },
  };

  for (guint i = 0; event != NULL && i < G_N_ELEMENTS (table); i++)
    if (g_str_has_prefix (event, table[i].prefix))
      return _(table[i].kind);
  return NULL;
}
