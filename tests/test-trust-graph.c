/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The trust graph built from a context: nodes, edges, grouping of many
 * devices, policy findings on nodes, and the review report. */

#include "config.h"

#include "tb-test-util.h"
#include "trustbench.h"

#define PASS "graph passphrase"

static void
record_device (TbContext *ctx, const char *product, guint i)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  TbProvisionResult r = { 0 };

  r.uid = g_strdup_printf ("%08x", 0xd0000000u + i);
  r.product = g_strdup (product);
  r.device_type = g_strdup ("tb-vmcu-m4");
  r.device_certificate_serial = g_strdup_printf ("%016x", i + 1);
  r.lifecycle = g_strdup ("locked");
  id = tb_provision_record (ctx, &r, &error);
  g_assert_no_error (error);
  tb_provision_result_clear (&r);
}

static void
test_graph (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "ctx", NULL);
  g_autofree char *bin = g_build_filename (tmp, "app.bin", NULL);
  g_autofree char *image = g_build_filename (tmp, "app.tbimg", NULL);
  g_autofree char *upk_path = g_build_filename (tmp, "app.tbupk", NULL);
  g_autofree char *report = g_build_filename (tmp, "review.json", NULL);
  g_autofree char *image_id = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_create (dir, "Graph Test", &error);
  g_autoptr(TbTrustGraph) graph = NULL;
  g_autoptr(TbFirmware) fw = NULL;
  g_autoptr(TbUpk) upk = NULL;
  const char *products[] = { "sensor", "gateway", NULL };
  TbMasterOptions options = { "sensor", NULL, NULL, "1.0.0", 1, 0 };
  TbTrustNode *n;

  g_assert_true (tb_hierarchy_create (ctx, products, NULL, PASS, NULL, &error));
  g_assert_no_error (error);
  tb_test_write_file (bin, "an application image");
  fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, 0x08008000, &error);
  upk = tb_master_image (ctx, fw, &options, PASS, image, upk_path, NULL, &error);
  g_assert_no_error (error);
  {
    const guint8 *raw = tb_upk_get_image_id (upk);
    GString *s = g_string_new ("image:");
    for (guint i = 0; i < 16; i++)
      g_string_append_printf (s, "%02x", raw[i]);
    image_id = g_string_free (s, FALSE);
  }
  for (guint i = 0; i < 3; i++)
    record_device (ctx, "sensor", i);
  for (guint i = 0; i < 20; i++)
    record_device (ctx, "gateway", 100 + i);

  graph = tb_trust_graph_new_from_context (ctx, 12, &error);
  g_assert_no_error (error);

  n = tb_trust_graph_find (graph, "key:root-ca");
  g_assert_nonnull (n);
  g_assert_cmpint (n->kind, ==, TB_TRUST_NODE_ROOT_CA);
  g_assert_cmpstr (n->storage, ==, "file");
  g_assert_nonnull (n->subject);
  g_assert_nonnull (n->not_after);
  /* the root key in a file is a policy warning, shown on the node */
  g_assert_cmpint (n->status, ==, TB_TRUST_STATUS_WARNING);
  g_assert_cmpuint (n->warnings->len, >, 0);
  g_assert_cmpint (tb_trust_graph_find (graph, "key:mastering")->kind, ==, TB_TRUST_NODE_MASTERING);
  g_assert_cmpint (tb_trust_graph_find (graph, "key:product-gateway")->kind, ==, TB_TRUST_NODE_PRODUCT);
  g_assert_cmpint (tb_trust_graph_find (graph, "key:mastering")->status, ==, TB_TRUST_STATUS_VALID);

  g_assert_true (tb_trust_graph_has_edge (graph, "key:root-ca", "key:provisioning-ca", "issues"));
  g_assert_true (tb_trust_graph_has_edge (graph, "key:root-ca", "key:mastering", "issues"));
  g_assert_true (tb_trust_graph_has_edge (graph, "key:root-ca", "key:product-sensor", "issues"));
  g_assert_false (tb_trust_graph_has_edge (graph, "key:root-ca", "key:root-ca", NULL));

  n = tb_trust_graph_find (graph, image_id);
  g_assert_nonnull (n);
  g_assert_cmpstr (n->name, ==, "sensor 1.0.0");
  g_assert_true (tb_trust_graph_has_edge (graph, "key:mastering", image_id, "signs"));
  g_assert_true (tb_trust_graph_has_edge (graph, "key:product-sensor", image_id, "wraps"));
  g_assert_false (tb_trust_graph_has_edge (graph, "key:product-gateway", image_id, NULL));

  /* three sensors shown one by one, twenty gateways as one group */
  g_assert_nonnull (tb_trust_graph_find (graph, "device:d0000001"));
  g_assert_true (tb_trust_graph_has_edge (graph, "key:product-sensor", "device:d0000001", "provisioned into"));
  g_assert_true (tb_trust_graph_has_edge (graph, "key:provisioning-ca", "device:d0000001", "issues"));
  g_assert_null (tb_trust_graph_find (graph, "device:d0000064"));
  n = tb_trust_graph_find (graph, "devices:gateway");
  g_assert_nonnull (n);
  g_assert_cmpint (n->kind, ==, TB_TRUST_NODE_DEVICE_GROUP);
  g_assert_cmpuint (n->count, ==, 20);
  g_assert_true (tb_trust_graph_has_edge (graph, "key:product-gateway", "devices:gateway", "provisioned into"));
  /* 5 keys (root, provisioning CA, mastering, two product keys), 1 image, 3 devices, 1 group */
  g_assert_cmpuint (graph->nodes->len, ==, 5 + 1 + 3 + 1);

  /* the review report */
  g_assert_true (tb_trust_report_write (ctx, report, &error));
  g_assert_no_error (error);
  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonObject *root, *counts;
    g_assert_true (json_parser_load_from_file (parser, report, NULL));
    root = json_node_get_object (json_parser_get_root (parser));
    counts = json_object_get_object_member (root, "counts");
    g_assert_cmpint (json_object_get_int_member (counts, "keys"), ==, 5);
    g_assert_cmpint (json_object_get_int_member (counts, "devices"), ==, 23);
    g_assert_cmpint (json_object_get_int_member (counts, "images"), ==, 1);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "warnings")), >, 0);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_object_get_object_member (root,
                                                                                                      "graph"),
                                                                       "edges")),
                      ==, graph->edges->len);
  }
  {
    g_autofree char *pdf = g_build_filename (tmp, "review.pdf", NULL);
    g_assert_false (tb_trust_report_write (ctx, pdf, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED);
    g_assert_false (g_file_test (pdf, G_FILE_TEST_EXISTS));
  }
  tb_test_rm_rf (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tb/trust-graph/from-context", test_graph);
  return g_test_run ();
}
