/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "tb-name.h"
#include "tb-progress.h"

G_BEGIN_DECLS

/* The schema this build reads and writes; a context with a higher
 * number is refused, never rewritten. See docs/context.md. */
#define TB_CONTEXT_SCHEMA_VERSION 1
#define TB_CONTEXT_FILE_NAME "context.json"
#define TB_CONTEXT_LOCK_NAME ".lock"
#define TB_CONTEXT_BACKUP_NAME "context.json.bak"

/**
 * TbInventory:
 * @TB_INVENTORY_KEYS: key pairs (`keys[]`)
 * @TB_INVENTORY_CERTIFICATES: X.509 certificates (`certificates[]`)
 * @TB_INVENTORY_PRODUCTS: products (`products[]`)
 * @TB_INVENTORY_JOBS: production jobs (`jobs[]`)
 *
 * The inventories a context holds. Every entry is a JSON object with a
 * unique, file-name-safe identifier (`name`; `job_id` for jobs).
 */
typedef enum {
  TB_INVENTORY_KEYS,
  TB_INVENTORY_CERTIFICATES,
  TB_INVENTORY_PRODUCTS,
  TB_INVENTORY_JOBS,
  TB_INVENTORY_N,
} TbInventory;

typedef enum {
  TB_CONTEXT_OPEN_READ = 0,
  TB_CONTEXT_OPEN_WRITE = 1 << 0,
} TbContextOpenFlags;

#define TB_TYPE_CONTEXT (tb_context_get_type ())
G_DECLARE_FINAL_TYPE (TbContext, tb_context, TB, CONTEXT, GObject)

TbContext   *tb_context_create               (const char          *path,
                                              const char          *name,
                                              GError             **error);
TbContext   *tb_context_create_staged        (const char          *path,
                                              const char          *name,
                                              GError             **error);
TbContext   *tb_context_commit_staged        (TbContext           *staged,
                                              const char          *path,
                                              GError             **error);
TbContext   *tb_context_open                 (const char          *path,
                                              TbContextOpenFlags   flags,
                                              GError             **error);
void         tb_context_open_async           (const char          *path,
                                              TbContextOpenFlags   flags,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
TbContext   *tb_context_open_finish          (GAsyncResult        *result,
                                              GError             **error);

gboolean     tb_context_lock                 (TbContext           *self,
                                              GError             **error);
void         tb_context_unlock               (TbContext           *self);
gboolean     tb_context_is_writable          (TbContext           *self);
gboolean     tb_context_save                 (TbContext           *self,
                                              GError             **error);
gboolean     tb_context_reload               (TbContext           *self,
                                              GError             **error);

const char  *tb_context_get_path             (TbContext           *self);
const char  *tb_context_get_name             (TbContext           *self);
void         tb_context_set_name             (TbContext           *self,
                                              const char          *name);
const char  *tb_context_get_id               (TbContext           *self);
const char  *tb_context_get_created          (TbContext           *self);
guint        tb_context_get_schema_version   (TbContext           *self);
gboolean     tb_context_is_demo              (TbContext           *self);
void         tb_context_set_demo             (TbContext           *self,
                                              gboolean             is_demo);

/* The entries themselves (JSON) are for core/ only: tb-context-private.h.
 * The front ends read them as typed records: tb-inventory.h. */
gboolean     tb_context_remove_entry         (TbContext           *self,
                                              TbInventory          inventory,
                                              const char          *id,
                                              GError             **error);

char        *tb_context_build_path           (TbContext           *self,
                                              const char          *relative);
gboolean     tb_context_write_file           (TbContext           *self,
                                              const char          *relative,
                                              const void          *data,
                                              gsize                len,
                                              int                  mode,
                                              GError             **error);

/**
 * TbContextFileProblem:
 * @inventory: the inventory whose entry lists the file
 * @entry: that entry's name (or job id)
 * @file: the file as listed, relative to the context
 * @message: a sentence naming the file, its entry and what is wrong
 *
 * A file the context lists that is missing, unreadable or not a regular
 * file.
 */
typedef struct {
  TbInventory inventory;
  char *entry;
  char *file;
  char *message;
} TbContextFileProblem;

void         tb_context_file_problem_free    (TbContextFileProblem *problem);
GPtrArray   *tb_context_check_files          (TbContext           *self);
gboolean     tb_context_entry_has_file_problem (GPtrArray         *problems,
                                              TbInventory          inventory,
                                              const char          *entry);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbContextFileProblem, tb_context_file_problem_free)

const char  *tb_inventory_to_string          (TbInventory          inventory);

G_END_DECLS
