/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <stdio.h>

#include "trustbench.h"

G_BEGIN_DECLS

typedef struct _TbCli TbCli;

struct _TbCli {
  const char *prog;
  char *context_dir;
  gboolean json;
  gboolean quiet;
  char *passphrase_file;
  char *pin_file;
  char *command_path;   /* "key generate", for messages and --help */
  gboolean stdout_is_output; /* an -o writes on stdout: messages go to stderr */
};

typedef int (*TbCliCommandFunc) (TbCli *cli, int argc, char **argv);

typedef struct _TbCliCommand TbCliCommand;
struct _TbCliCommand {
  const char *name;
  const char *summary;
  TbCliCommandFunc func;                 /* NULL for a group of subcommands */
  const TbCliCommand *subcommands;       /* NULL-name terminated */
};

typedef TbWorkFunc TbCliWorkFunc;

gboolean   tb_cli_parse_options   (TbCli          *cli,
                                   int            *argc,
                                   char         ***argv,
                                   const char     *parameter_string,
                                   const char     *summary,
                                   const GOptionEntry *entries,
                                   GError        **error);
int        tb_cli_usage_error     (TbCli          *cli,
                                   const char     *format,
                                   ...) G_GNUC_PRINTF (2, 3);
int        tb_cli_fail            (TbCli          *cli,
                                   const GError   *error);
int        tb_cli_print_result    (TbCli          *cli,
                                   JsonBuilder    *builder);
void       tb_cli_message         (TbCli          *cli,
                                   const char     *format,
                                   ...) G_GNUC_PRINTF (2, 3);
gboolean   tb_cli_claim_output    (TbCli          *cli,
                                   const char     *path,
                                   GError        **error);
const char *tb_cli_output_name    (const char     *path);
TbContext *tb_cli_open_context    (TbCli          *cli,
                                   TbContextOpenFlags flags,
                                   GError        **error);
const char *tb_cli_context_dir    (TbCli          *cli);
TbSecret  *tb_cli_get_passphrase  (TbCli          *cli,
                                   const char     *purpose,
                                   gboolean        new_passphrase,
                                   GError        **error);
TbSecret  *tb_cli_get_secret      (TbCli          *cli,
                                   const char     *env_name,
                                   const char     *file,
                                   const char     *option,
                                   const char     *purpose,
                                   gboolean        new_passphrase,
                                   GError        **error);
TbProbe   *tb_cli_open_probe      (TbCli          *cli,
                                   const char     *uri,
                                   GError        **error);
gboolean   tb_cli_run_work        (TbCli          *cli,
                                   TbCliWorkFunc   func,
                                   gpointer        data,
                                   GError        **error);

int        tb_cli_dispatch        (TbCli          *cli,
                                   const TbCliCommand *commands,
                                   int             argc,
                                   char          **argv);
void       tb_cli_print_commands  (FILE           *out,
                                   const TbCliCommand *commands);

/* command implementations */
int tb_cli_cmd_init (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_show (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_demo (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_key_list (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_token_list (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_key_generate (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_key_import (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_key_export_public (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_cert_list (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_cert_show (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_cert_export (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_cert_issue (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_cert_verify (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_cert_revoke (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_master (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_image_info (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_image_verify (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_image_decrypt (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_image_export_mcuboot (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_device_create (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_probe_list (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_probe_read (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_probe_write (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_probe_reset (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_probe_info (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_device_info (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_device_reset (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_audit_show (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_audit_verify (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_device_stage_update (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_provision (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_program (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_job_create (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_job_import (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_job_list (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_job_show (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_produce (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_records_export (TbCli *cli, int argc, char **argv);
int tb_cli_cmd_receipts_verify (TbCli *cli, int argc, char **argv);

void tb_cli_add_string (JsonBuilder *builder, const char *member, const char *value);
void tb_cli_add_int (JsonBuilder *builder, const char *member, gint64 value);
void tb_cli_add_inventory (JsonBuilder *builder, TbContext *ctx, TbInventory inventory);

void tb_cli_add_context_summary (JsonBuilder *builder, TbContext *ctx);
GPtrArray *tb_cli_check_context_files (TbCli *cli, TbContext *ctx);
void tb_cli_add_file_problems (JsonBuilder *builder, GPtrArray *problems);

G_END_DECLS
