/* SPDX-License-Identifier: GPL-3.0-or-later */

/**
 * TbContext:
 *
 * A security context: a directory holding `context.json` (schema
 * version, name, id, and the inventories of keys, certificates, products
 * and jobs) plus the key and certificate files the inventories name.
 * The layout is documented in docs/context.md.
 *
 * Readers never lock: every write replaces a file atomically, so a
 * reader sees the old or the new file. Writers hold an exclusive lock
 * on `DIR/.lock`; a second writer (another process, or another
 * #TbContext in the same process) is refused with %TB_ERROR_BUSY.
 * A context written by a newer Trustbench (higher `schema_version`) is
 * refused with %TB_ERROR_UNSUPPORTED and left untouched; members this
 * build does not know are kept as they are on save.
 *
 * This file: the object, opening, locking, saving and the inventories.
 * The checks of context.json are in tb-context-validate.c.
 */

#include "config.h"

#include "tb-context-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb-error.h"
#include "tb-file.h"
#include "tb-json-private.h"

struct _TbContext {
  GObject parent_instance;

  char *path;
  char *json_path;
  JsonObject *root;
  TbLock *lock;
  char *loaded_sha256;
};

G_DEFINE_FINAL_TYPE (TbContext, tb_context, G_TYPE_OBJECT)

enum { PROP_0, PROP_PATH, PROP_NAME, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char *const inventory_members[TB_INVENTORY_N] = {
  [TB_INVENTORY_KEYS] = "keys",
  [TB_INVENTORY_CERTIFICATES] = "certificates",
  [TB_INVENTORY_PRODUCTS] = "products",
  [TB_INVENTORY_JOBS] = "jobs",
};

const char *const tb_context_inventory_id_members[TB_INVENTORY_N] = {
  [TB_INVENTORY_KEYS] = "name",
  [TB_INVENTORY_CERTIFICATES] = "name",
  [TB_INVENTORY_PRODUCTS] = "name",
  [TB_INVENTORY_JOBS] = "job_id",
};

const char *
tb_inventory_to_string (TbInventory inventory)
{
  g_return_val_if_fail (inventory < TB_INVENTORY_N, NULL);
  return inventory_members[inventory];
}

static void
tb_context_finalize (GObject *object)
{
  TbContext *self = TB_CONTEXT (object);

  g_clear_pointer (&self->lock, tb_lock_release);
  g_clear_pointer (&self->root, json_object_unref);
  g_free (self->loaded_sha256);
  g_free (self->json_path);
  g_free (self->path);
  G_OBJECT_CLASS (tb_context_parent_class)->finalize (object);
}

static void
tb_context_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TbContext *self = TB_CONTEXT (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_NAME:
      g_value_set_string (value, tb_context_get_name (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tb_context_class_init (TbContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tb_context_finalize;
  object_class->get_property = tb_context_get_property;

  props[PROP_PATH] = g_param_spec_string ("path", NULL, NULL, NULL,
                                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL,
                                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * TbContext::changed:
   *
   * The context's contents changed (an entry was added or removed, or it
   * was reloaded from disk).
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
tb_context_init (TbContext *self)
{
}

static gboolean
load_from_disk (TbContext *self, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  JsonObject *root;
  g_autoptr(GError) local_error = NULL;

  if (!tb_file_read_bounded (self->json_path, TB_CONTEXT_MAX_JSON_BYTES, &data, &len, &local_error))
    {
      if (g_error_matches (local_error, TB_ERROR, TB_ERROR_NOT_FOUND))
        g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND,
                     _("%s is not a security context: %s does not exist"),
                     self->path, TB_CONTEXT_FILE_NAME);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  root = tb_context_parse_json (self->json_path, data, len, error);
  if (root == NULL)
    return FALSE;
  g_clear_pointer (&self->root, json_object_unref);
  self->root = root;
  g_free (self->loaded_sha256);
  self->loaded_sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
  return TRUE;
}

static TbContext *
context_new_for_path (const char *path)
{
  TbContext *self = g_object_new (TB_TYPE_CONTEXT, NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);

  /* canonical absolute path, so that messages and recent lists agree */
  self->path = g_file_get_path (file);
  self->json_path = g_build_filename (self->path, TB_CONTEXT_FILE_NAME, NULL);
  return self;
}

static char *
describe_context (TbContext *self)
{
  return g_strdup_printf (_("The security context %s"), self->path);
}

/**
 * tb_context_lock:
 * @self: a context
 *
 * Takes the write lock and reloads the context from disk, so that the
 * caller modifies the latest version. Does nothing when already locked.
 */
gboolean
tb_context_lock (TbContext *self, GError **error)
{
  g_autofree char *lock_path = NULL;
  g_autofree char *what = NULL;
  g_autofree char *before = NULL;

  g_return_val_if_fail (TB_IS_CONTEXT (self), FALSE);
  if (self->lock != NULL)
    return TRUE;
  lock_path = g_build_filename (self->path, TB_CONTEXT_LOCK_NAME, NULL);
  what = describe_context (self);
  self->lock = tb_lock_acquire (lock_path, what, error);
  if (self->lock == NULL)
    return FALSE;
  /* We are the only writer now: leftovers of a crashed writer can go. */
  tb_file_remove_stale_temps (self->path, TB_CONTEXT_FILE_NAME);
  tb_file_remove_stale_temps (self->path, TB_CONTEXT_BACKUP_NAME);
  if (self->root != NULL)
    {
      before = g_strdup (self->loaded_sha256);
      if (!load_from_disk (self, error))
        {
          g_clear_pointer (&self->lock, tb_lock_release);
          return FALSE;
        }
      if (g_strcmp0 (before, self->loaded_sha256) != 0)
        g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
    }
  return TRUE;
}

void
tb_context_unlock (TbContext *self)
{
  g_return_if_fail (TB_IS_CONTEXT (self));
  g_clear_pointer (&self->lock, tb_lock_release);
}

gboolean
tb_context_is_writable (TbContext *self)
{
  g_return_val_if_fail (TB_IS_CONTEXT (self), FALSE);
  return self->lock != NULL;
}

/**
 * tb_context_create:
 * @path: directory to create (it may exist if it is empty)
 * @name: (nullable): human name, defaults to the directory's name
 *
 * Creates an empty context and returns it locked for writing.
 */
TbContext *
tb_context_create (const char *path, const char *name, GError **error)
{
  g_autoptr(TbContext) self = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDir) dir = NULL;
  g_autofree char *default_name = NULL;
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *created = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");

  g_return_val_if_fail (path != NULL, NULL);

  if (g_mkdir_with_parents (path, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                   _("Cannot create directory %s: %s"), path, g_strerror (saved_errno));
      return NULL;
    }
  self = context_new_for_path (path);
  if (g_file_test (self->json_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_EXISTS,
                   _("%s already holds a security context"), self->path);
      return NULL;
    }
  dir = g_dir_open (self->path, 0, NULL);
  if (dir != NULL)
    {
      const char *entry;
      while ((entry = g_dir_read_name (dir)) != NULL)
        if (!g_str_equal (entry, TB_CONTEXT_LOCK_NAME))
          {
            g_set_error (error, TB_ERROR, TB_ERROR_EXISTS,
                         _("%s is not empty (it holds “%s”); choose a new or empty directory"),
                         self->path, entry);
            return NULL;
          }
    }
  if (!tb_context_lock (self, error))
    return NULL;

  if (name == NULL || name[0] == '\0')
    name = default_name = g_path_get_basename (self->path);

  self->root = json_object_new ();
  json_object_set_int_member (self->root, "schema_version", TB_CONTEXT_SCHEMA_VERSION);
  json_object_set_string_member (self->root, "id", uuid);
  json_object_set_string_member (self->root, "name", name);
  json_object_set_string_member (self->root, "created", created);
  for (TbInventory inv = 0; inv < TB_INVENTORY_N; inv++)
    json_object_set_array_member (self->root, inventory_members[inv], json_array_new ());

  if (!tb_context_save (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * tb_context_open:
 * @path: the context directory
 * @flags: %TB_CONTEXT_OPEN_WRITE to take the write lock
 *
 * Loads and validates `context.json`. A missing, truncated or broken file
 * is reported with a message naming the file and the problem; nothing on
 * disk is touched.
 */
TbContext *
tb_context_open (const char *path, TbContextOpenFlags flags, GError **error)
{
  g_autoptr(TbContext) self = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  self = context_new_for_path (path);
  if (!g_file_test (self->path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND,
                   _("No security context at %s: the directory does not exist"), self->path);
      return NULL;
    }
  if (!load_from_disk (self, error))
    return NULL;
  if ((flags & TB_CONTEXT_OPEN_WRITE) && !tb_context_lock (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

static void
open_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  const char *path = task_data;
  GError *error = NULL;
  TbContext *ctx;

  if (g_task_return_error_if_cancelled (task))
    return;
  ctx = tb_context_open (path, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, ctx, g_object_unref);
}

/**
 * tb_context_open_async:
 *
 * Opens a context in a worker thread (loading a large context parses a
 * lot of JSON; the GUI never does that on its main loop). Only read-only
 * opening is done asynchronously; call tb_context_lock() when writing.
 */
void
tb_context_open_async (const char *path, TbContextOpenFlags flags, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_return_if_fail (flags == TB_CONTEXT_OPEN_READ);
  g_task_set_source_tag (task, tb_context_open_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, open_thread);
}

TbContext *
tb_context_open_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
require_lock (TbContext *self, GError **error)
{
  if (self->lock != NULL)
    return TRUE;
  g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
               _("The security context %s is open read-only"), self->path);
  return FALSE;
}

/**
 * tb_context_save:
 * @self: a context locked for writing
 *
 * Writes `context.json` atomically and durably. The previous version is
 * kept as `context.json.bak`.
 */
gboolean
tb_context_save (TbContext *self, GError **error)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *data = NULL;
  g_autofree char *old = NULL;
  gsize old_len = 0;
  gsize len = 0;

  g_return_val_if_fail (TB_IS_CONTEXT (self), FALSE);
  if (!require_lock (self, error))
    return FALSE;

  json_node_set_object (node, self->root);
  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  data = json_generator_to_data (gen, &len);
  data = g_realloc (data, len + 2);
  data[len++] = '\n';
  data[len] = '\0';

  if (g_file_get_contents (self->json_path, &old, &old_len, NULL))
    {
      g_autofree char *backup = g_build_filename (self->path, TB_CONTEXT_BACKUP_NAME, NULL);
      if (old_len == len && memcmp (old, data, len) == 0)
        return TRUE; /* nothing changed */
      if (!tb_file_write_atomic (backup, old, old_len, 0600, error))
        return FALSE;
    }
  if (!tb_file_write_atomic (self->json_path, data, len, 0600, error))
    return FALSE;
  g_free (self->loaded_sha256);
  self->loaded_sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
  return TRUE;
}

/**
 * tb_context_reload:
 *
 * Re-reads `context.json` (after another process changed it). On error
 * the in-memory context is left as it was.
 */
gboolean
tb_context_reload (TbContext *self, GError **error)
{
  g_autofree char *before = NULL;

  g_return_val_if_fail (TB_IS_CONTEXT (self), FALSE);
  before = g_strdup (self->loaded_sha256);
  if (!load_from_disk (self, error))
    return FALSE;
  if (g_strcmp0 (before, self->loaded_sha256) != 0)
    {
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NAME]);
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
    }
  return TRUE;
}

const char *
tb_context_get_path (TbContext *self)
{
  g_return_val_if_fail (TB_IS_CONTEXT (self), NULL);
  return self->path;
}

const char *
tb_context_get_name (TbContext *self)
{
  g_return_val_if_fail (TB_IS_CONTEXT (self), NULL);
  return self->root != NULL ? json_object_get_string_member (self->root, "name") : NULL;
}

void
tb_context_set_name (TbContext *self, const char *name)
{
  g_return_if_fail (TB_IS_CONTEXT (self));
  g_return_if_fail (name != NULL);
  if (g_strcmp0 (name, tb_context_get_name (self)) == 0)
    return;
  json_object_set_string_member (self->root, "name", name);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NAME]);
}

const char *
tb_context_get_id (TbContext *self)
{
  g_return_val_if_fail (TB_IS_CONTEXT (self), NULL);
  return json_object_get_string_member (self->root, "id");
}

const char *
tb_context_get_created (TbContext *self)
{
  g_return_val_if_fail (TB_IS_CONTEXT (self), NULL);
  return json_object_get_string_member (self->root, "created");
}

guint
tb_context_get_schema_version (TbContext *self)
{
  g_return_val_if_fail (TB_IS_CONTEXT (self), 0);
  return (guint) json_object_get_int_member (self->root, "schema_version");
}

/**
 * tb_context_is_demo:
 *
 * Returns: whether this is a demo context, whose passphrase is public
 */
gboolean
tb_context_is_demo (TbContext *self)
{
  g_return_val_if_fail (TB_IS_CONTEXT (self), FALSE);
  return tb_json_get_boolean (self->root, "demo", FALSE);
}

void
tb_context_set_demo (TbContext *self, gboolean is_demo)
{
  g_return_if_fail (TB_IS_CONTEXT (self));
  if (is_demo)
    json_object_set_boolean_member (self->root, "demo", TRUE);
  else
    json_object_remove_member (self->root, "demo");
}

static JsonArray *
get_inventory_array (TbContext *self, TbInventory inventory, gboolean create)
{
  const char *member = inventory_members[inventory];

  if (!json_object_has_member (self->root, member))
    {
      if (!create)
        return NULL;
      json_object_set_array_member (self->root, member, json_array_new ());
    }
  return json_object_get_array_member (self->root, member);
}

/**
 * tb_context_get_entries:
 * @self: a context
 * @inventory: which inventory
 *
 * Returns: (transfer container) (element-type JsonObject): the entries, in
 *   the order they were added
 */
GPtrArray *
tb_context_get_entries (TbContext *self, TbInventory inventory)
{
  GPtrArray *result = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  JsonArray *array;

  g_return_val_if_fail (TB_IS_CONTEXT (self), result);
  g_return_val_if_fail (inventory < TB_INVENTORY_N, result);
  array = get_inventory_array (self, inventory, FALSE);
  if (array == NULL)
    return result;
  for (guint i = 0; i < json_array_get_length (array); i++)
    g_ptr_array_add (result, json_object_ref (json_array_get_object_element (array, i)));
  return result;
}

static gint
find_index (JsonArray *array, TbInventory inventory, const char *id)
{
  if (array == NULL)
    return -1;
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *obj = json_array_get_object_element (array, i);
      if (g_strcmp0 (json_object_get_string_member (obj, tb_context_inventory_id_members[inventory]), id) == 0)
        return (gint) i;
    }
  return -1;
}

/**
 * tb_context_find_entry:
 *
 * Returns: (transfer none) (nullable): the entry named @id
 */
JsonObject *
tb_context_find_entry (TbContext *self, TbInventory inventory, const char *id)
{
  JsonArray *array;
  gint index;

  g_return_val_if_fail (TB_IS_CONTEXT (self), NULL);
  g_return_val_if_fail (inventory < TB_INVENTORY_N, NULL);
  array = get_inventory_array (self, inventory, FALSE);
  index = find_index (array, inventory, id);
  return index >= 0 ? json_array_get_object_element (array, (guint) index) : NULL;
}

/**
 * tb_context_add_entry:
 * @self: a context locked for writing
 * @inventory: which inventory
 * @entry: the entry; it must carry a valid, unused identifier
 *
 * Adds @entry in memory; call tb_context_save() to write it.
 */
gboolean
tb_context_add_entry (TbContext *self, TbInventory inventory, JsonObject *entry, GError **error)
{
  const char *id_member;
  const char *id;
  JsonArray *array;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  g_return_val_if_fail (TB_IS_CONTEXT (self), FALSE);
  g_return_val_if_fail (inventory < TB_INVENTORY_N, FALSE);
  g_return_val_if_fail (entry != NULL, FALSE);
  if (!require_lock (self, error))
    return FALSE;

  id_member = tb_context_inventory_id_members[inventory];
  id = json_object_has_member (entry, id_member) ? json_object_get_string_member (entry, id_member) : NULL;
  if (!tb_name_is_valid (id, error))
    return FALSE;
  array = get_inventory_array (self, inventory, TRUE);
  if (find_index (array, inventory, id) >= 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_EXISTS,
                   _("The context already has an entry “%s” in %s"), id, inventory_members[inventory]);
      return FALSE;
    }
  node = json_node_init_object (json_node_alloc (), entry);
  if (!tb_context_validate_entry (self->json_path, inventory, json_array_get_length (array), node, seen, error))
    return FALSE;
  json_array_add_object_element (array, json_object_ref (entry));
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return TRUE;
}

/**
 * tb_context_remove_entry:
 *
 * Removes an entry in memory (its files stay); call tb_context_save().
 */
gboolean
tb_context_remove_entry (TbContext *self, TbInventory inventory, const char *id, GError **error)
{
  JsonArray *array;
  gint index;

  g_return_val_if_fail (TB_IS_CONTEXT (self), FALSE);
  g_return_val_if_fail (inventory < TB_INVENTORY_N, FALSE);
  if (!require_lock (self, error))
    return FALSE;
  array = get_inventory_array (self, inventory, FALSE);
  index = find_index (array, inventory, id);
  if (index < 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND,
                   _("The context has no entry “%s” in %s"), id, inventory_members[inventory]);
      return FALSE;
    }
  json_array_remove_element (array, (guint) index);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return TRUE;
}

/**
 * tb_context_build_path:
 * @relative: a path relative to the context directory
 *
 * Returns: (transfer full): the absolute path
 */
char *
tb_context_build_path (TbContext *self, const char *relative)
{
  g_return_val_if_fail (TB_IS_CONTEXT (self), NULL);
  g_return_val_if_fail (tb_context_relative_path_is_safe (relative), NULL);
  return g_build_filename (self->path, relative, NULL);
}

/**
 * tb_context_write_file:
 * @self: a context locked for writing
 * @relative: path inside the context, e.g. `keys/root-ca.key`
 * @mode: file mode (0600 for anything secret)
 *
 * Writes a file of the context atomically and durably, creating its
 * parent directories with mode 0700.
 */
gboolean
tb_context_write_file (TbContext *self, const char *relative, const void *data, gsize len,
                       int mode, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (TB_IS_CONTEXT (self), FALSE);
  if (!require_lock (self, error))
    return FALSE;
  if (!tb_context_relative_path_is_safe (relative))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a path inside the context"), relative);
      return FALSE;
    }
  path = g_build_filename (self->path, relative, NULL);
  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                   _("Cannot create directory %s: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }
  return tb_file_write_atomic (path, data, len, mode, error);
}

void
tb_context_file_problem_free (TbContextFileProblem *problem)
{
  if (problem == NULL)
    return;
  g_free (problem->entry);
  g_free (problem->file);
  g_free (problem->message);
  g_free (problem);
}

/* What is wrong with @path, or NULL when it is a regular file this
 * process can open for reading. */
static char *
describe_file_problem (const char *path)
{
  struct stat st;
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  int saved_errno = errno;

  if (fd < 0)
    return saved_errno == ENOENT ? g_strdup (_("is missing"))
                                 : g_strdup_printf (_("cannot be read: %s"), g_strerror (saved_errno));
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return g_strdup (_("is not a regular file"));
    }
  close (fd);
  return NULL;
}

static const char *
inventory_noun (TbInventory inventory)
{
  switch (inventory)
    {
    case TB_INVENTORY_KEYS:
      return _("key");
    case TB_INVENTORY_CERTIFICATES:
      return _("certificate");
    case TB_INVENTORY_PRODUCTS:
      return _("product");
    case TB_INVENTORY_JOBS:
    default:
      return _("job");
    }
}

/**
 * tb_context_check_files:
 *
 * Checks every file the context lists (the `file` and `*_file` members of
 * its keys, certificates, products and jobs): each must be a regular file
 * that can be opened for reading. A file deleted or made unreadable
 * behind the context's back is found here, whether or not anything reads
 * it today (a private key is read only when it is used).
 *
 * Returns: (transfer full) (element-type TbContextFileProblem): the
 *   problems, in inventory order; empty when every file is there
 */
GPtrArray *
tb_context_check_files (TbContext *self)
{
  GPtrArray *problems = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_context_file_problem_free);

  g_return_val_if_fail (TB_IS_CONTEXT (self), problems);
  for (TbInventory inv = 0; inv < TB_INVENTORY_N; inv++)
    {
      g_autoptr(GPtrArray) entries = tb_context_get_entries (self, inv);

      for (guint i = 0; i < entries->len; i++)
        {
          JsonObject *entry = g_ptr_array_index (entries, i);
          const char *id = tb_json_get_string (entry, tb_context_inventory_id_members[inv], "?");
          g_autoptr(GList) members = json_object_get_members (entry);

          for (GList *m = members; m != NULL; m = m->next)
            {
              const char *member = m->data;
              JsonNode *node = json_object_get_member (entry, member);
              const char *relative;
              g_autofree char *path = NULL;
              g_autofree char *what = NULL;
              TbContextFileProblem *p;

              if ((!g_str_equal (member, "file") && !g_str_has_suffix (member, "_file")) ||
                  !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
                continue;
              relative = json_node_get_string (node);
              path = g_build_filename (self->path, relative, NULL);
              what = describe_file_problem (path);
              if (what == NULL)
                continue;
              p = g_new0 (TbContextFileProblem, 1);
              p->inventory = inv;
              p->entry = g_strdup (id);
              p->file = g_strdup (relative);
              /* TRANSLATORS: "certs/mastering.pem, listed for certificate “mastering”, is missing" */
              p->message = g_strdup_printf (_("%s, listed for %s “%s”, %s"), relative, inventory_noun (inv), id, what);
              g_ptr_array_add (problems, p);
            }
        }
    }
  return problems;
}

/**
 * tb_context_entry_has_file_problem:
 * @problems: (element-type TbContextFileProblem): from tb_context_check_files()
 *
 * Returns: whether one of @problems is a file of @entry
 */
gboolean
tb_context_entry_has_file_problem (GPtrArray *problems, TbInventory inventory, const char *entry)
{
  for (guint i = 0; i < problems->len; i++)
    {
      TbContextFileProblem *p = g_ptr_array_index (problems, i);
      if (p->inventory == inventory && g_strcmp0 (p->entry, entry) == 0)
        return TRUE;
    }
  return FALSE;
}

/**
 * tb_context_to_json:
 *
 * Returns: (transfer full): a deep copy of the context document
 */
JsonNode *
tb_context_to_json (TbContext *self)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  g_return_val_if_fail (TB_IS_CONTEXT (self), NULL);
  json_node_set_object (node, self->root);
  return json_node_copy (node);
}
