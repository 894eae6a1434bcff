/* SPDX-License-Identifier: GPL-3.0-or-later */

/**
 * TbProbe:
 *
 * A debug probe and its target: memory reads and writes in blocks (with
 * progress and cancellation), reset. Backends subclass it; probes are
 * named by URIs (docs/probes.md): `virtual:PATH` (a virtual board
 * directory), `cmsis-dap[:SERIAL]` and `gdb:HOST:PORT` / `gdb:unix:PATH`.
 */

#include "config.h"

#include "tb-probe.h"

#include "tb-crashpoint.h"

#include <glib/gi18n-lib.h>

#include "tb-cmsis-dap-usb.h"
#include "tb-error.h"
#include "tb-gdb-probe.h"
#include "tb-virtual-probe.h"

typedef struct {
  char *uri;
  char *kind;
  char *serial;
  char *description;
  guint64 bytes_moved;
  gsize block_size;
} TbProbePrivate;

G_DEFINE_TYPE_WITH_PRIVATE (TbProbe, tb_probe, G_TYPE_OBJECT)

enum { PROP_0, PROP_URI, PROP_KIND, PROP_SERIAL, PROP_DESCRIPTION, N_PROPS };
static GParamSpec *props[N_PROPS];

static void
tb_probe_finalize (GObject *object)
{
  TbProbePrivate *priv = tb_probe_get_instance_private (TB_PROBE (object));

  g_free (priv->uri);
  g_free (priv->kind);
  g_free (priv->serial);
  g_free (priv->description);
  G_OBJECT_CLASS (tb_probe_parent_class)->finalize (object);
}

static void
tb_probe_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TbProbePrivate *priv = tb_probe_get_instance_private (TB_PROBE (object));

  switch (prop_id)
    {
    case PROP_URI: g_value_set_string (value, priv->uri); break;
    case PROP_KIND: g_value_set_string (value, priv->kind); break;
    case PROP_SERIAL: g_value_set_string (value, priv->serial); break;
    case PROP_DESCRIPTION: g_value_set_string (value, priv->description); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tb_probe_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TbProbePrivate *priv = tb_probe_get_instance_private (TB_PROBE (object));

  switch (prop_id)
    {
    case PROP_URI: g_free (priv->uri); priv->uri = g_value_dup_string (value); break;
    case PROP_KIND: g_free (priv->kind); priv->kind = g_value_dup_string (value); break;
    case PROP_SERIAL: g_free (priv->serial); priv->serial = g_value_dup_string (value); break;
    case PROP_DESCRIPTION: g_free (priv->description); priv->description = g_value_dup_string (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tb_probe_class_init (TbProbeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = tb_probe_finalize;
  object_class->get_property = tb_probe_get_property;
  object_class->set_property = tb_probe_set_property;
  props[PROP_URI] = g_param_spec_string ("uri", NULL, NULL, NULL, flags);
  props[PROP_KIND] = g_param_spec_string ("kind", NULL, NULL, NULL, flags);
  props[PROP_SERIAL] = g_param_spec_string ("serial", NULL, NULL, NULL, flags);
  props[PROP_DESCRIPTION] = g_param_spec_string ("description", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
tb_probe_init (TbProbe *self)
{
  TbProbePrivate *priv = tb_probe_get_instance_private (self);

  priv->block_size = TB_PROBE_BLOCK_SIZE;
}

void
tb_probe_info_free (TbProbeInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->uri);
  g_free (info->kind);
  g_free (info->serial);
  g_free (info->description);
  g_free (info->vendor);
  g_free (info->product);
  g_free (info->firmware);
  g_free (info);
}

/**
 * tb_probe_get_boards_dir:
 *
 * Returns: (transfer full): where virtual boards are looked for:
 *   $TRUSTBENCH_BOARDS, else ~/.local/share/trustbench/boards
 */
char *
tb_probe_get_boards_dir (void)
{
  const char *env = g_getenv ("TRUSTBENCH_BOARDS");

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "trustbench", "boards", NULL);
}

/**
 * tb_probe_list_boards:
 *
 * The virtual boards in the boards directory, without looking at USB.
 *
 * Returns: (transfer full) (element-type TbProbeInfo): the boards
 */
GPtrArray *
tb_probe_list_boards (void)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_probe_info_free);
  g_autofree char *dir = tb_probe_get_boards_dir ();
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      TbProbeInfo *info = tb_virtual_probe_peek (path, NULL);

      if (info == NULL)
        continue;
      g_ptr_array_add (list, info);
    }
  return list;
}

/**
 * tb_probe_list:
 *
 * Returns: (transfer container) (element-type TbProbeInfo): the probes
 *   found: the virtual boards in tb_probe_get_boards_dir() and the
 *   CMSIS-DAP probes on USB
 */
GPtrArray *
tb_probe_list (GError **error)
{
  GPtrArray *list = tb_probe_list_boards ();
  g_autoptr(GPtrArray) usb = tb_cmsis_dap_usb_list (NULL);

  for (guint i = 0; usb != NULL && i < usb->len; i++)
    g_ptr_array_add (list, g_steal_pointer (&g_ptr_array_index (usb, i)));
  return list;
}

/**
 * tb_probe_open:
 * @uri: `virtual:PATH`, `cmsis-dap:SERIAL`, `cmsis-dap` (the only one),
 *   `gdb:HOST:PORT` or `gdb:unix:PATH`
 *
 * Opens the probe named by @uri.
 */
TbProbe *
tb_probe_open (const char *uri, GError **error)
{
  if (uri != NULL && g_str_has_prefix (uri, "virtual:") && uri[8] != '\0')
    return tb_virtual_probe_open (uri + strlen ("virtual:"), error);
  if (g_strcmp0 (uri, "cmsis-dap") == 0)
    return tb_cmsis_dap_usb_open (NULL, error);
  if (uri != NULL && g_str_has_prefix (uri, "cmsis-dap:") && uri[10] != '\0')
    return tb_cmsis_dap_usb_open (uri + strlen ("cmsis-dap:"), error);
  if (uri != NULL && g_str_has_prefix (uri, "gdb:") && uri[4] != '\0')
    return tb_gdb_probe_open (uri + strlen ("gdb:"), error);
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
               _("“%s” is not a probe URI: expected virtual:PATH, cmsis-dap[:SERIAL], gdb:HOST:PORT or gdb:unix:PATH"),
               uri != NULL ? uri : "");
  return NULL;
}

#define GETTER(field) \
  const char *tb_probe_get_##field (TbProbe *self) \
  { \
    TbProbePrivate *priv = tb_probe_get_instance_private (self); \
    return priv->field; \
  }

GETTER (uri)
GETTER (kind)
GETTER (serial)
GETTER (description)

/**
 * tb_probe_get_bytes_moved:
 *
 * Returns: bytes read and written through the probe so far
 */
guint64
tb_probe_get_bytes_moved (TbProbe *self)
{
  TbProbePrivate *priv = tb_probe_get_instance_private (self);

  return priv->bytes_moved;
}

/**
 * tb_probe_set_block_size:
 * @block_size: the most a backend's read_memory and write_memory get at once
 *
 * For backends whose round trips cost more than a block's progress report
 * (%TB_PROBE_BLOCK_SIZE by default): a GDB server fills its packets better
 * and stops the core less often with larger blocks.
 */
void
tb_probe_set_block_size (TbProbe *self, gsize block_size)
{
  TbProbePrivate *priv = tb_probe_get_instance_private (self);

  priv->block_size = MAX (block_size, 4u);
}

gboolean
tb_probe_read_memory (TbProbe *self, guint32 address, guint8 *buf, gsize len, TbProgress *progress, GError **error)
{
  TbProbePrivate *priv = tb_probe_get_instance_private (self);

  for (gsize done = 0; done < len;)
    {
      gsize n = MIN (len - done, priv->block_size);
      if (tb_progress_set_error_if_cancelled (progress, error) ||
          !TB_PROBE_GET_CLASS (self)->read_memory (self, address + (guint32) done, buf + done, n, error))
        return FALSE;
      done += n;
      priv->bytes_moved += n;
      tb_progress_set_fraction (progress, (double) done / len);
    }
  return TRUE;
}

gboolean
tb_probe_write_memory (TbProbe *self, guint32 address, const guint8 *data, gsize len, TbProgress *progress,
                       GError **error)
{
  TbProbePrivate *priv = tb_probe_get_instance_private (self);

  for (gsize done = 0; done < len;)
    {
      gsize n = MIN (len - done, priv->block_size);
      if (tb_progress_set_error_if_cancelled (progress, error) ||
          !TB_PROBE_GET_CLASS (self)->write_memory (self, address + (guint32) done, data + done, n, error))
        return FALSE;
      done += n;
      tb_crash_point ("probe write");
      priv->bytes_moved += n;
      tb_progress_set_fraction (progress, (double) done / len);
    }
  return TRUE;
}

gboolean
tb_probe_reset (TbProbe *self, gboolean halt, GError **error)
{
  if (!TB_PROBE_GET_CLASS (self)->reset (self, halt, error))
    return FALSE;
  tb_crash_point ("probe reset");
  return TRUE;
}

static gboolean
check_supported (TbProbe *self, gpointer vfunc, const char *what, GError **error)
{
  if (vfunc != NULL)
    return TRUE;
  g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("The probe %s cannot %s the core"), tb_probe_get_uri (self),
               what);
  return FALSE;
}

/**
 * tb_probe_halt:
 *
 * Stops the target's core (a locked device refuses).
 */
gboolean
tb_probe_halt (TbProbe *self, GError **error)
{
  TbProbeClass *klass = TB_PROBE_GET_CLASS (self);

  return check_supported (self, klass->halt, _("halt"), error) && klass->halt (self, error);
}

/**
 * tb_probe_resume:
 *
 * Lets the target's core run again.
 */
gboolean
tb_probe_resume (TbProbe *self, GError **error)
{
  TbProbeClass *klass = TB_PROBE_GET_CLASS (self);

  return check_supported (self, klass->resume, _("resume"), error) && klass->resume (self, error);
}
