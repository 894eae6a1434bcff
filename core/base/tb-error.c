/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "tb-error.h"

#include <gio/gio.h>

G_DEFINE_QUARK (tb-error-quark, tb_error)

/**
 * tb_error_to_exit_code:
 * @error: (nullable): an error, or %NULL for success
 *
 * Maps an error to the exit code documented in docs/cli.md.
 */
TbExitCode
tb_error_to_exit_code (const GError *error)
{
  if (error == NULL)
    return TB_EXIT_OK;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return TB_EXIT_CANCELLED;
  if (error->domain != TB_ERROR)
    return TB_EXIT_FAILED;
  switch ((TbError) error->code)
    {
    case TB_ERROR_INVALID_ARGUMENT:
      return TB_EXIT_USAGE;
    case TB_ERROR_VERIFY_FAILED:
      return TB_EXIT_VERIFY;
    case TB_ERROR_LIMIT_REACHED:
      return TB_EXIT_LIMIT;
    case TB_ERROR_FAILED:
    case TB_ERROR_NOT_FOUND:
    case TB_ERROR_EXISTS:
    case TB_ERROR_INVALID_DATA:
    case TB_ERROR_UNSUPPORTED:
    case TB_ERROR_BUSY:
    case TB_ERROR_PERMISSION:
    default:
      return TB_EXIT_FAILED;
    }
}

/**
 * tb_error_code_name:
 * @error: an error
 *
 * Returns: a stable, machine-readable name for the error code, used as
 *   `error.code` in the CLI's JSON output.
 */
const char *
tb_error_code_name (const GError *error)
{
  static const char *const names[] = {
    [TB_ERROR_FAILED] = "failed",
    [TB_ERROR_INVALID_ARGUMENT] = "invalid-argument",
    [TB_ERROR_NOT_FOUND] = "not-found",
    [TB_ERROR_EXISTS] = "exists",
    [TB_ERROR_INVALID_DATA] = "invalid-data",
    [TB_ERROR_UNSUPPORTED] = "unsupported",
    [TB_ERROR_BUSY] = "busy",
    [TB_ERROR_VERIFY_FAILED] = "verify-failed",
    [TB_ERROR_LIMIT_REACHED] = "limit-reached",
    [TB_ERROR_PERMISSION] = "permission",
  };

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return "cancelled";
  if (error->domain == TB_ERROR && error->code >= 0 && (gsize) error->code < G_N_ELEMENTS (names))
    return names[error->code];
  return "failed";
}
