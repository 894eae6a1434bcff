/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A NUL-terminated secret (passphrase, PIN) that is wiped before it is
 * freed. Use g_autoptr(TbSecret). */
typedef char TbSecret;

TbSecret *tb_secret_new       (const char *text);
TbSecret *tb_secret_new_len   (const char *data,
                               gsize       len);
void      tb_secret_free      (TbSecret   *secret);
void      tb_secret_wipe      (void       *data,
                               gsize       len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbSecret, tb_secret_free)

G_END_DECLS
