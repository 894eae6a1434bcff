/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Production under a job: count limit, reservations, records, receipts.
 *
 * Each job has an append-only journal, `jobs/ID/journal.jsonl`: one JSON
 * line per event, written with a single write() and fsync()ed before
 * anything else happens, hash-chained (each line holds the SHA-256 of the
 * previous one and of itself) and carrying the job's state after the
 * event: made, failed, the next unused slot, released slots, and the open
 * (reserved, not completed) slots with the device they are bound to and
 * the certificate issued for it. Opening a job reads the last line only.
 *
 * Making one device (tb_produce()), holding the job's lock:
 *
 *   reserve  a slot (fsync)                         before touching a device
 *   identify install the SBM if blank, attest
 *   bind     the slot to the device's UID (fsync)
 *   issue    its certificate from the job CA (fsync) before the device gets it
 *   provision, lock, install the image → the device's install receipt
 *   made     the record with the receipt (fsync)     the slot is complete
 *
 * A crash anywhere leaves the slot open, so it stays counted. The next run
 * reconciles: open slots with no certificate issued cannot have reached
 * any device and are released; a slot with a certificate is completed when
 * its device comes back (programmed if needed, or, if it already runs the
 * image, by the receipt it signs for what it runs), and stays counted if
 * it never does. So the count is never exceeded and no device runs the
 * image without a record or a counted reservation. */

#include "config.h"

#include "tb-production.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sbm/tb-sbm.h"
#include "tb-audit.h"
#include "tb-cert-private.h"
#include "tb-crashpoint.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-job.h"
#include "tb-key-private.h"
#include "tb-provision.h"
#include "tb-receipt.h"
#include "tb-target.h"
#include "tb-upk.h"

#define JOURNAL_NAME "journal.jsonl"
#define HASH_MARK ",\"hash\":\""
#define JOURNAL_LINE_MAX (1024u * 1024u)

/* ---- the journal ---- */

typedef struct {
  guint64 slot;
  char *uid;
  char *certificate;            /* base64 DER, once issued */
  char *serial;
} OpenSlot;

static void
open_slot_free (OpenSlot *o)
{
  g_free (o->uid);
  g_free (o->certificate);
  g_free (o->serial);
  g_free (o);
}

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
  GPtrArray *open;              /* OpenSlot */
} Journal;

static void
journal_free (Journal *j)
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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Journal, journal_free)

static OpenSlot *
find_open (Journal *j, guint64 slot)
{
  for (guint i = 0; i < j->open->len; i++)
    {
      OpenSlot *o = g_ptr_array_index (j->open, i);
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
static JsonObject *
parse_line (const char *line, gsize len, char **hash_out, GError **error)
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
  if (g_strcmp0 (computed, json_object_get_string_member_with_default (obj, "hash", "")) != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("a journal line was modified (its hash does not match)"));
      return NULL;
    }
  if (hash_out != NULL)
    *hash_out = g_steal_pointer (&computed);
  return json_object_ref (obj);
}

static void
load_state (Journal *j, JsonObject *line)
{
  JsonObject *state = json_object_get_object_member (line, "state");
  JsonArray *a;

  j->seq = (guint64) json_object_get_int_member_with_default (line, "seq", 0);
  if (state == NULL)
    return;
  j->made = (guint64) json_object_get_int_member_with_default (state, "made", 0);
  j->failed = (guint64) json_object_get_int_member_with_default (state, "failed", 0);
  j->next = (guint64) json_object_get_int_member_with_default (state, "next", 0);
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
      OpenSlot *o = g_new0 (OpenSlot, 1);
      o->slot = (guint64) json_object_get_int_member_with_default (e, "slot", 0);
      o->uid = g_strdup (json_object_get_string_member_with_default (e, "uid", NULL));
      o->certificate = g_strdup (json_object_get_string_member_with_default (e, "certificate", NULL));
      o->serial = g_strdup (json_object_get_string_member_with_default (e, "serial", NULL));
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

static Journal *
journal_open (TbContext *ctx, const char *job_id, gboolean write, GError **error)
{
  g_autoptr(Journal) j = g_new0 (Journal, 1);
  g_autofree char *line = NULL;
  gsize line_len = 0;
  goffset valid_end = 0;
  struct stat st;

  j->fd = -1;
  j->free_slots = g_array_new (FALSE, FALSE, sizeof (guint64));
  j->open = g_ptr_array_new_with_free_func ((GDestroyNotify) open_slot_free);
  j->dir = tb_job_build_path (ctx, job_id, NULL);
  j->path = g_build_filename (j->dir, JOURNAL_NAME, NULL);
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
      g_autoptr(JsonObject) obj = parse_line (line, line_len, &j->last_hash, &local);
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
state_object (Journal *j)
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
      OpenSlot *o = g_ptr_array_index (j->open, i);
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
static gboolean
journal_append (Journal *j, const char *event, JsonObject *fields, GError **error)
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

static gboolean
slot_available (Journal *j, guint64 count)
{
  return j->free_slots->len > 0 || j->next < count;
}

static gboolean
journal_reserve (Journal *j, guint64 first, guint64 *slot, GError **error)
{
  g_autoptr(JsonObject) f = json_object_new ();
  OpenSlot *o = g_new0 (OpenSlot, 1);

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
  return journal_append (j, "reserve", f, error);
}

static gboolean
journal_release (Journal *j, guint64 slot, const char *why, GError **error)
{
  g_autoptr(JsonObject) f = json_object_new ();

  for (guint i = 0; i < j->open->len; i++)
    if (((OpenSlot *) g_ptr_array_index (j->open, i))->slot == slot)
      {
        g_ptr_array_remove_index (j->open, i);
        break;
      }
  g_array_append_val (j->free_slots, slot);
  json_object_set_int_member (f, "slot", (gint64) slot);
  json_object_set_string_member (f, "reason", why);
  return journal_append (j, "release", f, error);
}

/* ---- counts ---- */

static JsonObject *
find_job (TbContext *ctx, const char *job_id, GError **error)
{
  JsonObject *job = tb_context_find_entry (ctx, TB_INVENTORY_JOBS, job_id);

  if (job == NULL)
    g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("The context has no job “%s” (job list shows the jobs)"),
                 job_id);
  return job;
}

static void
fill_counts (Journal *j, JsonObject *job, TbJobCounts *c)
{
  memset (c, 0, sizeof *c);
  c->count = (guint64) json_object_get_int_member_with_default (job, "count", 0);
  c->first = (guint64) json_object_get_int_member_with_default (job, "first", 0);
  c->made = j->made;
  c->reserved = j->open->len;
  c->failed = j->failed;
  c->entries = j->seq;
  c->remaining = c->count > c->made + c->reserved ? c->count - c->made - c->reserved : 0;
}

/**
 * tb_job_get_counts:
 *
 * The job's counts, from the last journal entry (its hash checked).
 */
gboolean
tb_job_get_counts (TbContext *ctx, const char *job_id, TbJobCounts *counts, GError **error)
{
  JsonObject *job = find_job (ctx, job_id, error);
  g_autoptr(Journal) j = NULL;

  if (job == NULL)
    return FALSE;
  if (g_strcmp0 (json_object_get_string_member_with_default (job, "role", ""), "oem") == 0)
    {
      memset (counts, 0, sizeof *counts);
      counts->count = counts->remaining = (guint64) json_object_get_int_member_with_default (job, "count", 0);
      return TRUE;
    }
  j = journal_open (ctx, job_id, FALSE, error);
  if (j == NULL)
    return FALSE;
  fill_counts (j, job, counts);
  return TRUE;
}

/**
 * tb_job_list_interrupted:
 *
 * Returns: (transfer full) (element-type JsonObject): the open slots
 *   ({slot, uid, serial}) — in progress or interrupted by a crash
 */
GPtrArray *
tb_job_list_interrupted (TbContext *ctx, const char *job_id, GError **error)
{
  g_autoptr(Journal) j = NULL;
  GPtrArray *out;

  if (find_job (ctx, job_id, error) == NULL || (j = journal_open (ctx, job_id, FALSE, error)) == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  for (guint i = 0; i < j->open->len; i++)
    {
      OpenSlot *o = g_ptr_array_index (j->open, i);
      JsonObject *e = json_object_new ();
      json_object_set_int_member (e, "slot", (gint64) o->slot);
      if (o->uid != NULL)
        json_object_set_string_member (e, "uid", o->uid);
      if (o->serial != NULL)
        json_object_set_string_member (e, "device_certificate_serial", o->serial);
      json_object_set_boolean_member (e, "identity_sent", o->certificate != NULL);
      g_ptr_array_add (out, e);
    }
  return out;
}

/**
 * tb_job_recent_records:
 * @max: how many records at most
 *
 * The job's last records, newest first: devices made or reconciled and
 * attempts that failed, as the journal holds them (uid, slot, result,
 * record_id, image_version, operator, produced or reason, time), without
 * the journal's state. Read from the end of the journal, so as fast with
 * 100 000 devices as with ten; each line's own hash is checked (the whole
 * chain is checked by tb_records_collect()).
 *
 * Returns: (transfer full) (element-type JsonObject): the records
 */
GPtrArray *
tb_job_recent_records (TbContext *ctx, const char *job_id, guint max, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autofree char *path = NULL;
  g_autofree char *buf = NULL;
  g_autoptr(GError) open_error = NULL;
  goffset window = 256 * 1024;
  goffset size;
  int fd;

  if (find_job (ctx, job_id, error) == NULL)
    return NULL;
  path = tb_job_build_path (ctx, job_id, JOURNAL_NAME);
  fd = tb_file_open_for_reading (path, &size, &open_error);
  if (fd < 0 && open_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&open_error));
      return NULL;
    }
  if (fd < 0)
    return g_steal_pointer (&out); /* nothing made yet */
  /* read the last `window` bytes; if they hold too few records, twice as many */
  for (;;)
    {
      goffset start = MAX (0, size - window);
      gsize len = (gsize) (size - start);
      char *line, *end;

      g_ptr_array_set_size (out, 0);
      g_free (buf);
      buf = g_malloc (len + 1);
      if (pread (fd, buf, len, start) != (gssize) len)
        {
          close (fd);
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot read %s"), path);
          return NULL;
        }
      buf[len] = '\0';
      /* complete lines only: not the first one if it was cut, nor a torn last one */
      end = memrchr (buf, '\n', len);
      line = buf;
      if (start > 0 && (line = memchr (buf, '\n', len)) != NULL)
        line++;
      for (char *e = end; line != NULL && e != NULL && e >= line && out->len < max;)
        {
          char *s = e > line ? memrchr (line, '\n', (gsize) (e - line)) : NULL;
          char *first = s != NULL ? s + 1 : line;
          g_autoptr(GError) local = NULL;
          g_autoptr(JsonObject) obj = first < e ? parse_line (first, (gsize) (e - first), NULL, &local) : NULL;
          const char *event = obj != NULL ? json_object_get_string_member_with_default (obj, "event", "") : "";

          if (first < e && obj == NULL)
            {
              close (fd);
              g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("%s: %s"), path, local->message);
              return NULL;
            }
          if (g_str_equal (event, "made") || g_str_equal (event, "fail"))
            {
              json_object_remove_member (obj, "state");
              g_ptr_array_add (out, g_steal_pointer (&obj));
            }
          e = s;
        }
      if (out->len >= max || start == 0)
        break;
      window *= 2;
    }
  close (fd);
  return g_steal_pointer (&out);
}

/**
 * tb_job_journal_append_record:
 * @record: a device record
 *
 * Reserves a slot and completes it with @record in two journal entries,
 * no device involved: for tests and the records benchmark.
 */
gboolean
tb_job_journal_append_record (TbContext *ctx, const char *job_id, JsonObject *record, GError **error)
{
  JsonObject *job = find_job (ctx, job_id, error);
  g_autoptr(Journal) j = NULL;
  guint64 slot;

  if (job == NULL || (j = journal_open (ctx, job_id, TRUE, error)) == NULL)
    return FALSE;
  if (!slot_available (j, (guint64) json_object_get_int_member_with_default (job, "count", 0)))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_LIMIT_REACHED, _("The job's count is exhausted"));
      return FALSE;
    }
  if (!journal_reserve (j, (guint64) json_object_get_int_member_with_default (job, "first", 0), &slot, error))
    return FALSE;
  g_ptr_array_remove_index (j->open, j->open->len - 1);
  j->made++;
  json_object_set_int_member (record, "slot", (gint64) slot);
  return journal_append (j, "made", record, error);
}

/* ---- producing one device ---- */

void
tb_produce_result_clear (TbProduceResult *r)
{
  g_clear_pointer (&r->uid, g_free);
  g_clear_pointer (&r->record_id, g_free);
  g_clear_pointer (&r->result, g_free);
  g_clear_pointer (&r->device_certificate_serial, g_free);
  g_clear_pointer (&r->app_version, g_free);
  g_clear_pointer (&r->receipt, g_bytes_unref);
}

static gboolean
job_window_open (JsonObject *job, GError **error)
{
  const char *not_after = json_object_get_string_member_with_default (job, "not_after", NULL);
  g_autoptr(GDateTime) end = not_after != NULL ? g_date_time_new_from_iso8601 (not_after, NULL) : NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  if (end != NULL && g_date_time_compare (now, end) >= 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_LIMIT_REACHED, _("Job “%s” expired on %s: no more devices under it"),
                   json_object_get_string_member (job, "job_id"), not_after);
      return FALSE;
    }
  return TRUE;
}

static gboolean
device_type_allowed (JsonObject *job, const char *device_type)
{
  JsonArray *types = json_object_has_member (job, "device_types") ? json_object_get_array_member (job, "device_types")
                                                                   : NULL;

  if (types == NULL || json_array_get_length (types) == 0)
    return TRUE;
  for (guint i = 0; i < json_array_get_length (types); i++)
    if (g_strcmp0 (json_array_get_string_element (types, i), device_type) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
load_identity (TbContext *ctx, JsonObject *job, const char *passphrase, TbUpk *upk, TbProvisionIdentity *id,
               GError **error)
{
  const char *issuer = json_object_get_string_member_with_default (job, "issuer", NULL);
  const char *product = json_object_get_string_member (job, "product");
  JsonObject *prod = tb_context_find_entry (ctx, TB_INVENTORY_PRODUCTS, product);
  g_autofree char *pk = prod != NULL && json_object_has_member (prod, "key")
                          ? g_strdup (json_object_get_string_member (prod, "key"))
                          : g_strconcat ("product-", product, NULL);

  if (issuer == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Job “%s” was made here, not imported: import its package into a station context to produce"),
                   json_object_get_string_member (job, "job_id"));
      return FALSE;
    }
  id->product = g_strdup (product);
  id->organization = g_strdup (json_object_get_string_member_with_default (job, "oem", ""));
  id->issuer_cert = tb_cert_load (ctx, issuer, error);
  if (id->issuer_cert == NULL)
    return FALSE;
  id->issuer_key = tb_key_load_unlocked (ctx, issuer, passphrase, error);
  if (id->issuer_key == NULL)
    return FALSE;
  id->product_key = tb_key_load_unlocked (ctx, pk, passphrase, error);
  if (id->product_key == NULL)
    return FALSE;
  return tb_provision_identity_set_anchor (id, tb_upk_get_signer_cert (upk), error);
}

/* The receipt must be this device's, for this job's image. */
static gboolean
check_receipt (GBytes *receipt, const TbAttestation *att, TbUpk *upk, const guint8 *nonce, GError **error)
{
  g_autoptr(TbReceipt) r = tb_receipt_parse (g_bytes_get_data (receipt, NULL), g_bytes_get_size (receipt),
                                              att->device_public_key, error);

  if (r == NULL)
    return FALSE;
  if (g_strcmp0 (r->uid, att->uid) != 0 || memcmp (r->plaintext_sha256, tb_upk_get_plaintext_sha256 (upk), 32) != 0 ||
      (r->has_image_id && memcmp (r->image_id, tb_upk_get_image_id (upk), TB_UPK_IMAGE_ID_LEN) != 0) ||
      (nonce != NULL && (r->kind != TB_RECEIPT_STATUS || memcmp (r->nonce, nonce, 32) != 0)))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("Device %s signed a receipt for another device, image or request"), att->uid);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  TbContext *ctx;
  JsonObject *job;
  const char *job_id;
  Journal *j;
  TbUpk *upk;
  char *upk_path;
  char *image_path;
  TbProbe *probe;
  TbTarget *target;
  TbProgress *progress;
  const TbProduceOptions *options;
  guint64 slot;
  gboolean have_slot;
  OpenSlot *bound;              /* the open slot of the device at hand */
} Producer;

static void
random_nonce (guint8 nonce[32])
{
  for (guint i = 0; i < 32; i += 4)
    {
      guint32 r = g_random_int ();
      memcpy (nonce + i, &r, 4);
    }
}

/* Records a failed attempt (best effort: the error at hand matters more). */
static void
record_failure (Producer *p, const char *uid, const GError *failure)
{
  g_autoptr(JsonObject) f = json_object_new ();
  g_autoptr(JsonObject) details = json_object_new ();

  p->j->failed++;
  json_object_set_string_member (f, "job_id", p->job_id);
  if (p->have_slot)
    json_object_set_int_member (f, "slot", (gint64) p->slot);
  if (uid != NULL)
    json_object_set_string_member (f, "uid", uid);
  json_object_set_string_member (f, "reason", failure->message);
  json_object_set_string_member (f, "result", "failed");
  json_object_set_string_member (f, "operator", p->options->operator_name != NULL ? p->options->operator_name
                                                                                   : g_get_user_name ());
  journal_append (p->j, "fail", f, NULL);
  json_object_set_string_member (details, "job_id", p->job_id);
  json_object_set_string_member (details, "reason", failure->message);
  tb_audit_append (p->ctx, "production.fail", uid != NULL ? uid : "-", details, NULL);
}

/* The audit entry of a device made: the record's facts and the hash of its
 * journal line, which ties the two together. */
static gboolean
audit_made (TbContext *ctx, JsonObject *record, const char *journal_hash, gboolean recovered, GError **error)
{
  static const char *const members[] = { "job_id", "slot", "record_id", "result", "image_version" };
  g_autoptr(JsonObject) details = json_object_new ();

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    if (json_object_has_member (record, members[i]))
      json_object_set_member (details, members[i], json_node_copy (json_object_get_member (record, members[i])));
  json_object_set_string_member (details, "journal_hash", journal_hash);
  if (recovered)
    json_object_set_boolean_member (details, "recovered", TRUE);
  return tb_audit_append (ctx, "device.produce", json_object_get_string_member_with_default (record, "uid", "-"),
                          details, error);
}

/* A run that stopped between a device's record in the journal and its
 * audit entry (both happen under the job's lock, so only the journal's
 * last event can be concerned) left the audit log without it: it is
 * appended now, marked as recovered. */
static gboolean
recover_audit (TbContext *ctx, Journal *j, GError **error)
{
  gboolean found = FALSE;

  if (j->last_line == NULL ||
      g_strcmp0 (json_object_get_string_member_with_default (j->last_line, "event", NULL), "made") != 0)
    return TRUE;
  if (!tb_audit_contains (ctx, j->last_hash, &found, error))
    return FALSE;
  return found || audit_made (ctx, j->last_line, j->last_hash, TRUE, error);
}

static gboolean
complete (Producer *p, const TbAttestation *att, GBytes *receipt, const char *result_kind, TbProduceResult *result,
          GError **error)
{
  g_autoptr(JsonObject) rec = json_object_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *receipt_b64 = g_base64_encode (g_bytes_get_data (receipt, NULL), g_bytes_get_size (receipt));
  g_autofree char *record_id = g_strdup_printf ("%s-%" G_GUINT64_FORMAT, p->job_id, p->slot);
  g_autoptr(TbReceipt) r = tb_receipt_parse (g_bytes_get_data (receipt, NULL), g_bytes_get_size (receipt),
                                              att->device_public_key, NULL);
  const char *operator_name = p->options->operator_name != NULL ? p->options->operator_name : g_get_user_name ();

  json_object_set_string_member (rec, "record_id", record_id);
  json_object_set_string_member (rec, "job_id", p->job_id);
  json_object_set_int_member (rec, "slice", json_object_get_int_member_with_default (p->job, "slice", 1));
  json_object_set_int_member (rec, "slot", (gint64) p->slot);
  json_object_set_string_member (rec, "uid", att->uid);
  json_object_set_string_member (rec, "device_type", att->device_type);
  json_object_set_string_member (rec, "device_certificate", p->bound->certificate);
  json_object_set_string_member (rec, "device_certificate_serial", p->bound->serial);
  json_object_set_string_member (rec, "image_version", tb_upk_get_version (p->upk));
  json_object_set_string_member (rec, "operator", operator_name);
  json_object_set_string_member (rec, "result", result_kind);
  json_object_set_string_member (rec, "receipt", receipt_b64);
  json_object_set_string_member (rec, "receipt_kind", tb_receipt_kind_to_string (r != NULL ? r->kind
                                                                                           : TB_RECEIPT_INSTALL));
  {
    g_autofree char *when = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
    json_object_set_string_member (rec, "produced", when);
  }
  result->device_certificate_serial = g_strdup (p->bound->serial);
  g_ptr_array_remove (p->j->open, p->bound); /* frees it */
  p->bound = NULL;
  p->j->made++;
  if (!journal_append (p->j, "made", rec, error))
    return FALSE;
  p->have_slot = FALSE;

  if (!audit_made (p->ctx, rec, p->j->last_hash, FALSE, error))
    return FALSE;
  tb_crash_point ("audit");

  result->uid = g_strdup (att->uid);
  result->record_id = g_steal_pointer (&record_id);
  result->result = g_strdup (result_kind);
  result->slot = p->slot;
  result->made = p->j->made;
  result->limit = (guint64) json_object_get_int_member_with_default (p->job, "count", 0);
  result->app_version = g_strdup (tb_upk_get_version (p->upk));
  result->receipt = g_bytes_ref (receipt);
  return TRUE;
}

static gboolean
produce_locked (Producer *p, const char *passphrase, TbProduceResult *result, GError **error)
{
  g_auto(TbProvisionIdentity) id = { 0 };
  g_autoptr(TbAttestation) att = NULL;
  g_autoptr(GBytes) receipt = NULL;
  guint64 count = (guint64) json_object_get_int_member_with_default (p->job, "count", 0);
  guint64 first = (guint64) json_object_get_int_member_with_default (p->job, "first", 0);
  const char *version = tb_upk_get_version (p->upk);

  /* open slots that never got as far as a certificate reached no device */
  for (guint i = p->j->open->len; i > 0; i--)
    {
      OpenSlot *o = g_ptr_array_index (p->j->open, i - 1);
      if (o->certificate == NULL && !journal_release (p->j, o->slot, "interrupted before any identity was sent",
                                                      error))
        return FALSE;
    }
  if (!job_window_open (p->job, error) || !load_identity (p->ctx, p->job, passphrase, p->upk, &id, error))
    return FALSE;

  tb_progress_set_range (p->progress, 0.0, 0.1);
  if (slot_available (p->j, count))
    {
      tb_progress_set_stage (p->progress, _("Reserving a slot of job “%s”"), p->job_id);
      if (!journal_reserve (p->j, first, &p->slot, error))
        return FALSE;
      p->have_slot = TRUE;
    }
  else if (p->j->open->len == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_LIMIT_REACHED,
                   _("Job “%s” is complete: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " devices made"), p->job_id,
                   p->j->made, count);
      return FALSE;
    }

  att = tb_provision_identify (p->target, p->progress, error);
  if (att == NULL)
    goto fail_release;
  for (guint i = 0; i < p->j->open->len; i++)
    {
      OpenSlot *o = g_ptr_array_index (p->j->open, i);
      if (o->uid != NULL && g_strcmp0 (o->uid, att->uid) == 0 && o->certificate != NULL)
        p->bound = o;
    }
  if (p->bound != NULL)
    {
      /* the device of an interrupted slot came back: finish that slot */
      tb_progress_log (p->progress, _("  device %s is the one of interrupted slot %" G_GUINT64_FORMAT
                                      ": resuming it"), att->uid, p->bound->slot);
      if (p->have_slot && !journal_release (p->j, p->slot, "the device resumes its interrupted slot", error))
        return FALSE;
      p->slot = p->bound->slot;
      p->have_slot = TRUE;
    }
  else
    {
      if (!p->have_slot)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_LIMIT_REACHED,
                       _("Job “%s” has no slot left (%" G_GUINT64_FORMAT " made, %u interrupted and waiting for their "
                         "devices): device %s cannot be made"), p->job_id, p->j->made, p->j->open->len, att->uid);
          return FALSE;
        }
      if (att->lifecycle != TB_LIFECYCLE_SBM_INSTALLED)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                       _("Device %s is already %s, and not by an interrupted slot of this job: a device is made "
                         "once"), att->uid, tb_lifecycle_to_string (att->lifecycle));
          goto fail_release;
        }
      if (!device_type_allowed (p->job, att->device_type))
        {
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                       _("Device %s is a %s: job “%s” does not allow that device type"), att->uid, att->device_type,
                       p->job_id);
          goto fail_release;
        }
      /* what the SBM would refuse only after the device is locked */
      if (!tb_provision_check_image (p->target, att, p->upk, p->upk_path, error))
        goto fail_release;
      p->bound = find_open (p->j, p->slot);
      p->bound->uid = g_strdup (att->uid);
      {
        g_autoptr(JsonObject) f = json_object_new ();
        json_object_set_int_member (f, "slot", (gint64) p->slot);
        json_object_set_string_member (f, "uid", att->uid);
        if (!journal_append (p->j, "bind", f, error))
          return FALSE;
      }
    }

  if (att->lifecycle == TB_LIFECYCLE_SBM_INSTALLED)
    {
      g_autoptr(GBytes) cert_der = NULL;
      g_autoptr(TbCert) cert = NULL;
      g_autoptr(JsonObject) f = json_object_new ();

      tb_progress_set_range (p->progress, 0.1, 0.3);
      tb_progress_set_stage (p->progress, _("Issuing the device certificate"));
      if (tb_progress_set_error_if_cancelled (p->progress, error))
        goto fail_release;
      cert_der = tb_provision_issue_certificate (&id, att, error);
      cert = cert_der != NULL ? tb_cert_new_from_data (g_bytes_get_data (cert_der, NULL), g_bytes_get_size (cert_der),
                                                       "device", error) : NULL;
      if (cert == NULL)
        goto fail_release;
      g_free (p->bound->certificate);
      p->bound->certificate = g_base64_encode (g_bytes_get_data (cert_der, NULL), g_bytes_get_size (cert_der));
      g_free (p->bound->serial);
      p->bound->serial = tb_cert_dup_serial (cert);
      json_object_set_int_member (f, "slot", (gint64) p->slot);
      json_object_set_string_member (f, "uid", att->uid);
      json_object_set_string_member (f, "serial", p->bound->serial);
      if (!journal_append (p->j, "issue", f, error))
        return FALSE;
      /* from here on the slot stays counted until its device completes it */
      tb_progress_set_range (p->progress, 0.3, 0.4);
      tb_progress_set_stage (p->progress, _("Provisioning the OEM identity for product “%s”"), id.product);
      if (!tb_provision_send_identity (p->target, &id, att, cert_der, !p->options->no_lock, error))
        goto fail;
    }
  else
    {
      /* resuming: the device holds the identity of this slot */
      gsize len = 0;
      g_autofree guint8 *der = g_base64_decode (p->bound->certificate, &len);
      g_autoptr(TbCert) cert = tb_cert_new_from_data (der, len, "device", NULL);
      g_autofree char *cert_key = cert != NULL ? tb_cert_dup_public_key_sha256 (cert) : NULL;
      g_autoptr(TbKey) dev = tb_key_new_from_point (att->device_public_key, NULL);
      if (dev == NULL || g_strcmp0 (cert_key, tb_key_get_public_sha256 (dev)) != 0)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                       _("Device %s does not hold the key its slot's certificate was issued for"), att->uid);
          goto fail;
        }
    }

  tb_progress_set_range (p->progress, 0.4, 0.95);
  if (att->lifecycle != TB_LIFECYCLE_SBM_INSTALLED && att->boot == 0 && g_strcmp0 (att->app_version, version) == 0 &&
      att->app_counter == tb_upk_get_security_counter (p->upk))
    {
      guint8 nonce[32];

      tb_progress_set_stage (p->progress, _("The device already runs %s: asking for its receipt"), version);
      random_nonce (nonce);
      receipt = tb_target_get_receipt (p->target, nonce, error);
      if (receipt == NULL || !check_receipt (receipt, att, p->upk, nonce, error))
        goto fail;
      return complete (p, att, receipt, "reconciled", result, error);
    }
  if (!tb_program_device (p->probe, p->upk_path, p->image_path, NULL, &receipt, p->progress, error) ||
      !check_receipt (receipt, att, p->upk, NULL, error))
    goto fail;
  tb_progress_set_range (p->progress, 0.95, 1.0);
  tb_progress_set_stage (p->progress, _("Recording the device"));
  if (!complete (p, att, receipt, att->lifecycle == TB_LIFECYCLE_SBM_INSTALLED ? "made" : "reconciled", result, error))
    return FALSE;
  tb_progress_finish (p->progress);
  return TRUE;

fail_release:
  /* nothing identity-bearing reached the device: the slot goes back */
  if (p->have_slot && (p->bound == NULL || p->bound->certificate == NULL))
    {
      journal_release (p->j, p->slot, "failed before any identity was sent", NULL);
      p->have_slot = FALSE;
    }
fail:
  if (error != NULL && *error != NULL)
    record_failure (p, att != NULL ? att->uid : NULL, *error);
  return FALSE;
}

/**
 * tb_produce:
 * @ctx: a station context holding the imported job
 * @passphrase: the station's passphrase (unlocks the job's keys)
 *
 * Makes one device under the job, crash-safely (see the top of this
 * file). %TB_ERROR_LIMIT_REACHED when the count is exhausted or the job
 * expired; %TB_ERROR_VERIFY_FAILED when the device is refused or refuses.
 */
gboolean
tb_produce (TbContext *ctx, TbProbe *probe, const TbProduceOptions *options, const char *passphrase,
            TbProduceResult *result, TbProgress *progress, GError **error)
{
  JsonObject *entry = find_job (ctx, options->job_id, error);
  g_autoptr(JsonObject) job = entry != NULL ? json_object_ref (entry) : NULL;
  g_autoptr(Journal) j = NULL;
  g_autoptr(TbUpk) upk = NULL;
  g_autoptr(TbTarget) target = NULL;
  Producer p = { 0 };
  gboolean ok;

  if (job == NULL)
    return FALSE;
  if (json_object_get_string_member_with_default (job, "upk", NULL) == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Job “%s” was made here, not imported: import its package into a station context to produce"),
                   options->job_id);
      return FALSE;
    }
  j = journal_open (ctx, options->job_id, TRUE, error);
  if (j == NULL || !recover_audit (ctx, j, error))
    return FALSE;
  p.upk_path = tb_context_build_path (ctx, json_object_get_string_member (job, "upk"));
  p.image_path = tb_context_build_path (ctx, json_object_get_string_member (job, "image"));
  upk = tb_upk_load_file (p.upk_path, error);
  if (upk == NULL)
    {
      g_free (p.upk_path);
      g_free (p.image_path);
      return FALSE;
    }
  target = tb_target_new (probe);
  p.ctx = ctx;
  p.job = job; /* referenced: an audit append may reload the context */
  p.job_id = options->job_id;
  p.j = j;
  p.upk = upk;
  p.probe = probe;
  p.target = target;
  p.progress = progress;
  p.options = options;
  ok = produce_locked (&p, passphrase, result, error);
  g_free (p.upk_path);
  g_free (p.image_path);
  return ok;
}

/* ---- reading the whole journal: records and export ---- */

/**
 * tb_records_collect:
 * @job_id: (nullable): one job, or every imported job
 *
 * Reads every journal from the start, checking its hash chain, and
 * gathers the records (made, reconciled, failed), with each job's signed
 * manifest so the result verifies offline (tb_receipts_verify()).
 *
 * Returns: (transfer full): {format, version, station, exported, jobs[],
 *   records[]}
 */
JsonObject *
tb_records_collect (TbContext *ctx, const char *job_id, GError **error)
{
  g_autoptr(JsonObject) out = json_object_new ();
  g_autoptr(JsonArray) jobs = json_array_new ();
  g_autoptr(JsonArray) records = json_array_new ();
  g_autoptr(GPtrArray) entries = tb_context_get_entries (ctx, TB_INVENTORY_JOBS);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  gboolean found = FALSE;

  for (guint i = 0; i < entries->len; i++)
    {
      JsonObject *job = g_ptr_array_index (entries, i);
      const char *id = json_object_get_string_member (job, "job_id");
      const char *package = json_object_get_string_member_with_default (job, "package", NULL);
      g_autofree char *path = NULL;
      g_autoptr(GFile) file = NULL;
      g_autoptr(GFileInputStream) fin = NULL;
      g_autoptr(GDataInputStream) in = NULL;
      g_autofree char *prev = g_strdup ("");
      guint64 seq = 0;

      if ((job_id != NULL && g_strcmp0 (id, job_id) != 0) || package == NULL)
        continue;
      found = TRUE;
      {
        g_autofree char *pkg_path = tb_context_build_path (ctx, package);
        g_autofree char *text = NULL;
        gsize len = 0;
        g_autoptr(JsonParser) parser = json_parser_new ();
        JsonObject *pkg, *summary = json_object_new ();

        if (!tb_file_read_bounded (pkg_path, TB_JOB_FILE_MAX_BYTES, &text, &len, error) ||
            !json_parser_load_from_data (parser, text, (gssize) len, error) ||
            !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
          {
            json_object_unref (summary);
            if (error != NULL && *error == NULL)
              g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is not a job package"), pkg_path);
            return NULL;
          }
        pkg = json_node_get_object (json_parser_get_root (parser));
        json_object_set_string_member (summary, "job_id", id);
        json_object_set_int_member (summary, "slice", json_object_get_int_member_with_default (job, "slice", 1));
        json_object_set_string_member (summary, "manifest",
                                       json_object_get_string_member_with_default (pkg, "manifest", ""));
        json_object_set_string_member (summary, "signature",
                                       json_object_get_string_member_with_default (pkg, "signature", ""));
        if (json_object_has_member (pkg, "signer_certificate"))
          json_object_set_string_member (summary, "signer_certificate",
                                         json_object_get_string_member (pkg, "signer_certificate"));
        json_array_add_object_element (jobs, summary);
      }
      path = tb_job_build_path (ctx, id, JOURNAL_NAME);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      file = g_file_new_for_path (path);
      fin = g_file_read (file, NULL, error);
      if (fin == NULL)
        return NULL;
      in = g_data_input_stream_new (G_INPUT_STREAM (fin));
      g_buffered_input_stream_set_buffer_size (G_BUFFERED_INPUT_STREAM (in), 256 * 1024);
      for (;;)
        {
          gsize len = 0;
          g_autoptr(GError) local = NULL;
          g_autofree char *line = g_data_input_stream_read_line (in, &len, NULL, &local);
          g_autofree char *hash = NULL;
          g_autoptr(JsonObject) obj = NULL;
          const char *event;

          if (line == NULL)
            {
              if (local != NULL)
                {
                  g_propagate_error (error, g_steal_pointer (&local));
                  return NULL;
                }
              break;
            }
          obj = parse_line (line, len, &hash, &local);
          if (obj == NULL || (guint64) json_object_get_int_member_with_default (obj, "seq", 0) != seq + 1 ||
              g_strcmp0 (json_object_get_string_member_with_default (obj, "prev", NULL), prev) != 0)
            {
              g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                           _("%s, entry %" G_GUINT64_FORMAT ": %s"), path, seq + 1,
                           local != NULL ? local->message
                                         : _("the chain is broken: an entry was deleted, reordered or inserted"));
              return NULL;
            }
          seq++;
          g_free (prev);
          prev = g_steal_pointer (&hash);
          event = json_object_get_string_member_with_default (obj, "event", "");
          if (g_strcmp0 (event, "made") == 0 || g_strcmp0 (event, "fail") == 0)
            {
              JsonObject *rec = json_object_new ();
              GList *members = json_object_get_members (obj);
              for (GList *l = members; l != NULL; l = l->next)
                if (g_strcmp0 (l->data, "state") != 0 && g_strcmp0 (l->data, "prev") != 0 &&
                    g_strcmp0 (l->data, "hash") != 0 && g_strcmp0 (l->data, "event") != 0)
                  json_object_set_member (rec, l->data, json_node_copy (json_object_get_member (obj, l->data)));
              g_list_free (members);
              if (!json_object_has_member (rec, "job_id"))
                json_object_set_string_member (rec, "job_id", id);
              json_array_add_object_element (records, rec);
            }
        }
    }
  if (job_id != NULL && !found)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("The context has no imported job “%s”"), job_id);
      return NULL;
    }
  json_object_set_string_member (out, "format", TB_RECORDS_FORMAT);
  json_object_set_int_member (out, "version", TB_RECORDS_FORMAT_VERSION);
  json_object_set_string_member (out, "station", tb_context_get_name (ctx));
  json_object_set_string_member (out, "exported", when);
  json_object_set_array_member (out, "jobs", json_array_ref (jobs));
  json_object_set_array_member (out, "records", json_array_ref (records));
  return g_steal_pointer (&out);
}

static const char *const csv_columns[] = {
  "record_id", "job_id", "slice", "slot", "uid", "device_type", "device_certificate_serial", "image_version",
  "produced", "operator", "result", "reason", "receipt_kind", "receipt", "device_certificate",
};

static void
csv_field (GString *s, JsonNode *node)
{
  g_autofree char *text = NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    text = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  else if (json_node_get_value_type (node) == G_TYPE_STRING)
    text = g_strdup (json_node_get_string (node));
  if (text == NULL)
    return;
  if (strpbrk (text, ",\"\r\n") != NULL)
    {
      g_string_append_c (s, '"');
      for (const char *c = text; *c != '\0'; c++)
        {
          if (*c == '"')
            g_string_append_c (s, '"');
          g_string_append_c (s, *c);
        }
      g_string_append_c (s, '"');
    }
  else
    g_string_append (s, text);
}

/**
 * tb_records_export:
 * @job_id: (nullable): one job, or all
 * @n_records: (out) (optional): records written
 *
 * Writes the records as JSON (the tb_records_collect() document, which
 * `receipts verify` reads) or CSV (one line per record), atomically.
 */
gboolean
tb_records_export (TbContext *ctx, const char *job_id, TbRecordsFormat format, const char *path, guint *n_records,
                   GError **error)
{
  g_autoptr(JsonObject) doc = tb_records_collect (ctx, job_id, error);
  JsonArray *records;
  g_autofree char *text = NULL;

  if (doc == NULL)
    return FALSE;
  records = json_object_get_array_member (doc, "records");
  if (format == TB_RECORDS_FORMAT_JSON)
    {
      g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      g_autoptr(JsonGenerator) gen = json_generator_new ();
      json_node_set_object (node, doc);
      json_generator_set_root (gen, node);
      json_generator_set_pretty (gen, TRUE);
      text = json_generator_to_data (gen, NULL);
    }
  else
    {
      GString *s = g_string_new (NULL);
      for (guint c = 0; c < G_N_ELEMENTS (csv_columns); c++)
        g_string_append_printf (s, "%s%s", c > 0 ? "," : "", csv_columns[c]);
      g_string_append (s, "\r\n");
      for (guint i = 0; i < json_array_get_length (records); i++)
        {
          JsonObject *r = json_array_get_object_element (records, i);
          for (guint c = 0; c < G_N_ELEMENTS (csv_columns); c++)
            {
              if (c > 0)
                g_string_append_c (s, ',');
              csv_field (s, json_object_get_member (r, csv_columns[c]));
            }
          g_string_append (s, "\r\n");
        }
      text = g_string_free (s, FALSE);
    }
  if (n_records != NULL)
    *n_records = json_array_get_length (records);
  return tb_file_write_output (path, text, strlen (text), 0644, error);
}

/* ---- verifying receipts offline ---- */

typedef struct {
  char *job_id;
  guint64 total;
  char *plaintext_sha256;
  char *image_id;
  JsonArray *device_types;
  GHashTable *slices;           /* slice number → Slice */
  GHashTable *devices;          /* uid → record id */
  guint64 n_devices;
} Job;

typedef struct {
  guint64 first;
  guint64 count;
  guint64 devices;
  TbCert *ca;
} Slice;

static void
slice_free (Slice *s)
{
  g_clear_object (&s->ca);
  g_free (s);
}

static void
job_free (Job *j)
{
  g_free (j->job_id);
  g_free (j->plaintext_sha256);
  g_free (j->image_id);
  g_clear_pointer (&j->device_types, json_array_unref);
  g_hash_table_unref (j->slices);
  g_hash_table_unref (j->devices);
  g_free (j);
}

void
tb_receipts_report_clear (TbReceiptsReport *report)
{
  g_clear_pointer (&report->bad, g_ptr_array_unref);
  g_clear_pointer (&report->jobs, g_ptr_array_unref);
}

static void
add_bad (TbReceiptsReport *report, JsonObject *rec, const char *problem)
{
  JsonObject *b = json_object_new ();

  json_object_set_string_member (b, "record_id", json_object_get_string_member_with_default (rec, "record_id", "?"));
  json_object_set_string_member (b, "uid", json_object_get_string_member_with_default (rec, "uid", "?"));
  json_object_set_string_member (b, "problem", problem);
  g_ptr_array_add (report->bad, b);
  report->valid = FALSE;
}

/* Adds the signed manifest of one slice to the known jobs. */
static gboolean
learn_slice (GHashTable *jobs, TbCert *root, JsonObject *summary, GError **error)
{
  g_autoptr(JsonObject) man = NULL;
  const char *job_id;
  Job *job;
  Slice *slice;
  guint64 index;
  const char *pem;

  if (!tb_job_verify_manifest (json_object_get_string_member_with_default (summary, "manifest", ""),
                               json_object_get_string_member_with_default (summary, "signature", ""),
                               json_object_get_string_member_with_default (summary, "signer_certificate", NULL), root,
                               &man, error))
    return FALSE;
  job_id = json_object_get_string_member_with_default (man, "job_id", NULL);
  pem = json_object_get_string_member_with_default (man, "issuer_certificate", NULL);
  if (job_id == NULL || pem == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("A job manifest lacks its id or issuing certificate"));
      return FALSE;
    }
  job = g_hash_table_lookup (jobs, job_id);
  if (job == NULL)
    {
      job = g_new0 (Job, 1);
      job->job_id = g_strdup (job_id);
      job->total = (guint64) json_object_get_int_member_with_default (man, "total_count", 0);
      job->plaintext_sha256 = g_strdup (json_object_get_string_member_with_default (man, "plaintext_sha256", ""));
      job->image_id = g_strdup (json_object_get_string_member_with_default (man, "image_id", ""));
      if (json_object_has_member (man, "device_types"))
        job->device_types = json_array_ref (json_object_get_array_member (man, "device_types"));
      job->slices = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) slice_free);
      job->devices = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_insert (jobs, job->job_id, job);
    }
  index = (guint64) json_object_get_int_member_with_default (man, "slice", 1);
  if (g_hash_table_contains (job->slices, &index))
    return TRUE;
  slice = g_new0 (Slice, 1);
  slice->first = (guint64) json_object_get_int_member_with_default (man, "first", 0);
  slice->count = (guint64) json_object_get_int_member_with_default (man, "count", 0);
  slice->ca = tb_cert_new_from_data (pem, strlen (pem), "issuer_certificate", error);
  if (slice->ca == NULL || !tb_cert_verify_with_root (root, NULL, slice->ca, NULL, error))
    {
      slice_free (slice);
      return FALSE;
    }
  g_hash_table_insert (job->slices, g_memdup2 (&index, sizeof index), slice);
  return TRUE;
}

static void
check_record (TbReceiptsReport *report, GHashTable *jobs, TbCert *root, GHashTable *uids, GHashTable *keys,
              GHashTable *slots, JsonObject *rec)
{
  const char *job_id = json_object_get_string_member_with_default (rec, "job_id", "");
  const char *uid = json_object_get_string_member_with_default (rec, "uid", NULL);
  const char *record_id = json_object_get_string_member_with_default (rec, "record_id", "?");
  Job *job = g_hash_table_lookup (jobs, job_id);
  guint64 slice_index = (guint64) json_object_get_int_member_with_default (rec, "slice", 1);
  guint64 slot = (guint64) json_object_get_int_member_with_default (rec, "slot", G_MAXINT64);
  Slice *slice = job != NULL ? g_hash_table_lookup (job->slices, &slice_index) : NULL;
  const char *cert_b64 = json_object_get_string_member_with_default (rec, "device_certificate", NULL);
  const char *receipt_b64 = json_object_get_string_member_with_default (rec, "receipt", NULL);
  g_autofree guint8 *der = NULL;
  g_autofree guint8 *receipt = NULL;
  gsize der_len = 0, receipt_len = 0;
  g_autoptr(TbCert) cert = NULL;
  g_autoptr(GPtrArray) chain = g_ptr_array_new ();
  g_autoptr(GError) local = NULL;
  g_autoptr(TbReceipt) r = NULL;
  g_autoptr(GDateTime) produced = NULL;
  g_autofree char *slot_key = NULL;
  g_autofree char *key_sha = NULL;
  g_autofree char *problem = NULL;
  guint8 point[65];
  EVP_PKEY *pub;
  size_t point_len = 0;

  if (job == NULL || slice == NULL)
    {
      add_bad (report, rec, _("not in the job: no job or slice signed by the OEM root has this id"));
      return;
    }
  if (uid == NULL || cert_b64 == NULL || receipt_b64 == NULL)
    {
      add_bad (report, rec, _("the record lacks its UID, device certificate or receipt"));
      return;
    }
  der = g_base64_decode (cert_b64, &der_len);
  cert = tb_cert_new_from_data (der, der_len, record_id, &local);
  produced = g_date_time_new_from_iso8601 (json_object_get_string_member_with_default (rec, "produced", ""), NULL);
  g_ptr_array_add (chain, slice->ca);
  if (cert == NULL || !tb_cert_verify_with_root (root, chain, cert, produced, &local))
    {
      problem = g_strdup_printf (_("not in the job: the device certificate was not issued by the job's CA (%s)"),
                                 local != NULL ? local->message : "?");
      add_bad (report, rec, problem);
      return;
    }
  {
    g_autofree char *subject = tb_cert_dup_subject (cert);
    g_autofree char *want = g_strdup_printf ("serialNumber=%s", uid);
    if (strstr (subject, want) == NULL)
      {
        add_bad (report, rec, _("the device certificate names another UID than the record"));
        return;
      }
  }
  pub = X509_get0_pubkey (tb_cert_get_x509 (cert));
  if (pub == NULL || !EVP_PKEY_get_octet_string_param (pub, "encoded-pub-key", point, sizeof point, &point_len) ||
      point_len != 65)
    {
      add_bad (report, rec, _("the device certificate does not hold a P-256 device key"));
      return;
    }
  receipt = g_base64_decode (receipt_b64, &receipt_len);
  r = tb_receipt_parse (receipt, receipt_len, point, &local);
  if (r == NULL)
    {
      add_bad (report, rec, _("the receipt is not signed by this device's key"));
      return;
    }
  {
    g_autofree char *digest = tb_hex_encode (r->plaintext_sha256, 32);
    g_autofree char *image_id = r->has_image_id ? tb_hex_encode (r->image_id, 16) : NULL;
    if (g_strcmp0 (r->uid, uid) != 0)
      {
        add_bad (report, rec, _("the receipt is from another device (its UID differs)"));
        return;
      }
    if (g_strcmp0 (digest, job->plaintext_sha256) != 0 ||
        (image_id != NULL && g_strcmp0 (image_id, job->image_id) != 0))
      {
        add_bad (report, rec, _("the receipt is for another image than the job's"));
        return;
      }
  }
  if (slot < slice->first || slot >= slice->first + slice->count)
    {
      add_bad (report, rec, _("not in the job: its slot lies outside the slice the OEM signed"));
      return;
    }
  key_sha = tb_cert_dup_public_key_sha256 (cert);
  if (g_hash_table_contains (uids, uid))
    {
      problem = g_strdup_printf (_("duplicate: device %s is also in record %s"), uid,
                                 (const char *) g_hash_table_lookup (uids, uid));
      add_bad (report, rec, problem);
      return;
    }
  if (g_hash_table_contains (keys, key_sha))
    {
      problem = g_strdup_printf (_("clone: the device key is also the key of record %s with another UID"),
                                 (const char *) g_hash_table_lookup (keys, key_sha));
      add_bad (report, rec, problem);
      return;
    }
  slot_key = g_strdup_printf ("%s/%" G_GUINT64_FORMAT, job_id, slot);
  if (g_hash_table_contains (slots, slot_key))
    {
      problem = g_strdup_printf (_("duplicate: slot %" G_GUINT64_FORMAT " is also used by record %s"), slot,
                                 (const char *) g_hash_table_lookup (slots, slot_key));
      add_bad (report, rec, problem);
      return;
    }
  g_hash_table_insert (uids, g_strdup (uid), g_strdup (record_id));
  g_hash_table_insert (keys, g_steal_pointer (&key_sha), g_strdup (record_id));
  g_hash_table_insert (slots, g_steal_pointer (&slot_key), g_strdup (record_id));
  slice->devices++;
  job->n_devices++;
  report->devices++;
  if (slice->devices > slice->count || job->n_devices > job->total)
    add_bad (report, rec, _("over-production: more devices than the job's count"));
}

/**
 * tb_receipts_verify:
 * @root: the OEM root
 * @files: exported records (JSON), from one or several stations
 * @report: (out caller-allocates): what was found
 *
 * Verifies, with nothing but the OEM root, every record of @files merged:
 * each job slice's signed manifest, each device certificate issued by its
 * slice's CA, each receipt signed by that device for the job's image;
 * duplicates (the same device twice), clones (one device key under two
 * UIDs), slots outside the slice, and more devices than a slice's or the
 * job's count. Returns %FALSE only when a file cannot be read; problems
 * with records are in @report.
 */
gboolean
tb_receipts_verify (TbCert *root, const char *const *files, TbReceiptsReport *report, GError **error)
{
  g_autoptr(GHashTable) jobs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) job_free);
  g_autoptr(GHashTable) uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) slots = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GPtrArray) parsers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) docs = g_ptr_array_new ();

  memset (report, 0, sizeof *report);
  report->valid = TRUE;
  report->bad = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  report->jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  for (guint f = 0; files[f] != NULL; f++)
    {
      JsonParser *parser = json_parser_new ();
      JsonNode *root_node;
      JsonObject *doc;
      JsonArray *slices;

      g_ptr_array_add (parsers, parser);
      if (!json_parser_load_from_mapped_file (parser, files[f], error))
        return FALSE;
      root_node = json_parser_get_root (parser);
      doc = root_node != NULL && JSON_NODE_HOLDS_OBJECT (root_node) ? json_node_get_object (root_node) : NULL;
      if (doc == NULL || g_strcmp0 (json_object_get_string_member_with_default (doc, "format", NULL),
                                    TB_RECORDS_FORMAT) != 0 ||
          !json_object_has_member (doc, "jobs") || !json_object_has_member (doc, "records"))
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s is not a Trustbench records export (records export --format json)"), files[f]);
          return FALSE;
        }
      slices = json_object_get_array_member (doc, "jobs");
      for (guint i = 0; i < json_array_get_length (slices); i++)
        {
          g_autoptr(GError) local = NULL;
          if (!learn_slice (jobs, root, json_array_get_object_element (slices, i), &local))
            {
              g_set_error (error, local->domain, local->code, "%s: %s", files[f], local->message);
              return FALSE;
            }
        }
      g_ptr_array_add (docs, doc);
    }
  for (guint f = 0; f < docs->len; f++)
    {
      JsonArray *records = json_object_get_array_member (g_ptr_array_index (docs, f), "records");
      for (guint i = 0; i < json_array_get_length (records); i++)
        {
          JsonObject *rec = json_array_get_object_element (records, i);
          const char *result = json_object_get_string_member_with_default (rec, "result", "");
          report->records++;
          if (g_strcmp0 (result, "made") == 0 || g_strcmp0 (result, "reconciled") == 0)
            check_record (report, jobs, root, uids, keys, slots, rec);
        }
    }
  {
    GHashTableIter it;
    Job *job;
    g_hash_table_iter_init (&it, jobs);
    while (g_hash_table_iter_next (&it, NULL, (gpointer *) &job))
      {
        JsonObject *o = json_object_new ();
        json_object_set_string_member (o, "job_id", job->job_id);
        json_object_set_int_member (o, "total_count", (gint64) job->total);
        json_object_set_int_member (o, "devices", (gint64) job->n_devices);
        json_object_set_int_member (o, "slices_seen", g_hash_table_size (job->slices));
        g_ptr_array_add (report->jobs, o);
      }
  }
  return TRUE;
}
