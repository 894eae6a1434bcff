/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Device certificates from a raw P-256 point and a UID: the profile, every
 * UID length, and the exact error for bad UIDs, bad points and issuers
 * that may not issue. */

#include "config.h"

#include <string.h>

#include "tb-key-private.h"
#include "tb-test-oem.h"
#include "tb-test-util.h"
#include "trustbench.h"

static TbTestOem *oem;

static TbDeviceCertIssuer *
make_issuer (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbCert) ca = tb_cert_load (oem->ctx, TB_KEY_NAME_PROVISIONING_CA, &error);
  g_autoptr(TbKey) key = tb_test_oem_key (oem, TB_KEY_NAME_PROVISIONING_CA);
  TbDeviceCertIssuer *issuer;

  g_assert_no_error (error);
  issuer = tb_device_cert_issuer_new (ca, key, "Example Devices", 30, &error);
  g_assert_no_error (error);
  g_assert_nonnull (issuer);
  return issuer;
}

static TbKey *
device_key (guint8 point[TB_DEVICE_POINT_LEN])
{
  g_autoptr(GError) error = NULL;
  TbKey *key = tb_key_generate ("ec-p256", &error);

  g_assert_no_error (error);
  g_assert_true (tb_key_get_p256_point (key, point));
  return key;
}

/* A device's public point, its key dropped (the device keeps it). */
static void
device_point (guint8 point[TB_DEVICE_POINT_LEN])
{
  g_object_unref (device_key (point));
}

static TbCert *
issue (TbDeviceCertIssuer *issuer, const guint8 *point, const char *uid)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) der = tb_device_cert_issuer_issue (issuer, point, TB_DEVICE_POINT_LEN, uid, &error);
  TbCert *cert;

  g_assert_no_error (error);
  g_assert_nonnull (der);
  cert = tb_cert_new_from_data (g_bytes_get_data (der, NULL), g_bytes_get_size (der), "device.der", &error);
  g_assert_no_error (error);
  return cert;
}

static void
test_issue (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbDeviceCertIssuer) issuer = make_issuer ();
  guint8 point[TB_DEVICE_POINT_LEN];
  g_autoptr(TbKey) key = device_key (point);
  g_autoptr(TbCert) cert = issue (issuer, point, "0a1b2c3d4e5f");
  g_autoptr(TbCert) ca = tb_cert_load (oem->ctx, TB_KEY_NAME_PROVISIONING_CA, NULL);
  g_autoptr(GPtrArray) chain = NULL;
  g_autofree char *subject = tb_cert_dup_subject (cert);
  g_autofree char *issuer_name = tb_cert_dup_issuer (cert);
  g_autofree char *ca_subject = tb_cert_dup_subject (ca);
  g_autofree char *key_sha = tb_cert_dup_public_key_sha256 (cert);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  GTimeSpan validity = g_date_time_difference (tb_cert_get_not_after (cert), tb_cert_get_not_before (cert));

  g_assert_cmpstr (subject, ==, "serialNumber=0a1b2c3d4e5f,CN=Device 0a1b2c3d4e5f,O=Example Devices");
  g_assert_cmpstr (issuer_name, ==, ca_subject);
  g_assert_false (tb_cert_is_ca (cert));
  g_assert_cmpstr (key_sha, ==, tb_key_get_public_sha256 (key));
  g_assert_cmpint (validity / G_TIME_SPAN_DAY, ==, 30);
  g_assert_cmpint (g_date_time_difference (now, tb_cert_get_not_before (cert)), <, 5 * G_TIME_SPAN_MINUTE);

  /* it chains to the OEM root through the provisioning CA */
  g_assert_true (tb_cert_verify (oem->ctx, cert, &chain, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (chain->len, ==, 3);

  /* two devices, two serial numbers */
  {
    guint8 other_point[TB_DEVICE_POINT_LEN];
    g_autoptr(TbCert) other = NULL;
    g_autofree char *s1 = tb_cert_dup_serial (cert);
    g_autofree char *s2 = NULL;

    device_point (other_point);
    other = issue (issuer, other_point, "0a1b2c3d4e60");
    s2 = tb_cert_dup_serial (other);
    g_assert_cmpstr (s1, !=, s2);
  }
}

/* Every UID length from 2 to 64 hex digits, in either case. A common name
 * holds at most 64 characters (RFC 5280, ub-common-name): "Device " and a
 * UID of 58 digits or more do not fit, so such devices are named by the
 * UID alone; serialNumber always carries the whole UID. */
static void
test_uid_lengths (void)
{
  g_autoptr(TbDeviceCertIssuer) issuer = make_issuer ();
  guint8 point[TB_DEVICE_POINT_LEN];

  device_point (point);
  for (guint len = 2; len <= TB_DEVICE_UID_MAX_LEN; len += 2)
    {
      g_autoptr(GString) uid = g_string_new (NULL);
      g_autoptr(TbCert) cert = NULL;
      g_autofree char *subject = NULL;
      g_autofree char *expected = NULL;

      for (guint i = 0; i < len; i++)
        g_string_append_c (uid, "0123456789abcdefABCDEF"[(i * 5 + len) % 22]);
      cert = issue (issuer, point, uid->str);
      subject = tb_cert_dup_subject (cert);
      if (strlen ("Device ") + len <= 64)
        expected = g_strdup_printf ("serialNumber=%s,CN=Device %s,O=Example Devices", uid->str, uid->str);
      else
        expected = g_strdup_printf ("serialNumber=%s,CN=%s,O=Example Devices", uid->str, uid->str);
      g_assert_cmpstr (subject, ==, expected);
    }
}

static void
test_bad_uids (void)
{
  g_autoptr(TbDeviceCertIssuer) issuer = make_issuer ();
  guint8 point[TB_DEVICE_POINT_LEN];
  g_autofree char *too_long = g_strnfill (TB_DEVICE_UID_MAX_LEN + 2, 'a');
  struct {
    const char *uid;
    const char *message;
  } cases[] = {
    { NULL, "Invalid device UID “”: expected 2 to 64 hex digits, an even number of them" },
    { "", "Invalid device UID “”: expected 2 to 64 hex digits, an even number of them" },
    { "a", "Invalid device UID “a”: expected 2 to 64 hex digits, an even number of them" },
    { "abc", "Invalid device UID “abc”: expected 2 to 64 hex digits, an even number of them" },
    { "0g", "Invalid device UID “0g”: character 2 is not a hex digit" },
    { "00 1", NULL },
    { "zz00", "Invalid device UID “zz00”: character 1 is not a hex digit" },
    { "0x12", "Invalid device UID “0x12”: character 2 is not a hex digit" },
    { "12/4", "Invalid device UID “12/4”: character 3 is not a hex digit" },
  };

  device_point (point);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) der = tb_device_cert_issuer_issue (issuer, point, sizeof point, cases[i].uid, &error);

      g_assert_null (der);
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
      if (cases[i].message != NULL)
        g_assert_cmpstr (error->message, ==, cases[i].message);
      g_clear_error (&error);
      g_assert_false (tb_device_uid_is_valid (cases[i].uid, &error));
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    }
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *message = g_strdup_printf ("Invalid device UID “%s”: expected 2 to 64 hex digits, an even "
                                                "number of them", too_long);
    g_assert_null (tb_device_cert_issuer_issue (issuer, point, sizeof point, too_long, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    g_assert_cmpstr (error->message, ==, message);
  }
}

static void
test_bad_points (void)
{
  g_autoptr(TbDeviceCertIssuer) issuer = make_issuer ();
  guint8 point[TB_DEVICE_POINT_LEN + 1];
  guint8 broken[TB_DEVICE_POINT_LEN + 1];
  g_autoptr(GError) error = NULL;

  device_point (point);
  /* shorter, longer, none */
  for (gsize len = 0; len <= TB_DEVICE_POINT_LEN + 1; len += (len == 1 ? 63 : 1))
    {
      g_autofree char *message = NULL;
      if (len == TB_DEVICE_POINT_LEN)
        continue;
      message = g_strdup_printf ("The public key of device 0102 is not an uncompressed P-256 point on the curve "
                                 "(%" G_GSIZE_FORMAT " bytes, expected 65 starting with 04)", len);
      g_assert_null (tb_device_cert_issuer_issue (issuer, point, len, "0102", &error));
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
      g_assert_cmpstr (error->message, ==, message);
      g_clear_error (&error);
    }
  g_assert_null (tb_device_cert_issuer_issue (issuer, NULL, 0, "0102", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* compressed and hybrid forms, a point off the curve, the point at infinity's encoding */
  memcpy (broken, point, TB_DEVICE_POINT_LEN);
  broken[0] = 0x02;
  g_assert_null (tb_device_cert_issuer_issue (issuer, broken, TB_DEVICE_POINT_LEN, "0102", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_clear_error (&error);
  broken[0] = 0x06;
  g_assert_null (tb_device_cert_issuer_issue (issuer, broken, TB_DEVICE_POINT_LEN, "0102", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_clear_error (&error);
  memcpy (broken, point, TB_DEVICE_POINT_LEN);
  broken[64] ^= 0x01;
  g_assert_null (tb_device_cert_issuer_issue (issuer, broken, TB_DEVICE_POINT_LEN, "0102", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_cmpstr (error->message, ==, "The public key of device 0102 is not an uncompressed P-256 point on the "
                                       "curve (65 bytes, expected 65 starting with 04)");
  g_clear_error (&error);
  memset (broken, 0, sizeof broken);
  broken[0] = 0x04;
  g_assert_null (tb_device_cert_issuer_issue (issuer, broken, TB_DEVICE_POINT_LEN, "0102", &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* the issuer is still good after all that */
  {
    g_autoptr(TbCert) cert = issue (issuer, point, "0102");
    g_assert_nonnull (cert);
  }
}

static void
test_issuer_refusals (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbCert) ca = tb_cert_load (oem->ctx, TB_KEY_NAME_PROVISIONING_CA, NULL);
  g_autoptr(TbCert) root = tb_cert_load (oem->ctx, TB_KEY_NAME_ROOT_CA, NULL);
  g_autoptr(TbCert) mastering = tb_cert_load (oem->ctx, TB_KEY_NAME_MASTERING, NULL);
  g_autoptr(TbKey) ca_key = tb_test_oem_key (oem, TB_KEY_NAME_PROVISIONING_CA);
  g_autoptr(TbKey) root_key = tb_test_oem_key (oem, TB_KEY_NAME_ROOT_CA);
  g_autoptr(TbKey) locked = tb_key_load (oem->ctx, TB_KEY_NAME_PROVISIONING_CA, &error);

  g_assert_no_error (error);

  /* a key for something else */
  g_assert_null (tb_device_cert_issuer_new (root, root_key, "O", 30, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "Key “root-ca” is a root-ca key and may not be used to issue device "
                                       "certificates (that needs a provisioning-ca key)");
  g_clear_error (&error);

  /* the right key, still locked */
  g_assert_null (tb_device_cert_issuer_new (ca, locked, "O", 30, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
  g_assert_cmpstr (error->message, ==, "Key “provisioning-ca” is locked: unlock it with the passphrase first");
  g_clear_error (&error);

  /* the key with another CA's certificate, or with a certificate that is no CA */
  g_assert_null (tb_device_cert_issuer_new (root, ca_key, "O", 30, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "Key “provisioning-ca” and certificate “root-ca” are not a CA pair");
  g_clear_error (&error);
  g_assert_null (tb_device_cert_issuer_new (mastering, ca_key, "O", 30, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "Key “provisioning-ca” and certificate “mastering” are not a CA pair");
  g_clear_error (&error);

  /* validity out of range */
  g_assert_null (tb_device_cert_issuer_new (ca, ca_key, "O", 0, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "A validity of 0 days is not acceptable (1 to 36500)");
  g_clear_error (&error);
  g_assert_null (tb_device_cert_issuer_new (ca, ca_key, "O", 36501, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "A validity of 36501 days is not acceptable (1 to 36500)");
  g_clear_error (&error);

  /* no organization: the subject has none */
  {
    g_autoptr(TbDeviceCertIssuer) issuer = tb_device_cert_issuer_new (ca, ca_key, NULL, 36500, &error);
    guint8 point[TB_DEVICE_POINT_LEN];
    g_autoptr(TbCert) cert = NULL;
    g_autofree char *subject = NULL;

    g_assert_no_error (error);
    device_point (point);
    cert = issue (issuer, point, "ff");
    subject = tb_cert_dup_subject (cert);
    g_assert_cmpstr (subject, ==, "serialNumber=ff,CN=Device ff");
  }
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  oem = tb_test_oem_new (NULL);
  g_test_add_func ("/tb/device-cert/issue", test_issue);
  g_test_add_func ("/tb/device-cert/uid-lengths", test_uid_lengths);
  g_test_add_func ("/tb/device-cert/bad-uids", test_bad_uids);
  g_test_add_func ("/tb/device-cert/bad-points", test_bad_points);
  g_test_add_func ("/tb/device-cert/issuer-refusals", test_issuer_refusals);
  rc = g_test_run ();
  tb_test_oem_free (oem);
  return rc;
}
