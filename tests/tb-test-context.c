/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "tb-test-context.h"
#include "tb-test-util.h"

/* A fresh temporary directory with a new, empty context in TMP/ctx. */
void
tb_test_context_setup (TbTestContext *t, const char *name)
{
  g_autoptr(GError) error = NULL;

  t->tmp = tb_test_make_tmpdir ();
  t->dir = g_build_filename (t->tmp, "ctx", NULL);
  t->ctx = tb_context_create (t->dir, name, &error);
  g_assert_no_error (error);
}

void
tb_test_context_teardown (TbTestContext *t)
{
  g_clear_object (&t->ctx);
  tb_test_rm_rf (t->tmp);
  g_clear_pointer (&t->tmp, g_free);
  g_clear_pointer (&t->dir, g_free);
}
