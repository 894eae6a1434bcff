/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Device records: every journal read from the start, its hash chain
 * checked, and exported as JSON (docs/cli.md, “records export”) or CSV. */

#include "config.h"

#include "tb-records-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tb-context-private.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-job.h"
#include "tb-journal-private.h"
#include "tb-json-private.h"

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
      const char *package = tb_json_get_string (job, "package", NULL);
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
        json_object_set_int_member (summary, "slice", tb_json_get_int (job, "slice", 1));
        json_object_set_string_member (summary, "manifest",
                                       tb_json_get_string (pkg, "manifest", ""));
        json_object_set_string_member (summary, "signature",
                                       tb_json_get_string (pkg, "signature", ""));
        if (json_object_has_member (pkg, "signer_certificate"))
          json_object_set_string_member (summary, "signer_certificate",
                                         json_object_get_string_member (pkg, "signer_certificate"));
        json_array_add_object_element (jobs, summary);
      }
      path = tb_job_build_path (ctx, id, TB_JOURNAL_NAME);
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
          obj = tb_journal_parse_line (line, len, &hash, &local);
          if (obj == NULL || (guint64) tb_json_get_int (obj, "seq", 0) != seq + 1 ||
              g_strcmp0 (tb_json_get_string (obj, "prev", NULL), prev) != 0)
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
          event = tb_json_get_string (obj, "event", "");
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
