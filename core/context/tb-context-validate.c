/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The checks of a security context's context.json before anything reads
 * it: UTF-8, JSON, the members and their types, every inventory entry
 * (an id, unique, safe relative file names), and what to do about a broken
 * file (what its backup holds). */

#include "config.h"

#include "tb-context-private.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "tb-error.h"
#include "tb-file.h"

gboolean
tb_context_relative_path_is_safe (const char *path)
{
  g_auto(GStrv) parts = NULL;

  if (path == NULL || path[0] == '\0' || g_path_is_absolute (path))
    return FALSE;
  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (g_str_equal (parts[i], "..") || g_str_equal (parts[i], ""))
      return FALSE;
  return TRUE;
}

static gboolean
fail_invalid (GError **error, const char *file, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail_invalid (GError **error, const char *file, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, "%s: %s", file, msg);
  return FALSE;
}

/* The entry members the code reads with json-glib's typed getters, and the
 * type each must have when present (or null): a getter meeting another type
 * fails with a critical instead of the file being refused. */
static const struct {
  const char *name;
  GType type;
} entry_member_types[] = {
  { "name", G_TYPE_STRING }, { "usage", G_TYPE_STRING }, { "algorithm", G_TYPE_STRING },
  { "storage", G_TYPE_STRING }, { "key", G_TYPE_STRING }, { "public_key_sha256", G_TYPE_STRING },
  { "subject", G_TYPE_STRING }, { "issuer", G_TYPE_STRING }, { "serial", G_TYPE_STRING },
  { "not_after", G_TYPE_STRING }, { "sha256", G_TYPE_STRING }, { "certificate", G_TYPE_STRING },
  { "created", G_TYPE_STRING }, { "revoked", G_TYPE_STRING }, { "revocation_reason", G_TYPE_STRING },
  { "product", G_TYPE_STRING }, { "job_id", G_TYPE_STRING }, { "role", G_TYPE_STRING }, { "oem", G_TYPE_STRING },
  { "image_version", G_TYPE_STRING }, { "image_id", G_TYPE_STRING }, { "plaintext_sha256", G_TYPE_STRING },
  { "upk", G_TYPE_STRING }, { "image", G_TYPE_STRING }, { "upk_sha256", G_TYPE_STRING },
  { "image_sha256", G_TYPE_STRING }, { "root_sha256", G_TYPE_STRING }, { "package", G_TYPE_STRING },
  { "manifest", G_TYPE_STRING }, { "signature", G_TYPE_STRING }, { "signer_certificate", G_TYPE_STRING },
  { "issuer_certificate", G_TYPE_STRING }, { "count", G_TYPE_INT64 }, { "total_count", G_TYPE_INT64 },
  { "first", G_TYPE_INT64 }, { "slice", G_TYPE_INT64 }, { "device_types", G_TYPE_INVALID /* an array */ },
};

static gboolean
entry_member_has_type (const char *name, JsonNode *value)
{
  for (guint i = 0; i < G_N_ELEMENTS (entry_member_types); i++)
    if (g_str_equal (name, entry_member_types[i].name))
      {
        if (JSON_NODE_HOLDS_NULL (value))
          return TRUE;
        if (entry_member_types[i].type == G_TYPE_INVALID)
          return JSON_NODE_HOLDS_ARRAY (value);
        return JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == entry_member_types[i].type;
      }
  return TRUE;
}

gboolean
tb_context_validate_entry (const char *file, TbInventory inventory, guint index, JsonNode *node,
                GHashTable *seen, GError **error)
{
  const char *member = tb_inventory_to_string (inventory);
  const char *id_member = tb_context_inventory_id_members[inventory];
  JsonObject *obj;
  JsonNode *id_node;
  const char *id;
  g_autoptr(GError) name_error = NULL;
  g_autoptr(GList) members = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail_invalid (error, file, _("%s[%u] must be an object"), member, index);
  obj = json_node_get_object (node);
  id_node = json_object_get_member (obj, id_member);
  if (id_node == NULL || json_node_get_value_type (id_node) != G_TYPE_STRING)
    return fail_invalid (error, file, _("%s[%u] has no string member “%s”"), member, index, id_member);
  id = json_node_get_string (id_node);
  if (!tb_name_is_valid (id, &name_error))
    return fail_invalid (error, file, "%s[%u]: %s", member, index, name_error->message);
  if (!g_hash_table_add (seen, (gpointer) id))
    return fail_invalid (error, file, _("%s[%u]: “%s” appears twice"), member, index, id);

  /* Members of the type their readers expect; files named by an entry
   * stay inside the context directory. */
  members = json_object_get_members (obj);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *value = json_object_get_member (obj, key);

      if (!entry_member_has_type (key, value))
        return fail_invalid (error, file, _("%s[%u].%s has the wrong type (a string, a number or a list "
                                            "where another is due)"), member, index, key);
      if (!g_str_equal (key, "file") && !g_str_has_suffix (key, "_file"))
        continue;
      if (json_node_get_value_type (value) != G_TYPE_STRING ||
          !tb_context_relative_path_is_safe (json_node_get_string (value)))
        return fail_invalid (error, file,
                             _("%s[%u].%s must be a path relative to the context directory"),
                             member, index, key);
    }
  return TRUE;
}

static gboolean
validate_root (const char *file, JsonNode *root_node, GError **error)
{
  JsonObject *root;
  JsonNode *node;
  gint64 version;

  if (root_node == NULL)
    return fail_invalid (error, file, _("the file is empty"));
  if (!JSON_NODE_HOLDS_OBJECT (root_node))
    return fail_invalid (error, file, _("the top level must be a JSON object"));
  root = json_node_get_object (root_node);

  node = json_object_get_member (root, "schema_version");
  if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64)
    return fail_invalid (error, file, _("“schema_version” is missing or not an integer"));
  version = json_node_get_int (node);
  if (version > TB_CONTEXT_SCHEMA_VERSION)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED,
                   _("%s: schema version %" G_GINT64_FORMAT " is newer than this Trustbench supports (%d); "
                     "update Trustbench to open it (the file was not changed)"),
                   file, version, TB_CONTEXT_SCHEMA_VERSION);
      return FALSE;
    }
  if (version < 1)
    return fail_invalid (error, file, _("“schema_version” %" G_GINT64_FORMAT " is not valid"), version);

  for (const char *const *m = (const char *const[]){ "id", "name", "created", NULL }; *m != NULL; m++)
    {
      node = json_object_get_member (root, *m);
      if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
        return fail_invalid (error, file, _("“%s” is missing or not a string"), *m);
    }

  for (TbInventory inv = 0; inv < TB_INVENTORY_N; inv++)
    {
      g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
      JsonArray *array;

      node = json_object_get_member (root, tb_inventory_to_string (inv));
      if (node == NULL)
        continue; /* an empty inventory may be omitted */
      if (!JSON_NODE_HOLDS_ARRAY (node))
        return fail_invalid (error, file, _("“%s” must be an array"), tb_inventory_to_string (inv));
      array = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (array); i++)
        if (!tb_context_validate_entry (file, inv, i, json_array_get_element (array, i), seen, error))
          return FALSE;
    }
  return TRUE;
}

static guint
count_members (JsonObject *root, const char *member)
{
  JsonNode *node = json_object_get_member (root, member);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_array_get_length (json_node_get_array (node)) : 0;
}

/* What to do about a broken @file: what its backup holds (when it was
 * written, how many keys and certificates), so that nobody restores the
 * empty context `init` left there believing it is the last good one. */
static char *
describe_backup (const char *file)
{
  g_autofree char *dir = g_path_get_dirname (file);
  g_autofree char *backup = g_build_filename (dir, TB_CONTEXT_BACKUP_NAME, NULL);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GDateTime) mtime = NULL;
  g_autofree char *data = NULL;
  g_autofree char *when = NULL;
  g_autofree char *keys = NULL;
  g_autofree char *certs = NULL;
  gsize len = 0;
  GStatBuf st;
  guint n_keys, n_certs;

  if (g_stat (backup, &st) != 0 || !tb_file_read_bounded (backup, TB_CONTEXT_MAX_JSON_BYTES, &data, &len, NULL))
    return g_strdup_printf (_("fix it; there is no %s to restore"), TB_CONTEXT_BACKUP_NAME);
  if (!g_utf8_validate (data, (gssize) len, NULL) || !json_parser_load_from_data (parser, data, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return g_strdup_printf (_("fix it; %s is broken too"), TB_CONTEXT_BACKUP_NAME);
  mtime = g_date_time_new_from_unix_utc (st.st_mtime);
  when = mtime != NULL ? g_date_time_format (mtime, "%Y-%m-%d %H:%M:%S UTC") : g_strdup ("?");
  n_keys = count_members (json_node_get_object (json_parser_get_root (parser)), "keys");
  n_certs = count_members (json_node_get_object (json_parser_get_root (parser)), "certificates");
  if (n_keys == 0 && n_certs == 0)
    return g_strdup_printf (_("fix it: %s, written %s, holds an empty context with no keys and no certificates; "
                              "restoring it would lose every key and certificate"),
                            TB_CONTEXT_BACKUP_NAME, when);
  keys = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u key", "%u keys", n_keys), n_keys);
  certs = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u certificate", "%u certificates", n_certs), n_certs);
  return g_strdup_printf (_("fix it or restore %s, written %s, which holds %s and %s"), TB_CONTEXT_BACKUP_NAME, when,
                          keys, certs);
}

JsonObject *
tb_context_parse_json (const char *file, const char *data, gsize len, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (!g_utf8_validate (data, (gssize) len, NULL))
    {
      fail_invalid (error, file, _("the file is not valid UTF-8 text"));
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local_error))
    {
      /* json-glib says "<data>:LINE:COL: Parse error: …"; name the file instead */
      const char *msg = local_error->message;
      if (g_str_has_prefix (msg, "<data>:"))
        msg += strlen ("<data>:");
      g_autofree char *advice = describe_backup (file);
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("%s:%s (the file is truncated or broken; it was not changed — %s)"), file, msg, advice);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (!validate_root (file, root, error))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}
