/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "tb-context.h"

G_BEGIN_DECLS

typedef enum {
  TB_TRUST_NODE_ROOT_CA,
  TB_TRUST_NODE_CA,
  TB_TRUST_NODE_MASTERING,
  TB_TRUST_NODE_PRODUCT,
  TB_TRUST_NODE_JOB,
  TB_TRUST_NODE_IMAGE,
  TB_TRUST_NODE_DEVICE,
  TB_TRUST_NODE_DEVICE_GROUP,
} TbTrustNodeKind;

typedef enum {
  TB_TRUST_STATUS_VALID,
  TB_TRUST_STATUS_EXPIRING,
  TB_TRUST_STATUS_EXPIRED,
  TB_TRUST_STATUS_WARNING,
  TB_TRUST_STATUS_REVOKED,
} TbTrustStatus;

/**
 * TbTrustNode:
 * @id: unique in the graph: "key:NAME", "cert:NAME", "image:ID",
 *   "device:UID", "devices:PRODUCT"
 * @name: what a person calls it
 * @algorithm: (nullable): the key's algorithm
 * @storage: (nullable): where the private key lives (file, token LABEL, device)
 * @on_token: the private key is on a PKCS#11 token
 * @subject: (nullable): the certificate's subject
 * @serial: (nullable): the certificate's serial
 * @not_after: (nullable): end of validity, ISO 8601
 * @fingerprint: (nullable): certificate SHA-256, or the public key's
 * @count: devices in a group, else 1
 * @warnings: (element-type utf8): policy findings about this node
 */
typedef struct {
  char *id;
  TbTrustNodeKind kind;
  char *name;
  char *algorithm;
  char *storage;
  gboolean on_token;            /* the private key is on a PKCS#11 token */
  char *subject;
  char *serial;
  char *not_after;
  char *fingerprint;
  guint count;
  TbTrustStatus status;
  GPtrArray *warnings;
} TbTrustNode;

/**
 * TbTrustEdge:
 * @relation: "issues", "signs", "wraps" or "provisioned into"
 */
typedef struct {
  char *from;
  char *to;
  char *relation;
} TbTrustEdge;

typedef struct {
  GPtrArray *nodes;             /* TbTrustNode */
  GPtrArray *edges;             /* TbTrustEdge */
  GHashTable *by_id;
} TbTrustGraph;

/* Devices of one product beyond this many are drawn as one group. */
#define TB_TRUST_GRAPH_GROUP_DEVICES 12

TbTrustGraph *tb_trust_graph_new              (void);
TbTrustNode  *tb_trust_graph_add_node         (TbTrustGraph  *graph,
                                               const char    *id,
                                               TbTrustNodeKind kind,
                                               const char    *name);
void          tb_trust_graph_add_edge         (TbTrustGraph  *graph,
                                               const char    *from,
                                               const char    *to,
                                               const char    *relation);
TbTrustGraph *tb_trust_graph_new_from_context (TbContext     *ctx,
                                               guint          group_devices,
                                               GError       **error);
void          tb_trust_graph_free             (TbTrustGraph  *graph);
TbTrustNode  *tb_trust_graph_find             (TbTrustGraph  *graph,
                                               const char    *id);
gboolean      tb_trust_graph_has_edge         (TbTrustGraph  *graph,
                                               const char    *from,
                                               const char    *to,
                                               const char    *relation);
JsonNode     *tb_trust_graph_to_json          (TbTrustGraph  *graph);

/**
 * TbTrustCounts:
 * @keys: key and certificate nodes
 * @images: mastered images
 * @devices: devices, counting each group's members
 */
typedef struct {
  guint keys;
  guint images;
  guint devices;
} TbTrustCounts;

TbTrustCounts tb_trust_graph_count            (TbTrustGraph  *graph);
gboolean      tb_trust_report_write           (TbContext     *ctx,
                                               const char    *path,
                                               GError       **error);
const char   *tb_trust_node_kind_to_string    (TbTrustNodeKind kind);
char         *tb_trust_fingerprint_group      (const char     *fingerprint);
const char   *tb_trust_status_to_string       (TbTrustStatus   status);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbTrustGraph, tb_trust_graph_free)

G_END_DECLS
