/* SPDX-License-Identifier: GPL-3.0-or-later */

/* A key's way into a context, once for every front end: generate (in
 * software or on a token) → store → save, and import (a file, or a key
 * already on a token) → store → save. The CLI (key generate, key import),
 * the Keys page and the default hierarchy (tb-hierarchy.c) all go through
 * here. */

#include "config.h"

#include "tb-key-workflow.h"

#include <glib/gi18n-lib.h>

#include "tb-context-private.h"
#include "tb-error.h"
#include "tb-name.h"
#include "tb-pkcs11.h"

/**
 * tb_key_workflow_check_name:
 *
 * Checks that @name may name a new key of @ctx: a valid name, not yet
 * taken.
 */
gboolean
tb_key_workflow_check_name (TbContext *ctx, const char *name, GError **error)
{
  if (!tb_name_is_valid (name, error))
    return FALSE;
  if (tb_context_find_entry (ctx, TB_INVENTORY_KEYS, name) != NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_EXISTS, _("The context already has a key “%s”"), name);
      return FALSE;
    }
  return TRUE;
}

/**
 * tb_key_workflow_generate:
 * @ctx: a context locked for writing
 * @progress: (nullable): stages and the cancellable
 *
 * Generates the key (checking the name and the algorithm first, so that
 * nothing is generated in vain), stores it in @ctx and saves the context
 * unless @options says the caller will.
 *
 * Returns: (transfer full): the stored key, or %NULL
 */
TbKey *
tb_key_workflow_generate (TbContext *ctx, const TbKeyGenerateOptions *options, TbProgress *progress,
                          GError **error)
{
  const char *algorithm = options->algorithm != NULL ? options->algorithm : TB_KEY_ALGORITHM_DEFAULT;
  const char *token = options->token_uri;
  g_autoptr(TbKey) key = NULL;

  if (!tb_key_workflow_check_name (ctx, options->name, error) || !tb_key_algorithm_is_supported (algorithm, error))
    return NULL;
  if (token != NULL)
    {
      if (!tb_pkcs11_uri_is_valid (token, error))
        return NULL;
      if (options->pin != NULL && options->pin[0] != '\0')
        tb_pkcs11_set_pin (options->pin);
    }
  tb_progress_set_stage (progress, token != NULL ? _("Generating %s key “%s” on the token")
                                                 : _("Generating %s key “%s”"), algorithm, options->name);
  key = token != NULL ? tb_key_generate_on_token (token, options->name, algorithm, options->usage, error)
                      : tb_key_generate (algorithm, error);
  if (key == NULL)
    return NULL;
  tb_progress_set_fraction (progress, 0.5);
  tb_progress_set_stage (progress, token != NULL ? _("Recording it") : _("Encrypting and storing it"));
  if (tb_progress_set_error_if_cancelled (progress, error) ||
      !tb_key_store (key, ctx, options->name, options->usage, options->passphrase, error) ||
      (!options->defer_save && !tb_context_save (ctx, error)))
    return NULL;
  if (!options->defer_save)
    tb_progress_finish (progress);
  return g_steal_pointer (&key);
}

/**
 * tb_key_workflow_read:
 *
 * The first step of tb_key_workflow_import(), for a front end that reads
 * the key before it asks for the context passphrase: the key from
 * @options->file, or the public half of the key at @options->token_uri.
 *
 * Returns: (transfer full): the key, not stored yet, or %NULL
 */
TbKey *
tb_key_workflow_read (const TbKeyImportOptions *options, GError **error)
{
  if (options->token_uri != NULL)
    return tb_key_new_from_token (options->token_uri, error);
  if (options->file == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("A key import needs a key file or a token key"));
      return NULL;
    }
  return tb_key_import_file (options->file, options->file_passphrase, error);
}

/**
 * tb_key_workflow_import:
 * @ctx: a context locked for writing
 * @key: (nullable): the key tb_key_workflow_read() returned; %NULL: read it
 *   here
 * @progress: (nullable): stages
 *
 * Stores the key read from @options in @ctx (encrypted with the context
 * passphrase, or as a reference to its token) and saves the context.
 *
 * Returns: (transfer full): the stored key, or %NULL
 */
TbKey *
tb_key_workflow_import (TbContext *ctx, const TbKeyImportOptions *options, TbKey *key, TbProgress *progress,
                        GError **error)
{
  g_autoptr(TbKey) read = NULL;

  if (!tb_name_is_valid (options->name, error))
    return NULL;
  if (key == NULL)
    {
      tb_progress_set_stage (progress, _("Importing %s"),
                             options->file != NULL ? options->file : options->token_uri);
      read = tb_key_workflow_read (options, error);
      if (read == NULL)
        return NULL;
      key = read;
    }
  if (!tb_key_store (key, ctx, options->name, options->usage, options->passphrase, error) ||
      !tb_context_save (ctx, error))
    return NULL;
  tb_progress_finish (progress);
  return read != NULL ? g_steal_pointer (&read) : g_object_ref (key);
}
