/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What the fuzz harnesses share: the libFuzzer entry points, a scratch
 * directory for parsers that read files, and (without a fuzzing engine) a
 * main() that replays the files or directories given on the command line,
 * which is how the default test suite runs the seed corpora. */

#include <glib.h>

G_BEGIN_DECLS

int         LLVMFuzzerTestOneInput (const guint8 *data,
                                    size_t        size);
int         LLVMFuzzerInitialize   (int          *argc,
                                    char       ***argv);

/* Each harness defines this; it runs once before the first input. */
void        tb_fuzz_setup          (void);

const char *tb_fuzz_scratch_dir    (void);
char       *tb_fuzz_write_file     (const char   *name,
                                    const guint8 *data,
                                    size_t        size);

G_END_DECLS
