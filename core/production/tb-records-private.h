/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* The records export as JSON, for the core and the tests: front ends
 * write it with tb_records_export() (tb-records.h). */

#include <json-glib/json-glib.h>

#include "tb-records.h"

G_BEGIN_DECLS

JsonObject *tb_records_collect  (TbContext              *ctx,
                                 const char             *job_id,
                                 GError                **error);

G_END_DECLS
