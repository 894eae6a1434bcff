/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Typed members of JSON read from disk or from a package, for core/ only
 * (tb-json.c): a member of another type is treated as missing, never a
 * GLib critical (json-glib's typed getters are one for an object or an
 * array where a value is due, and these files are input). */

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

JsonNode   *tb_json_value_member (JsonObject *obj,
                                  const char *member,
                                  GType       type);
const char *tb_json_get_string   (JsonObject *obj,
                                  const char *member,
                                  const char *fallback);
gint64      tb_json_get_int      (JsonObject *obj,
                                  const char *member,
                                  gint64      fallback);
gboolean    tb_json_get_boolean  (JsonObject *obj,
                                  const char *member,
                                  gboolean    fallback);
GStrv       tb_json_dup_strv     (JsonObject *obj,
                                  const char *member);
JsonArray  *tb_json_get_array    (JsonObject *obj,
                                  const char *member);
JsonObject *tb_json_array_get_object (JsonArray *array,
                                      guint      index);

G_END_DECLS
