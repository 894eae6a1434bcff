/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-context.h"
#include "tb-progress.h"

G_BEGIN_DECLS

#define TB_DEMO_CONTEXT_NAME "Demo OEM"
#define TB_DEMO_PRODUCT "demo-sensor"
/* The demo context's passphrase is public: the demo is for learning, its
 * keys must never protect real devices (the policy check says so). */
#define TB_DEMO_PASSPHRASE "trustbench-demo"
/* The station context the demo makes beside the OEM's (in its folder),
 * the count of the demo job, and how many devices the station makes. */
#define TB_DEMO_STATION_DIR "station"
#define TB_DEMO_STATION_NAME "Demo Line 1"
#define TB_DEMO_JOB_COUNT 3
#define TB_DEMO_PRODUCED 2
#define TB_DEMO_RECORDS_FILE "station-records.json"

char      *tb_demo_get_default_path (void);
TbContext *tb_demo_create_context   (const char  *path,
                                     TbProgress  *progress,
                                     GError     **error);
gboolean   tb_demo_run              (const char  *path,
                                     TbProgress  *progress,
                                     GError     **error);
gboolean   tb_demo_run_full         (const char  *path,
                                     const char  *boards_dir,
                                     TbProgress  *progress,
                                     GError     **error);

G_END_DECLS
