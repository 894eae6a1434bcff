/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Typed members of JSON input (tb-json-private.h). */

#include "config.h"

#include "tb-json-private.h"

/**
 * tb_json_value_member:
 * @obj: (nullable): an object
 *
 * Returns: (transfer none) (nullable): the member @member of @obj when it
 *   holds a value of @type; %NULL when it is missing, null or of another
 *   type
 */
JsonNode *
tb_json_value_member (JsonObject *obj, const char *member, GType type)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != type)
    return NULL;
  return node;
}

/* A member that may be absent: its string, or @fallback. */
const char *
tb_json_get_string (JsonObject *obj, const char *member, const char *fallback)
{
  JsonNode *node = tb_json_value_member (obj, member, G_TYPE_STRING);

  return node != NULL ? json_node_get_string (node) : fallback;
}

/* The same for an integer member. */
gint64
tb_json_get_int (JsonObject *obj, const char *member, gint64 fallback)
{
  JsonNode *node = tb_json_value_member (obj, member, G_TYPE_INT64);

  return node != NULL ? json_node_get_int (node) : fallback;
}

/* The same for a boolean member. */
gboolean
tb_json_get_boolean (JsonObject *obj, const char *member, gboolean fallback)
{
  JsonNode *node = tb_json_value_member (obj, member, G_TYPE_BOOLEAN);

  return node != NULL ? json_node_get_boolean (node) : fallback;
}

/* The strings of the array member @member (other elements skipped); empty
 * when @obj is %NULL or the member is missing or not an array. */
GStrv
tb_json_dup_strv (JsonObject *obj, const char *member)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, member) : NULL;
  JsonArray *array = node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      if (JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING)
        g_strv_builder_add (builder, json_node_get_string (element));
    }
  return g_strv_builder_end (builder);
}

/* The array member @member, or %NULL when it is absent or not an array. */
JsonArray *
tb_json_get_array (JsonObject *obj, const char *member)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/* Element @index of @array if it is an object, else %NULL. */
JsonObject *
tb_json_array_get_object (JsonArray *array, guint index)
{
  JsonNode *node = array != NULL && index < json_array_get_length (array) ? json_array_get_element (array, index)
                                                                           : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}
