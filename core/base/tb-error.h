/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * TB_ERROR:
 *
 * The one error domain of libtrustbench. Every failure a user can cause
 * (bad input, a refused operation, a busy context) is reported in this
 * domain, with a message naming the file, offset or line and what was
 * expected. Cancellation is reported as %G_IO_ERROR_CANCELLED.
 */
#define TB_ERROR (tb_error_quark ())

/**
 * TbError:
 * @TB_ERROR_FAILED: an operation failed for a reason not listed below
 *   (I/O error, out of resources). CLI exit code 1.
 * @TB_ERROR_INVALID_ARGUMENT: the caller passed a value that is not
 *   acceptable (bad name, unknown usage, option out of range). CLI exit 2.
 * @TB_ERROR_NOT_FOUND: a named object (context, key, certificate, file)
 *   does not exist. CLI exit 1.
 * @TB_ERROR_EXISTS: the object to create already exists. CLI exit 1.
 * @TB_ERROR_INVALID_DATA: input is malformed: a truncated or hand-broken
 *   JSON file, a bad checksum, a wrong magic. The message names the file
 *   and the position. CLI exit 1.
 * @TB_ERROR_UNSUPPORTED: the data is well formed but of a version or kind
 *   this build does not support (e.g. a context of a newer schema). CLI exit 1.
 * @TB_ERROR_BUSY: the resource is held by another process (context lock).
 *   CLI exit 1.
 * @TB_ERROR_VERIFY_FAILED: a verification failed or a device refused: bad
 *   signature, broken chain, tampered log. CLI exit 3.
 * @TB_ERROR_LIMIT_REACHED: a limit is reached: production count exhausted,
 *   job expired. CLI exit 4.
 * @TB_ERROR_PERMISSION: wrong passphrase or PIN, or access denied. CLI exit 1.
 */
typedef enum {
  TB_ERROR_FAILED,
  TB_ERROR_INVALID_ARGUMENT,
  TB_ERROR_NOT_FOUND,
  TB_ERROR_EXISTS,
  TB_ERROR_INVALID_DATA,
  TB_ERROR_UNSUPPORTED,
  TB_ERROR_BUSY,
  TB_ERROR_VERIFY_FAILED,
  TB_ERROR_LIMIT_REACHED,
  TB_ERROR_PERMISSION,
} TbError;

GQuark tb_error_quark (void);

/* Exit codes of trustbench-tool, see docs/cli.md. */
typedef enum {
  TB_EXIT_OK = 0,
  TB_EXIT_FAILED = 1,
  TB_EXIT_USAGE = 2,
  TB_EXIT_VERIFY = 3,
  TB_EXIT_LIMIT = 4,
  TB_EXIT_CANCELLED = 130,
} TbExitCode;

TbExitCode  tb_error_to_exit_code (const GError *error);
const char *tb_error_code_name    (const GError *error);

G_END_DECLS
