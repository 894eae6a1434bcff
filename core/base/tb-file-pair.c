/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Two output files that belong together (a mastered image and its UPK)
 * replaced as a pair: a reader finds the old pair or the new one, never
 * the new image beside the old UPK, even when the writer dies between the
 * two renames.
 *
 * Both files are written to temporary files first. Then a small pending
 * record, `.NAME.pair` beside the second file, names each destination,
 * its temporary file and that file's inode; it is written atomically, and
 * from then on the new pair is the one that counts. The two temporary
 * files are renamed into place and the record removed. A writer killed
 * before the record leaves the old pair (and stale temporary files); one
 * killed after it leaves a record that tb_output_file_recover_pair() rolls
 * forward: the next writer of the pair and every reader of a UPK
 * (tb_upk_load_file()) call it. The inode tells a temporary file holding
 * the new data from one holding the old (a replaced file is exchanged
 * with its temporary file, then that is removed). */

#include "config.h"

#include "tb-file.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb-crashpoint.h"
#include "tb-error.h"
#include "tb-file-private.h"

#define PAIR_GROUP "pair"

typedef struct {
  char *target;
  char *tmp;
  guint64 dev;
  guint64 ino;
  gboolean durable;
} PairMember;

static void
pair_member_clear (PairMember *m)
{
  g_clear_pointer (&m->target, g_free);
  g_clear_pointer (&m->tmp, g_free);
}

static char *
record_path_for (const char *second_target)
{
  g_autofree char *dir = g_path_get_dirname (second_target);
  g_autofree char *base = g_path_get_basename (second_target);
  g_autofree char *name = g_strdup_printf (".%s.pair", base);

  return g_build_filename (dir, name, NULL);
}

static gboolean
is_inode (const char *path, const PairMember *m)
{
  GStatBuf st;

  return g_lstat (path, &st) == 0 && (guint64) st.st_dev == m->dev && (guint64) st.st_ino == m->ino;
}

/* Puts @m's new file in place, wherever the last writer stopped. */
static gboolean
put_in_place (const PairMember *m, GError **error)
{
  GStatBuf st;

  if (is_inode (m->target, m))
    {
      /* in place already; a temporary file left is the old one, exchanged out */
      if (g_lstat (m->tmp, &st) == 0 && g_unlink (m->tmp) != 0)
        g_debug ("Cannot remove %s: %s", m->tmp, g_strerror (errno));
      return TRUE;
    }
  if (is_inode (m->tmp, m))
    return tb_file_replace (m->tmp, m->target, m->durable, error);
  g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
               _("Cannot finish replacing %s: its new version (%s) is gone"), m->target, m->tmp);
  return FALSE;
}

static gboolean
roll_forward (const char *record, PairMember members[2], gboolean durable, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (record);

  if (!put_in_place (&members[0], error))
    return FALSE;
  if (tb_crash_point_file ("pair: first in place"))
    tb_crash_now (members[0].target);
  if (!put_in_place (&members[1], error))
    return FALSE;
  if (g_unlink (record) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot remove %s: %s"), record, g_strerror (saved_errno));
      return FALSE;
    }
  return !durable || tb_file_fsync_directory (dir, error);
}

static gboolean
member_from_output (TbOutputFile *o, PairMember *m, GError **error)
{
  struct stat st;

  if (fstat (o->fd, &st) != 0 || ((o->flags & TB_OUTPUT_FILE_DURABLE) && fsync (o->fd) != 0) || close (o->fd) != 0)
    {
      int saved_errno = errno;
      o->fd = -1;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot write %s: %s"), o->path, g_strerror (saved_errno));
      return FALSE;
    }
  o->fd = -1;
  m->target = g_strdup (o->target);
  m->tmp = g_strdup (o->tmp);
  m->dev = (guint64) st.st_dev;
  m->ino = (guint64) st.st_ino;
  m->durable = (o->flags & TB_OUTPUT_FILE_DURABLE) != 0;
  return TRUE;
}

/**
 * tb_output_file_commit_pair:
 * @first: the file a reader cannot use without @second (the image)
 * @second: the file readers open first (the UPK); the pending record is
 *   kept beside it
 *
 * Commits two outputs so that readers see the old pair or the new one
 * (see the top of this file). Outputs written in place (pipes, devices)
 * cannot be paired: they are committed one after the other.
 */
gboolean
tb_output_file_commit_pair (TbOutputFile *first, TbOutputFile *second, GError **error)
{
  PairMember members[2] = { { 0 } };
  g_autofree char *record = NULL;
  g_autoptr(GKeyFile) kf = NULL;
  g_autofree char *text = NULL;
  gboolean durable = ((first->flags | second->flags) & TB_OUTPUT_FILE_DURABLE) != 0;
  gboolean ok = FALSE;
  gsize len = 0;

  if (first->tmp == NULL || second->tmp == NULL)
    return tb_output_file_commit (first, error) && tb_output_file_commit (second, error);
  if (!member_from_output (first, &members[0], error) || !member_from_output (second, &members[1], error))
    goto out;

  record = record_path_for (second->target);
  kf = g_key_file_new ();
  for (guint i = 0; i < 2; i++)
    {
      const char *key = i == 0 ? "first" : "second";
      g_autofree char *tmp_key = g_strconcat (key, "-temporary", NULL);
      g_autofree char *dev_key = g_strconcat (key, "-device", NULL);
      g_autofree char *ino_key = g_strconcat (key, "-inode", NULL);

      g_key_file_set_string (kf, PAIR_GROUP, key, members[i].target);
      g_key_file_set_string (kf, PAIR_GROUP, tmp_key, members[i].tmp);
      g_key_file_set_uint64 (kf, PAIR_GROUP, dev_key, members[i].dev);
      g_key_file_set_uint64 (kf, PAIR_GROUP, ino_key, members[i].ino);
    }
  text = g_key_file_to_data (kf, &len, NULL);
  /* from here on, the new pair is the one that counts */
  if (!tb_file_write_atomic (record, text, len, 0644, error))
    goto out;
  if (!roll_forward (record, members, durable, error))
    goto out;
  g_clear_pointer (&first->tmp, g_free);
  g_clear_pointer (&second->tmp, g_free);
  ok = TRUE;

out:
  pair_member_clear (&members[0]);
  pair_member_clear (&members[1]);
  return ok;
}

/* A record only ever names files beside it. */
static gboolean
same_directory (const char *record, const char *path)
{
  g_autofree char *a = g_path_get_dirname (record);
  g_autofree char *b = g_path_get_dirname (path);

  return g_str_equal (a, b);
}

/**
 * tb_output_file_recover_pair:
 * @second_path: the second file of a pair (a UPK)
 *
 * Finishes a pair replacement that a writer started and did not finish
 * (it was killed, the power went): puts the new pair in place. Does
 * nothing when no replacement of @second_path is pending.
 */
gboolean
tb_output_file_recover_pair (const char *second_path, GError **error)
{
  g_autofree char *resolved = realpath (second_path, NULL);
  g_autofree char *record = record_path_for (resolved != NULL ? resolved : second_path);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local = NULL;
  PairMember members[2] = { { 0 } };
  gboolean ok = FALSE;

  if (!g_file_test (record, G_FILE_TEST_EXISTS))
    return TRUE;
  if (!g_key_file_load_from_file (kf, record, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("Cannot read the pending replacement %s: %s"), record,
                   local->message);
      return FALSE;
    }
  for (guint i = 0; i < 2; i++)
    {
      const char *key = i == 0 ? "first" : "second";
      g_autofree char *tmp_key = g_strconcat (key, "-temporary", NULL);
      g_autofree char *dev_key = g_strconcat (key, "-device", NULL);
      g_autofree char *ino_key = g_strconcat (key, "-inode", NULL);

      members[i].target = g_key_file_get_string (kf, PAIR_GROUP, key, NULL);
      members[i].tmp = g_key_file_get_string (kf, PAIR_GROUP, tmp_key, NULL);
      members[i].dev = g_key_file_get_uint64 (kf, PAIR_GROUP, dev_key, NULL);
      members[i].ino = g_key_file_get_uint64 (kf, PAIR_GROUP, ino_key, &local);
      members[i].durable = TRUE;
      if (members[i].target == NULL || members[i].tmp == NULL || local != NULL ||
          g_str_equal (members[i].target, members[i].tmp) || !same_directory (record, members[i].target) ||
          !same_directory (record, members[i].tmp))
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s is damaged: it is not a pending replacement of a pair of files"), record);
          goto out;
        }
    }
  ok = roll_forward (record, members, TRUE, error);

out:
  pair_member_clear (&members[0]);
  pair_member_clear (&members[1]);
  return ok;
}
