/* SPDX-License-Identifier: GPL-3.0-or-later */

/**
 * TbVirtualBoard:
 *
 * A virtual microcontroller that behaves like a lab board: flash with
 * page-erase / program semantics (erased 0xFF; programming only clears
 * bits), RAM holding the SBM mailbox, an OTP/key store, a unique ID, a
 * device type and a lifecycle (blank → SBM installed → provisioned →
 * locked). It is born with a P-256 device key pair generated inside; the
 * private key stays in the board's OTP and is used only by code running
 * "on" the board (the SBM). A locked board limits debug access to the
 * mailbox.
 *
 * State lives in a board directory: `board.json` (identity, lifecycle,
 * OTP) written atomically, and `flash.bin` (the raw flash) updated in
 * place at every flash operation, like real flash. docs/board.md
 * documents both. Fault injection: power is lost after the N-th flash
 * operation from the moment it is armed; the board then refuses
 * everything until it is power-cycled, keeping the flash as it was.
 *
 * This file: the object, board.json (create, open, save) and the board's
 * identity. The flash model with its power cuts and debug access are in
 * tb-virtual-board-flash.c, the SBM running on the board in
 * tb-virtual-board-sbm.c.
 */

#include "config.h"

#include "tb-virtual-board-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "tb-error.h"
#include "tb-json-private.h"
#include "tb-openssl-private.h"
#include "tb-name.h"
#include "tb-sbm-image.h"
#include "tb-secret.h"

G_STATIC_ASSERT (TB_BOARD_RAM_BASE == TB_MB_ADDRESS);

#define BOARD_FILE "board.json"
#define FLASH_FILE "flash.bin"
#define LOCK_FILE ".lock"
#define MAX_FLASH_SIZE (64u * 1024u * 1024u)

G_STATIC_ASSERT (TB_BOARD_FLASH_BASE == TB_SBM_IMAGE_ADDRESS);

G_DEFINE_FINAL_TYPE (TbVirtualBoard, tb_virtual_board, G_TYPE_OBJECT)

static void
tb_virtual_board_finalize (GObject *object)
{
  TbVirtualBoard *self = TB_VIRTUAL_BOARD (object);

  if (self->flash_fd >= 0)
    close (self->flash_fd);
  g_free (self->flash);
  g_free (self->ram);
  if (self->sbm_running)
    tb_sbm_shutdown (self->sbm);
  g_free (self->sbm);
  g_clear_pointer (&self->root, json_object_unref);
  g_free (self->json_path);
  g_free (self->path);
  g_clear_pointer (&self->lock, tb_lock_release);
  G_OBJECT_CLASS (tb_virtual_board_parent_class)->finalize (object);
}

static void
tb_virtual_board_class_init (TbVirtualBoardClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tb_virtual_board_finalize;
}

static void
tb_virtual_board_init (TbVirtualBoard *self)
{
  self->flash_fd = -1;
  self->ram = g_malloc0 (TB_BOARD_RAM_SIZE);
  self->sbm = g_new0 (TbSbm, 1);
  self->power_loss_after = -1;
  self->powered = TRUE;
}

static gboolean
uid_is_valid (const char *uid)
{
  gsize len = uid != NULL ? strlen (uid) : 0;

  if (len < 2 || len > 64 || len % 2 != 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (uid[i]))
      return FALSE;
  return TRUE;
}

/* The device key is born inside the board: a P-256 pair whose private
 * scalar goes into the OTP and never out through the debug port. */
static gboolean
generate_device_key (JsonObject *otp, GError **error)
{
  EVP_PKEY *pkey = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  BIGNUM *priv = NULL;
  guint8 scalar[32];
  guint8 point[65];
  size_t point_len = 0;
  g_autofree char *priv_hex = NULL;
  g_autofree char *pub_hex = NULL;
  gboolean ok;

  ok = pkey != NULL && EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv) &&
       BN_bn2binpad (priv, scalar, sizeof scalar) == sizeof scalar &&
       EVP_PKEY_get_octet_string_param (pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point, &point_len) &&
       point_len == sizeof point;
  BN_clear_free (priv);
  EVP_PKEY_free (pkey);
  if (!ok)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("The board cannot generate its device key"));
      return FALSE;
    }
  priv_hex = tb_hex_encode (scalar, sizeof scalar);
  pub_hex = tb_hex_encode (point, sizeof point);
  OPENSSL_cleanse (scalar, sizeof scalar);
  json_object_set_string_member (otp, "device_private_key", priv_hex);
  json_object_set_string_member (otp, "device_public_key", pub_hex);
  tb_secret_wipe (priv_hex, strlen (priv_hex));
  return TRUE;
}

/**
 * tb_virtual_board_save:
 *
 * Writes board.json atomically (the flash is written at each operation).
 */
gboolean
tb_virtual_board_save (TbVirtualBoard *self, GError **error)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *data = NULL;
  gsize len = 0;

  json_node_set_object (node, self->root);
  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, TRUE);
  data = json_generator_to_data (gen, &len);
  return tb_file_write_atomic (self->json_path, data, len, 0600, error);
}

/* One board, one user: a probe (or any other opener) holds the board's
 * lock for as long as it has the board open, so that two operations never
 * work on the same state (two provisionings issuing two certificates for
 * one device). Taken before the state is read. */
static gboolean
lock_board (TbVirtualBoard *self, GError **error)
{
  g_autofree char *lock_path = g_build_filename (self->path, LOCK_FILE, NULL);
  g_autofree char *what = g_strdup_printf (_("The virtual board %s"), self->path);

  self->lock = tb_lock_acquire (lock_path, what, error);
  return self->lock != NULL;
}

/**
 * tb_virtual_board_create:
 * @path: a new or empty directory
 * @device_type: (nullable): default %TB_BOARD_DEFAULT_DEVICE_TYPE
 * @flash_size: bytes, a multiple of @page_size (0: 1 MiB)
 * @page_size: erase page (0: 4 KiB), a power of two
 * @uid_hex: (nullable): the unique ID, else 16 random bytes
 *
 * Makes a blank board, born with its UID and device key.
 */
TbVirtualBoard *
tb_virtual_board_create (const char *path, const char *device_type, guint32 flash_size, guint32 page_size,
                         const char *uid_hex, GError **error)
{
  g_autoptr(TbVirtualBoard) self = g_object_new (TB_TYPE_VIRTUAL_BOARD, NULL);
  g_autoptr(JsonObject) flash = json_object_new ();
  g_autoptr(JsonObject) otp = json_object_new ();
  g_autofree char *flash_path = NULL;
  g_autofree char *uid = NULL;
  g_autoptr(GDir) dir = NULL;

  if (flash_size == 0)
    flash_size = TB_BOARD_DEFAULT_FLASH_SIZE;
  if (page_size == 0)
    page_size = TB_BOARD_DEFAULT_PAGE_SIZE;
  if (device_type == NULL)
    device_type = TB_BOARD_DEFAULT_DEVICE_TYPE;
  if (page_size < 256 || page_size > 128 * 1024 || (page_size & (page_size - 1)) != 0 ||
      flash_size < 16 * page_size || flash_size > MAX_FLASH_SIZE || flash_size % page_size != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("A flash of %u bytes in pages of %u bytes is not possible: pages are a power of two from 256 "
                     "bytes to 128 KiB, the flash 16 pages to 64 MiB, a whole number of pages"),
                   flash_size, page_size);
      return NULL;
    }
  if (!tb_name_is_valid (device_type, error))
    return NULL;
  if (uid_hex != NULL && !uid_is_valid (uid_hex))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Invalid UID “%s”: expected 2 to 64 hex digits, an even number of them"), uid_hex);
      return NULL;
    }
  if (uid_hex != NULL)
    uid = g_ascii_strdown (uid_hex, -1);
  else
    {
      guint8 raw[16];
      if (!tb_crypto_random_bytes (raw, sizeof raw, error))
        return NULL;
      uid = tb_hex_encode (raw, sizeof raw);
    }
  if (g_mkdir_with_parents (path, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot create %s: %s"), path, g_strerror (saved_errno));
      return NULL;
    }
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL && g_dir_read_name (dir) != NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_EXISTS, _("%s is not empty; a new board needs a new or empty directory"),
                   path);
      return NULL;
    }

  self->path = g_canonicalize_filename (path, NULL);
  self->json_path = g_build_filename (self->path, BOARD_FILE, NULL);
  if (!lock_board (self, error))
    return NULL;
  self->flash_size = flash_size;
  self->page_size = page_size;
  self->root = json_object_new ();
  json_object_set_int_member (self->root, "schema_version", TB_BOARD_SCHEMA_VERSION);
  json_object_set_string_member (self->root, "uid", uid);
  json_object_set_string_member (self->root, "device_type", device_type);
  json_object_set_string_member (self->root, "lifecycle", tb_lifecycle_to_string (TB_LIFECYCLE_BLANK));
  json_object_set_int_member (flash, "base", TB_BOARD_FLASH_BASE);
  json_object_set_int_member (flash, "size", flash_size);
  json_object_set_int_member (flash, "page_size", page_size);
  json_object_set_string_member (flash, "file", FLASH_FILE);
  json_object_set_object_member (self->root, "flash", g_steal_pointer (&flash));
  if (!generate_device_key (otp, error))
    return NULL;
  json_object_set_object_member (self->root, "otp", g_steal_pointer (&otp));
  {
    /* the silicon vendor fuses the hash of the genuine SBM into ROM */
    g_autoptr(GBytes) sbm = tb_sbm_image_build ();
    g_autofree char *sbm_hash = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, sbm);
    g_autoptr(JsonObject) rom = json_object_new ();
    json_object_set_string_member (rom, "sbm_sha256", sbm_hash);
    json_object_set_object_member (self->root, "rom", g_steal_pointer (&rom));
  }

  self->flash = g_malloc (flash_size);
  memset (self->flash, 0xff, flash_size);
  flash_path = g_build_filename (self->path, FLASH_FILE, NULL);
  if (!tb_file_write_atomic (flash_path, self->flash, flash_size, 0600, error) || !tb_virtual_board_save (self, error))
    return NULL;
  self->flash_fd = open (flash_path, O_RDWR | O_CLOEXEC);
  if (self->flash_fd < 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot open %s"), flash_path);
      return NULL;
    }
  return g_steal_pointer (&self);
}

static gboolean
fail_board (GError **error, const char *file, const char *message)
{
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, "%s: %s", file, message);
  return FALSE;
}

/* TRUE when @name is missing from @o (and not @required), or holds a node of
 * @type; for a value, one of @value_type. */
static gboolean
member_is (JsonObject *o, const char *name, gboolean required, JsonNodeType type, GType value_type)
{
  JsonNode *node = json_object_get_member (o, name);

  if (node == NULL)
    return !required;
  return JSON_NODE_TYPE (node) == type && (type != JSON_NODE_VALUE || json_node_get_value_type (node) == value_type);
}

/* board.json has the shape the accessors below expect, so that they read
 * it without checking again: a string, an object or a number where one is
 * due, every OTP item a string. */
static gboolean
board_has_valid_shape (JsonObject *root)
{
  JsonObject *otp, *rom;
  g_autoptr(GList) items = NULL;

  if (!member_is (root, "schema_version", TRUE, JSON_NODE_VALUE, G_TYPE_INT64) ||
      !member_is (root, "uid", TRUE, JSON_NODE_VALUE, G_TYPE_STRING) ||
      !member_is (root, "device_type", TRUE, JSON_NODE_VALUE, G_TYPE_STRING) ||
      !member_is (root, "lifecycle", TRUE, JSON_NODE_VALUE, G_TYPE_STRING) ||
      !member_is (root, "flash", TRUE, JSON_NODE_OBJECT, G_TYPE_INVALID) ||
      !member_is (root, "otp", TRUE, JSON_NODE_OBJECT, G_TYPE_INVALID) ||
      !member_is (root, "rom", FALSE, JSON_NODE_OBJECT, G_TYPE_INVALID))
    return FALSE;
  if (!member_is (json_object_get_object_member (root, "flash"), "size", TRUE, JSON_NODE_VALUE, G_TYPE_INT64) ||
      !member_is (json_object_get_object_member (root, "flash"), "page_size", TRUE, JSON_NODE_VALUE, G_TYPE_INT64))
    return FALSE;
  rom = json_object_has_member (root, "rom") ? json_object_get_object_member (root, "rom") : NULL;
  if (rom != NULL && !member_is (rom, "sbm_sha256", FALSE, JSON_NODE_VALUE, G_TYPE_STRING))
    return FALSE;
  otp = json_object_get_object_member (root, "otp");
  items = json_object_get_members (otp);
  for (GList *l = items; l != NULL; l = l->next)
    if (!member_is (otp, l->data, TRUE, JSON_NODE_VALUE, G_TYPE_STRING))
      return FALSE;
  return TRUE;
}

/**
 * tb_virtual_board_read_identity:
 * @path: a board directory
 * @uid: (out): its UID (hex)
 * @device_type: (out): its device type
 * @lifecycle: (out): its lifecycle
 *
 * Reads who a board is from board.json without opening the board: no
 * lock, no power-up, nothing written, so listing boards never gets in the
 * way of (or is refused by) the process that has one open. board.json is
 * replaced atomically: what is read is a whole version of it.
 */
gboolean
tb_virtual_board_read_identity (const char *path, char **uid, char **device_type, TbLifecycle *lifecycle,
                                GError **error)
{
  g_autofree char *json_path = g_build_filename (path, BOARD_FILE, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *data = NULL;
  gsize len = 0;
  JsonObject *root;
  const char *u, *t;

  if (!tb_file_read_bounded (json_path, 1024 * 1024, &data, &len, error))
    return FALSE;
  if (!json_parser_load_from_data (parser, data, (gssize) len, NULL) || json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return fail_board (error, json_path, _("the top level must be an object"));
  root = json_node_get_object (json_parser_get_root (parser));
  u = tb_json_get_string (root, "uid", NULL);
  t = tb_json_get_string (root, "device_type", NULL);
  if (!uid_is_valid (u) || !tb_name_is_valid (t, NULL) ||
      !tb_lifecycle_from_string (tb_json_get_string (root, "lifecycle", NULL), lifecycle))
    return fail_board (error, json_path, _("“uid”, “device_type” or “lifecycle” is missing or invalid"));
  *uid = g_strdup (u);
  *device_type = g_strdup (t);
  return TRUE;
}

/**
 * tb_virtual_board_open:
 * @path: a board directory
 *
 * Loads a board, checking board.json and that flash.bin has the flash's size.
 */
TbVirtualBoard *
tb_virtual_board_open (const char *path, GError **error)
{
  g_autoptr(TbVirtualBoard) self = g_object_new (TB_TYPE_VIRTUAL_BOARD, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *data = NULL;
  g_autofree char *flash_path = NULL;
  g_autoptr(GError) local = NULL;
  gsize len = 0;
  JsonNode *root;
  JsonObject *flash, *otp;
  const char *lifecycle;

  self->path = g_canonicalize_filename (path, NULL);
  self->json_path = g_build_filename (self->path, BOARD_FILE, NULL);
  if (!g_file_test (self->json_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("%s is not a virtual board: %s does not exist"), self->path,
                   BOARD_FILE);
      return NULL;
    }
  if (!lock_board (self, error) || !tb_file_read_bounded (self->json_path, 1024 * 1024, &data, &len, error))
    return NULL;
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, "%s: %s", self->json_path, local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return fail_board (error, self->json_path, _("the top level must be an object")), NULL;
  self->root = json_object_ref (json_node_get_object (root));
  if (!board_has_valid_shape (self->root))
    return fail_board (error, self->json_path,
                       _("a member is missing or of the wrong type (uid, device_type, lifecycle: strings; "
                         "flash: an object with a size and a page_size; otp: an object of strings)")), NULL;
  if (tb_json_get_int (self->root, "schema_version", 0) != TB_BOARD_SCHEMA_VERSION)
    return fail_board (error, self->json_path, _("unknown schema_version")), NULL;
  if (!uid_is_valid (tb_json_get_string (self->root, "uid", NULL)))
    return fail_board (error, self->json_path, _("“uid” is missing or not hex")), NULL;
  if (!tb_name_is_valid (tb_json_get_string (self->root, "device_type", NULL), NULL))
    return fail_board (error, self->json_path, _("“device_type” is missing or invalid")), NULL;
  lifecycle = tb_json_get_string (self->root, "lifecycle", NULL);
  if (!tb_lifecycle_from_string (lifecycle, NULL))
    return fail_board (error, self->json_path, _("“lifecycle” is not blank, sbm-installed, provisioned or locked")),
           NULL;
  flash = json_object_get_object_member (self->root, "flash");
  otp = json_object_get_object_member (self->root, "otp");
  if (flash == NULL || otp == NULL)
    return fail_board (error, self->json_path, _("“flash” or “otp” is missing")), NULL;
  /* range-checked before the narrowing: 2^32 + 64 KiB is not 64 KiB */
  if (json_object_get_int_member (flash, "size") <= 0 || json_object_get_int_member (flash, "size") > MAX_FLASH_SIZE ||
      json_object_get_int_member (flash, "page_size") <= 0 ||
      json_object_get_int_member (flash, "page_size") > MAX_FLASH_SIZE)
    return fail_board (error, self->json_path, _("the flash geometry is not valid")), NULL;
  self->flash_size = (guint32) json_object_get_int_member (flash, "size");
  self->page_size = (guint32) json_object_get_int_member (flash, "page_size");
  if (self->page_size < 256 || (self->page_size & (self->page_size - 1)) != 0 || self->flash_size == 0 ||
      self->flash_size > MAX_FLASH_SIZE || self->flash_size % self->page_size != 0)
    return fail_board (error, self->json_path, _("the flash geometry is not valid")), NULL;
  if (tb_json_get_string (otp, "device_public_key", NULL) == NULL ||
      tb_json_get_string (otp, "device_private_key", NULL) == NULL)
    return fail_board (error, self->json_path, _("the device key is missing from the OTP")), NULL;

  flash_path = g_build_filename (self->path, FLASH_FILE, NULL);
  self->flash_fd = open (flash_path, O_RDWR | O_CLOEXEC);
  if (self->flash_fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("Cannot open %s: %s"), flash_path,
                   g_strerror (saved_errno));
      return NULL;
    }
  self->flash = g_malloc (self->flash_size);
  {
    gssize n = pread (self->flash_fd, self->flash, self->flash_size, 0);
    guint8 extra;
    if (n != (gssize) self->flash_size || pread (self->flash_fd, &extra, 1, self->flash_size) != 0)
      {
        g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s: the flash image must have exactly %u bytes"),
                     flash_path, self->flash_size);
        return NULL;
      }
  }
  return g_steal_pointer (&self);
}

const char *
tb_virtual_board_get_path (TbVirtualBoard *self)
{
  return self->path;
}

const char *
tb_virtual_board_get_uid (TbVirtualBoard *self)
{
  return json_object_get_string_member (self->root, "uid");
}

const char *
tb_virtual_board_get_device_type (TbVirtualBoard *self)
{
  return json_object_get_string_member (self->root, "device_type");
}

TbLifecycle
tb_virtual_board_get_lifecycle (TbVirtualBoard *self)
{
  TbLifecycle lifecycle = TB_LIFECYCLE_BLANK;

  tb_lifecycle_from_string (json_object_get_string_member (self->root, "lifecycle"), &lifecycle);
  return lifecycle;
}

/**
 * tb_virtual_board_set_lifecycle:
 *
 * Moves the lifecycle forward (it never goes back) and saves board.json.
 */
gboolean
tb_virtual_board_set_lifecycle (TbVirtualBoard *self, TbLifecycle lifecycle, GError **error)
{
  TbLifecycle current = tb_virtual_board_get_lifecycle (self);

  if (lifecycle < current)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("The board's lifecycle cannot go back from %s to %s"),
                   tb_lifecycle_to_string (current), tb_lifecycle_to_string (lifecycle));
      return FALSE;
    }
  json_object_set_string_member (self->root, "lifecycle", tb_lifecycle_to_string (lifecycle));
  return tb_virtual_board_save (self, error);
}

guint32
tb_virtual_board_get_flash_size (TbVirtualBoard *self)
{
  return self->flash_size;
}

guint32
tb_virtual_board_get_page_size (TbVirtualBoard *self)
{
  return self->page_size;
}

const char *
tb_virtual_board_get_public_key (TbVirtualBoard *self)
{
  return json_object_get_string_member (tb_virtual_board_get_otp (self), "device_public_key");
}

/**
 * tb_virtual_board_get_otp:
 *
 * Returns: (transfer none): the OTP/key store; board-internal (the SBM)
 */
JsonObject *
tb_virtual_board_get_otp (TbVirtualBoard *self)
{
  return json_object_get_object_member (self->root, "otp");
}
