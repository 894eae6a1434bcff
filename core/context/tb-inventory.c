/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The inventories of a context as typed records (tb-inventory.h): what
 * the front ends read of the keys, certificates and products context.json
 * lists, so that the JSON stays with the code of the file format. Jobs
 * have theirs in core/production (TbJobInfo). */

#include "config.h"

#include "tb-inventory.h"

#include <glib/gi18n-lib.h>

#include "tb-context-private.h"
#include "tb-error.h"
#include "tb-json-private.h"

G_DEFINE_BOXED_TYPE (TbKeyInfo, tb_key_info, tb_key_info_copy, tb_key_info_free)
G_DEFINE_BOXED_TYPE (TbCertInfo, tb_cert_info, tb_cert_info_copy, tb_cert_info_free)
G_DEFINE_BOXED_TYPE (TbProductInfo, tb_product_info, tb_product_info_copy, tb_product_info_free)

/* The string member @member of @obj, copied; @fallback (copied) when it is
 * missing, null or not a string. */
static char *
dup_member (JsonObject *obj, const char *member, const char *fallback)
{
  return g_strdup (tb_json_get_string (obj, member, fallback));
}

/* ---- keys ---- */

TbKeyInfo *
tb_key_info_copy (const TbKeyInfo *info)
{
  TbKeyInfo *copy = g_new0 (TbKeyInfo, 1);

  copy->name = g_strdup (info->name);
  copy->usage = g_strdup (info->usage);
  copy->algorithm = g_strdup (info->algorithm);
  copy->storage = g_strdup (info->storage);
  copy->file = g_strdup (info->file);
  copy->public_file = g_strdup (info->public_file);
  copy->public_key_sha256 = g_strdup (info->public_key_sha256);
  copy->created = g_strdup (info->created);
  return copy;
}

void
tb_key_info_free (TbKeyInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->usage);
  g_free (info->algorithm);
  g_free (info->storage);
  g_free (info->file);
  g_free (info->public_file);
  g_free (info->public_key_sha256);
  g_free (info->created);
  g_free (info);
}

static TbKeyInfo *
key_info_new (JsonObject *entry)
{
  TbKeyInfo *info = g_new0 (TbKeyInfo, 1);

  info->name = dup_member (entry, "name", "");
  info->usage = dup_member (entry, "usage", "");
  info->algorithm = dup_member (entry, "algorithm", "");
  /* as tb_key_load() reads it */
  info->storage = dup_member (entry, "storage", "file");
  info->file = dup_member (entry, "file", NULL);
  info->public_file = dup_member (entry, "public_file", NULL);
  info->public_key_sha256 = dup_member (entry, "public_key_sha256", "");
  info->created = dup_member (entry, "created", NULL);
  return info;
}

/**
 * tb_context_list_keys:
 * @self: a context
 *
 * Returns: (transfer container) (element-type TbKeyInfo): the context's
 *   keys, in inventory order
 */
GPtrArray *
tb_context_list_keys (TbContext *self)
{
  g_autoptr(GPtrArray) entries = NULL;
  GPtrArray *keys = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_key_info_free);

  g_return_val_if_fail (TB_IS_CONTEXT (self), keys);
  entries = tb_context_get_entries (self, TB_INVENTORY_KEYS);
  for (guint i = 0; i < entries->len; i++)
    g_ptr_array_add (keys, key_info_new (g_ptr_array_index (entries, i)));
  return keys;
}

/**
 * tb_context_lookup_key:
 * @self: a context
 * @name: a key's name
 *
 * Returns: (transfer full): the key named @name, or %NULL with
 *   %TB_ERROR_NOT_FOUND when the context lists none
 */
TbKeyInfo *
tb_context_lookup_key (TbContext *self, const char *name, GError **error)
{
  JsonObject *entry;

  g_return_val_if_fail (TB_IS_CONTEXT (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  entry = tb_context_find_entry (self, TB_INVENTORY_KEYS, name);
  if (entry == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("The context %s has no key “%s”"),
                   tb_context_get_path (self), name);
      return NULL;
    }
  return key_info_new (entry);
}

/* ---- certificates ---- */

TbCertInfo *
tb_cert_info_copy (const TbCertInfo *info)
{
  TbCertInfo *copy = g_new0 (TbCertInfo, 1);

  copy->name = g_strdup (info->name);
  copy->key = g_strdup (info->key);
  copy->file = g_strdup (info->file);
  copy->subject = g_strdup (info->subject);
  copy->issuer = g_strdup (info->issuer);
  copy->serial = g_strdup (info->serial);
  copy->not_before = g_strdup (info->not_before);
  copy->not_after = g_strdup (info->not_after);
  copy->sha256 = g_strdup (info->sha256);
  copy->revoked = g_strdup (info->revoked);
  copy->revocation_reason = g_strdup (info->revocation_reason);
  return copy;
}

void
tb_cert_info_free (TbCertInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->key);
  g_free (info->file);
  g_free (info->subject);
  g_free (info->issuer);
  g_free (info->serial);
  g_free (info->not_before);
  g_free (info->not_after);
  g_free (info->sha256);
  g_free (info->revoked);
  g_free (info->revocation_reason);
  g_free (info);
}

static TbCertInfo *
cert_info_new (JsonObject *entry)
{
  TbCertInfo *info = g_new0 (TbCertInfo, 1);

  info->name = dup_member (entry, "name", "");
  info->key = dup_member (entry, "key", NULL);
  info->file = dup_member (entry, "file", NULL);
  info->subject = dup_member (entry, "subject", "");
  info->issuer = dup_member (entry, "issuer", "");
  info->serial = dup_member (entry, "serial", "");
  info->not_before = dup_member (entry, "not_before", "");
  info->not_after = dup_member (entry, "not_after", "");
  info->sha256 = dup_member (entry, "sha256", NULL);
  info->revoked = dup_member (entry, "revoked", NULL);
  info->revocation_reason = dup_member (entry, "revocation_reason", NULL);
  return info;
}

/**
 * tb_context_list_certificates:
 * @self: a context
 *
 * Returns: (transfer container) (element-type TbCertInfo): the context's
 *   certificates, in inventory order
 */
GPtrArray *
tb_context_list_certificates (TbContext *self)
{
  g_autoptr(GPtrArray) entries = NULL;
  GPtrArray *certs = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_cert_info_free);

  g_return_val_if_fail (TB_IS_CONTEXT (self), certs);
  entries = tb_context_get_entries (self, TB_INVENTORY_CERTIFICATES);
  for (guint i = 0; i < entries->len; i++)
    g_ptr_array_add (certs, cert_info_new (g_ptr_array_index (entries, i)));
  return certs;
}

/**
 * tb_context_lookup_certificate:
 * @self: a context
 * @name: a certificate's name
 *
 * Returns: (transfer full): the certificate named @name, or %NULL with
 *   %TB_ERROR_NOT_FOUND when the context lists none
 */
TbCertInfo *
tb_context_lookup_certificate (TbContext *self, const char *name, GError **error)
{
  JsonObject *entry;

  g_return_val_if_fail (TB_IS_CONTEXT (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  entry = tb_context_find_entry (self, TB_INVENTORY_CERTIFICATES, name);
  if (entry == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("The context %s has no certificate “%s”"),
                   tb_context_get_path (self), name);
      return NULL;
    }
  return cert_info_new (entry);
}

/* ---- products ---- */

TbProductInfo *
tb_product_info_copy (const TbProductInfo *info)
{
  TbProductInfo *copy = g_new0 (TbProductInfo, 1);

  copy->name = g_strdup (info->name);
  copy->key = g_strdup (info->key);
  copy->description = g_strdup (info->description);
  copy->device_types = g_strdupv (info->device_types);
  return copy;
}

void
tb_product_info_free (TbProductInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->key);
  g_free (info->description);
  g_strfreev (info->device_types);
  g_free (info);
}

/* The rule for a product's key name, of its entry (or of none). */
static char *
product_key_name (JsonObject *entry, const char *product)
{
  const char *key = tb_json_get_string (entry, "key", NULL);

  return key != NULL ? g_strdup (key) : g_strconcat (TB_KEY_NAME_PRODUCT_PREFIX, product, NULL);
}

static TbProductInfo *
product_info_new (JsonObject *entry)
{
  TbProductInfo *info = g_new0 (TbProductInfo, 1);

  info->name = dup_member (entry, "name", "");
  info->key = product_key_name (entry, info->name);
  info->description = dup_member (entry, "description", NULL);
  info->device_types = tb_json_dup_strv (entry, "device_types");
  return info;
}

/**
 * tb_context_list_products:
 * @self: a context
 *
 * Returns: (transfer container) (element-type TbProductInfo): the
 *   context's products, in inventory order
 */
GPtrArray *
tb_context_list_products (TbContext *self)
{
  g_autoptr(GPtrArray) entries = NULL;
  GPtrArray *products = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_product_info_free);

  g_return_val_if_fail (TB_IS_CONTEXT (self), products);
  entries = tb_context_get_entries (self, TB_INVENTORY_PRODUCTS);
  for (guint i = 0; i < entries->len; i++)
    g_ptr_array_add (products, product_info_new (g_ptr_array_index (entries, i)));
  return products;
}

/**
 * tb_context_lookup_product:
 * @self: a context
 * @name: a product's name
 *
 * Returns: (transfer full): the product named @name, or %NULL with
 *   %TB_ERROR_NOT_FOUND when the context lists none
 */
TbProductInfo *
tb_context_lookup_product (TbContext *self, const char *name, GError **error)
{
  g_return_val_if_fail (TB_IS_CONTEXT (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  if (!tb_context_check_product (self, name, error))
    return NULL;
  return product_info_new (tb_context_find_entry (self, TB_INVENTORY_PRODUCTS, name));
}

/**
 * tb_context_check_product:
 * @self: a context
 * @name: (nullable): a product's name
 *
 * The one check (and error) of every workflow that takes a product.
 *
 * Returns: %TRUE when the context lists @name; else %FALSE with
 *   %TB_ERROR_NOT_FOUND naming the products it does list
 */
gboolean
tb_context_check_product (TbContext *self, const char *name, GError **error)
{
  g_autoptr(GPtrArray) products = NULL;
  g_autoptr(GString) names = NULL;

  g_return_val_if_fail (TB_IS_CONTEXT (self), FALSE);
  if (name != NULL && tb_context_find_entry (self, TB_INVENTORY_PRODUCTS, name) != NULL)
    return TRUE;
  products = tb_context_get_entries (self, TB_INVENTORY_PRODUCTS);
  if (products->len == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND,
                   _("The context %s has no product “%s”: it has no products yet"), tb_context_get_path (self),
                   name != NULL ? name : "");
      return FALSE;
    }
  names = g_string_new (NULL);
  for (guint i = 0; i < products->len; i++)
    g_string_append_printf (names, "%s%s", i > 0 ? ", " : "",
                            tb_json_get_string (g_ptr_array_index (products, i), "name", "?"));
  g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("The context %s has no product “%s” (its products: %s)"),
               tb_context_get_path (self), name != NULL ? name : "", names->str);
  return FALSE;
}

/**
 * tb_context_dup_product_key_name:
 * @self: a context
 * @product: a product's name, listed by the context or not
 *
 * The name of the key that stands for @product: the `key` its entry names,
 * else `product-PRODUCT` (also for a product the context does not list:
 * its key may still be there).
 *
 * Returns: (transfer full): the key's name
 */
char *
tb_context_dup_product_key_name (TbContext *self, const char *product)
{
  g_return_val_if_fail (TB_IS_CONTEXT (self), NULL);
  g_return_val_if_fail (product != NULL, NULL);
  return product_key_name (tb_context_find_entry (self, TB_INVENTORY_PRODUCTS, product), product);
}

/**
 * tb_context_add_product:
 * @self: a context locked for writing
 * @name: the new product's name
 *
 * Adds a product that names nothing else (its key is then `product-NAME`)
 * in memory, refused as tb_context_add_entry() refuses an entry (a name
 * that is not valid or already listed); call tb_context_save() to write
 * it.
 */
gboolean
tb_context_add_product (TbContext *self, const char *name, GError **error)
{
  g_autoptr(JsonObject) product = json_object_new ();

  g_return_val_if_fail (TB_IS_CONTEXT (self), FALSE);
  if (name != NULL)
    json_object_set_string_member (product, "name", name);
  return tb_context_add_entry (self, TB_INVENTORY_PRODUCTS, product, error);
}

/* ---- any inventory ---- */

/**
 * tb_context_has_entry:
 * @self: a context
 * @inventory: which inventory
 * @id: an entry's identifier (`name`; `job_id` for a job)
 *
 * Returns: whether @inventory lists @id
 */
gboolean
tb_context_has_entry (TbContext *self, TbInventory inventory, const char *id)
{
  g_return_val_if_fail (TB_IS_CONTEXT (self), FALSE);
  g_return_val_if_fail (inventory < TB_INVENTORY_N, FALSE);
  return id != NULL && tb_context_find_entry (self, inventory, id) != NULL;
}

/**
 * tb_context_dup_ids:
 * @self: a context
 * @inventory: which inventory
 *
 * Returns: (transfer full): the identifiers of the entries (`name`;
 *   `job_id` for jobs), in inventory order
 */
GStrv
tb_context_dup_ids (TbContext *self, TbInventory inventory)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GPtrArray) entries = NULL;

  g_return_val_if_fail (TB_IS_CONTEXT (self), NULL);
  g_return_val_if_fail (inventory < TB_INVENTORY_N, NULL);
  entries = tb_context_get_entries (self, inventory);
  /* every entry has its identifier: the checks of every load and every
   * tb_context_add_entry() see to it */
  for (guint i = 0; i < entries->len; i++)
    g_strv_builder_add (builder, tb_json_get_string (g_ptr_array_index (entries, i),
                                                     tb_context_inventory_id_members[inventory], ""));
  return g_strv_builder_end (builder);
}

static JsonNode *
deep_copy (JsonNode *node)
{
  JsonNode *copy;

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);
      JsonObject *out = json_object_new ();
      g_autoptr(GList) members = json_object_get_members (object);

      for (GList *m = members; m != NULL; m = m->next)
        json_object_set_member (out, m->data, deep_copy (json_object_get_member (object, m->data)));
      copy = json_node_alloc ();
      json_node_take_object (json_node_init (copy, JSON_NODE_OBJECT), out);
      return copy;
    }
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      JsonArray *out = json_array_sized_new (json_array_get_length (array));

      for (guint i = 0; i < json_array_get_length (array); i++)
        json_array_add_element (out, deep_copy (json_array_get_element (array, i)));
      copy = json_node_alloc ();
      json_node_take_array (json_node_init (copy, JSON_NODE_ARRAY), out);
      return copy;
    }
  return json_node_copy (node); /* a value or null: nothing shared */
}

/**
 * tb_context_inventory_to_json:
 * @self: a context
 * @inventory: which inventory
 *
 * The inventory as context.json holds it, for output formats that show it
 * so (the command line's `--json`): every member of every entry, the ones
 * this build does not know too, in the file's order.
 *
 * Returns: (transfer full): a JSON array, a deep copy (empty when the
 *   context has no such inventory)
 */
JsonNode *
tb_context_inventory_to_json (TbContext *self, TbInventory inventory)
{
  g_autoptr(GPtrArray) entries = NULL;
  JsonArray *array;
  JsonNode *result;

  g_return_val_if_fail (TB_IS_CONTEXT (self), NULL);
  g_return_val_if_fail (inventory < TB_INVENTORY_N, NULL);
  entries = tb_context_get_entries (self, inventory);
  array = json_array_sized_new (entries->len);
  for (guint i = 0; i < entries->len; i++)
    {
      g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), g_ptr_array_index (entries, i));
      json_array_add_element (array, deep_copy (node));
    }
  result = json_node_init (json_node_alloc (), JSON_NODE_ARRAY);
  json_node_take_array (result, array);
  return result;
}
