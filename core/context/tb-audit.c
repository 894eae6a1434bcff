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
  hash = o != NULL ? tb_json_get_string (o, "hash", NULL) : NULL;
  if (o == NULL || tb_json_get_int (o, "entries", -1) < 0 ||
      tb_json_get_int (o, "size", -1) < 0 || hash == NULL || strlen (hash) != 64)
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
  if (tb_json_get_int (o, "seq", -1) != (gint64) seq)
    return g_strdup_printf (_("entry %" G_GUINT64_FORMAT " is out of place (entries deleted or reordered)"), seq);
  if (g_strcmp0 (tb_json_get_string (o, "prev", NULL), prev) != 0)
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

/* The log's end against its head: a log cut short or whose last entry
 * changed takes no more entries. @size: the log's size. */
static gboolean
check_tail (const char *log_path, const Head *head, guint64 size, GError **error)
{
  if (size < head->size)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The audit log %s is shorter than its head records: it was truncated. Nothing is appended "
                     "to it; run “audit verify”"), log_path);
      return FALSE;
    }
  if (!last_line_matches (log_path, head))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The last entry of the audit log %s is not the one its head records: it was modified. "
                     "Nothing is appended to it; run “audit verify”"), log_path);
      return FALSE;
    }
  return TRUE;
}

static guint64
log_size (const char *log_path)
{
  GStatBuf st;

  return g_stat (log_path, &st) == 0 ? (guint64) st.st_size : 0;
}

/**
 * tb_audit_check_appendable:
 *
 * Whether tb_audit_append() would take an entry, as far as the log's end
 * and head tell: a workflow asks before it writes anything, so that it
 * never leaves files behind that the log does not record.
 *
 * Returns: %TRUE, or %FALSE with %TB_ERROR_VERIFY_FAILED naming the log
 */
gboolean
tb_audit_check_appendable (TbContext *ctx, GError **error)
{
  g_autofree char *log_path = tb_context_build_path (ctx, LOG_FILE);
  gboolean exists;
  Head head;

  return read_head (ctx, &head, &exists, error) && check_tail (log_path, &head, log_size (log_path), error);
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
    guint64 size = log_size (log_path);

    if (!check_tail (log_path, &head, size, error))
      goto out;
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
