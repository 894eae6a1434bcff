/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Layered top-down layout of the trust graph, computed by graphviz's dot
 * (libgvc): the root on top, CAs and keys below, then images and devices.
 * Graphviz works in points with y up; the layout is returned y down. */
#include "config.h"

#include "tb-trust-layout.h"

#include <glib/gi18n-lib.h>
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include "tb-error.h"

/* Edges beyond this many are drawn without their relation: dot's label
 * placement grows fast with the edges, and so many labels are noise. */
#define MAX_LABELLED_EDGES 300

/* dot is not reentrant: one layout at a time in the process */
G_LOCK_DEFINE_STATIC (graphviz);

/* One graphviz context for the process, made on first use and never freed:
 * graphviz 2.42's pango plugin keeps a pointer to the last font name it
 * measured, which lives in the context's font dictionary; with a context
 * per layout the next layout's label sizing read freed memory (ASan). */
static GVC_t *
shared_context (void)
{
  static GVC_t *gvc;

  if (gvc == NULL)
    gvc = gvContext ();
  return gvc;
}

static void
set (void *obj, const char *name, const char *value)
{
  agsafeset (obj, (char *) name, (char *) value, (char *) "");
}

static int
rank_of (TbTrustNodeKind kind)
{
  switch (kind)
    {
    case TB_TRUST_NODE_ROOT_CA: return 0;
    case TB_TRUST_NODE_CA:
    case TB_TRUST_NODE_MASTERING:
    case TB_TRUST_NODE_PRODUCT:
    case TB_TRUST_NODE_JOB: return 1;
    case TB_TRUST_NODE_IMAGE: return 2;
    case TB_TRUST_NODE_DEVICE:
    case TB_TRUST_NODE_DEVICE_GROUP:
    default: return 3;
    }
}

/**
 * tb_trust_layout_compute:
 *
 * Returns: (transfer full): where every node and edge goes, or %NULL with
 *   @error when graphviz fails
 */
TbTrustLayout *
tb_trust_layout_compute (TbTrustGraph *graph, GError **error)
{
  g_autoptr(TbTrustLayout) layout = g_new0 (TbTrustLayout, 1);
  g_autofree Agnode_t **agnodes = g_new0 (Agnode_t *, graph->nodes->len + 1);
  g_autofree Agedge_t **agedges = g_new0 (Agedge_t *, graph->edges->len + 1);
  g_autoptr(GHashTable) index = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *w = g_strdup_printf ("%.4f", TB_TRUST_NODE_WIDTH / 72.0);
  g_autofree char *h = g_strdup_printf ("%.4f", TB_TRUST_NODE_HEIGHT / 72.0);
  /* room for the label's pill around its text */
  g_autofree char *label_size = g_strdup_printf ("%.1f", TB_TRUST_EDGE_LABEL_SIZE * 1.3);
  Agraph_t *g, *ranks[4];
  GVC_t *gvc;
  boxf bb;
  gboolean ok;

  layout->rects = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  layout->paths = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  layout->labels = g_array_new (FALSE, TRUE, sizeof (TbTrustRect));

  G_LOCK (graphviz);
  gvc = shared_context ();
  g = agopen ((char *) "trust", Agdirected, NULL);
  set (g, "rankdir", "TB");
  set (g, "nodesep", "0.35");
  /* the labels take a rank of their own between two layers */
  set (g, "ranksep", "0.3");
  set (g, "splines", "spline");
  /* each layer on one rank: root, CAs and keys, images, devices */
  for (guint r = 0; r < G_N_ELEMENTS (ranks); r++)
    {
      g_autofree char *name = g_strdup_printf ("rank%u", r);
      ranks[r] = agsubg (g, name, TRUE);
      set (ranks[r], "rank", "same");
    }
  for (guint i = 0; i < graph->nodes->len; i++)
    {
      TbTrustNode *n = g_ptr_array_index (graph->nodes, i);
      g_autofree char *name = g_strdup_printf ("n%u", i);
      agnodes[i] = agnode (ranks[rank_of (n->kind)], name, TRUE);
      set (agnodes[i], "shape", "box");
      set (agnodes[i], "fixedsize", "true");
      set (agnodes[i], "width", w);
      set (agnodes[i], "height", h);
      set (agnodes[i], "label", "");
      g_hash_table_insert (index, n->id, GUINT_TO_POINTER (i + 1));
    }
  for (guint i = 0; i < graph->edges->len; i++)
    {
      TbTrustEdge *e = g_ptr_array_index (graph->edges, i);
      guint from = GPOINTER_TO_UINT (g_hash_table_lookup (index, e->from));
      guint to = GPOINTER_TO_UINT (g_hash_table_lookup (index, e->to));
      g_autofree char *name = g_strdup_printf ("e%u", i);

      if (from != 0 && to != 0)
        agedges[i] = agedge (g, agnodes[from - 1], agnodes[to - 1], name, TRUE);
      /* dot places the labels itself, away from the arrowheads */
      if (agedges[i] != NULL && graph->edges->len <= MAX_LABELLED_EDGES && e->relation != NULL &&
          e->relation[0] != '\0')
        {
          set (agedges[i], "label", e->relation);
          set (agedges[i], "fontname", "Cantarell");
          set (agedges[i], "fontsize", label_size);
        }
    }

  ok = gvLayout (gvc, g, "dot") == 0;
  if (ok)
    {
      bb = GD_bb (g);
      layout->width = bb.UR.x - bb.LL.x;
      layout->height = bb.UR.y - bb.LL.y;
      for (guint i = 0; i < graph->nodes->len; i++)
        {
          TbTrustNode *n = g_ptr_array_index (graph->nodes, i);
          TbTrustRect *r = g_new (TbTrustRect, 1);
          pointf c = ND_coord (agnodes[i]);

          r->width = ND_width (agnodes[i]) * 72.0;
          r->height = ND_height (agnodes[i]) * 72.0;
          r->x = c.x - bb.LL.x - r->width / 2;
          r->y = bb.UR.y - c.y - r->height / 2;
          g_hash_table_insert (layout->rects, g_strdup (n->id), r);
        }
      for (guint i = 0; i < graph->edges->len; i++)
        {
          GArray *points = g_array_new (FALSE, FALSE, sizeof (double));

          if (agedges[i] != NULL && ED_spl (agedges[i]) != NULL && ED_spl (agedges[i])->size > 0)
            {
              bezier *bz = &ED_spl (agedges[i])->list[0];
              for (int k = 0; k < (int) bz->size; k++)
                {
                  double xy[2] = { bz->list[k].x - bb.LL.x, bb.UR.y - bz->list[k].y };
                  g_array_append_vals (points, xy, 2);
                }
              /* the arrow ends at the node, not where the spline stops */
              if (bz->eflag)
                {
                  double xy[2] = { bz->ep.x - bb.LL.x, bb.UR.y - bz->ep.y };
                  double last[2] = { g_array_index (points, double, points->len - 2),
                                     g_array_index (points, double, points->len - 1) };
                  double c1[2] = { last[0] + (xy[0] - last[0]) / 3, last[1] + (xy[1] - last[1]) / 3 };
                  double c2[2] = { last[0] + 2 * (xy[0] - last[0]) / 3, last[1] + 2 * (xy[1] - last[1]) / 3 };
                  g_array_append_vals (points, c1, 2);
                  g_array_append_vals (points, c2, 2);
                  g_array_append_vals (points, xy, 2);
                }
            }
          g_ptr_array_add (layout->paths, points);
          {
            TbTrustRect label = { 0 };
            textlabel_t *l = agedges[i] != NULL ? ED_label (agedges[i]) : NULL;

            if (l != NULL && l->set)
              {
                label.width = l->dimen.x;
                label.height = l->dimen.y;
                label.x = l->pos.x - bb.LL.x - label.width / 2;
                label.y = bb.UR.y - l->pos.y - label.height / 2;
              }
            g_array_append_val (layout->labels, label);
          }
        }
      gvFreeLayout (gvc, g);
    }
  agclose (g);
  G_UNLOCK (graphviz);

  if (!ok)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Graphviz could not lay out the trust chain"));
      return NULL;
    }
  return g_steal_pointer (&layout);
}

const TbTrustRect *
tb_trust_layout_get_rect (TbTrustLayout *layout, const char *id)
{
  return g_hash_table_lookup (layout->rects, id);
}

void
tb_trust_layout_free (TbTrustLayout *layout)
{
  if (layout == NULL)
    return;
  g_clear_pointer (&layout->rects, g_hash_table_unref);
  g_clear_pointer (&layout->paths, g_ptr_array_unref);
  g_clear_pointer (&layout->labels, g_array_unref);
  g_free (layout);
}
