/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The target layer against a probe that lies: a device that never answers,
 * answers more than its mailbox holds, answers random bytes, or a probe
 * whose transfers fail. Each is a clear GError, never a hang or an
 * overflow. */

#include "config.h"

#include "sbm/tb-sbm.h"
#include "tb-test-util.h"
#include "trustbench.h"
#include "tb-virtual-board.h"

typedef enum {
  MODE_BUSY,
  MODE_HUGE,
  MODE_RANDOM,
  MODE_TRANSFER_FAILS,
  MODE_NO_SBM,
} Mode;

#define TEST_TYPE_HOSTILE_PROBE (test_hostile_probe_get_type ())
G_DECLARE_FINAL_TYPE (TestHostileProbe, test_hostile_probe, TEST, HOSTILE_PROBE, TbProbe)

struct _TestHostileProbe {
  TbProbe parent_instance;
  Mode mode;
  GRand *rand;
  guint8 ram[TB_MB_SIZE];
};

G_DEFINE_TYPE (TestHostileProbe, test_hostile_probe, TB_TYPE_PROBE)

static gboolean
in_mailbox (guint32 address, gsize len, GError **error)
{
  if (address >= TB_BOARD_RAM_BASE && len <= TB_MB_SIZE && address - TB_BOARD_RAM_BASE <= TB_MB_SIZE - len)
    return TRUE;
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, "outside the test mailbox");
  return FALSE;
}

static void
put32 (guint8 *p, guint32 v)
{
  for (guint i = 0; i < 4; i++)
    p[i] = (guint8) (v >> (8 * i));
}

/* The "device" answers a command the moment its command word is written. */
static void
answer (TestHostileProbe *self)
{
  guint8 *mb = self->ram;

  switch (self->mode)
    {
    case MODE_BUSY:
      put32 (mb + TB_MB_OFF_STATUS, TB_MB_STATUS_BUSY);
      break;
    case MODE_HUGE:
      put32 (mb + TB_MB_OFF_COMMAND, TB_MB_CMD_NONE);
      put32 (mb + TB_MB_OFF_STATUS, TB_MB_STATUS_OK);
      put32 (mb + TB_MB_OFF_LENGTH, 0x7ffffff0u);
      break;
    case MODE_RANDOM:
      {
        guint32 len = (guint32) g_rand_int_range (self->rand, 0, TB_MB_PAYLOAD_MAX + 1);
        for (guint i = TB_MB_HEADER; i < TB_MB_SIZE; i++)
          mb[i] = (guint8) g_rand_int (self->rand);
        /* sometimes a structured-looking start: a length prefix that lies */
        if (g_rand_boolean (self->rand))
          put32 (mb + TB_MB_HEADER, g_rand_int (self->rand));
        put32 (mb + TB_MB_OFF_COMMAND, TB_MB_CMD_NONE);
        put32 (mb + TB_MB_OFF_STATUS, TB_MB_STATUS_OK);
        put32 (mb + TB_MB_OFF_LENGTH, len);
      }
      break;
    case MODE_TRANSFER_FAILS:
    case MODE_NO_SBM:
    default:
      break;
    }
}

static gboolean
hostile_read (TbProbe *probe, guint32 address, guint8 *buf, gsize len, GError **error)
{
  TestHostileProbe *self = TEST_HOSTILE_PROBE (probe);

  /* the magic check passes, every later transfer fails */
  if (self->mode == MODE_TRANSFER_FAILS && !(address == TB_BOARD_RAM_BASE + TB_MB_OFF_MAGIC && len == 4))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, "the probe's USB transfer failed");
      return FALSE;
    }
  if (!in_mailbox (address, len, error))
    return FALSE;
  memcpy (buf, self->ram + (address - TB_BOARD_RAM_BASE), len);
  return TRUE;
}

static gboolean
hostile_write (TbProbe *probe, guint32 address, const guint8 *data, gsize len, GError **error)
{
  TestHostileProbe *self = TEST_HOSTILE_PROBE (probe);
  guint32 doorbell = TB_BOARD_RAM_BASE + TB_MB_OFF_COMMAND;

  if (!in_mailbox (address, len, error))
    return FALSE;
  memcpy (self->ram + (address - TB_BOARD_RAM_BASE), data, len);
  if (address <= doorbell && doorbell < address + len)
    answer (self);
  return TRUE;
}

static gboolean
hostile_reset (TbProbe *probe, gboolean halt, GError **error)
{
  return TRUE;
}

static void
test_hostile_probe_finalize (GObject *object)
{
  g_rand_free (TEST_HOSTILE_PROBE (object)->rand);
  G_OBJECT_CLASS (test_hostile_probe_parent_class)->finalize (object);
}

static void
test_hostile_probe_class_init (TestHostileProbeClass *klass)
{
  TbProbeClass *probe_class = TB_PROBE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = test_hostile_probe_finalize;
  probe_class->read_memory = hostile_read;
  probe_class->write_memory = hostile_write;
  probe_class->reset = hostile_reset;
}

static void
test_hostile_probe_init (TestHostileProbe *self)
{
  self->rand = g_rand_new_with_seed (g_test_rand_int ());
}

static TestHostileProbe *
hostile_new (Mode mode)
{
  TestHostileProbe *self = g_object_new (TEST_TYPE_HOSTILE_PROBE, "uri", "test:hostile", "kind", "test", NULL);

  self->mode = mode;
  if (mode != MODE_NO_SBM)
    put32 (self->ram + TB_MB_OFF_MAGIC, TB_MB_MAGIC);
  return self;
}

static void
test_never_answers (void)
{
  g_autoptr(TestHostileProbe) probe = hostile_new (MODE_BUSY);
  g_autoptr(TbTarget) target = tb_target_new (TB_PROBE (probe));
  g_autoptr(GError) error = NULL;
  TbAttestation *att;

  tb_target_set_timeout (target, 150);
  att = tb_target_attest (target, &error);
  g_assert_null (att);
  g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "did not answer"));
}

static void
test_huge_answer (void)
{
  g_autoptr(TestHostileProbe) probe = hostile_new (MODE_HUGE);
  g_autoptr(TbTarget) target = tb_target_new (TB_PROBE (probe));
  g_autoptr(GError) error = NULL;

  g_assert_null (tb_target_attest (target, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "more than its mailbox holds"));
}

/* Random answers to every command the target parses. */
static void
test_random_answers (void)
{
  g_autoptr(TestHostileProbe) probe = hostile_new (MODE_RANDOM);
  g_autoptr(TbTarget) target = tb_target_new (TB_PROBE (probe));

  for (guint i = 0; i < 500; i++)
    {
      g_autoptr(GError) error = NULL;
      TbAttestation *att = tb_target_attest (target, &error);
      /* 2^-256-ish chance that random bytes carry a valid signature */
      g_assert_null (att);
      g_assert_nonnull (error);
      g_assert_true (error->domain == TB_ERROR);
    }
}

static void
test_transfer_fails (void)
{
  g_autoptr(TestHostileProbe) probe = hostile_new (MODE_TRANSFER_FAILS);
  g_autoptr(TbTarget) target = tb_target_new (TB_PROBE (probe));
  g_autoptr(GError) error = NULL;

  g_assert_null (tb_target_attest (target, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
  if (strstr (error->message, "USB transfer") == NULL)
    g_error ("%s", error->message);
}

static void
test_no_sbm (void)
{
  g_autoptr(TestHostileProbe) probe = hostile_new (MODE_NO_SBM);
  g_autoptr(TbTarget) target = tb_target_new (TB_PROBE (probe));
  g_autoptr(GError) error = NULL;

  g_assert_null (tb_target_attest (target, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
  /* a probe without halt support says so */
  g_clear_error (&error);
  g_assert_false (tb_probe_halt (TB_PROBE (probe), &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED);
}

/* A blank board (nothing at the SBM's address) is reported at once, not
 * after the timeout (an hour here, so a wait would show); a board with
 * something there that never answers is waited for. */
static void
test_blank_device (void)
{
  g_autofree char *dir = g_dir_make_tmp ("tb-target-XXXXXX", NULL);
  g_autofree char *uri = g_strconcat ("virtual:", dir, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbVirtualBoard) board = tb_virtual_board_create (dir, NULL, 256 * 1024, 1024, NULL, &error);
  g_autoptr(TbProbe) probe = NULL;
  g_autoptr(TbTarget) target = NULL;
  const guint8 not_an_sbm[8] = { 0x00, 0x10, 0x00, 0x20, 0x09, 0x01, 0x00, 0x08 };

  g_assert_no_error (error);
  g_clear_object (&board);
  probe = tb_probe_open (uri, &error);
  g_assert_no_error (error);
  target = tb_target_new (probe);
  tb_target_set_timeout (target, 3600 * 1000);
  g_assert_false (tb_target_reset (target, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "blank"));
  g_clear_error (&error);

  /* a vector table, but no SBM behind it */
  g_assert_true (tb_probe_write_memory (probe, TB_BOARD_FLASH_BASE, not_an_sbm, sizeof not_an_sbm, NULL, &error));
  g_assert_no_error (error);
  tb_target_set_timeout (target, 150);
  g_assert_false (tb_target_reset (target, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "came up"));
  g_clear_pointer (&target, tb_target_free);
  g_clear_object (&probe);
  tb_file_remove_tree (dir, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tb/target/never-answers", test_never_answers);
  g_test_add_func ("/tb/target/huge-answer", test_huge_answer);
  g_test_add_func ("/tb/target/random-answers", test_random_answers);
  g_test_add_func ("/tb/target/transfer-fails", test_transfer_fails);
  g_test_add_func ("/tb/target/no-sbm", test_no_sbm);
  g_test_add_func ("/tb/target/blank-device", test_blank_device);
  return g_test_run ();
}
