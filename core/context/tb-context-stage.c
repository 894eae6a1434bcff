/* SPDX-License-Identifier: GPL-3.0-or-later */

/* A new context made whole before it appears (`init`).
 *
 * The context is created and filled (keys, certificates, the first audit
 * entries) in a hidden directory beside its destination,
 * `.NAME.new-XXXXXX`, then renamed into place in one step: a process
 * killed half-way leaves no context at the destination, not a context
 * with half its keys. What a killed run staged is removed by the next
 * one (once no other process holds it). */

#include "config.h"

#include "tb-context.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "tb-error.h"
#include "tb-file.h"

/* @path is free for a new context: missing, or an empty directory. */
static gboolean
check_destination (const char *path, GError **error)
{
  g_autoptr(GDir) dir = NULL;
  g_autofree char *json = g_build_filename (path, "context.json", NULL);
  const char *entry;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (g_file_test (json, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_EXISTS, _("%s already holds a security context"), path);
      return FALSE;
    }
  dir = g_dir_open (path, 0, NULL);
  if (dir == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_EXISTS, _("%s exists and is not a directory"), path);
      return FALSE;
    }
  while ((entry = g_dir_read_name (dir)) != NULL)
    if (!g_str_equal (entry, TB_CONTEXT_LOCK_NAME))
      {
        g_set_error (error, TB_ERROR, TB_ERROR_EXISTS,
                     _("%s is not empty (it holds “%s”); choose a new or empty directory"), path, entry);
        return FALSE;
      }
  return TRUE;
}

/* Removes what killed runs staged for @base in @parent, unless another
 * process still holds it. */
static void
remove_stale_stages (const char *parent, const char *base)
{
  g_autoptr(GDir) dir = g_dir_open (parent, 0, NULL);
  g_autofree char *prefix = g_strdup_printf (".%s.new-", base);
  const char *entry;

  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *stage = NULL;
      g_autofree char *lock_path = NULL;
      TbLock *lock;

      if (!g_str_has_prefix (entry, prefix) || strlen (entry) != strlen (prefix) + 6)
        continue;
      stage = g_build_filename (parent, entry, NULL);
      lock_path = g_build_filename (stage, TB_CONTEXT_LOCK_NAME, NULL);
      lock = g_file_test (lock_path, G_FILE_TEST_EXISTS) ? tb_lock_acquire (lock_path, entry, NULL) : NULL;
      if (lock == NULL && g_file_test (lock_path, G_FILE_TEST_EXISTS))
        continue; /* another init is at work there */
      if (!tb_file_remove_tree (stage, NULL))
        g_debug ("Cannot remove %s", stage);
      tb_lock_release (lock);
    }
}

/**
 * tb_context_create_staged:
 * @path: where the context is to appear
 * @name: (nullable): its name (default: the last component of @path)
 *
 * Creates a context to fill before it appears at @path: in a hidden
 * directory beside it. Fill it, then put it in place with
 * tb_context_commit_staged(); on failure, remove it with
 * tb_file_remove_tree() on tb_context_get_path().
 */
TbContext *
tb_context_create_staged (const char *path, const char *name, GError **error)
{
  g_autofree char *absolute = g_canonicalize_filename (path, NULL);
  g_autofree char *parent = g_path_get_dirname (absolute);
  g_autofree char *base = g_path_get_basename (absolute);
  g_autofree char *stage = NULL;
  TbContext *ctx;

  if (!check_destination (absolute, error))
    return NULL;
  if (g_mkdir_with_parents (parent, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot create directory %s: %s"), parent,
                   g_strerror (saved_errno));
      return NULL;
    }
  remove_stale_stages (parent, base);
  stage = g_strdup_printf ("%s/.%s.new-XXXXXX", parent, base);
  if (g_mkdtemp_full (stage, 0700) == NULL)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot create a directory in %s: %s"), parent,
                   g_strerror (saved_errno));
      return NULL;
    }
  ctx = tb_context_create (stage, name != NULL && name[0] != '\0' ? name : base, error);
  if (ctx == NULL)
    tb_file_remove_tree (stage, NULL);
  return ctx;
}

/**
 * tb_context_commit_staged:
 * @staged: (transfer full): a context from tb_context_create_staged(),
 *   filled; it is closed
 * @path: the destination given to tb_context_create_staged()
 *
 * Puts the staged context at @path in one rename.
 *
 * Returns: (transfer full): the context at @path, opened for reading
 */
TbContext *
tb_context_commit_staged (TbContext *staged, const char *path, GError **error)
{
  g_autofree char *stage = g_strdup (tb_context_get_path (staged));
  g_autofree char *absolute = g_canonicalize_filename (path, NULL);
  g_autofree char *parent = g_path_get_dirname (absolute);
  g_autofree char *old_lock = g_build_filename (absolute, TB_CONTEXT_LOCK_NAME, NULL);

  g_object_unref (staged);
  if (!check_destination (absolute, error))
    return NULL;
  /* an empty destination is replaced; a lock file left in it is not content */
  if (g_file_test (old_lock, G_FILE_TEST_EXISTS))
    {
      TbLock *lock = tb_lock_acquire (old_lock, absolute, error);
      if (lock == NULL)
        return NULL;
      g_unlink (old_lock);
      tb_lock_release (lock);
    }
  if (g_rename (stage, absolute) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot put the new context in place at %s: %s"), absolute,
                   g_strerror (saved_errno));
      return NULL;
    }
  if (!tb_file_fsync_directory (parent, error))
    return NULL;
  return tb_context_open (absolute, TB_CONTEXT_OPEN_READ, error);
}
