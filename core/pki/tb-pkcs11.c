/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Keys on PKCS#11 tokens (HSMs, smart cards, YubiKeys; SoftHSM in the
 * tests).
 *
 * Modules come through p11-kit: the system's configured modules, or one
 * module by path (the URI's `module-path` query attribute). Tokens and
 * keys are named by RFC 7512 URIs, parsed and matched by p11-kit. A key is
 * generated on the token (private half sensitive and never extractable),
 * its public half read back; signing runs C_Sign on the token, and the
 * key reaches OpenSSL through the provider in tb-pkcs11-provider.c, so
 * certificate issuance and every other signature work unchanged.
 *
 * The PIN is process-wide (tb_pkcs11_set_pin()): the CLI takes it from
 * $TRUSTBENCH_PIN, --pin-file or a prompt, the workbench from a dialog. It
 * is never stored.
 *
 * This file: the modules, the PIN, tokens, URIs and logged-in sessions.
 * Keys on a token (generate, load, sign, derive) are in tb-pkcs11-keys.c.
 */

#include "config.h"

#include "tb-pkcs11-private.h"

#include <glib/gi18n-lib.h>
#include <p11-kit/uri.h>
#include <string.h>

#include "tb-error.h"
#include "tb-secret.h"

G_LOCK_DEFINE_STATIC (modules);
static GHashTable *loaded_modules;      /* path → CK_FUNCTION_LIST* */
static CK_FUNCTION_LIST **system_modules;
static char *process_pin;
static guint modules_generation;
static TbPkcs11PinFunc pin_func;
static gpointer pin_func_data;

void
tb_token_info_free (TbTokenInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->label);
  g_free (info->serial);
  g_free (info->manufacturer);
  g_free (info->model);
  g_free (info->module);
  g_free (info->uri);
  g_free (info);
}

/**
 * tb_token_info_is_trust_store:
 *
 * Whether @info is p11-kit's view of the system trust store (the CA
 * certificates of the operating system, "System Trust"): p11-kit lists it
 * with the tokens on most desktops, but it is read-only and holds no keys.
 */
gboolean
tb_token_info_is_trust_store (const TbTokenInfo *info)
{
  g_autofree char *module = info->module != NULL ? g_path_get_basename (info->module) : NULL;

  return g_strcmp0 (info->model, "p11-kit-trust") == 0 || g_strcmp0 (module, "p11-kit-trust.so") == 0;
}

/**
 * tb_pkcs11_set_pin:
 * @pin: (nullable): the token PIN for this process, %NULL to forget it
 */
void
tb_pkcs11_set_pin (const char *pin)
{
  G_LOCK (modules);
  if (process_pin != NULL)
    tb_secret_wipe (process_pin, strlen (process_pin));
  g_free (process_pin);
  process_pin = g_strdup (pin);
  G_UNLOCK (modules);
}

/**
 * tb_pkcs11_set_pin_func:
 * @func: (nullable): asks for a token's PIN when a login needs one and
 *   none was set (a prompt); may run in a worker thread
 */
void
tb_pkcs11_set_pin_func (TbPkcs11PinFunc func, gpointer data)
{
  pin_func = func;
  pin_func_data = data;
}

gboolean
tb_pkcs11_has_pin (void)
{
  return process_pin != NULL;
}

/**
 * tb_pkcs11_reset:
 *
 * Finalizes and unloads every module, so the next use loads them afresh
 * (tokens inserted or a module reconfigured since). Keys opened before
 * must not be used afterwards.
 */
void
tb_pkcs11_reset (void)
{
  G_LOCK (modules);
  if (loaded_modules != NULL)
    {
      GHashTableIter it;
      gpointer module;
      g_hash_table_iter_init (&it, loaded_modules);
      while (g_hash_table_iter_next (&it, NULL, &module))
        {
          p11_kit_module_finalize (module);
          p11_kit_module_release (module);
        }
      g_clear_pointer (&loaded_modules, g_hash_table_unref);
    }
  modules_generation++;
  if (system_modules != NULL)
    {
      p11_kit_modules_finalize_and_release (system_modules);
      system_modules = NULL;
    }
  G_UNLOCK (modules);
}

void
tb_pkcs11_set_rv_error (GError **error, CK_RV rv, const char *what)
{
  int code = TB_ERROR_FAILED;
  const char *why = p11_kit_strerror (rv);

  switch (rv)
    {
    case CKR_PIN_INCORRECT:
      code = TB_ERROR_PERMISSION;
      why = _("wrong PIN");
      break;
    case CKR_PIN_LOCKED:
      code = TB_ERROR_PERMISSION;
      why = _("the token is locked out after too many wrong PINs: its security officer must unlock it");
      break;
    case CKR_PIN_LEN_RANGE:
      code = TB_ERROR_PERMISSION;
      why = _("the PIN has the wrong length");
      break;
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_DEVICE_REMOVED:
      code = TB_ERROR_NOT_FOUND;
      why = _("the token was removed");
      break;
    case CKR_MECHANISM_INVALID:
    case CKR_FUNCTION_NOT_SUPPORTED:
      code = TB_ERROR_UNSUPPORTED;
      break;
    default:
      break;
    }
  g_set_error (error, TB_ERROR, code, _("%s: %s (PKCS#11 0x%lx)"), what, why, (unsigned long) rv);
}

/* The modules to search: the one at @path, or p11-kit's configured ones. */
static GPtrArray *
get_modules (const char *path, GError **error)
{
  GPtrArray *out = g_ptr_array_new ();
  CK_FUNCTION_LIST *module;
  CK_RV rv;

  G_LOCK (modules);
  if (path != NULL)
    {
      if (loaded_modules == NULL)
        loaded_modules = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      module = g_hash_table_lookup (loaded_modules, path);
      if (module == NULL)
        {
          if (!g_file_test (path, G_FILE_TEST_EXISTS))
            {
              G_UNLOCK (modules);
              g_ptr_array_unref (out);
              g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND,
                           _("The PKCS#11 module %s is not there (token software removed?)"), path);
              return NULL;
            }
          module = p11_kit_module_load (path, 0);
          if (module == NULL)
            {
              G_UNLOCK (modules);
              g_ptr_array_unref (out);
              g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot load the PKCS#11 module %s: %s"), path,
                           p11_kit_message () != NULL ? p11_kit_message () : _("unknown error"));
              return NULL;
            }
          rv = p11_kit_module_initialize (module);
          if (rv != CKR_OK)
            {
              p11_kit_module_release (module);
              G_UNLOCK (modules);
              g_ptr_array_unref (out);
              tb_pkcs11_set_rv_error (error, rv, _("Cannot initialize the PKCS#11 module"));
              return NULL;
            }
          g_hash_table_insert (loaded_modules, g_strdup (path), module);
        }
      g_ptr_array_add (out, module);
    }
  else
    {
      if (system_modules == NULL)
        system_modules = p11_kit_modules_load_and_initialize (0);
      for (guint i = 0; system_modules != NULL && system_modules[i] != NULL; i++)
        g_ptr_array_add (out, system_modules[i]);
    }
  G_UNLOCK (modules);
  return out;
}

guint
tb_pkcs11_get_modules_generation (void)
{
  return modules_generation;
}

char *
tb_pkcs11_token_uri (const CK_TOKEN_INFO *info, const char *module_path)
{
  P11KitUri *uri = p11_kit_uri_new ();
  char *out;

  memcpy (p11_kit_uri_get_token_info (uri), info, sizeof *info);
  out = tb_pkcs11_format_uri (uri, P11_KIT_URI_FOR_TOKEN, module_path);
  p11_kit_uri_free (uri);
  return out;
}

/**
 * tb_pkcs11_list_tokens:
 * @module_path: (nullable): one module, or p11-kit's configured modules
 *
 * Returns: (transfer full) (element-type TbTokenInfo): tokens present
 */
GPtrArray *
tb_pkcs11_list_tokens (const char *module_path, GError **error)
{
  g_autoptr(GPtrArray) modules = get_modules (module_path, error);
  GPtrArray *out;

  if (modules == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_token_info_free);
  for (guint m = 0; m < modules->len; m++)
    {
      CK_FUNCTION_LIST *module = g_ptr_array_index (modules, m);
      CK_ULONG n = 0;
      g_autofree CK_SLOT_ID *slots = NULL;
      g_autofree char *filename = p11_kit_module_get_filename (module);

      if (module->C_GetSlotList (CK_TRUE, NULL, &n) != CKR_OK || n == 0)
        continue;
      slots = g_new0 (CK_SLOT_ID, n);
      if (module->C_GetSlotList (CK_TRUE, slots, &n) != CKR_OK)
        continue;
      for (CK_ULONG i = 0; i < n; i++)
        {
          CK_TOKEN_INFO ti;
          TbTokenInfo *info;

          if (module->C_GetTokenInfo (slots[i], &ti) != CKR_OK)
            continue;
          info = g_new0 (TbTokenInfo, 1);
          info->label = tb_pkcs11_padded (ti.label, sizeof ti.label);
          info->serial = tb_pkcs11_padded (ti.serialNumber, sizeof ti.serialNumber);
          info->manufacturer = tb_pkcs11_padded (ti.manufacturerID, sizeof ti.manufacturerID);
          info->model = tb_pkcs11_padded (ti.model, sizeof ti.model);
          info->module = g_strdup (module_path != NULL ? module_path : filename);
          info->uri = tb_pkcs11_token_uri (&ti, module_path);
          info->initialized = (ti.flags & CKF_TOKEN_INITIALIZED) != 0;
          g_ptr_array_add (out, info);
        }
    }
  return out;
}

/* Finds the first token matching @uri. */
gboolean
tb_pkcs11_find_token (P11KitUri *uri, CK_FUNCTION_LIST **module_out, CK_SLOT_ID *slot_out, CK_TOKEN_INFO *info_out,
            GError **error)
{
  g_autoptr(GPtrArray) modules = get_modules (p11_kit_uri_get_module_path (uri), error);

  if (modules == NULL)
    return FALSE;
  for (guint m = 0; m < modules->len; m++)
    {
      CK_FUNCTION_LIST *module = g_ptr_array_index (modules, m);
      CK_ULONG n = 0;
      g_autofree CK_SLOT_ID *slots = NULL;

      if (module->C_GetSlotList (CK_TRUE, NULL, &n) != CKR_OK || n == 0)
        continue;
      slots = g_new0 (CK_SLOT_ID, n);
      if (module->C_GetSlotList (CK_TRUE, slots, &n) != CKR_OK)
        continue;
      for (CK_ULONG i = 0; i < n; i++)
        {
          CK_TOKEN_INFO ti;
          if (module->C_GetTokenInfo (slots[i], &ti) == CKR_OK && p11_kit_uri_match_token_info (uri, &ti))
            {
              *module_out = module;
              *slot_out = slots[i];
              *info_out = ti;
              return TRUE;
            }
        }
    }
  g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND,
               _("No token present matches the key's PKCS#11 URI (token list shows the tokens)"));
  return FALSE;
}

gboolean
tb_pkcs11_open_logged_in (CK_FUNCTION_LIST *module, CK_SLOT_ID slot, const CK_TOKEN_INFO *ti, CK_SESSION_HANDLE *session,
                GError **error)
{
  g_autofree char *label = tb_pkcs11_padded (ti->label, sizeof ti->label);
  g_autofree char *what = NULL;
  CK_RV rv = module->C_OpenSession (slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, session);

  if (rv != CKR_OK)
    {
      what = g_strdup_printf (_("Cannot open a session on token “%s”"), label);
      tb_pkcs11_set_rv_error (error, rv, what);
      return FALSE;
    }
  if ((ti->flags & CKF_LOGIN_REQUIRED) == 0)
    return TRUE;
  if ((ti->flags & CKF_USER_PIN_LOCKED) != 0)
    {
      module->C_CloseSession (*session);
      what = g_strdup_printf (_("Cannot log in to token “%s”"), label);
      tb_pkcs11_set_rv_error (error, CKR_PIN_LOCKED, what);
      return FALSE;
    }
  if (process_pin == NULL && pin_func != NULL)
    {
      g_autoptr(GError) local = NULL;
      char *pin = pin_func (label, pin_func_data, &local);
      if (pin != NULL)
        {
          tb_pkcs11_set_pin (pin);
          tb_secret_wipe (pin, strlen (pin));
          g_free (pin);
        }
    }
  if (process_pin == NULL)
    {
      module->C_CloseSession (*session);
      g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION,
                   _("Token “%s” needs its PIN: set TRUSTBENCH_PIN, use --pin-file FILE or run on a terminal"), label);
      return FALSE;
    }
  rv = module->C_Login (*session, CKU_USER, (CK_UTF8CHAR_PTR) process_pin, strlen (process_pin));
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
    {
      module->C_CloseSession (*session);
      what = g_strdup_printf (_("Cannot log in to token “%s”"), label);
      tb_pkcs11_set_rv_error (error, rv, what);
      return FALSE;
    }
  return TRUE;
}

