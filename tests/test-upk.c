/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The Update Protection Key (.tbupk, docs/formats/upk.md) on its own:
 * built field by field, signed and parsed back, a corpus of broken files
 * (each TLV rule of the parser) with the exact error, signature checks,
 * refused signers and recipients. Mastering whole images is in
 * test-master.c. */

#include "config.h"

#include <string.h>

#include "tb-test-oem.h"
#include "tb-test-util.h"
#include "trustbench.h"

static TbTestOem *oem;
static guint8 image_key[TB_UPK_IMAGE_KEY_LEN];

static TbUpk *
make_upk (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pk_name = g_strconcat (TB_KEY_NAME_PRODUCT_PREFIX, oem->product, NULL);
  g_autoptr(TbKey) product_key = tb_key_load (oem->ctx, pk_name, &error);
  TbUpk *upk = tb_upk_new ();
  guint8 digest[32], header[32], id[TB_UPK_IMAGE_ID_LEN];

  g_assert_no_error (error);
  for (guint i = 0; i < 32; i++)
    {
      digest[i] = (guint8) i;
      header[i] = (guint8) (0x40 + i);
    }
  for (guint i = 0; i < TB_UPK_IMAGE_ID_LEN; i++)
    id[i] = (guint8) (0x90 + i);
  tb_upk_set_product (upk, oem->product);
  tb_upk_add_device_type (upk, "tb-vmcu-m4");
  tb_upk_add_device_uid (upk, "0a0b0c0d");
  tb_upk_set_version (upk, "1.2.3-rc.1");
  tb_upk_set_security_counter (upk, 5);
  tb_upk_set_load_address (upk, 0x08008000);
  tb_upk_set_image_size (upk, 1000);
  tb_upk_set_entry_point (upk, 0x08008101);
  tb_upk_set_plaintext_sha256 (upk, digest);
  tb_upk_set_image_header_sha256 (upk, header);
  tb_upk_set_image_id (upk, id);
  tb_upk_set_created (upk, 1700000000);
  /* the public half of the product key suffices to wrap for it */
  g_assert_true (tb_upk_add_recipient (upk, TB_UPK_RECIPIENT_PRODUCT, oem->product, product_key, image_key, &error));
  g_assert_no_error (error);
  return upk;
}

static GBytes *
sign (TbUpk *upk, GError **error)
{
  g_autoptr(TbCert) cert = tb_cert_load (oem->ctx, TB_KEY_NAME_MASTERING, NULL);
  g_autoptr(TbKey) key = tb_test_oem_key (oem, TB_KEY_NAME_MASTERING);

  return tb_upk_sign (upk, cert, key, error);
}

static GBytes *
signed_upk (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbUpk) upk = make_upk ();
  GBytes *bytes = sign (upk, &error);

  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  return bytes;
}

static void
test_round_trip (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = signed_upk ();
  g_autoptr(TbUpk) upk = tb_upk_parse (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "app.tbupk", &error);
  g_autofree char *pk_name = g_strconcat (TB_KEY_NAME_PRODUCT_PREFIX, oem->product, NULL);
  g_autoptr(TbKey) product_key = tb_test_oem_key (oem, pk_name);
  g_autoptr(TbCert) mastering = tb_cert_load (oem->ctx, TB_KEY_NAME_MASTERING, NULL);
  const TbUpkRecipient *r;
  guint8 unwrapped[TB_UPK_IMAGE_KEY_LEN];
  guint64 entry = 0;

  g_assert_no_error (error);
  g_assert_cmpstr (tb_upk_get_product (upk), ==, oem->product);
  g_assert_cmpstr (tb_upk_get_version (upk), ==, "1.2.3-rc.1");
  g_assert_cmpuint (tb_upk_get_security_counter (upk), ==, 5);
  g_assert_cmpuint (tb_upk_get_load_address (upk), ==, 0x08008000);
  g_assert_cmpuint (tb_upk_get_image_size (upk), ==, 1000);
  g_assert_true (tb_upk_get_entry_point (upk, &entry));
  g_assert_cmpuint (entry, ==, 0x08008101);
  g_assert_cmpuint (tb_upk_get_created (upk), ==, 1700000000);
  g_assert_cmpuint (tb_upk_get_plaintext_sha256 (upk)[31], ==, 31);
  g_assert_cmpuint (tb_upk_get_image_header_sha256 (upk)[0], ==, 0x40);
  g_assert_cmpuint (tb_upk_get_image_id (upk)[15], ==, 0x9f);
  g_assert_cmpstr (tb_upk_get_device_types (upk)[0], ==, "tb-vmcu-m4");
  g_assert_null (tb_upk_get_device_types (upk)[1]);
  g_assert_cmpstr (tb_upk_get_device_uids (upk)[0], ==, "0a0b0c0d");
  g_assert_cmpuint (tb_upk_get_n_recipients (upk), ==, 1);
  r = tb_upk_get_recipient (upk, 0);
  g_assert_cmpint (r->kind, ==, TB_UPK_RECIPIENT_PRODUCT);
  g_assert_cmpstr (r->id, ==, oem->product);
  g_assert_true (tb_upk_find_recipient (upk, tb_key_get_public_sha256 (product_key)) == r);
  g_assert_cmpstr (tb_cert_get_sha256 (tb_upk_get_signer_cert (upk)), ==, tb_cert_get_sha256 (mastering));
  g_assert_cmpint (tb_upk_get_signature_algorithm (upk), ==, TB_UPK_SIG_ECDSA_P256_SHA256);
  g_assert_cmpstr (tb_upk_signature_algorithm_to_string (TB_UPK_SIG_ECDSA_P256_SHA256), ==, "ecdsa-p256-sha256");

  g_assert_true (tb_upk_verify_signature (upk, &error));
  g_assert_no_error (error);
  g_assert_true (tb_upk_unwrap_image_key (upk, product_key, unwrapped, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (unwrapped, sizeof unwrapped, image_key, sizeof image_key);

  /* an UPK without an entry point says so */
  {
    g_autoptr(TbUpk) fresh = tb_upk_new ();
    g_assert_false (tb_upk_get_entry_point (fresh, &entry));
    g_assert_false (tb_upk_verify_signature (fresh, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
    g_assert_cmpstr (error->message, ==, "The UPK is not signed");
  }
}

/* ---- the file as a list of fields, to break it one rule at a time ---- */

typedef struct {
  guint16 type;
  GBytes *value;
} Field;

static void
field_clear (Field *f)
{
  g_clear_pointer (&f->value, g_bytes_unref);
}

static GArray *
split (GBytes *bytes)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  GArray *fields = g_array_new (FALSE, TRUE, sizeof (Field));

  g_array_set_clear_func (fields, (GDestroyNotify) field_clear);
  for (gsize pos = 12; pos < len;)
    {
      Field f;
      guint16 vlen = (guint16) (data[pos + 2] << 8 | data[pos + 3]);
      f.type = (guint16) (data[pos] << 8 | data[pos + 1]);
      f.value = g_bytes_new (data + pos + 4, vlen);
      g_array_append_val (fields, f);
      pos += 4u + vlen;
    }
  return fields;
}

static GByteArray *
join (GArray *fields, const guint8 *header)
{
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, header != NULL ? header : (const guint8 *) TB_UPK_MAGIC "\0\1\0\0", 12);
  for (guint i = 0; i < fields->len; i++)
    {
      Field *f = &g_array_index (fields, Field, i);
      gsize vlen = g_bytes_get_size (f->value);
      guint8 head[4] = { f->type >> 8, f->type & 0xff, (guint8) (vlen >> 8), (guint8) vlen };
      g_byte_array_append (out, head, 4);
      g_byte_array_append (out, g_bytes_get_data (f->value, NULL), (guint) vlen);
    }
  return out;
}

static guint
find (GArray *fields, guint16 type)
{
  for (guint i = 0; i < fields->len; i++)
    if (g_array_index (fields, Field, i).type == type)
      return i;
  g_assert_not_reached ();
}

static void
set_value (GArray *fields, guint16 type, const void *value, gsize len)
{
  Field *f = &g_array_index (fields, Field, find (fields, type));

  g_bytes_unref (f->value);
  f->value = g_bytes_new (value, len);
}

static void
insert (GArray *fields, guint index, guint16 type, const void *value, gsize len)
{
  Field f = { type, g_bytes_new (value, len) };

  g_array_insert_val (fields, index, f);
}

/* the offset of field @index in the joined file */
static gsize
offset_of (GArray *fields, guint index)
{
  gsize off = 12;

  for (guint i = 0; i < index; i++)
    off += 4 + g_bytes_get_size (g_array_index (fields, Field, i).value);
  return off;
}

static void
assert_parse_error (const guint8 *data, gsize len, gint code, const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbUpk) upk = tb_upk_parse (data, len, "app.tbupk", &error);

  g_assert_null (upk);
  g_assert_error (error, TB_ERROR, code);
  g_assert_cmpstr (error->message, ==, message);
}

static void
assert_fields_error (GArray *fields, const char *message)
{
  g_autoptr(GByteArray) out = join (fields, NULL);

  assert_parse_error (out->data, out->len, TB_ERROR_INVALID_DATA, message);
}

typedef void (*Break) (GArray *fields, char **message);

static void
break_counter_len (GArray *f, char **m)
{
  set_value (f, TB_UPK_TLV_SECURITY_COUNTER, "\0\0\5", 3);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": field 0005 must have 4 bytes, it has 3",
                        offset_of (f, find (f, TB_UPK_TLV_SECURITY_COUNTER)));
}

static void
break_twice (GArray *f, char **m)
{
  guint i = find (f, TB_UPK_TLV_PRODUCT);
  insert (f, i + 1, TB_UPK_TLV_PRODUCT, "other", 5);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": field 0001 appears twice", offset_of (f, i + 1));
}

static void
break_empty_product (GArray *f, char **m)
{
  set_value (f, TB_UPK_TLV_PRODUCT, "", 0);
  *m = g_strdup ("app.tbupk: offset 12: the product is empty");
}

static void
break_product_utf8 (GArray *f, char **m)
{
  set_value (f, TB_UPK_TLV_PRODUCT, "wid\xffget", 7);
  *m = g_strdup ("app.tbupk: offset 12: the product is not UTF-8 text");
}

static void
break_device_type_utf8 (GArray *f, char **m)
{
  set_value (f, TB_UPK_TLV_DEVICE_TYPE, "\xc3", 1);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": a device type is not UTF-8 text",
                        offset_of (f, find (f, TB_UPK_TLV_DEVICE_TYPE)));
}

static void
break_uid_len (GArray *f, char **m)
{
  guint8 uid[33] = { 0 };
  set_value (f, TB_UPK_TLV_DEVICE_UID, uid, sizeof uid);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": a device UID has 33 bytes (1 to 32)",
                        offset_of (f, find (f, TB_UPK_TLV_DEVICE_UID)));
}

static void
break_uid_empty (GArray *f, char **m)
{
  set_value (f, TB_UPK_TLV_DEVICE_UID, "", 0);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": a device UID has 0 bytes (1 to 32)",
                        offset_of (f, find (f, TB_UPK_TLV_DEVICE_UID)));
}

static void
break_version (GArray *f, char **m)
{
  set_value (f, TB_UPK_TLV_VERSION, "1.2", 3);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": the version is not a semantic version",
                        offset_of (f, find (f, TB_UPK_TLV_VERSION)));
}

static void
break_version_nul (GArray *f, char **m)
{
  set_value (f, TB_UPK_TLV_VERSION, "1.2.3\0", 6);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": the version is not a semantic version",
                        offset_of (f, find (f, TB_UPK_TLV_VERSION)));
}

static void
break_recipient_kind (GArray *f, char **m)
{
  Field *r = &g_array_index (f, Field, find (f, TB_UPK_TLV_RECIPIENT));
  gsize len = 0;
  g_autofree guint8 *v = g_memdup2 (g_bytes_get_data (r->value, &len), g_bytes_get_size (r->value));
  v[0] = 9;
  set_value (f, TB_UPK_TLV_RECIPIENT, v, len);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": unknown recipient kind 9",
                        offset_of (f, find (f, TB_UPK_TLV_RECIPIENT)));
}

static void
break_recipient_short (GArray *f, char **m)
{
  set_value (f, TB_UPK_TLV_RECIPIENT, "\1", 1);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": truncated recipient",
                        offset_of (f, find (f, TB_UPK_TLV_RECIPIENT)));
}

static void
break_recipient_len (GArray *f, char **m)
{
  Field *r = &g_array_index (f, Field, find (f, TB_UPK_TLV_RECIPIENT));
  gsize len = g_bytes_get_size (r->value);
  g_autofree guint8 *v = g_malloc0 (len + 1);
  memcpy (v, g_bytes_get_data (r->value, NULL), len);
  set_value (f, TB_UPK_TLV_RECIPIENT, v, len + 1);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": field 000b must have %" G_GSIZE_FORMAT " bytes, it "
                        "has %" G_GSIZE_FORMAT, offset_of (f, find (f, TB_UPK_TLV_RECIPIENT)), len, len + 1);
}

static void
break_signer (GArray *f, char **m)
{
  set_value (f, TB_UPK_TLV_SIGNER_CERT, "\x30\x03\x02\x01\x01", 5);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": the signer certificate cannot be read",
                        offset_of (f, find (f, TB_UPK_TLV_SIGNER_CERT)));
}

static void
break_sig_alg (GArray *f, char **m)
{
  set_value (f, TB_UPK_TLV_SIGNATURE, "\0\x09\x30\x00", 4);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": unknown signature algorithm",
                        offset_of (f, find (f, TB_UPK_TLV_SIGNATURE)));
}

static void
break_sig_short (GArray *f, char **m)
{
  set_value (f, TB_UPK_TLV_SIGNATURE, "\0\x01", 2);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": unknown signature algorithm",
                        offset_of (f, find (f, TB_UPK_TLV_SIGNATURE)));
}

static void
break_unknown (GArray *f, char **m)
{
  insert (f, 1, 0x0042, "x", 1);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": unknown field 0042", offset_of (f, 1));
}

static void
break_after_signature (GArray *f, char **m)
{
  insert (f, f->len, 0x8001, "abc", 3);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": 7 bytes after the signature",
                        offset_of (f, f->len - 1));
}

static void
break_no_signature (GArray *f, char **m)
{
  g_array_remove_index (f, find (f, TB_UPK_TLV_SIGNATURE));
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": no signature: the UPK is truncated or unsigned",
                        offset_of (f, f->len));
}

static void
break_address_space (GArray *f, char **m)
{
  static const guint8 addr[8] = { 0, 0, 0, 0, 0xff, 0xff, 0xfe, 0x00 };
  set_value (f, TB_UPK_TLV_LOAD_ADDRESS, addr, 8);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": the image of 1000 bytes at 0xfffffe00 runs past "
                        "0xffffffff, the end of a 32-bit device's address space", offset_of (f, f->len));
}

static void
break_address_high (GArray *f, char **m)
{
  static const guint8 addr[8] = { 0, 0, 0, 1, 0, 0, 0, 0 };
  set_value (f, TB_UPK_TLV_LOAD_ADDRESS, addr, 8);
  *m = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": the image of 1000 bytes at 0x100000000 runs past "
                        "0xffffffff, the end of a 32-bit device's address space", offset_of (f, f->len));
}

static void
test_corpus (void)
{
  g_autoptr(GBytes) bytes = signed_upk ();
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  static const struct {
    const char *name;
    Break fn;
  } breaks[] = {
    { "counter-len", break_counter_len }, { "twice", break_twice }, { "empty-product", break_empty_product },
    { "product-utf8", break_product_utf8 }, { "device-type-utf8", break_device_type_utf8 },
    { "uid-len", break_uid_len }, { "uid-empty", break_uid_empty }, { "version", break_version },
    { "version-nul", break_version_nul }, { "recipient-kind", break_recipient_kind },
    { "recipient-short", break_recipient_short }, { "recipient-len", break_recipient_len },
    { "signer", break_signer }, { "sig-alg", break_sig_alg }, { "sig-short", break_sig_short },
    { "unknown", break_unknown }, { "after-signature", break_after_signature },
    { "no-signature", break_no_signature }, { "address-space", break_address_space },
    { "address-high", break_address_high },
  };
  static const struct {
    guint16 type;
    const char *name;
  } required[] = {
    { TB_UPK_TLV_PRODUCT, "product" }, { TB_UPK_TLV_VERSION, "version" },
    { TB_UPK_TLV_SECURITY_COUNTER, "security counter" }, { TB_UPK_TLV_LOAD_ADDRESS, "load address" },
    { TB_UPK_TLV_IMAGE_SIZE, "image size" }, { TB_UPK_TLV_PLAINTEXT_SHA256, "plaintext digest" },
    { TB_UPK_TLV_IMAGE_HEADER_SHA256, "image header digest" }, { TB_UPK_TLV_IMAGE_ID, "image id" },
    { TB_UPK_TLV_CREATED, "creation time" }, { TB_UPK_TLV_RECIPIENT, "recipient" },
    { TB_UPK_TLV_SIGNER_CERT, "signer certificate" },
  };

  /* the header */
  assert_parse_error (data, 11, TB_ERROR_INVALID_DATA, "app.tbupk: offset 0: not a Trustbench UPK (bad magic)");
  assert_parse_error ((const guint8 *) "TBUPK\r\n\x1b\0\1\0\0", 12, TB_ERROR_INVALID_DATA,
                      "app.tbupk: offset 0: not a Trustbench UPK (bad magic)");
  assert_parse_error ((const guint8 *) "", 0, TB_ERROR_INVALID_DATA,
                      "app.tbupk: offset 0: not a Trustbench UPK (bad magic)");
  {
    g_autofree guint8 *copy = g_memdup2 (data, len);
    copy[9] = 2;
    assert_parse_error (copy, len, TB_ERROR_UNSUPPORTED,
                        "app.tbupk: UPK format version 2 is not supported (this build reads version 1)");
    copy[8] = 1;
    copy[9] = 1;
    assert_parse_error (copy, len, TB_ERROR_UNSUPPORTED,
                        "app.tbupk: UPK format version 257 is not supported (this build reads version 1)");
    copy[8] = 0;
    copy[11] = 4;
    assert_parse_error (copy, len, TB_ERROR_UNSUPPORTED,
                        "app.tbupk: UPK flags 0x0004 are not supported (this build knows none)");
  }
  {
    g_autofree guint8 *huge = g_malloc0 (TB_UPK_MAX_BYTES + 1);
    memcpy (huge, data, len);
    assert_parse_error (huge, TB_UPK_MAX_BYTES + 1, TB_ERROR_INVALID_DATA,
                        "app.tbupk: offset 0: 1048577 bytes is more than a UPK may have");
  }

  /* every cut: a truncated field header, a field longer than what
   * remains, or (on a field boundary) no signature */
  {
    g_autoptr(GArray) fields = split (bytes);
    for (gsize cut = 12; cut < len; cut++)
      {
        g_autoptr(GError) error = NULL;
        g_autofree guint8 *copy = g_memdup2 (data, cut);
        g_autoptr(TbUpk) upk = tb_upk_parse (copy, cut, "app.tbupk", &error);
        gsize start = 12;
        guint i = 0;
        g_autofree char *expected = NULL;

        while (i < fields->len && start + 4 + g_bytes_get_size (g_array_index (fields, Field, i).value) <= cut)
          start += 4 + g_bytes_get_size (g_array_index (fields, Field, i++).value);
        if (start == cut)
          expected = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": no signature: the UPK is truncated or "
                                      "unsigned", cut);
        else if (cut - start < 4)
          expected = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": truncated field header", start);
        else
          expected = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": field %04x says %" G_GSIZE_FORMAT
                                      " bytes, only %" G_GSIZE_FORMAT " remain (truncated?)", start,
                                      g_array_index (fields, Field, i).type,
                                      g_bytes_get_size (g_array_index (fields, Field, i).value), cut - start - 4);
        g_assert_null (upk);
        g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
        g_assert_cmpstr (error->message, ==, expected);
      }
  }

  for (guint b = 0; b < G_N_ELEMENTS (breaks); b++)
    {
      g_autoptr(GArray) fields = split (bytes);
      g_autofree char *message = NULL;
      g_test_message ("break %s", breaks[b].name);
      breaks[b].fn (fields, &message);
      assert_fields_error (fields, message);
    }

  /* each required field left out */
  for (guint r = 0; r < G_N_ELEMENTS (required); r++)
    {
      g_autoptr(GArray) fields = split (bytes);
      g_autofree char *message = NULL;
      for (guint i = fields->len; i-- > 0;)
        if (g_array_index (fields, Field, i).type == required[r].type)
          g_array_remove_index (fields, i);
      message = g_strdup_printf ("app.tbupk: offset %" G_GSIZE_FORMAT ": the %s is missing", offset_of (fields,
                                 fields->len), required[r].name);
      assert_fields_error (fields, message);
    }

  /* an optional field a newer writer adds parses, but is under the signature */
  {
    g_autoptr(GArray) fields = split (bytes);
    g_autoptr(GByteArray) out = NULL;
    g_autoptr(TbUpk) upk = NULL;
    g_autoptr(GError) error = NULL;
    insert (fields, 1, 0x8042, "future", 6);
    out = join (fields, NULL);
    upk = tb_upk_parse (out->data, out->len, "app.tbupk", &error);
    g_assert_no_error (error);
    g_assert_false (tb_upk_verify_signature (upk, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
    g_assert_cmpstr (error->message, ==,
                     "app.tbupk: the signature does not verify: the UPK was altered or signed by another key");
  }
}

/* Any change under the signature is caught by it; a change of the
 * algorithm byte (outside it) by the signer's key type. */
static void
test_verify_tampered (void)
{
  g_autoptr(GBytes) bytes = signed_upk ();
  g_autoptr(GArray) fields = split (bytes);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  gsize sig_at = offset_of (fields, find (fields, TB_UPK_TLV_SIGNATURE));
  guint parsed = 0;

  for (gsize off = 12; off < len; off++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree guint8 *copy = g_memdup2 (data, len);
      g_autoptr(TbUpk) upk = NULL;

      copy[off] ^= 0x01;
      upk = tb_upk_parse (copy, len, "app.tbupk", &error);
      if (upk == NULL)
        {
          g_assert_true (error->domain == TB_ERROR);
          g_assert_true (error->code == TB_ERROR_INVALID_DATA || error->code == TB_ERROR_UNSUPPORTED);
          continue;
        }
      parsed++;
      g_assert_false (tb_upk_verify_signature (upk, &error));
      g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
      g_assert_true (g_str_has_prefix (error->message, "app.tbupk: the signature "));
    }
  /* the algorithm byte, outside the signature */
  {
    g_autoptr(GError) error = NULL;
    g_autofree guint8 *copy = g_memdup2 (data, len);
    g_autoptr(TbUpk) upk = NULL;

    copy[sig_at + 5] = TB_UPK_SIG_ECDSA_P384_SHA384;
    upk = tb_upk_parse (copy, len, "app.tbupk", &error);
    g_assert_no_error (error);
    g_assert_false (tb_upk_verify_signature (upk, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
    g_assert_cmpstr (error->message, ==, "app.tbupk: the signature algorithm (ecdsa-p384-sha384) is not the one of "
                                         "the signer's key (ecdsa-p256-sha256)");
  }
  /* most flips land in values the parser cannot judge: the signature must */
  g_assert_cmpuint (parsed, >, len / 2);
}

static void
test_sign_refusals (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbUpk) upk = make_upk ();
  g_autoptr(TbCert) mastering = tb_cert_load (oem->ctx, TB_KEY_NAME_MASTERING, NULL);
  g_autoptr(TbCert) root = tb_cert_load (oem->ctx, TB_KEY_NAME_ROOT_CA, NULL);
  g_autoptr(TbKey) key = tb_test_oem_key (oem, TB_KEY_NAME_MASTERING);
  g_autoptr(TbKey) locked = tb_key_load (oem->ctx, TB_KEY_NAME_MASTERING, NULL);
  g_autoptr(TbKey) root_key = tb_test_oem_key (oem, TB_KEY_NAME_ROOT_CA);

  g_assert_null (tb_upk_sign (upk, root, root_key, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "Key “root-ca” is a root-ca key and may not be used to sign an update "
                                       "protection key (that needs a mastering key)");
  g_clear_error (&error);
  g_assert_null (tb_upk_sign (upk, mastering, locked, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
  g_assert_cmpstr (error->message, ==, "Key “mastering” is locked");
  g_clear_error (&error);
  g_assert_null (tb_upk_sign (upk, root, key, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "Certificate “root-ca” does not certify key “mastering”");
  g_clear_error (&error);
  {
    g_autoptr(TbUpk) empty = tb_upk_new ();
    g_assert_null (tb_upk_sign (empty, mastering, key, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    g_assert_cmpstr (error->message, ==, "A UPK needs a product, a version and at least one recipient");
    g_clear_error (&error);
  }

  /* what the parser would refuse is not signed in the first place */
  {
    struct {
      const char *product, *version, *uid, *device_type;
      const char *message;
    } cases[] = {
      { "", "1.0.0", NULL, NULL, "The product of a UPK must be 1 to 255 bytes of UTF-8 text" },
      { "wid\xffget", "1.0.0", NULL, NULL, "The product of a UPK must be 1 to 255 bytes of UTF-8 text" },
      { NULL, "1.0", NULL, NULL,
        "“1.0” is not a version of the form MAJOR.MINOR.PATCH (semantic versioning, e.g. 1.4.2)" },
      { NULL, "1.0.0", "abc", NULL, "Invalid device UID “abc”: expected 2 to 64 hex digits, an even number of them" },
      { NULL, "1.0.0", "zz", NULL, "Invalid device UID “zz”: character 1 is not a hex digit" },
      { NULL, "1.0.0", NULL, "", "A device type of a UPK must be 1 to 255 bytes of UTF-8 text" },
      { NULL, "1.0.0", NULL, "m4\xc3", "A device type of a UPK must be 1 to 255 bytes of UTF-8 text" },
    };
    g_autofree char *long_product = g_strnfill (256, 'p');
    g_autofree char *long_uid = g_strnfill (300, 'a');

    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autoptr(TbUpk) u = make_upk ();
        if (cases[i].product != NULL)
          tb_upk_set_product (u, cases[i].product);
        tb_upk_set_version (u, cases[i].version);
        if (cases[i].uid != NULL)
          tb_upk_add_device_uid (u, cases[i].uid);
        if (cases[i].device_type != NULL)
          tb_upk_add_device_type (u, cases[i].device_type);
        g_assert_null (tb_upk_sign (u, mastering, key, &error));
        g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
        g_assert_cmpstr (error->message, ==, cases[i].message);
        g_clear_error (&error);
      }
    {
      g_autoptr(TbUpk) u = make_upk ();
      tb_upk_set_product (u, long_product);
      g_assert_null (tb_upk_sign (u, mastering, key, &error));
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
    {
      g_autoptr(TbUpk) u = make_upk ();
      g_autofree char *message = g_strdup_printf ("Invalid device UID “%s”: expected 2 to 64 hex digits, an even "
                                                  "number of them", long_uid);
      tb_upk_add_device_uid (u, long_uid);
      g_assert_null (tb_upk_sign (u, mastering, key, &error));
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, message);
      g_clear_error (&error);
    }
  }
}

static void
test_recipients (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbUpk) upk = make_upk ();
  g_autoptr(TbKey) ed = tb_key_generate ("ed25519", &error);
  g_autoptr(TbKey) stranger = tb_key_generate ("ec-p256", &error);
  g_autofree char *long_id = g_strnfill (256, 'r');
  g_autofree char *pk_name = g_strconcat (TB_KEY_NAME_PRODUCT_PREFIX, oem->product, NULL);
  g_autoptr(TbKey) locked = tb_key_load (oem->ctx, pk_name, NULL);
  g_autoptr(TbKey) product_key = tb_test_oem_key (oem, pk_name);
  guint8 out[TB_UPK_IMAGE_KEY_LEN];

  g_assert_no_error (error);
  g_assert_false (tb_upk_add_recipient (upk, TB_UPK_RECIPIENT_DEVICE, "0a0b", ed, image_key, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "Key “?” is ed25519; image keys are wrapped for P-256 keys only");
  g_clear_error (&error);
  g_assert_false (tb_upk_add_recipient (upk, TB_UPK_RECIPIENT_DEVICE, "", stranger, image_key, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "A recipient needs a name of 1 to 255 bytes");
  g_clear_error (&error);
  g_assert_false (tb_upk_add_recipient (upk, TB_UPK_RECIPIENT_DEVICE, long_id, stranger, image_key, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpuint (tb_upk_get_n_recipients (upk), ==, 1);

  /* a key it is not wrapped for; the right key, still locked */
  g_assert_false (tb_upk_unwrap_image_key (upk, stranger, out, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_assert_cmpstr (error->message, ==, "The UPK is not wrapped for key “?”");
  g_clear_error (&error);
  g_assert_false (tb_upk_unwrap_image_key (upk, locked, out, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
  g_clear_error (&error);

  /* a second recipient, then each one's wrapped key and ephemeral key altered in a parsed copy */
  g_assert_true (tb_upk_add_recipient (upk, TB_UPK_RECIPIENT_DEVICE, "0a0b0c0d", stranger, image_key, &error));
  g_assert_no_error (error);
  {
    g_autoptr(GBytes) bytes = sign (upk, &error);
    g_autoptr(GArray) fields = NULL;
    g_autoptr(TbUpk) parsed = NULL;

    g_assert_no_error (error);
    parsed = tb_upk_parse (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "app.tbupk", &error);
    g_assert_no_error (error);
    g_assert_cmpuint (tb_upk_get_n_recipients (parsed), ==, 2);
    g_assert_cmpint (tb_upk_get_recipient (parsed, 1)->kind, ==, TB_UPK_RECIPIENT_DEVICE);
    g_assert_true (tb_upk_unwrap_image_key (parsed, stranger, out, &error));
    g_assert_no_error (error);
    g_assert_cmpmem (out, sizeof out, image_key, sizeof image_key);

    fields = split (bytes);
    for (guint what = 0; what < 2; what++)
      {
        Field *r = &g_array_index (fields, Field, find (fields, TB_UPK_TLV_RECIPIENT));
        gsize len = 0;
        g_autofree guint8 *v = g_memdup2 (g_bytes_get_data (r->value, &len), g_bytes_get_size (r->value));
        g_autoptr(GArray) copy = split (bytes);
        g_autoptr(GByteArray) joined = NULL;
        g_autoptr(TbUpk) altered = NULL;

        /* what 0: the last byte of the wrapped key; 1: the ephemeral point's last byte */
        v[what == 0 ? len - 1 : len - TB_UPK_WRAPPED_KEY_LEN - 1] ^= 0x01;
        set_value (copy, TB_UPK_TLV_RECIPIENT, v, len);
        joined = join (copy, NULL);
        altered = tb_upk_parse (joined->data, joined->len, "app.tbupk", &error);
        g_assert_no_error (error);
        g_assert_false (tb_upk_unwrap_image_key (altered, product_key, out, &error));
        g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
        g_assert_cmpstr (error->message, ==, what == 0 ? "The wrapped key does not unwrap: wrong key or altered data"
                                                       : "The UPK's ephemeral key is not a P-256 point");
        g_clear_error (&error);
      }
  }
}

static void
test_load_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (oem->tmp, "nothing.tbupk", NULL);
  g_autofree char *message = g_strdup_printf ("Cannot read %s: No such file or directory", path);
  g_autofree char *bad = g_build_filename (oem->tmp, "bad.tbupk", NULL);
  g_autofree char *bad_message = g_strdup_printf ("%s: offset 0: not a Trustbench UPK (bad magic)", bad);

  g_assert_null (tb_upk_load_file (path, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, message);
  g_clear_error (&error);
  tb_test_write_file (bad, "TBIMG\r\n\x1a not a upk");
  g_assert_null (tb_upk_load_file (bad, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_cmpstr (error->message, ==, bad_message);
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  oem = tb_test_oem_new (NULL);
  for (guint i = 0; i < sizeof image_key; i++)
    image_key[i] = (guint8) (0x5a ^ i);
  g_test_add_func ("/tb/upk/round-trip", test_round_trip);
  g_test_add_func ("/tb/upk/corpus", test_corpus);
  g_test_add_func ("/tb/upk/verify-tampered", test_verify_tampered);
  g_test_add_func ("/tb/upk/sign-refusals", test_sign_refusals);
  g_test_add_func ("/tb/upk/recipients", test_recipients);
  g_test_add_func ("/tb/upk/load-file", test_load_file);
  rc = g_test_run ();
  tb_test_oem_free (oem);
  return rc;
}
