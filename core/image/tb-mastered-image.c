/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The images mastered in a context. Mastering writes no inventory entry:
 * the audit log's image.master entries are the list (hash-chained, so it
 * cannot be edited unnoticed), and each UPK still on disk names its
 * signer. */

#include "config.h"

#include "tb-mastered-image.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tb-audit.h"
#include "tb-cert.h"
#include "tb-upk.h"

void
tb_mastered_image_free (TbMasteredImage *image)
{
  if (image == NULL)
    return;
  g_free (image->image_id);
  g_free (image->product);
  g_free (image->version);
  g_clear_pointer (&image->created, g_date_time_unref);
  g_free (image->signer);
  g_free (image->image_path);
  g_free (image->upk_path);
  g_free (image->plaintext_sha256);
  g_free (image);
}

static char *
dup_detail (TbAuditEntry *entry, const char *name)
{
  return g_strdup (tb_audit_entry_get_detail_string (entry, name));
}

/* Paths recorded before mastering made them absolute were relative to the
 * directory the tool ran in: nothing can resolve them now but that one. */
static char *
absolute_path (const char *path)
{
  return path == NULL ? NULL : g_canonicalize_filename (path, NULL);
}

static TbMasteredImage *
image_from_entry (TbAuditEntry *entry)
{
  const char *when = tb_audit_entry_get_time (entry);
  g_autofree char *image = NULL;
  g_autofree char *upk = NULL;
  g_autoptr(TbMasteredImage) m = NULL;

  if (tb_audit_entry_get_detail_string (entry, "image_id") == NULL)
    return NULL;
  m = g_new0 (TbMasteredImage, 1);
  m->image_id = dup_detail (entry, "image_id");
  m->product = dup_detail (entry, "product");
  m->version = dup_detail (entry, "version");
  m->plaintext_sha256 = dup_detail (entry, "plaintext_sha256");
  m->signer = dup_detail (entry, "signer_subject");
  m->security_counter = (guint32) CLAMP (tb_audit_entry_get_detail_int (entry, "security_counter", 0), 0,
                                         G_MAXUINT32);
  image = dup_detail (entry, "image");
  upk = dup_detail (entry, "upk");
  m->image_path = absolute_path (image);
  m->upk_path = absolute_path (upk);
  m->created = when != NULL ? g_date_time_new_from_iso8601 (when, NULL) : NULL;
  if (m->image_id == NULL || m->product == NULL || m->version == NULL || m->image_path == NULL ||
      m->upk_path == NULL)
    return NULL;
  m->files_present = g_file_test (m->image_path, G_FILE_TEST_IS_REGULAR) &&
                     g_file_test (m->upk_path, G_FILE_TEST_IS_REGULAR);
  if (m->signer == NULL && m->files_present)
    {
      g_autoptr(TbUpk) parsed = tb_upk_load_file (m->upk_path, NULL);
      TbCert *cert = parsed != NULL ? tb_upk_get_signer_cert (parsed) : NULL;

      if (cert != NULL)
        m->signer = tb_cert_dup_subject (cert);
    }
  return g_steal_pointer (&m);
}

/**
 * tb_mastered_image_list:
 * @ctx: a context
 *
 * Lists the images mastered in @ctx, newest first. An image mastered
 * again into the same files (same UPK path) is listed once, as its latest
 * mastering.
 *
 * Returns: (transfer full) (element-type TbMasteredImage): the images, or
 *   %NULL if the audit log cannot be read
 */
GPtrArray *
tb_mastered_image_list (TbContext *ctx, GError **error)
{
  g_autoptr(GPtrArray) log = tb_audit_read (ctx, error);
  g_autoptr(GPtrArray) out = NULL;
  g_autoptr(GHashTable) seen = NULL;

  if (log == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_mastered_image_free);
  seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = log->len; i-- > 0;)
    {
      TbAuditEntry *e = g_ptr_array_index (log, i);
      TbMasteredImage *m;

      if (g_strcmp0 (tb_audit_entry_get_event (e), "image.master") != 0 ||
          (m = image_from_entry (e)) == NULL)
        continue;
      if (g_hash_table_contains (seen, m->upk_path))
        {
          tb_mastered_image_free (m);
          continue;
        }
      g_ptr_array_add (out, m);
      g_hash_table_add (seen, m->upk_path);
    }
  return g_steal_pointer (&out);
}

/**
 * tb_mastered_image_dup_title:
 *
 * Returns: (transfer full): "PRODUCT VERSION"
 */
char *
tb_mastered_image_dup_title (const TbMasteredImage *image)
{
  return g_strdup_printf (_("%s %s"), image->product, image->version);
}

/**
 * tb_mastered_image_build_paths:
 * @output_dir: the directory the pair is written to
 * @input_path: the firmware file being mastered
 * @version: its version (MAJOR.MINOR.PATCH)
 * @name: (nullable): the pair's name; %NULL: the input's name without its
 *   extension, a dash and @version
 * @image_path: (out) (transfer full): `OUTPUT_DIR/NAME.tbimg`
 * @upk_path: (out) (transfer full): `OUTPUT_DIR/NAME.tbupk`
 *
 * Where mastering writes its pair: one rule for `master -o DIR` and the
 * Images page (`app.hex` as 1.2.0 → `app-1.2.0.tbimg`, `app-1.2.0.tbupk`).
 */
void
tb_mastered_image_build_paths (const char *output_dir, const char *input_path, const char *version,
                               const char *name, char **image_path, char **upk_path)
{
  g_autofree char *stem = NULL;

  if (name == NULL)
    {
      g_autofree char *base = g_path_get_basename (input_path);
      char *dot = strrchr (base, '.');

      if (dot != NULL && dot != base)
        *dot = '\0';
      stem = g_strdup_printf ("%s-%s", base, version);
    }
  else
    stem = g_strdup (name);
  {
    g_autofree char *image_name = g_strconcat (stem, ".tbimg", NULL);
    g_autofree char *upk_name = g_strconcat (stem, ".tbupk", NULL);

    /* `-o out/` gives out/app-1.2.0.tbimg, not out//app-1.2.0.tbimg */
    *image_path = g_build_filename (output_dir, image_name, NULL);
    *upk_path = g_build_filename (output_dir, upk_name, NULL);
  }
}
