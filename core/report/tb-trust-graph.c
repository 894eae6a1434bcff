/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The trust chain as a graph: what issues, signs, wraps and provisions
 * what, built from a context (inventory, audit log, device records) with
 * the policy findings attached to the nodes they concern. The model behind
 * the Trust Chain page and the security officer's review report. */
#include "config.h"

#include "tb-trust-graph.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "tb-audit.h"
#include "tb-context-private.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-json-private.h"
#include "tb-pkcs11-uri.h"
#include "tb-policy.h"
#include "tb-render-module.h"

static void
node_free (TbTrustNode *n)
{
  g_free (n->id);
  g_free (n->name);
  g_free (n->algorithm);
  g_free (n->storage);
  g_free (n->subject);
  g_free (n->serial);
  g_free (n->not_after);
  g_free (n->fingerprint);
  g_ptr_array_unref (n->warnings);
  g_free (n);
}

static void
edge_free (TbTrustEdge *e)
{
  g_free (e->from);
  g_free (e->to);
  g_free (e->relation);
  g_free (e);
}

void
tb_trust_graph_free (TbTrustGraph *graph)
{
  if (graph == NULL)
    return;
  g_hash_table_unref (graph->by_id);
  g_ptr_array_unref (graph->nodes);
  g_ptr_array_unref (graph->edges);
  g_free (graph);
}

TbTrustNode *
tb_trust_graph_find (TbTrustGraph *graph, const char *id)
{
  return g_hash_table_lookup (graph->by_id, id);
}

/**
 * tb_trust_graph_new:
 *
 * Returns: (transfer full): an empty graph (tb_trust_graph_new_from_context()
 *   fills one from a context)
 */
TbTrustGraph *
tb_trust_graph_new (void)
{
  TbTrustGraph *graph = g_new0 (TbTrustGraph, 1);

  graph->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) node_free);
  graph->edges = g_ptr_array_new_with_free_func ((GDestroyNotify) edge_free);
  graph->by_id = g_hash_table_new (g_str_hash, g_str_equal);
  return graph;
}

/**
 * tb_trust_graph_add_node:
 *
 * Returns: (transfer none): the node with @id, added if new
 */
TbTrustNode *
tb_trust_graph_add_node (TbTrustGraph *graph, const char *id, TbTrustNodeKind kind, const char *name)
{
  TbTrustNode *n = tb_trust_graph_find (graph, id);

  if (n != NULL)
    return n;
  n = g_new0 (TbTrustNode, 1);
  n->id = g_strdup (id);
  n->kind = kind;
  n->name = g_strdup (name);
  n->count = 1;
  n->warnings = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (graph->nodes, n);
  g_hash_table_insert (graph->by_id, n->id, n);
  return n;
}

gboolean
tb_trust_graph_has_edge (TbTrustGraph *graph, const char *from, const char *to, const char *relation)
{
  for (guint i = 0; i < graph->edges->len; i++)
    {
      TbTrustEdge *e = g_ptr_array_index (graph->edges, i);
      if (g_str_equal (e->from, from) && g_str_equal (e->to, to) &&
          (relation == NULL || g_str_equal (e->relation, relation)))
        return TRUE;
    }
  return FALSE;
}

/**
 * tb_trust_graph_add_edge:
 *
 * Adds an edge unless it is there already or an end is %NULL.
 */
void
tb_trust_graph_add_edge (TbTrustGraph *graph, const char *from, const char *to, const char *relation)
{
  TbTrustEdge *e;

  if (from == NULL || to == NULL || tb_trust_graph_has_edge (graph, from, to, relation))
    return;
  e = g_new0 (TbTrustEdge, 1);
  e->from = g_strdup (from);
  e->to = g_strdup (to);
  e->relation = g_strdup (relation);
  g_ptr_array_add (graph->edges, e);
}

static const char *
member (JsonObject *o, const char *name)
{
  return tb_json_get_string (o, name, NULL);
}

static TbTrustNodeKind
kind_for_usage (const char *usage)
{
  if (g_strcmp0 (usage, "root-ca") == 0)
    return TB_TRUST_NODE_ROOT_CA;
  if (g_strcmp0 (usage, "mastering") == 0)
    return TB_TRUST_NODE_MASTERING;
  if (g_strcmp0 (usage, "product") == 0)
    return TB_TRUST_NODE_PRODUCT;
  if (g_strcmp0 (usage, "job") == 0)
    return TB_TRUST_NODE_JOB;
  return TB_TRUST_NODE_CA;
}

/* Status from the end of validity; policy warnings raise it later. */
static TbTrustStatus
status_for_expiry (const char *not_after, GDateTime *now)
{
  g_autoptr(GDateTime) end = not_after != NULL ? g_date_time_new_from_iso8601 (not_after, NULL) : NULL;
  g_autoptr(GDateTime) soon = g_date_time_add_days (now, TB_POLICY_EXPIRY_WARNING_DAYS);

  if (end == NULL)
    return TB_TRUST_STATUS_VALID;
  if (g_date_time_compare (end, now) <= 0)
    return TB_TRUST_STATUS_EXPIRED;
  if (g_date_time_compare (end, soon) <= 0)
    return TB_TRUST_STATUS_EXPIRING;
  return TB_TRUST_STATUS_VALID;
}

/* Keys and their certificates; a certificate whose issuer is another's
 * subject hangs under that one. */
static void
add_keys_and_certs (TbTrustGraph *graph, TbContext *ctx, GDateTime *now)
{
  g_autoptr(GPtrArray) keys = tb_context_get_entries (ctx, TB_INVENTORY_KEYS);
  g_autoptr(GPtrArray) certs = tb_context_get_entries (ctx, TB_INVENTORY_CERTIFICATES);
  g_autoptr(GHashTable) node_by_subject = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < keys->len; i++)
    {
      JsonObject *k = g_ptr_array_index (keys, i);
      g_autofree char *id = g_strconcat ("key:", member (k, "name"), NULL);
      TbTrustNode *n = tb_trust_graph_add_node (graph, id, kind_for_usage (member (k, "usage")), member (k, "name"));

      n->algorithm = g_strdup (member (k, "algorithm"));
      if (tb_pkcs11_is_uri (member (k, "storage")))
        {
          g_autofree char *label = tb_pkcs11_uri_dup_token_label (member (k, "storage"));
          n->storage = g_strdup_printf (_("token %s"), label != NULL && label[0] != '\0' ? label : "?");
          n->on_token = TRUE;
        }
      else
        n->storage = g_strdup (member (k, "storage"));
      n->fingerprint = g_strdup (member (k, "public_key_sha256"));
    }
  for (guint i = 0; i < certs->len; i++)
    {
      JsonObject *c = g_ptr_array_index (certs, i);
      const char *key = member (c, "key");
      g_autofree char *key_id = key != NULL ? g_strconcat ("key:", key, NULL) : NULL;
      g_autofree char *cert_id = g_strconcat ("cert:", member (c, "name"), NULL);
      TbTrustNode *n = key_id != NULL ? tb_trust_graph_find (graph, key_id) : NULL;

      if (n == NULL)
        n = tb_trust_graph_add_node (graph, cert_id, TB_TRUST_NODE_CA, member (c, "name"));
      g_free (n->subject);
      n->subject = g_strdup (member (c, "subject"));
      g_free (n->serial);
      n->serial = g_strdup (member (c, "serial"));
      g_free (n->not_after);
      n->not_after = g_strdup (member (c, "not_after"));
      g_free (n->fingerprint);
      n->fingerprint = g_strdup (member (c, "sha256"));
      n->status = member (c, "revoked") != NULL ? TB_TRUST_STATUS_REVOKED : status_for_expiry (n->not_after, now);
      if (n->subject != NULL)
        g_hash_table_insert (node_by_subject, n->subject, n);
    }
  for (guint i = 0; i < certs->len; i++)
    {
      JsonObject *c = g_ptr_array_index (certs, i);
      const char *subject = member (c, "subject");
      const char *issuer = member (c, "issuer");
      TbTrustNode *from = issuer != NULL ? g_hash_table_lookup (node_by_subject, issuer) : NULL;
      TbTrustNode *to = subject != NULL ? g_hash_table_lookup (node_by_subject, subject) : NULL;

      if (from != NULL && to != NULL && from != to)
        tb_trust_graph_add_edge (graph, from->id, to->id, "issues");
    }
}

/* The first key of a usage, or the product key of @product. */
static const char *
key_node_id (TbTrustGraph *graph, TbTrustNodeKind kind, const char *product)
{
  g_autofree char *wanted = product != NULL ? g_strconcat ("key:product-", product, NULL) : NULL;

  if (wanted != NULL && tb_trust_graph_find (graph, wanted) != NULL)
    return tb_trust_graph_find (graph, wanted)->id;
  for (guint i = 0; i < graph->nodes->len; i++)
    {
      TbTrustNode *n = g_ptr_array_index (graph->nodes, i);
      if (n->kind == kind && product == NULL)
        return n->id;
    }
  return NULL;
}

/* Mastered images, from the audit log (mastering writes no inventory). */
static void
add_images (TbTrustGraph *graph, TbContext *ctx)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) log = tb_audit_read (ctx, &error);

  if (log == NULL)
    return; /* an unreadable log shows no images; `audit verify` says why */
  for (guint i = 0; i < log->len; i++)
    {
      TbAuditEntry *e = g_ptr_array_index (log, i);
      const char *image_id = tb_audit_entry_get_detail_string (e, "image_id");
      const char *product = tb_audit_entry_get_detail_string (e, "product");
      g_autofree char *id = NULL;
      TbTrustNode *n;

      if (g_strcmp0 (tb_audit_entry_get_event (e), "image.master") != 0 || image_id == NULL)
        continue;
      id = g_strconcat ("image:", image_id, NULL);
      n = tb_trust_graph_add_node (graph, id, TB_TRUST_NODE_IMAGE, tb_audit_entry_get_subject (e));
      n->fingerprint = g_strdup (tb_audit_entry_get_detail_string (e, "plaintext_sha256"));
      tb_trust_graph_add_edge (graph, key_node_id (graph, TB_TRUST_NODE_MASTERING, NULL), id, "signs");
      tb_trust_graph_add_edge (graph, key_node_id (graph, TB_TRUST_NODE_PRODUCT, product), id, "wraps");
    }
}

/* Devices from the records, grouped per product beyond @group_devices. */
static gboolean
add_devices (TbTrustGraph *graph, TbContext *ctx, guint group_devices, GError **error)
{
  g_autofree char *path = tb_context_build_path (ctx, "records/devices.jsonl");
  g_autofree char *data = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GHashTable) per_product = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                             (GDestroyNotify) g_ptr_array_unref);
  GHashTableIter iter;
  gpointer key, value;
  gsize len = 0;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (!tb_file_read_bounded (path, TB_FILE_MAX_SLURP_BYTES, &data, &len, error))
    return FALSE;
  lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonObject *r;
      const char *product;
      GPtrArray *list;

      if (lines[i][0] == '\0' || !json_parser_load_from_data (parser, lines[i], -1, NULL) ||
          !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        continue;
      r = json_node_get_object (json_parser_get_root (parser));
      if (member (r, "uid") == NULL)
        continue;
      product = member (r, "product") != NULL ? member (r, "product") : "";
      list = g_hash_table_lookup (per_product, product);
      if (list == NULL)
        {
          list = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
          g_hash_table_insert (per_product, g_strdup (product), list);
        }
      g_ptr_array_add (list, json_object_ref (r));
    }

  g_hash_table_iter_init (&iter, per_product);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *product = key;
      GPtrArray *list = value;
      const char *from = key_node_id (graph, TB_TRUST_NODE_PRODUCT, product[0] != '\0' ? product : NULL);
      /* device certificates come from the provisioning CA */
      const char *issuer = key_node_id (graph, TB_TRUST_NODE_CA, NULL);

      if (list->len > group_devices)
        {
          g_autofree char *id = g_strconcat ("devices:", product, NULL);
          g_autofree char *name = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u device", "%u devices", list->len), list->len);
          TbTrustNode *n = tb_trust_graph_add_node (graph, id, TB_TRUST_NODE_DEVICE_GROUP, name);
          n->count = list->len;
          n->storage = g_strdup ("device");
          tb_trust_graph_add_edge (graph, from, id, "provisioned into");
          tb_trust_graph_add_edge (graph, issuer, id, "issues");
          continue;
        }
      for (guint i = 0; i < list->len; i++)
        {
          JsonObject *r = g_ptr_array_index (list, i);
          g_autofree char *id = g_strconcat ("device:", member (r, "uid"), NULL);
          TbTrustNode *n = tb_trust_graph_add_node (graph, id, TB_TRUST_NODE_DEVICE, member (r, "uid"));
          g_free (n->serial);
          n->serial = g_strdup (member (r, "device_certificate_serial"));
          g_free (n->storage);
          n->storage = g_strdup ("device");
          tb_trust_graph_add_edge (graph, from, id, "provisioned into");
          tb_trust_graph_add_edge (graph, issuer, id, "issues");
        }
    }
  return TRUE;
}

static void
attach_findings (TbTrustGraph *graph, TbContext *ctx)
{
  g_autoptr(GPtrArray) findings = tb_policy_check_context (ctx);

  for (guint i = 0; i < findings->len; i++)
    {
      TbPolicyFinding *f = g_ptr_array_index (findings, i);
      g_autofree char *key_id = f->subject != NULL ? g_strconcat ("key:", f->subject, NULL) : NULL;
      g_autofree char *cert_id = f->subject != NULL ? g_strconcat ("cert:", f->subject, NULL) : NULL;
      TbTrustNode *n = key_id != NULL ? tb_trust_graph_find (graph, key_id) : NULL;

      if (n == NULL && cert_id != NULL)
        n = tb_trust_graph_find (graph, cert_id);
      if (n == NULL)
        continue;
      g_ptr_array_add (n->warnings, g_strdup (f->message));
      if (f->severity >= TB_SEVERITY_WARNING && n->status == TB_TRUST_STATUS_VALID)
        n->status = TB_TRUST_STATUS_WARNING;
    }
}

/**
 * tb_trust_graph_new_from_context:
 * @group_devices: devices of a product beyond this many become one group
 *   node (%TB_TRUST_GRAPH_GROUP_DEVICES)
 *
 * Returns: (transfer full): the graph, or %NULL with @error when the
 *   device records cannot be read
 */
TbTrustGraph *
tb_trust_graph_new_from_context (TbContext *ctx, guint group_devices, GError **error)
{
  g_autoptr(TbTrustGraph) graph = tb_trust_graph_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  add_keys_and_certs (graph, ctx, now);
  add_images (graph, ctx);
  if (!add_devices (graph, ctx, group_devices, error))
    return NULL;
  attach_findings (graph, ctx);
  return g_steal_pointer (&graph);
}

/**
 * tb_trust_fingerprint_group:
 * @fingerprint: (nullable): hex digits, bare or in colon-separated pairs
 *
 * Writes a fingerprint in groups of four hex digits separated by spaces
 * ("9757 21db e286 …"), so that it is read group by group and wraps only
 * between groups. Text that is not a fingerprint is returned as it is.
 *
 * Returns: (transfer full) (nullable): %NULL when @fingerprint is
 */
char *
tb_trust_fingerprint_group (const char *fingerprint)
{
  GString *out;
  guint digits = 0;

  if (fingerprint == NULL)
    return NULL;
  for (const char *c = fingerprint; *c != '\0'; c++)
    if (!g_ascii_isxdigit (*c) && *c != ':' && *c != ' ')
      return g_strdup (fingerprint);
  out = g_string_new (NULL);
  for (const char *c = fingerprint; *c != '\0'; c++)
    {
      if (!g_ascii_isxdigit (*c))
        continue;
      if (digits > 0 && digits % 4 == 0)
        g_string_append_c (out, ' ');
      g_string_append_c (out, *c);
      digits++;
    }
  return g_string_free (out, FALSE);
}

const char *
tb_trust_node_kind_to_string (TbTrustNodeKind kind)
{
  static const char *const names[] = { "root-ca", "ca", "mastering", "product", "job", "image", "device",
                                       "device-group" };
  return kind < G_N_ELEMENTS (names) ? names[kind] : "unknown";
}

const char *
tb_trust_status_to_string (TbTrustStatus status)
{
  static const char *const names[] = { "valid", "expiring", "expired", "warning", "revoked" };
  return status < G_N_ELEMENTS (names) ? names[status] : "unknown";
}

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

/**
 * tb_trust_graph_to_json:
 *
 * The review report's data: every node with its type, key algorithm,
 * where the private key lives, certificate subject, serial, validity,
 * fingerprint, status and warnings, and every edge.
 *
 * Returns: (transfer full): a JSON object {nodes: […], edges: […]}
 */
JsonNode *
tb_trust_graph_to_json (TbTrustGraph *graph)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "nodes");
  json_builder_begin_array (b);
  for (guint i = 0; i < graph->nodes->len; i++)
    {
      TbTrustNode *n = g_ptr_array_index (graph->nodes, i);

      json_builder_begin_object (b);
      add_string (b, "id", n->id);
      add_string (b, "kind", tb_trust_node_kind_to_string (n->kind));
      add_string (b, "name", n->name);
      add_string (b, "algorithm", n->algorithm);
      add_string (b, "storage", n->storage);
      json_builder_set_member_name (b, "on_token");
      json_builder_add_boolean_value (b, n->on_token);
      add_string (b, "subject", n->subject);
      add_string (b, "serial", n->serial);
      add_string (b, "not_after", n->not_after);
      add_string (b, "fingerprint", n->fingerprint);
      json_builder_set_member_name (b, "count");
      json_builder_add_int_value (b, n->count);
      add_string (b, "status", tb_trust_status_to_string (n->status));
      json_builder_set_member_name (b, "warnings");
      json_builder_begin_array (b);
      for (guint w = 0; w < n->warnings->len; w++)
        json_builder_add_string_value (b, g_ptr_array_index (n->warnings, w));
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "edges");
  json_builder_begin_array (b);
  for (guint i = 0; i < graph->edges->len; i++)
    {
      TbTrustEdge *e = g_ptr_array_index (graph->edges, i);

      json_builder_begin_object (b);
      add_string (b, "from", e->from);
      add_string (b, "to", e->to);
      add_string (b, "relation", e->relation);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/**
 * tb_trust_graph_count:
 *
 * Returns: how many keys and certificates, images and devices @graph shows
 */
TbTrustCounts
tb_trust_graph_count (TbTrustGraph *graph)
{
  TbTrustCounts c = { 0 };

  for (guint i = 0; i < graph->nodes->len; i++)
    {
      TbTrustNode *n = g_ptr_array_index (graph->nodes, i);
      if (n->kind == TB_TRUST_NODE_DEVICE || n->kind == TB_TRUST_NODE_DEVICE_GROUP)
        c.devices += n->count;
      c.images += n->kind == TB_TRUST_NODE_IMAGE;
      c.keys += n->kind <= TB_TRUST_NODE_JOB;
    }
  return c;
}

/* A report named without a known extension goes out as JSON when it is
 * standard output, a pipe or a device ("-", /dev/stdout): the format
 * scripts read. */
static gboolean
is_stream (const char *path)
{
  GStatBuf st;

  return g_str_equal (path, "-") || (g_stat (path, &st) == 0 && (S_ISFIFO (st.st_mode) || S_ISCHR (st.st_mode)));
}

/**
 * tb_trust_report_write:
 * @path: where to write; its extension picks the format (.pdf, .svg or
 *   .json); standard output ("-"), a pipe or a device without one gets JSON
 *
 * Writes the review report a security officer signs off on: the context's
 * identity, every key and certificate with fingerprint, validity, storage
 * and status, the policy findings, the mastered images, the devices (or
 * their count per product) and how they chain. Written atomically.
 */
gboolean
tb_trust_report_write (TbContext *ctx, const char *path, GError **error)
{
  g_autoptr(TbTrustGraph) graph = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *generated = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *text = NULL;
  TbTrustCounts counts;
  gsize len = 0;
  g_autoptr(GPtrArray) keys = NULL;
  g_autoptr(GPtrArray) certs = NULL;
  g_autoptr(GPtrArray) jobs = NULL;

  gboolean pdf = g_str_has_suffix (path, ".pdf"), svg = g_str_has_suffix (path, ".svg");

  if (!g_str_has_suffix (path, ".json") && !pdf && !svg && !is_stream (path))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED,
                   _("Cannot write %s: a report is a .pdf, .svg or .json file (or JSON on standard output, “-”)"),
                   path);
      return FALSE;
    }
  graph = tb_trust_graph_new_from_context (ctx, TB_TRUST_GRAPH_GROUP_DEVICES, error);
  if (graph == NULL)
    return FALSE;
  findings = tb_policy_check_context (ctx);
  if (pdf || svg)
    {
      TbTrustReportDrawFunc draw = tb_render_module_get_report_draw (error);

      return draw != NULL && draw (ctx, graph, findings, path, pdf, error);
    }
  counts = tb_trust_graph_count (graph);
  keys = tb_context_get_entries (ctx, TB_INVENTORY_KEYS);
  certs = tb_context_get_entries (ctx, TB_INVENTORY_CERTIFICATES);
  jobs = tb_context_get_entries (ctx, TB_INVENTORY_JOBS);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "report");
  json_builder_add_string_value (b, "trustbench-review-1");
  add_string (b, "generated", generated);
  json_builder_set_member_name (b, "context");
  json_builder_begin_object (b);
  add_string (b, "name", tb_context_get_name (ctx));
  add_string (b, "id", tb_context_get_id (ctx));
  add_string (b, "path", tb_context_get_path (ctx));
  json_builder_end_object (b);
  json_builder_set_member_name (b, "counts");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "keys");
  json_builder_add_int_value (b, keys->len);
  json_builder_set_member_name (b, "certificates");
  json_builder_add_int_value (b, certs->len);
  json_builder_set_member_name (b, "images");
  json_builder_add_int_value (b, counts.images);
  json_builder_set_member_name (b, "devices");
  json_builder_add_int_value (b, counts.devices);
  json_builder_set_member_name (b, "jobs");
  json_builder_add_int_value (b, jobs->len);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "warnings");
  json_builder_begin_array (b);
  for (guint i = 0; i < findings->len; i++)
    {
      TbPolicyFinding *f = g_ptr_array_index (findings, i);
      json_builder_begin_object (b);
      add_string (b, "severity", tb_severity_to_string (f->severity));
      add_string (b, "subject", f->subject);
      add_string (b, "message", f->message);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "graph");
  json_builder_add_value (b, tb_trust_graph_to_json (graph));
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, &len);
  return tb_file_write_output (path, text, len, 0644, error);
}
