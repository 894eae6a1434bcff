/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The trust graph built from a context: nodes, edges, grouping of many
 * devices, policy findings on nodes, and the review report. */

#include "config.h"

#include <math.h>

#include "tb-test-util.h"
#include "trustbench.h"
#include "tb-trust-layout.h"
#include "tb-trust-render.h"

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
  /* drawn: a PDF that pdfinfo opens, an SVG that parses */
  {
    g_autofree char *pdf = g_build_filename (tmp, "review.pdf", NULL);
    g_autofree char *svg = g_build_filename (tmp, "review.svg", NULL);
    g_autofree char *txt = g_build_filename (tmp, "review.txt", NULL);
    g_autofree char *svg_text = NULL;
    const char *pdfinfo = g_getenv ("TB_PDFINFO");

    g_assert_true (tb_trust_report_write (ctx, pdf, &error));
    g_assert_no_error (error);
    if (pdfinfo != NULL)
      {
        g_autofree char *out = NULL;
        int status = -1;
        const char *argv[] = { pdfinfo, pdf, NULL };
        g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status,
                                     &error));
        g_assert_cmpint (status, ==, 0);
        g_assert_true (g_regex_match_simple ("^Pages:\\s+1$", out, G_REGEX_MULTILINE, 0));
      }
    else
      g_test_message ("pdfinfo not found: the PDF is only checked for its header");
    {
      g_autofree char *head = tb_test_read_file (pdf, NULL);
      g_assert_true (g_str_has_prefix (head, "%PDF-"));
    }
    g_assert_true (tb_trust_report_write (ctx, svg, &error));
    g_assert_no_error (error);
    svg_text = tb_test_read_file (svg, NULL);
    {
      GMarkupParser parser = { 0 };
      g_autoptr(GMarkupParseContext) mc = g_markup_parse_context_new (&parser, 0, NULL, NULL);
      g_assert_true (g_markup_parse_context_parse (mc, svg_text, -1, &error) &&
                     g_markup_parse_context_end_parse (mc, &error));
      g_assert_no_error (error);
      g_assert_nonnull (strstr (svg_text, "<svg"));
    }
    g_assert_false (tb_trust_report_write (ctx, txt, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED);
    g_assert_false (g_file_test (txt, G_FILE_TEST_EXISTS));
  }
  g_clear_error (&error);
  /* revocation: the node, verification, the policy check, the audit log */
  {
    g_autoptr(TbTrustGraph) after = NULL;
    g_autoptr(TbCert) cert = tb_cert_load (ctx, "product-gateway", &error);
    g_autoptr(GPtrArray) findings = NULL;
    g_autoptr(GPtrArray) log = NULL;
    gboolean reported = FALSE;

    g_assert_no_error (error);
    g_assert_true (tb_cert_verify (ctx, cert, NULL, &error));
    g_assert_true (tb_cert_revoke (ctx, "product-gateway", "key compromise", &error));
    g_assert_no_error (error);
    g_assert_true (tb_context_save (ctx, &error));
    g_assert_false (tb_cert_revoke (ctx, "product-gateway", NULL, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_EXISTS);
    g_clear_error (&error);
    g_assert_false (tb_cert_revoke (ctx, "no-such-cert", NULL, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
    g_clear_error (&error);
    g_assert_false (tb_cert_verify (ctx, cert, NULL, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
    g_assert_nonnull (strstr (error->message, "revoked"));
    g_clear_error (&error);
    after = tb_trust_graph_new_from_context (ctx, 12, &error);
    g_assert_cmpint (tb_trust_graph_find (after, "key:product-gateway")->status, ==, TB_TRUST_STATUS_REVOKED);
    g_assert_cmpint (tb_trust_graph_find (after, "key:product-sensor")->status, ==, TB_TRUST_STATUS_VALID);
    findings = tb_policy_check_context (ctx);
    for (guint i = 0; i < findings->len; i++)
      {
        TbPolicyFinding *f = g_ptr_array_index (findings, i);
        if (g_strcmp0 (f->subject, "product-gateway") == 0)
          {
            g_assert_cmpint (f->severity, ==, TB_SEVERITY_CRITICAL);
            g_assert_nonnull (strstr (f->message, "key compromise"));
            g_assert_false (reported); /* reported once */
            reported = TRUE;
          }
      }
    g_assert_true (reported);
    log = tb_audit_read (ctx, &error);
    g_assert_cmpstr (tb_audit_entry_get_event (g_ptr_array_index (log, log->len - 1)), ==, "cert.revoke");
  }
  tb_test_rm_rf (tmp);
}

/* A hierarchy with @products products and @devices devices spread over
 * them, built directly (no keys needed to test the layout). */
static TbTrustGraph *
generated (guint products, guint devices, guint group)
{
  TbTrustGraph *graph = tb_trust_graph_new ();

  tb_trust_graph_add_node (graph, "key:root-ca", TB_TRUST_NODE_ROOT_CA, "root-ca");
  tb_trust_graph_add_node (graph, "key:provisioning-ca", TB_TRUST_NODE_CA, "provisioning-ca");
  tb_trust_graph_add_node (graph, "key:mastering", TB_TRUST_NODE_MASTERING, "mastering");
  tb_trust_graph_add_edge (graph, "key:root-ca", "key:provisioning-ca", "issues");
  tb_trust_graph_add_edge (graph, "key:root-ca", "key:mastering", "issues");
  for (guint p = 0; p < products; p++)
    {
      g_autofree char *id = g_strdup_printf ("key:product-p%u", p);
      g_autofree char *image = g_strdup_printf ("image:%u", p);
      tb_trust_graph_add_node (graph, id, TB_TRUST_NODE_PRODUCT, id + 4);
      tb_trust_graph_add_edge (graph, "key:root-ca", id, "issues");
      tb_trust_graph_add_node (graph, image, TB_TRUST_NODE_IMAGE, "p 1.0.0");
      tb_trust_graph_add_edge (graph, "key:mastering", image, "signs");
      tb_trust_graph_add_edge (graph, id, image, "wraps");
    }
  /* grouping as the context loader does it: per product beyond @group */
  for (guint p = 0; p < products; p++)
    {
      guint n = devices / products + (p < devices % products);
      g_autofree char *product = g_strdup_printf ("key:product-p%u", p);
      if (n > group)
        {
          g_autofree char *id = g_strdup_printf ("devices:p%u", p);
          TbTrustNode *node = tb_trust_graph_add_node (graph, id, TB_TRUST_NODE_DEVICE_GROUP, "devices");
          node->count = n;
          tb_trust_graph_add_edge (graph, product, id, "provisioned into");
          continue;
        }
      for (guint d = 0; d < n; d++)
        {
          g_autofree char *id = g_strdup_printf ("device:%u-%u", p, d);
          tb_trust_graph_add_node (graph, id, TB_TRUST_NODE_DEVICE, id + 7);
          tb_trust_graph_add_edge (graph, product, id, "provisioned into");
          tb_trust_graph_add_edge (graph, "key:provisioning-ca", id, "issues");
        }
    }
  return graph;
}

static void
assert_no_overlap (TbTrustGraph *graph, TbTrustLayout *layout)
{
  for (guint i = 0; i < graph->nodes->len; i++)
    {
      const TbTrustRect *a = tb_trust_layout_get_rect (layout, ((TbTrustNode *) graph->nodes->pdata[i])->id);
      g_assert_nonnull (a);
      g_assert_cmpfloat (a->x, >=, -0.5);
      g_assert_cmpfloat (a->y, >=, -0.5);
      g_assert_cmpfloat (a->x + a->width, <=, layout->width + 0.5);
      g_assert_cmpfloat (a->y + a->height, <=, layout->height + 0.5);
      for (guint j = i + 1; j < graph->nodes->len; j++)
        {
          const TbTrustRect *b = tb_trust_layout_get_rect (layout, ((TbTrustNode *) graph->nodes->pdata[j])->id);
          gboolean apart = a->x + a->width <= b->x + 0.5 || b->x + b->width <= a->x + 0.5 ||
                           a->y + a->height <= b->y + 0.5 || b->y + b->height <= a->y + 0.5;
          if (!apart)
            g_error ("%s and %s overlap", ((TbTrustNode *) graph->nodes->pdata[i])->id,
                     ((TbTrustNode *) graph->nodes->pdata[j])->id);
        }
    }
}

static void
test_layout (void)
{
  const guint sizes[] = { 1, 10, 1000 };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TbTrustGraph) graph = generated (3, sizes[s], TB_TRUST_GRAPH_GROUP_DEVICES);
      g_autoptr(TbTrustLayout) layout = tb_trust_layout_compute (graph, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (layout->paths->len, ==, graph->edges->len);
      assert_no_overlap (graph, layout);
      /* layered top-down: root above the keys, keys above images, images above devices */
      {
        const TbTrustRect *root = tb_trust_layout_get_rect (layout, "key:root-ca");
        const TbTrustRect *product = tb_trust_layout_get_rect (layout, "key:product-p0");
        const TbTrustRect *image = tb_trust_layout_get_rect (layout, "image:0");
        g_assert_cmpfloat (root->y + root->height, <, product->y);
        g_assert_cmpfloat (product->y + product->height, <, image->y);
      }
      /* every edge has a path that starts at its source's box */
      for (guint i = 0; i < graph->edges->len; i++)
        {
          GArray *path = g_ptr_array_index (layout->paths, i);
          TbTrustEdge *e = g_ptr_array_index (graph->edges, i);
          const TbTrustRect *from = tb_trust_layout_get_rect (layout, e->from);
          g_assert_cmpuint (path->len, >=, 8);
          g_assert_cmpuint ((path->len / 2 - 1) % 3, ==, 0);
          {
            double x = g_array_index (path, double, 0), y = g_array_index (path, double, 1);
            double dx = MAX (MAX (from->x - x, 0), x - (from->x + from->width));
            double dy = MAX (MAX (from->y - y, 0), y - (from->y + from->height));
            g_assert_cmpfloat (sqrt (dx * dx + dy * dy), <, 2.0);
          }
        }
    }
  /* without grouping, 1000 devices still do not overlap */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(TbTrustGraph) graph = generated (4, 1000, G_MAXUINT);
    g_autoptr(TbTrustLayout) layout = tb_trust_layout_compute (graph, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (graph->nodes->len, ==, 3 + 4 + 4 + 1000);
    assert_no_overlap (graph, layout);
  }
}

/* Fingerprints are read and wrapped by groups of four hex digits. */
static void
test_fingerprint_group (void)
{
  const struct {
    const char *in, *out;
  } cases[] = {
    { "975721dbe28604f3", "9757 21db e286 04f3" },
    { "97:57:21:DB:E2:86", "9757 21DB E286" },
    { "975721d", "9757 21d" },
    { "", "" },
    { "not a fingerprint", "not a fingerprint" },
  };
  g_autofree char *sha256 = NULL;
  g_autofree char *grouped = NULL;
  g_auto(GStrv) groups = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = tb_trust_fingerprint_group (cases[i].in);
      g_assert_cmpstr (out, ==, cases[i].out);
    }
  g_assert_null (tb_trust_fingerprint_group (NULL));
  /* a SHA-256: 16 groups, every one whole, so a line breaks only between two */
  sha256 = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "trustbench", -1);
  grouped = tb_trust_fingerprint_group (sha256);
  groups = g_strsplit (grouped, " ", -1);
  g_assert_cmpuint (g_strv_length (groups), ==, 16);
  for (guint i = 0; groups[i] != NULL; i++)
    g_assert_cmpuint (strlen (groups[i]), ==, 4);
}

/* Every text of a node is drawn at the body size or larger, and with
 * glyphs the font has: the badges before a finding or a revocation are
 * drawn shapes, not characters that come out as a missing-glyph box. */
static void
test_node_text (void)
{
  g_autoptr(TbTrustGraph) graph = tb_trust_graph_new ();
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 8, 8);
  cairo_t *cr = cairo_create (surface);
  TbTrustNode *root = tb_trust_graph_add_node (graph, "key:root-ca", TB_TRUST_NODE_ROOT_CA, "root-ca");
  TbTrustNode *ca = tb_trust_graph_add_node (graph, "key:ca", TB_TRUST_NODE_CA, "ca");
  TbTrustNode *image = tb_trust_graph_add_node (graph, "image:1", TB_TRUST_NODE_IMAGE, "sensor 1.0.0");

  for (TbTrustText t = 0; t < TB_TRUST_N_TEXTS; t++)
    g_assert_cmpfloat (tb_trust_render_get_font_size (t), >=, 11.0);
  root->algorithm = g_strdup ("ec-p256");
  root->storage = g_strdup ("file");
  g_ptr_array_add (root->warnings, g_strdup ("kept in a file"));
  ca->status = TB_TRUST_STATUS_REVOKED;
  image->fingerprint = g_strdup ("630dcd2966c43366911a0e4c2b8f3d1e630dcd2966c43366911a0e4c2b8f3d1e");
  {
    g_autofree char *finding = tb_trust_render_node_text (root, TB_TRUST_TEXT_DETAIL);
    g_autofree char *revoked = tb_trust_render_node_text (ca, TB_TRUST_TEXT_DETAIL);
    g_autofree char *digest = tb_trust_render_node_text (image, TB_TRUST_TEXT_DETAIL);
    g_assert_cmpstr (finding, ==, "1 policy finding");
    g_assert_cmpstr (revoked, ==, "revoked");
    g_assert_true (g_str_has_prefix (digest, "SHA-256 630d cd29 66c4"));
  }
  for (guint i = 0; i < graph->nodes->len; i++)
    for (TbTrustText t = TB_TRUST_TEXT_KIND; t <= TB_TRUST_TEXT_DETAIL; t++)
      {
        g_autofree char *text = tb_trust_render_node_text (g_ptr_array_index (graph->nodes, i), t);
        cairo_glyph_t *glyphs = NULL;
        int n_glyphs = 0;

        tb_trust_render_set_font (cr, t);
        g_assert_cmpint (cairo_scaled_font_text_to_glyphs (cairo_get_scaled_font (cr), 0, 0, text, -1, &glyphs,
                                                           &n_glyphs, NULL, NULL, NULL), ==, CAIRO_STATUS_SUCCESS);
        for (int g = 0; g < n_glyphs; g++)
          if (glyphs[g].index == 0)
            g_error ("“%s” has a character the font lacks", text);
        cairo_glyph_free (glyphs);
      }
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* Each edge's label is where graphviz placed it: clear of every node and
 * of every arrowhead, and of the other labels. */
static void
test_edge_labels (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbTrustGraph) graph = generated (3, 10, TB_TRUST_GRAPH_GROUP_DEVICES);
  g_autoptr(TbTrustLayout) layout = tb_trust_layout_compute (graph, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (layout->labels->len, ==, graph->edges->len);
  for (guint i = 0; i < layout->labels->len; i++)
    {
      const TbTrustRect *l = &g_array_index (layout->labels, TbTrustRect, i);
      const double slack = 1.0;

      g_assert_cmpfloat (l->width, >, 0);
      g_assert_cmpfloat (l->height, >=, TB_TRUST_EDGE_LABEL_SIZE);
      for (guint j = 0; j < graph->nodes->len; j++)
        {
          const TbTrustRect *r = tb_trust_layout_get_rect (layout, ((TbTrustNode *) graph->nodes->pdata[j])->id);
          g_assert_true (l->x + l->width <= r->x + slack || r->x + r->width <= l->x + slack ||
                         l->y + l->height <= r->y + slack || r->y + r->height <= l->y + slack);
        }
      for (guint j = 0; j < layout->paths->len; j++)
        {
          GArray *path = g_ptr_array_index (layout->paths, j);
          double tip_x = g_array_index (path, double, path->len - 2), tip_y = g_array_index (path, double, path->len - 1);
          /* the arrowhead: 10 points back from the tip */
          g_assert_false (tip_x > l->x - 5 && tip_x < l->x + l->width + 5 && tip_y > l->y - 10 &&
                          tip_y < l->y + l->height + 10);
        }
      for (guint j = i + 1; j < layout->labels->len; j++)
        {
          const TbTrustRect *o = &g_array_index (layout->labels, TbTrustRect, j);
          g_assert_true (l->x + l->width <= o->x + slack || o->x + o->width <= l->x + slack ||
                         l->y + l->height <= o->y + slack || o->y + o->height <= l->y + slack);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tb/trust-graph/from-context", test_graph);
  g_test_add_func ("/tb/trust-graph/layout", test_layout);
  g_test_add_func ("/tb/trust-graph/fingerprint-group", test_fingerprint_group);
  g_test_add_func ("/tb/trust-graph/node-text", test_node_text);
  g_test_add_func ("/tb/trust-graph/edge-labels", test_edge_labels);
  return g_test_run ();
}
