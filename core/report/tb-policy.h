/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-context.h"

G_BEGIN_DECLS

/* A certificate closer than this to its end of validity is flagged. */
#define TB_POLICY_EXPIRY_WARNING_DAYS 90

typedef enum {
  TB_SEVERITY_INFO,
  TB_SEVERITY_WARNING,
  TB_SEVERITY_CRITICAL,
} TbSeverity;

/**
 * TbPolicyFinding:
 * @severity: how bad it is
 * @subject: (nullable): the key, certificate or product concerned
 * @message: a sentence a security officer understands
 */
typedef struct {
  TbSeverity severity;
  char *subject;
  char *message;
} TbPolicyFinding;

void        tb_policy_finding_free  (TbPolicyFinding *finding);
GPtrArray  *tb_policy_check_context (TbContext       *ctx);
const char *tb_severity_to_string   (TbSeverity       severity);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbPolicyFinding, tb_policy_finding_free)

G_END_DECLS
