/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The job journal, `jobs/ID/journal.jsonl`: append-only, one JSON line per
 * event, written with a single write() and fsync()ed before anything else
 * happens, hash-chained (each line holds the SHA-256 of the previous one
 * and of itself) and carrying the job's state after the event: made,
 * failed, the next unused slot, released slots, and the open (reserved,
 * not completed) slots with the device they are bound to and the
 * certificate issued for it. Opening a job reads the last line only.
 * What production writes into it, and why that is crash-safe, is at the
 * top of tb-production.c. */

#include "config.h"

#include "tb-journal-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb-crashpoint.h"
#include "tb-error.h"
#include "tb-job.h"
#include "tb-json-private.h"

#define HASH_MARK ",\"hash\":\""
#define JOURNAL_LINE_MAX (1024u * 1024u)

void
tb_journal_slot_free (TbJournalSlot *o)
{
  g_free (o->uid);
  g_free (o->certificate);
  g_free (o->serial);
  g_free (o);
}


void
tb_journal_free (TbJournal *j)
{
  if (j == NULL)
    return;
  if (j->fd >= 0)
    close (j->fd);
  g_clear_pointer (&j->lock, tb_lock_release);
  g_free (j->path);
  g_free (j->dir);
  g_free (j->last_hash);
  g_clear_pointer (&j->last_line, json_object_unref);
  g_array_unref (j->free_slots);
  g_ptr_array_unref (j->open);
  g_free (j);
}

TbJournalSlot *
tb_journal_find_open (TbJournal *j, guint64 slot)
{
  for (guint i = 0; i < j->open->len; i++)
    {
      TbJournalSlot *o = g_ptr_array_index (j->open, i);
      if (o->slot == slot)
        return o;
    }
  return NULL;
}

static char *
line_hash (const char *line, gsize prefix_len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guint8 *) line, prefix_len);
}

/* Checks a line's own hash; returns the parsed object. */
JsonObject *
tb_journal_parse_line (const char *line, gsize len, char **hash_out, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *mark = g_strrstr_len (line, (gssize) len, HASH_MARK);
  JsonNode *root;
  JsonObject *obj;
  g_autofree char *computed = NULL;

  if (mark == NULL || !json_parser_load_from_data (parser, line, (gssize) len, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("a journal line is not a valid entry"));
      return NULL;
    }
  obj = json_node_get_object (root);
  computed = line_hash (line, (gsize) (mark - line));
  if (g_strcmp0 (computed, tb_json_get_string (obj, "hash", "")) != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("a journal line was modified (its hash does not match)"));
      return NULL;
    }
  if (hash_out != NULL)
    *hash_out = g_steal_pointer (&computed);
  return json_object_ref (obj);
}

static void
load_state (TbJournal *j, JsonObject *line)
{
  JsonObject *state = json_object_get_object_member (line, "state");
  JsonArray *a;

  j->seq = (guint64) tb_json_get_int (line, "seq", 0);
  if (state == NULL)
    return;
  j->made = (guint64) tb_json_get_int (state, "made", 0);
  j->failed = (guint64) tb_json_get_int (state, "failed", 0);
  j->next = (guint64) tb_json_get_int (state, "next", 0);
  a = json_object_has_member (state, "free") ? json_object_get_array_member (state, "free") : NULL;
  for (guint i = 0; a != NULL && i < json_array_get_length (a); i++)
    {
      guint64 v = (guint64) json_array_get_int_element (a, i);
      g_array_append_val (j->free_slots, v);
    }
  a = json_object_has_member (state, "open") ? json_object_get_array_member (state, "open") : NULL;
  for (guint i = 0; a != NULL && i < json_array_get_length (a); i++)
    {
      JsonObject *e = json_array_get_object_element (a, i);
      TbJournalSlot *o = g_new0 (TbJournalSlot, 1);
      o->slot = (guint64) tb_json_get_int (e, "slot", 0);
      o->uid = g_strdup (tb_json_get_string (e, "uid", NULL));
      o->certificate = g_strdup (tb_json_get_string (e, "certificate", NULL));
      o->serial = g_strdup (tb_json_get_string (e, "serial", NULL));
      g_ptr_array_add (j->open, o);
    }
}

/* Finds the last complete line of the journal by reading backwards; a
 * torn tail (no final newline: power lost mid-write) ends at *valid_end. */
static gboolean
read_last_line (int fd, const char *path, char **line, gsize *line_len, goffset *valid_end, GError **error)
{
  struct stat st;
  gsize block = 64 * 1024;

  *line = NULL;
  *line_len = 0;
  if (fstat (fd, &st) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot read %s: %s"), path, g_strerror (saved_errno));
      return FALSE;
    }
  *valid_end = st.st_size;
  while (st.st_size > 0)
    {
      gsize want = (gsize) MIN ((goffset) block, st.st_size);
      g_autofree char *buf = g_malloc (want + 1);
      goffset off = st.st_size - (goffset) want;
      gssize n = pread (fd, buf, want, off);
      gssize end, start;

      if (n != (gssize) want)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot read %s"), path);
          return FALSE;
        }
      /* the end of the last complete line */
      for (end = n - 1; end >= 0 && buf[end] != '\n'; end--)
        ;
      if (end < 0)
        {
          if (off == 0)
            {
              *valid_end = 0; /* only a torn first line */
              return TRUE;
            }
          block *= 2;
          continue;
        }
      *valid_end = off + end + 1;
      for (start = end - 1; start >= 0 && buf[start] != '\n'; start--)
        ;
      if (start < 0 && off > 0)
        {
          if (block >= JOURNAL_LINE_MAX * 2)
            {
              g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s: the last entry is too long"), path);
              return FALSE;
            }
          block *= 2;
          continue;
        }
      *line = g_strndup (buf + start + 1, (gsize) (end - start - 1));
      *line_len = (gsize) (end - start - 1);
      return TRUE;
    }
  return TRUE;
}

TbJournal *
tb_journal_open (TbContext *ctx, const char *job_id, gboolean write, GError **error)
{
  g_autoptr(TbJournal) j = g_new0 (TbJournal, 1);
  g_autofree char *line = NULL;
  gsize line_len = 0;
  goffset valid_end = 0;
  struct stat st;

  j->fd = -1;
  j->free_slots = g_array_new (FALSE, FALSE, sizeof (guint64));
  j->open = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_journal_slot_free);
  j->dir = tb_job_build_path (ctx, job_id, NULL);
  j->path = g_build_filename (j->dir, TB_JOURNAL_NAME, NULL);
  if (g_mkdir_with_parents (j->dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot create %s: %s"), j->dir, g_strerror (saved_errno));
      return NULL;
    }
  if (write)
    {
      g_autofree char *lock_path = g_build_filename (j->dir, ".lock", NULL);
      g_autofree char *what = g_strdup_printf (_("Job “%s”"), job_id);
      j->lock = tb_lock_acquire (lock_path, what, error);
      if (j->lock == NULL)
        return NULL;
    }
  j->fd = open (j->path, (write ? O_RDWR | O_CREAT | O_APPEND : O_RDONLY) | O_CLOEXEC, 0600);
  if (j->fd < 0 && !write && errno == ENOENT)
    return g_steal_pointer (&j); /* nothing made yet */
  if (j->fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot open %s: %s"), j->path, g_strerror (saved_errno));
      return NULL;
    }
  if (!read_last_line (j->fd, j->path, &line, &line_len, &valid_end, error))
    return NULL;
  if (write && fstat (j->fd, &st) == 0 && st.st_size > valid_end)
    {
      /* a torn last write: it never completed, so nothing relied on it */
      if (ftruncate (j->fd, valid_end) != 0 || fsync (j->fd) != 0)
        {
          int saved_errno = errno;
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot repair %s: %s"), j->path, g_strerror (saved_errno));
          return NULL;
        }
    }
  if (line != NULL)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(JsonObject) obj = tb_journal_parse_line (line, line_len, &j->last_hash, &local);
      if (obj == NULL)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("%s: %s"), j->path, local->message);
          return NULL;
        }
      load_state (j, obj);
      j->last_line = g_steal_pointer (&obj);
    }
  return g_steal_pointer (&j);
}

static JsonObject *
state_object (TbJournal *j)
{
  JsonObject *state = json_object_new ();
  JsonArray *free_a = json_array_new ();
  JsonArray *open_a = json_array_new ();

  json_object_set_int_member (state, "made", (gint64) j->made);
  json_object_set_int_member (state, "failed", (gint64) j->failed);
  json_object_set_int_member (state, "next", (gint64) j->next);
  for (guint i = 0; i < j->free_slots->len; i++)
    json_array_add_int_element (free_a, (gint64) g_array_index (j->free_slots, guint64, i));
  for (guint i = 0; i < j->open->len; i++)
    {
      TbJournalSlot *o = g_ptr_array_index (j->open, i);
      JsonObject *e = json_object_new ();
      json_object_set_int_member (e, "slot", (gint64) o->slot);
      if (o->uid != NULL)
        json_object_set_string_member (e, "uid", o->uid);
      if (o->certificate != NULL)
        json_object_set_string_member (e, "certificate", o->certificate);
      if (o->serial != NULL)
        json_object_set_string_member (e, "serial", o->serial);
      json_array_add_object_element (open_a, e);
    }
  json_object_set_array_member (state, "free", free_a);
  json_object_set_array_member (state, "open", open_a);
  return state;
}

/* Appends one event (the state already updated in memory) durably. */
gboolean
tb_journal_append (TbJournal *j, const char *event, JsonObject *fields, GError **error)
{
  g_autoptr(JsonObject) obj = json_object_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *body = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *line = NULL;
  gsize body_len, line_len;
  gboolean first = j->seq == 0;
  gssize n;

  json_object_set_int_member (obj, "seq", (gint64) j->seq + 1);
  json_object_set_string_member (obj, "prev", j->last_hash != NULL ? j->last_hash : "");
  json_object_set_string_member (obj, "time", when);
  json_object_set_string_member (obj, "event", event);
  if (fields != NULL)
    {
      GList *members = json_object_get_members (fields);
      for (GList *l = members; l != NULL; l = l->next)
        json_object_set_member (obj, l->data, json_node_copy (json_object_get_member (fields, l->data)));
      g_list_free (members);
    }
  json_object_set_object_member (obj, "state", state_object (j));
  json_node_set_object (node, obj);
  json_generator_set_root (gen, node);
  body = json_generator_to_data (gen, &body_len);
  g_assert (body_len > 2 && body[body_len - 1] == '}');
  hash = line_hash (body, body_len - 1);
  line = g_strdup_printf ("%.*s" HASH_MARK "%s\"}\n", (int) (body_len - 1), body, hash);
  line_len = strlen (line);
  if (line_len > JOURNAL_LINE_MAX)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("A journal entry would be too long"));
      return FALSE;
    }
  n = write (j->fd, line, line_len);
  if (n != (gssize) line_len || fsync (j->fd) != 0 || (first && !tb_file_fsync_directory (j->dir, NULL)))
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot write the job journal %s: %s"), j->path,
                   g_strerror (saved_errno));
      return FALSE;
    }
  j->seq++;
  g_free (j->last_hash);
  j->last_hash = g_steal_pointer (&hash);
  g_clear_pointer (&j->last_line, json_object_unref);
  j->last_line = json_object_ref (obj);
  tb_crash_point (event);
  return TRUE;
}

gboolean
tb_journal_slot_available (TbJournal *j, guint64 count)
{
  return j->free_slots->len > 0 || j->next < count;
}

gboolean
tb_journal_reserve (TbJournal *j, guint64 first, guint64 *slot, GError **error)
{
  g_autoptr(JsonObject) f = json_object_new ();
  TbJournalSlot *o = g_new0 (TbJournalSlot, 1);

  if (j->free_slots->len > 0)
    {
      o->slot = g_array_index (j->free_slots, guint64, 0);
      g_array_remove_index (j->free_slots, 0);
    }
  else
    o->slot = first + j->next++;
  g_ptr_array_add (j->open, o);
  *slot = o->slot;
  json_object_set_int_member (f, "slot", (gint64) o->slot);
  return tb_journal_append (j, "reserve", f, error);
}

gboolean
tb_journal_release (TbJournal *j, guint64 slot, const char *why, GError **error)
{
  g_autoptr(JsonObject) f = json_object_new ();

  for (guint i = 0; i < j->open->len; i++)
    if (((TbJournalSlot *) g_ptr_array_index (j->open, i))->slot == slot)
      {
        g_ptr_array_remove_index (j->open, i);
        break;
      }
  g_array_append_val (j->free_slots, slot);
  json_object_set_int_member (f, "slot", (gint64) slot);
  json_object_set_string_member (f, "reason", why);
  return tb_journal_append (j, "release", f, error);
}
