/* SPDX-License-Identifier: GPL-3.0-or-later */

/* GUI smoke test, run under Xvfb: the app starts on a context, every page
 * exists and can be shown, a broken context is refused without losing
 * anything, the demo opens; screenshots go into the build directory. */

#include "config.h"

#include <math.h>

#include <adwaita.h>

#include "tb-application.h"
#include <glib/gstdio.h>

#include "tb-audit-private.h"
#include "tb-form-dialog.h"
#include "tb-screenshot.h"
#include "tb-test-a11y.h"
#include "tb-test-util.h"
#include "tb-window.h"
#include "tb-virtual-board.h"

static TbApplication *app;
static char *tmp;

static AdwMessageDialog *find_dialog (void);

/* Scrolls the first mapped scrolled window under @root to its end, so a
 * screenshot shows what is below the fold. */
static gboolean
scroll_to_end (GtkWidget *root)
{
  if (GTK_IS_SCROLLED_WINDOW (root) && gtk_widget_get_mapped (root))
    {
      GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (root));
      gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
      return TRUE;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL; child = gtk_widget_get_next_sibling (child))
    if (scroll_to_end (child))
      return TRUE;
  return FALSE;
}
static void set_field (AdwMessageDialog *dialog, const char *id, const char *text);

static void
spin_until (gboolean (*done) (TbWindow *), TbWindow *window)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (!done (window))
    {
      g_main_context_iteration (NULL, FALSE);
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for the window");
      g_usleep (1000);
    }
}

static gboolean
is_idle (TbWindow *window)
{
  return !tb_window_is_busy (window);
}

static void
spin_frames (guint n)
{
  for (guint i = 0; i < n; i++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (10000);
    }
}

/* Answers a passphrase dialog and waits for the work it starts. */
static void
accept_with_passphrase (AdwMessageDialog *dialog, const char *passphrase, TbWindow *window)
{
  g_assert_nonnull (dialog);
  set_field (dialog, "pass", passphrase);
  adw_message_dialog_response (dialog, "accept");
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin_frames (2);
  spin_until (is_idle, window);
}

static void
screenshot (GtkWidget *widget, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strdup_printf ("screenshot-%s.png", name);
  g_autofree char *path = g_build_filename (g_getenv ("TB_SCREENSHOT_DIR") ?: ".", file, NULL);

  spin_frames (30);
  g_assert_true (tb_widget_save_png (widget, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_test_message ("screenshot: %s", path);
}

static TbWindow *
new_window (void)
{
  TbWindow *window = tb_window_new (ADW_APPLICATION (app));

  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 720);
  gtk_window_present (GTK_WINDOW (window));
  spin_frames (5);
  return window;
}

static void
test_pages (void)
{
  g_autofree char *dir = g_build_filename (tmp, "ctx", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_create (dir, "Smoke Test OEM", &error);
  TbWindow *window;
  g_auto(GStrv) pages = NULL;
  const char *expect[] = { "trust-chain", "keys", "images", "devices", "production", "audit" };

  g_assert_no_error (error);
  tb_context_unlock (ctx);

  window = new_window ();
  g_assert_cmpstr (tb_window_get_visible_page (window), ==, "welcome");
  g_assert_false (tb_window_show_page (window, "keys"));
  screenshot (GTK_WIDGET (window), "welcome");

  tb_window_open_context (window, dir);
  spin_until (is_idle, window);
  g_assert_nonnull (tb_window_get_context (window));
  g_assert_cmpstr (tb_context_get_name (tb_window_get_context (window)), ==, "Smoke Test OEM");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Smoke Test OEM");

  pages = tb_window_dup_page_names (window);
  g_assert_cmpuint (g_strv_length (pages), ==, G_N_ELEMENTS (expect));
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      g_assert_cmpstr (pages[i], ==, expect[i]);
      g_assert_true (tb_window_show_page (window, expect[i]));
      g_assert_cmpstr (tb_window_get_visible_page (window), ==, expect[i]);
    }
  g_assert_false (tb_window_show_page (window, "no-such-page"));

  /* keyboard shortcuts reach the pages through the action */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "images"));
  g_assert_cmpstr (tb_window_get_visible_page (window), ==, "images");

  tb_window_show_page (window, "trust-chain");
  screenshot (GTK_WIDGET (window), "trust-chain");

  /* the opened context is remembered */
  {
    g_auto(GStrv) recent = tb_application_dup_recent (app);
    g_assert_nonnull (recent[0]);
    g_assert_cmpstr (recent[0], ==, tb_context_get_path (tb_window_get_context (window)));
  }

  tb_window_close_context (window);
  g_assert_null (tb_window_get_context (window));
  g_assert_cmpstr (tb_window_get_visible_page (window), ==, "welcome");
  screenshot (GTK_WIDGET (window), "welcome-recent");
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_broken_context (void)
{
  g_autofree char *dir = g_build_filename (tmp, "broken", NULL);
  g_autofree char *json = g_build_filename (dir, "context.json", NULL);
  g_autofree char *after = NULL;
  TbWindow *window;
  GListModel *toplevels = gtk_window_get_toplevels ();
  guint before;
  const char *broken = "{\"schema_version\": 1, \"id\": ";

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  tb_test_write_file (json, broken);
  window = new_window ();
  before = g_list_model_get_n_items (toplevels);
  tb_window_open_context (window, dir);
  spin_until (is_idle, window);
  spin_frames (5);
  g_assert_null (tb_window_get_context (window));
  /* the error is shown in a dialog */
  g_assert_cmpuint (g_list_model_get_n_items (toplevels), ==, before + 1);
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) w = g_list_model_get_item (toplevels, i);
      if (ADW_IS_MESSAGE_DIALOG (w))
        {
          g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (w)), json));
          screenshot (GTK_WIDGET (w), "broken-context-dialog");
          gtk_window_destroy (w);
        }
    }
  after = tb_test_read_file (json, NULL);
  g_assert_cmpstr (after, ==, broken);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Answers the file chooser the workbench opened with @path, as a user
 * picks it: a file or folder to open, or the name to save under. */
static void
answer_chooser (const char *path)
{
  GtkFileChooser *chooser = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (path);
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (chooser == NULL && g_get_monotonic_time () < deadline)
    {
      GListModel *toplevels = gtk_window_get_toplevels ();
      for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
        {
          g_autoptr(GtkWindow) w = g_list_model_get_item (toplevels, i);
          /* the one just opened: an answered one may linger a moment */
          if (GTK_IS_FILE_CHOOSER_DIALOG (w) && gtk_widget_get_visible (GTK_WIDGET (w)) &&
              g_object_get_data (G_OBJECT (w), "tb-answered") == NULL)
            chooser = GTK_FILE_CHOOSER (w);
        }
      g_main_context_iteration (NULL, FALSE);
    }
  g_assert_nonnull (chooser);
  g_object_set_data (G_OBJECT (chooser), "tb-answered", GINT_TO_POINTER (1));
  if (gtk_file_chooser_get_action (chooser) == GTK_FILE_CHOOSER_ACTION_SAVE)
    {
      /* typed into the name entry, as a user may: a whole path; the
       * chooser may still be loading its folder, which resets the entry:
       * the name must have held for a while before the answer */
      guint held = 0;

      while (held < 20)
        {
          g_autoptr(GFile) chosen = gtk_file_chooser_get_file (chooser);

          if (chosen != NULL && g_file_equal (chosen, file))
            held++;
          else
            {
              held = 0;
              gtk_file_chooser_set_current_name (chooser, path);
            }
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
          g_main_context_iteration (NULL, FALSE);
          g_usleep (1000);
        }
    }
  else
    {
      g_assert_true (gtk_file_chooser_set_file (chooser, file, NULL));
      /* the chooser selects the file once its folder has loaded */
      for (;;)
        {
          g_autoptr(GFile) selected = gtk_file_chooser_get_file (chooser);
          if (selected != NULL && g_file_equal (selected, file))
            break;
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
          g_main_context_iteration (NULL, FALSE);
        }
    }
  /* a save dialog first checks the folder, asynchronously: the answer is
   * taken once the dialog has gone (held: answering may destroy it) */
  {
    g_autoptr(GtkWidget) dialog = g_object_ref (GTK_WIDGET (chooser));

    gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
    while (gtk_widget_get_visible (dialog))
      {
        g_assert_cmpint (g_get_monotonic_time (), <, deadline + 10 * G_USEC_PER_SEC);
        g_main_context_iteration (NULL, FALSE);
        g_usleep (1000);
      }
  }
  spin_frames (2);
}

static gboolean
has_context (TbWindow *window)
{
  return tb_window_get_context (window) != NULL && !tb_window_is_busy (window);
}

static void
test_demo (void)
{
  TbWindow *window = new_window ();
  g_autofree char *expected = tb_demo_get_default_path ();

  g_assert_true (g_str_has_prefix (expected, tmp));
  tb_window_open_demo (window);
  spin_until (has_context, window);
  g_assert_cmpstr (tb_context_get_name (tb_window_get_context (window)), ==, TB_DEMO_CONTEXT_NAME);
  g_assert_cmpstr (tb_context_get_path (tb_window_get_context (window)), ==, expected);

  /* the chain has happened in the demo: every page shows something real */
  {
    TbProductionPage *production = tb_window_get_production_page (window);
    TbTrustChainPage *chain = tb_window_get_trust_chain_page (window);
    TbTrustGraph *graph;
    guint images = 0, devices = 0;

    g_assert_true (tb_window_show_page (window, "images"));
    g_assert_cmpuint (tb_images_page_get_n_mastered (tb_window_get_images_page (window)), ==, 1);
    screenshot (GTK_WIDGET (window), "demo-images");
    g_assert_true (tb_window_show_page (window, "devices"));
    tb_devices_page_refresh (tb_window_get_devices_page (window));
    /* the provisioned board and the two the station made */
    g_assert_cmpuint (tb_devices_page_get_n_probes (tb_window_get_devices_page (window)), ==, 1 + TB_DEMO_PRODUCED);
    g_assert_true (tb_window_show_page (window, "production"));
    g_assert_true (tb_production_page_is_oem (production));
    screenshot (GTK_WIDGET (window), "demo-production");
    /* the station's records, exported by the demo, verify at the OEM */
    {
      g_autofree char *records = g_build_filename (expected, TB_DEMO_RECORDS_FILE, NULL);
      AdwMessageDialog *verified;

      g_assert_true (tb_production_page_verify_records (production, records));
      verified = find_dialog ();
      g_assert_nonnull (verified);
      g_assert_nonnull (strstr (adw_message_dialog_get_body (verified), "2 devices"));
      gtk_window_destroy (GTK_WINDOW (verified));
    }
    g_assert_true (tb_window_show_page (window, "audit"));
    g_assert_cmpuint (tb_audit_page_get_n_shown (tb_window_get_audit_page (window)), >=, 10);
    g_assert_true (tb_window_show_page (window, "trust-chain"));
    spin_frames (2);
    g_assert_true (tb_trust_chain_page_has_graph (chain));
    graph = tb_trust_view_get_graph (tb_trust_chain_page_get_view (chain));
    for (guint i = 0; i < graph->nodes->len; i++)
      {
        TbTrustNode *n = g_ptr_array_index (graph->nodes, i);
        images += n->kind == TB_TRUST_NODE_IMAGE;
        devices += n->kind == TB_TRUST_NODE_DEVICE;
      }
    g_assert_cmpuint (images, ==, 1);
    g_assert_cmpuint (devices, >=, 1);
  }

  tb_window_show_page (window, "keys");
  {
    TbKeysPage *page = tb_window_get_keys_page (window);
    g_autofree char *title = NULL;

    g_assert_cmpuint (tb_keys_page_get_n_keys (page), >=, 4);
    g_assert_cmpuint (tb_keys_page_get_n_certs (page), >=, 4);
    g_assert_cmpuint (tb_keys_page_get_n_findings (page), >=, 2); /* root in a file, demo passphrase */
    screenshot (GTK_WIDGET (window), "demo-keys");
    g_assert_true (tb_keys_page_select (page, "cert", "provisioning-ca"));
    title = tb_keys_page_dup_details_title (page);
    g_assert_cmpstr (title, ==, "provisioning-ca");
    screenshot (GTK_WIDGET (window), "demo-cert-details");
    g_assert_true (tb_keys_page_select (page, "key", "mastering"));
    g_clear_pointer (&title, g_free);
    title = tb_keys_page_dup_details_title (page);
    g_assert_cmpstr (title, ==, "mastering");
    g_assert_false (tb_keys_page_select (page, "key", "no-such-key"));
  }

  /* master an image from the Images page, then verify it */
  {
    TbImagesPage *images = tb_window_get_images_page (window);
    g_autofree char *hex = g_build_filename (tmp, "app.hex", NULL);
    AdwMessageDialog *dialog;
    TbUpk *upk;

    /* linked for the virtual board's application slot, 0x08008000 */
    tb_test_write_file (hex, ":020000040800F2\n"
                             ":10800000000102030405060708090A0B0C0D0E0FF8\n"
                             ":10801000101112131415161718191A1B1C1D1E1FE8\n"
                             ":00000001FF\n");
    g_assert_true (tb_window_show_page (window, "images"));
    screenshot (GTK_WIDGET (window), "images-empty");
    /* through the page's file chooser, as a user opens it */
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (images), "images.choose", NULL));
    answer_chooser (hex);
    spin_frames (2);
    spin_until (is_idle, window);
    g_assert_nonnull (tb_images_page_get_firmware (images));
    tb_images_page_set_version (images, "2.0.1");
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (images), "images.master", NULL));
    accept_with_passphrase (find_dialog (), TB_DEMO_PASSPHRASE, window);
    upk = tb_images_page_get_upk (images);
    g_assert_nonnull (upk);
    g_assert_cmpstr (tb_upk_get_version (upk), ==, "2.0.1");
    g_assert_cmpstr (tb_upk_get_product (upk), ==, TB_DEMO_PRODUCT);
    g_assert_cmpuint (tb_upk_get_image_size (upk), ==, 32);

    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (images), "images.verify", NULL));
    accept_with_passphrase (find_dialog (), TB_DEMO_PASSPHRASE, window);
    g_assert_cmpuint (tb_images_page_count_checks (images, TB_CHECK_PASSED), ==, 6);
    g_assert_cmpuint (tb_images_page_count_checks (images, TB_CHECK_FAILED), ==, 0);
    screenshot (GTK_WIDGET (window), "images-mastered");

    /* the same version again: the page asks before it replaces the pair */
    {
      g_autofree char *image_id = tb_hex_encode (tb_upk_get_image_id (upk), TB_UPK_IMAGE_ID_LEN);
      g_autofree char *new_id = NULL;

      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (images), "images.master", NULL));
      dialog = find_dialog ();
      g_assert_nonnull (dialog);
      g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Replace the Mastered Image?");
      g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "app-2.0.1.tbimg already exists"));
      g_assert_cmpstr (adw_message_dialog_get_response_label (dialog, "accept"), ==, "_Replace");
      accept_with_passphrase (dialog, TB_DEMO_PASSPHRASE, window);
      upk = tb_images_page_get_upk (images);
      g_assert_nonnull (upk);
      new_id = tb_hex_encode (tb_upk_get_image_id (upk), TB_UPK_IMAGE_ID_LEN);
      g_assert_cmpstr (new_id, !=, image_id);
    }
  }

  /* a virtual board: made, provisioned and programmed from the Devices page */
  {
    TbDevicesPage *devices = tb_window_get_devices_page (window);
    g_autofree char *upk = g_build_filename (tmp, "app-2.0.1.tbupk", NULL);
    g_autofree char *uri = NULL;
    g_autoptr(GError) error = NULL;
    AdwMessageDialog *dialog;
    TbAttestation *att;

    g_assert_true (tb_window_show_page (window, "devices"));
    tb_devices_page_refresh (devices);
    g_assert_cmpuint (tb_devices_page_get_n_probes (devices), ==, 1 + TB_DEMO_PRODUCED);
    uri = tb_devices_page_new_board (devices, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (tb_devices_page_get_n_probes (devices), ==, 2 + TB_DEMO_PRODUCED);
    g_assert_true (tb_devices_page_select (devices, uri));
    spin_frames (2);
    spin_until (is_idle, window);
    g_assert_null (tb_devices_page_get_attestation (devices)); /* blank: no SBM yet */

    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (devices), "devices.provision", NULL));
    dialog = find_dialog ();
    g_assert_nonnull (dialog);
    /* identity only: the image is installed below, as an update would be */
    adw_combo_row_set_selected (g_object_get_data (G_OBJECT (dialog), "image"),
                                g_list_model_get_n_items (adw_combo_row_get_model (
                                  g_object_get_data (G_OBJECT (dialog), "image"))) - 1);
    accept_with_passphrase (dialog, TB_DEMO_PASSPHRASE, window);
    att = tb_devices_page_get_attestation (devices);
    g_assert_nonnull (att);
    g_assert_cmpuint (att->lifecycle, ==, TB_LIFECYCLE_LOCKED);

    tb_devices_page_program (devices, upk);
    spin_frames (2);
    spin_until (is_idle, window);
    att = tb_devices_page_get_attestation (devices);
    g_assert_nonnull (att);
    g_assert_cmpuint (att->boot, ==, 0);
    g_assert_cmpstr (att->app_version, ==, "2.0.1");
    screenshot (GTK_WIDGET (window), "devices-provisioned");

    /* the same image again is a rollback: explained, and the device's
     * details stay on screen */
    tb_devices_page_program (devices, upk);
    spin_frames (2);
    spin_until (is_idle, window);
    dialog = find_dialog ();
    g_assert_nonnull (dialog);
    g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "rollback"));
    screenshot (GTK_WIDGET (window), "devices-refused");
    gtk_window_destroy (GTK_WINDOW (dialog));
    att = tb_devices_page_get_attestation (devices);
    g_assert_nonnull (att);
    g_assert_cmpstr (att->app_version, ==, "2.0.1");
  }

  /* the trust chain: keys, the mastered images and the provisioned device */
  {
    TbTrustChainPage *chain = tb_window_get_trust_chain_page (window);
    TbTrustView *view = tb_trust_chain_page_get_view (chain);
    TbTrustGraph *graph;
    TbTrustNode *first, *second;

    g_assert_true (tb_window_show_page (window, "trust-chain"));
    spin_frames (2);
    g_assert_true (tb_trust_chain_page_has_graph (chain));
    graph = tb_trust_view_get_graph (view);
    g_assert_nonnull (tb_trust_graph_find (graph, "key:root-ca"));
    g_assert_nonnull (tb_trust_graph_find (graph, "key:mastering"));
    /* the image mastered on the Images page, the board provisioned on the
     * Devices page, with their edges */
    {
      TbTrustNode *image = NULL, *device = NULL;
      for (guint i = 0; i < graph->nodes->len; i++)
        {
          TbTrustNode *n = g_ptr_array_index (graph->nodes, i);
          if (n->kind == TB_TRUST_NODE_IMAGE)
            image = n;
          if (n->kind == TB_TRUST_NODE_DEVICE)
            device = n;
        }
      g_assert_nonnull (image);
      g_assert_cmpstr (image->name, ==, TB_DEMO_PRODUCT " 2.0.1");
      g_assert_true (tb_trust_graph_has_edge (graph, "key:mastering", image->id, "signs"));
      g_assert_nonnull (device);
      g_assert_true (tb_trust_graph_has_edge (graph, "key:provisioning-ca", device->id, "issues"));
    }
    /* keyboard navigation moves the selection, the details follow */
    g_assert_true (tb_trust_view_select (view, "key:root-ca"));
    first = tb_trust_view_get_selected (view);
    g_assert_cmpstr (first->id, ==, "key:root-ca");
    screenshot (GTK_WIDGET (window), "trust-chain-demo");
    tb_trust_view_move_selection (view, 1);
    second = tb_trust_view_get_selected (view);
    g_assert_nonnull (second);
    g_assert_cmpstr (second->id, !=, "key:root-ca");
    tb_trust_view_move_selection (view, -1);
    g_assert_cmpstr (tb_trust_view_get_selected (view)->id, ==, "key:root-ca");
    /* each node is a focusable widget with an accessible name; focusing
     * one selects it */
    {
      GtkWidget *node = tb_trust_view_get_node_widget (view, "key:mastering");
      graphene_rect_t bounds;
      g_assert_nonnull (node);
      /* the node's widget covers its drawn card */
      g_assert_true (gtk_widget_compute_bounds (node, GTK_WIDGET (view), &bounds));
      g_assert_cmpfloat (fabs (bounds.size.width - TB_TRUST_NODE_WIDTH * tb_trust_view_get_zoom (view)), <=, 1.5);
      g_assert_cmpfloat (fabs (bounds.size.height - TB_TRUST_NODE_HEIGHT * tb_trust_view_get_zoom (view)), <=, 1.5);
      g_assert_true (gtk_widget_get_focusable (node));
      g_assert_true (gtk_widget_grab_focus (node));
      spin_frames (2);
      g_assert_cmpstr (tb_trust_view_get_selected (view)->id, ==, "key:mastering");
      tb_trust_view_move_selection (view, 1);
      g_assert_true (gtk_widget_has_focus (tb_trust_view_get_node_widget (view,
                                                                          tb_trust_view_get_selected (view)->id)));
      /* Tab moves the focus along the nodes, and the selection with it */
      {
        g_autofree char *before = g_strdup (tb_trust_view_get_selected (view)->id);
        g_assert_true (gtk_widget_child_focus (GTK_WIDGET (view), GTK_DIR_TAB_FORWARD));
        spin_frames (2);
        g_assert_cmpstr (tb_trust_view_get_selected (view)->id, !=, before);
        g_assert_true (gtk_widget_has_focus (tb_trust_view_get_node_widget (view,
                                                                            tb_trust_view_get_selected (view)->id)));
      }
    }
    /* zoom is bounded */
    tb_trust_view_set_zoom (view, 100);
    g_assert_cmpfloat (tb_trust_view_get_zoom (view), <=, 2.0);
    tb_trust_chain_page_fit (chain);
    g_assert_cmpfloat (tb_trust_view_get_zoom (view), <=, 1.0);
    adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);
    screenshot (GTK_WIDGET (window), "trust-chain-demo-dark");
    adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);
  }

  /* a second time the existing demo context is opened, not recreated */
  {
    g_autofree char *id = g_strdup (tb_context_get_id (tb_window_get_context (window)));
    tb_window_close_context (window);
    tb_window_open_demo (window);
    spin_until (has_context, window);
    g_assert_cmpstr (tb_context_get_id (tb_window_get_context (window)), ==, id);
  }
  gtk_window_destroy (GTK_WINDOW (window));
}

typedef struct {
  GApplication *app;
  gint64 deadline;
  char *expected_name;
  gboolean opened;
} RunCheck;

static gboolean
run_check_cb (gpointer data)
{
  RunCheck *check = data;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (check->app));

  if (window != NULL && TB_IS_WINDOW (window) && tb_window_get_context (TB_WINDOW (window)) != NULL &&
      !tb_window_is_busy (TB_WINDOW (window)))
    {
      check->opened = g_strcmp0 (tb_context_get_name (tb_window_get_context (TB_WINDOW (window))),
                                 check->expected_name) == 0;
      g_application_quit (check->app);
      return G_SOURCE_REMOVE;
    }
  if (g_get_monotonic_time () > check->deadline)
    {
      g_application_quit (check->app);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* `trustbench DIR` opens DIR, through the real command line handling. */
static void
test_command_line (void)
{
  g_autofree char *dir = g_build_filename (tmp, "cmdline-ctx", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_create (dir, "Command Line OEM", &error);
  g_autoptr(TbApplication) second = tb_application_new (G_APPLICATION_NON_UNIQUE);
  RunCheck check = { G_APPLICATION (second), g_get_monotonic_time () + 20 * G_USEC_PER_SEC,
                     g_strdup ("Command Line OEM"), FALSE };
  char *argv[] = { (char *) "trustbench", dir, NULL };
  int status;

  g_assert_no_error (error);
  tb_context_unlock (ctx);
  /* the test's own instance is registered on the bus under the real id:
   * this second one must not export its objects at the same path */
  g_application_set_application_id (G_APPLICATION (second), "org.trustbench.Trustbench.CommandLineTest");
  g_timeout_add (50, run_check_cb, &check);
  status = g_application_run (G_APPLICATION (second), 2, argv);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (check.opened);
  g_free (check.expected_name);
}

static AdwMessageDialog *
find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) w = g_list_model_get_item (toplevels, i);
      if (ADW_IS_MESSAGE_DIALOG (w) && gtk_widget_get_visible (GTK_WIDGET (w)))
        return ADW_MESSAGE_DIALOG (w);
    }
  return NULL;
}

static void
set_field (AdwMessageDialog *dialog, const char *id, const char *text)
{
  GtkEditable *row = g_object_get_data (G_OBJECT (dialog), id);

  g_assert_nonnull (row);
  gtk_editable_set_text (row, text);
}

static gboolean
has_keys (TbWindow *window)
{
  return !tb_window_is_busy (window) && tb_keys_page_get_n_keys (tb_window_get_keys_page (window)) > 0;
}

/* The hierarchy is created from the Keys page's dialog, in the background,
 * and lands on disk with every private key encrypted. */
/* A production-sized context: 400 devices of one product collapse into a
 * group, the few of another stay single; the report exports from the page. */
static void
test_trust_chain_large (void)
{
  g_autofree char *dir = g_build_filename (tmp, "large-ctx", NULL);
  g_autofree char *report = g_build_filename (tmp, "large-review.pdf", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_create (dir, "Large OEM", &error);
  const char *products[] = { "meter", "valve", NULL };
  TbTrustChainPage *chain;
  TbTrustNode *group;
  TbWindow *window;

  g_assert_true (tb_hierarchy_create (ctx, products, NULL, "large passphrase", NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 405; i++)
    {
      g_autofree char *id = NULL;
      TbProvisionResult r = { 0 };
      r.uid = g_strdup_printf ("%08x", 0x10000000u + i);
      r.product = g_strdup (i < 400 ? "meter" : "valve");
      r.device_type = g_strdup ("tb-vmcu-m4");
      r.device_certificate_serial = g_strdup_printf ("%08x", i);
      r.lifecycle = g_strdup ("locked");
      id = tb_provision_record (ctx, &r, &error);
      g_assert_no_error (error);
      tb_provision_result_clear (&r);
    }
  tb_context_unlock (ctx);

  window = new_window ();
  tb_window_open_context (window, dir);
  spin_until (has_context, window);
  g_assert_true (tb_window_show_page (window, "trust-chain"));
  chain = tb_window_get_trust_chain_page (window);
  g_assert_true (tb_trust_chain_page_has_graph (chain));
  group = tb_trust_graph_find (tb_trust_view_get_graph (tb_trust_chain_page_get_view (chain)), "devices:meter");
  g_assert_nonnull (group);
  g_assert_cmpuint (group->count, ==, 400);
  g_assert_nonnull (tb_trust_graph_find (tb_trust_view_get_graph (tb_trust_chain_page_get_view (chain)),
                                         "device:10000190"));
  tb_trust_view_select (tb_trust_chain_page_get_view (chain), "devices:meter");
  screenshot (GTK_WIDGET (window), "trust-chain-large");
  g_assert_true (tb_trust_chain_page_export_report (chain, report, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (report, G_FILE_TEST_IS_REGULAR));
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_create_hierarchy (void)
{
  g_autofree char *dir = g_build_filename (tmp, "empty-ctx", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) created = tb_context_create (dir, "GUI OEM", &error);
  g_autoptr(TbContext) reread = NULL;
  g_autoptr(GPtrArray) keys = NULL;
  TbWindow *window;
  TbKeysPage *page;
  AdwMessageDialog *dialog;

  g_assert_no_error (error);
  tb_context_unlock (created);
  window = new_window ();
  tb_window_open_context (window, dir);
  spin_until (is_idle, window);
  tb_window_show_page (window, "keys");
  page = tb_window_get_keys_page (window);
  g_assert_cmpuint (tb_keys_page_get_n_keys (page), ==, 0);
  screenshot (GTK_WIDGET (window), "keys-empty");

  /* a short passphrase is refused with a dialog, nothing is created */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "keys.create-hierarchy", NULL));
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  set_field (dialog, "products", "thermo, valve");
  set_field (dialog, "pass", "short");
  set_field (dialog, "repeat", "short");
  adw_message_dialog_response (dialog, "accept");
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin_frames (3);
  dialog = find_dialog ();
  g_assert_nonnull (dialog); /* the refusal */
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "8 characters"));
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_false (tb_window_is_busy (window));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "keys.create-hierarchy", NULL));
  dialog = find_dialog ();
  set_field (dialog, "products", "thermo, valve");
  set_field (dialog, "pass", "gui passphrase");
  set_field (dialog, "repeat", "gui passphrase");
  screenshot (GTK_WIDGET (dialog), "create-hierarchy-dialog");
  adw_message_dialog_response (dialog, "accept");
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin_until (has_keys, window);
  g_assert_cmpuint (tb_keys_page_get_n_keys (page), ==, 5);
  g_assert_cmpuint (tb_keys_page_get_n_certs (page), ==, 5);
  screenshot (GTK_WIDGET (window), "keys-created");

  /* issue from a CSR through the page, in the background */
  {
    g_autofree char *csr = g_build_filename (tmp, "board.csr", NULL);
    g_autofree char *out = g_build_filename (tmp, "board.cert.pem", NULL);
    g_autofree char *cmd = g_strdup_printf ("%s req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                                            "-keyout /dev/null -subj /CN=gui-board -out %s",
                                            g_getenv ("TB_OPENSSL"), csr);
    g_autoptr(TbCert) issued = NULL;
    int status = 0;

    g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL));
    tb_keys_page_ask_issue_from_csr (page, csr);
    dialog = find_dialog ();
    g_assert_nonnull (dialog);
    set_field (dialog, "days", "45");
    set_field (dialog, "pass", "gui passphrase");
    adw_message_dialog_response (dialog, "accept");
    gtk_window_destroy (GTK_WINDOW (dialog));
    spin_frames (2);
    spin_until (is_idle, window);
    issued = tb_cert_new_from_file (out, &error);
    g_assert_no_error (error);
    /* the validity asked for, as `cert issue --days` */
    g_assert_cmpint (g_date_time_difference (tb_cert_get_not_after (issued), tb_cert_get_not_before (issued)) /
                     G_TIME_SPAN_DAY, ==, 45);
    g_assert_true (tb_cert_verify (tb_window_get_context (window), issued, NULL, &error));
    g_assert_no_error (error);
  }

  reread = tb_context_open (dir, TB_CONTEXT_OPEN_READ, &error);
  g_assert_no_error (error);
  keys = tb_context_list_keys (reread);
  g_assert_cmpuint (keys->len, ==, 5);
  {
    g_autoptr(TbKey) key = tb_key_load (reread, "product-valve", &error);
    g_assert_no_error (error);
    g_assert_true (tb_key_unlock (key, reread, "gui passphrase", &error));
    g_assert_no_error (error);
  }
  gtk_window_destroy (GTK_WINDOW (window));
}

/* A station: a job imported through the Production page (fingerprint
 * confirmed), devices made with the big button until the limit, a refusal
 * explained, and the Audit page showing it all, valid. */
static void
test_production (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *oem_dir = g_build_filename (tmp, "prod-oem", NULL);
  g_autofree char *station_dir = g_build_filename (tmp, "prod-station", NULL);
  g_autofree char *bin = g_build_filename (tmp, "prod-app.bin", NULL);
  g_autofree char *upk = g_build_filename (tmp, "prod-app.tbupk", NULL);
  g_autofree char *image = g_build_filename (tmp, "prod-app.tbimg", NULL);
  g_autofree char *job = g_build_filename (tmp, "prod.tbjob", NULL);
  const char *products[] = { "widget", NULL };
  TbProductionPage *page;
  TbAuditPage *audit;
  TbWindow *window;
  AdwMessageDialog *dialog;

  {
    g_autoptr(TbContext) oem = tb_context_create (oem_dir, "Production OEM", &error);
    g_autoptr(TbContext) station = NULL;
    g_autoptr(TbFirmware) fw = NULL;
    g_autoptr(TbUpk) u = NULL;
    TbMasterOptions mo = { "widget", NULL, NULL, "3.1.0", 1, 0 };
    TbJobCreateOptions jo = { "line-test", upk, image, 2, NULL, NULL, 1, job };
    guint8 data[6000];

    for (gsize i = 0; i < sizeof data; i++)
      data[i] = (guint8) (i * 13);
    g_assert_no_error (error);
    g_assert_true (tb_hierarchy_create (oem, products, NULL, "oem passphrase", NULL, &error));
    g_assert_true (g_file_set_contents (bin, (const char *) data, sizeof data, &error));
    fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, TB_BOARD_FLASH_BASE + 0x8000, &error);
    g_assert_no_error (error);
    u = tb_master_image (oem, fw, &mo, "oem passphrase", image, upk, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (tb_job_create (oem, &jo, "oem passphrase", "job passphrase", NULL, NULL, &error));
    g_assert_no_error (error);
    station = tb_context_create (station_dir, "Line 7", &error);
    g_assert_no_error (error);
  }

  window = new_window ();
  tb_window_open_context (window, station_dir);
  spin_until (has_context, window);
  g_assert_true (tb_window_show_page (window, "production"));
  page = tb_window_get_production_page (window);
  screenshot (GTK_WIDGET (window), "production-empty");

  tb_production_page_import (page, job);
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "fingerprint"));
  screenshot (GTK_WIDGET (dialog), "production-import-dialog");
  set_field (dialog, "job-pass", "job passphrase");
  set_field (dialog, "pass", "station passphrase");
  adw_message_dialog_response (dialog, "accept");
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin_frames (2);
  spin_until (is_idle, window);
  g_assert_null (find_dialog ());
  g_assert_true (tb_context_has_entry (tb_window_get_context (window), TB_INVENTORY_JOBS, "line-test"));

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *uri = tb_devices_page_new_board (tb_window_get_devices_page (window), &error);
      g_assert_no_error (error);
      g_assert_true (tb_production_page_select_probe (page, uri));
      tb_production_page_program_next (page, "station passphrase");
      spin_frames (2);
      spin_until (is_idle, window);
      if (i == 0)
        screenshot (GTK_WIDGET (window), "production-made");
    }
  /* the third device is over the limit: explained */
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "2 of 2"));
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin_frames (5);
  screenshot (GTK_WIDGET (window), "production-limit");
  g_assert_cmpuint (tb_production_page_get_n_results (page), ==, 3);
  {
    TbJobCounts c;
    g_assert_true (tb_job_get_counts (tb_window_get_context (window), "line-test", &c, &error));
    g_assert_cmpuint (c.made, ==, 2);
    g_assert_cmpuint (c.remaining, ==, 0);
  }

  g_assert_true (tb_window_show_page (window, "audit"));
  audit = tb_window_get_audit_page (window);
  tb_audit_page_reload (audit);
  g_assert_true (tb_audit_page_is_valid (audit));
  g_assert_cmpuint (tb_audit_page_get_n_shown (audit), >=, 5);
  screenshot (GTK_WIDGET (window), "audit");
  /* the job's history holds both devices, newest first */
  g_assert_cmpuint (tb_production_page_get_n_history (page), ==, 2);
  gtk_window_destroy (GTK_WINDOW (window));

  /* a new session on the same station: nothing made in it yet, but the
   * job's history is still there, read from the journal */
  window = new_window ();
  tb_window_open_context (window, station_dir);
  spin_until (has_context, window);
  g_assert_true (tb_window_show_page (window, "production"));
  page = tb_window_get_production_page (window);
  g_assert_cmpuint (tb_production_page_get_n_results (page), ==, 0);
  g_assert_cmpuint (tb_production_page_get_n_history (page), ==, 2);
  spin_frames (2);
  g_assert_true (scroll_to_end (GTK_WIDGET (page)));
  spin_frames (3);
  screenshot (GTK_WIDGET (window), "production-history");
  gtk_window_destroy (GTK_WINDOW (window));
}

/* A key generated on a token from the Keys page (SoftHSM as the token):
 * the token is listed, the key lives there, and the trust chain marks it. */
static void
test_tokens (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (tmp, "token-ctx", NULL);
  const char *products[] = { "widget", NULL };
  TbKeysPage *keys;
  TbWindow *window;
  AdwMessageDialog *dialog;

  if (g_getenv ("SOFTHSM2_CONF") == NULL)
    {
      g_test_skip ("SoftHSM 2 is not installed");
      return;
    }
  {
    g_autoptr(TbContext) ctx = tb_context_create (dir, "Token GUI OEM", &error);
    g_assert_no_error (error);
    g_assert_nonnull (ctx);
  }
  (void) products;
  window = new_window ();
  tb_window_open_context (window, dir);
  spin_until (has_context, window);
  g_assert_true (tb_window_show_page (window, "keys"));
  keys = tb_window_get_keys_page (window);
  g_assert_cmpuint (tb_keys_page_get_n_tokens (keys), >=, 1);

  /* the default hierarchy with its root, mastering and job keys on the token */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (keys), "keys.create-hierarchy", NULL));
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  set_field (dialog, "products", "widget");
  adw_combo_row_set_selected (g_object_get_data (G_OBJECT (dialog), "where"), 1);
  set_field (dialog, "pass", "gui passphrase");
  set_field (dialog, "repeat", "gui passphrase");
  set_field (dialog, "pin", "2468");
  screenshot (GTK_WIDGET (dialog), "hierarchy-on-token-dialog");
  adw_message_dialog_response (dialog, "accept");
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin_frames (2);
  spin_until (is_idle, window);
  g_assert_null (find_dialog ());
  {
    const char *const on_token[] = { "root-ca", "mastering", "job" };
    for (guint i = 0; i < G_N_ELEMENTS (on_token); i++)
      {
        g_autoptr(TbKey) key = tb_key_load (tb_window_get_context (window), on_token[i], &error);
        g_assert_no_error (error);
        g_assert_true (tb_key_is_on_token (key));
      }
  }

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (keys), "keys.generate", NULL));
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  set_field (dialog, "name", "hsm-mastering");
  adw_combo_row_set_selected (g_object_get_data (G_OBJECT (dialog), "usage"), 2); /* mastering */
  adw_combo_row_set_selected (g_object_get_data (G_OBJECT (dialog), "where"), 1); /* the first token */
  set_field (dialog, "pin", "2468");
  screenshot (GTK_WIDGET (dialog), "keys-generate-on-token");
  adw_message_dialog_response (dialog, "accept");
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin_frames (2);
  spin_until (is_idle, window);
  g_assert_null (find_dialog ());
  {
    g_autoptr(TbKey) key = tb_key_load (tb_window_get_context (window), "hsm-mastering", &error);
    g_assert_no_error (error);
    g_assert_true (tb_key_is_on_token (key));
  }
  screenshot (GTK_WIDGET (window), "keys-tokens");

  g_assert_true (tb_window_show_page (window, "trust-chain"));
  {
    TbTrustChainPage *chain = tb_window_get_trust_chain_page (window);
    TbTrustNode *node = NULL;
    spin_frames (5);
    node = tb_trust_graph_find (tb_trust_view_get_graph (tb_trust_chain_page_get_view (chain)), "key:hsm-mastering");
    g_assert_nonnull (node);
    g_assert_true (node->on_token);
    g_assert_nonnull (strstr (node->storage, "ui-token"));
  }
  screenshot (GTK_WIDGET (window), "trust-chain-token");
  gtk_window_destroy (GTK_WINDOW (window));
}

static guint expected_probes;

static gboolean
probes_listed (TbWindow *window)
{
  return tb_devices_page_get_n_probes (tb_window_get_devices_page (window)) == expected_probes;
}

/* A probe plugged in (here: a board made by another program) appears on
 * the Devices page by itself. */
static void
test_hotplug (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *boards = tb_probe_get_boards_dir ();
  g_autofree char *dir = g_build_filename (boards, "hotplugged", NULL);
  g_autofree char *ctx_dir = g_build_filename (tmp, "hotplug-ctx", NULL);
  TbWindow *window = new_window ();
  TbDevicesPage *devices = tb_window_get_devices_page (window);
  g_autoptr(TbVirtualBoard) board = NULL;

  {
    g_autoptr(TbContext) ctx = tb_context_create (ctx_dir, "Hotplug", &error);
    g_assert_no_error (error);
    g_assert_nonnull (ctx);
  }
  tb_window_open_context (window, ctx_dir);
  spin_until (has_context, window);
  g_assert_true (tb_window_show_page (window, "devices"));
  tb_devices_page_refresh (devices);
  spin_frames (3);
  expected_probes = tb_devices_page_get_n_probes (devices) + 1;
  board = tb_virtual_board_create (dir, NULL, 0, 0, NULL, &error);
  g_assert_no_error (error);
  spin_until (probes_listed, window);
  expected_probes--;
  tb_file_remove_tree (dir, NULL);
  spin_until (probes_listed, window);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The whole chain through the GUI alone, on fresh contexts, as a new user
 * does it: a context and its hierarchy, a firmware file mastered, a new
 * virtual board provisioned with it that boots, a job of 2 created, a
 * station context that imports it and makes 2 devices and is refused the
 * third, and the review report. */
static void
respond (const char *const *fields, const char *response)
{
  AdwMessageDialog *dialog = find_dialog ();

  g_assert_nonnull (dialog);
  for (guint i = 0; fields != NULL && fields[i] != NULL; i += 2)
    set_field (dialog, fields[i], fields[i + 1]);
  adw_message_dialog_response (dialog, response);
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin_frames (2);
}

static void
test_whole_chain (void)
{
  g_autofree char *oem_dir = g_build_filename (tmp, "chain-oem", NULL);
  g_autofree char *station_dir = g_build_filename (tmp, "chain-station", NULL);
  g_autofree char *hex = g_build_filename (tmp, "chain-app.hex", NULL);
  g_autofree char *report = g_build_filename (tmp, "chain-review.pdf", NULL);
  g_autofree char *records = g_build_filename (tmp, "chain-records.json", NULL);
  g_autofree char *upk = NULL;
  g_autofree char *package = NULL;
  g_autoptr(GError) error = NULL;
  TbWindow *window = new_window ();
  TbImagesPage *images = tb_window_get_images_page (window);
  TbDevicesPage *devices = tb_window_get_devices_page (window);
  TbProductionPage *production = tb_window_get_production_page (window);
  TbAttestation *att;
  AdwMessageDialog *dialog;

  tb_test_write_file (hex, ":020000040800F2\n"
                           ":10800000000102030405060708090A0B0C0D0E0FF8\n"
                           ":10801000101112131415161718191A1B1C1D1E1FE8\n"
                           ":00000001FF\n");
  g_assert_cmpint (g_mkdir (oem_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (station_dir, 0700), ==, 0);

  /* a new context in an empty folder, then its key hierarchy */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-context", NULL));
  answer_chooser (oem_dir);
  spin_until (has_context, window);
  g_assert_true (tb_window_show_page (window, "keys"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (tb_window_get_keys_page (window)), "keys.create-hierarchy",
                                             NULL));
  respond ((const char *[]){ "products", "meter", "pass", "chain passphrase", "repeat", "chain passphrase", NULL },
           "accept");
  spin_until (has_keys, window);

  /* master the firmware file */
  g_assert_true (tb_window_show_page (window, "images"));
  g_assert_cmpuint (tb_images_page_get_n_mastered (images), ==, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (images), "images.choose", NULL));
  answer_chooser (hex);
  spin_until (is_idle, window);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (images), "images.master", NULL));
  respond ((const char *[]){ "pass", "chain passphrase", NULL }, "accept");
  spin_until (is_idle, window);
  g_assert_cmpuint (tb_images_page_get_n_mastered (images), ==, 1);
  upk = g_build_filename (tmp, "chain-app-1.0.0.tbupk", NULL);
  g_assert_true (g_file_test (upk, G_FILE_TEST_IS_REGULAR));

  /* its next step: provision a new virtual board with it; it boots */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (images), "images.provision", "s", upk));
  g_assert_cmpstr (tb_window_get_visible_page (window), ==, "devices");
  g_assert_cmpstr (tb_devices_page_get_offered_image (devices), ==, upk);
  /* New Virtual Board makes one and selects it: it is blank */
  {
    guint before;

    tb_devices_page_refresh (devices);
    before = tb_devices_page_get_n_probes (devices);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (devices), "devices.new-board", NULL));
    spin_until (is_idle, window);
    g_assert_cmpuint (tb_devices_page_get_n_probes (devices), ==, before + 1);
    g_assert_null (tb_devices_page_get_attestation (devices));
  }
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (devices), "devices.provision", NULL));
  /* the dialog picks the image sent from the Images page: provisioning
   * installs it */
  respond ((const char *[]){ "pass", "chain passphrase", NULL }, "accept");
  spin_until (is_idle, window);
  att = tb_devices_page_get_attestation (devices);
  g_assert_nonnull (att);
  g_assert_cmpuint (att->lifecycle, ==, TB_LIFECYCLE_LOCKED);
  g_assert_cmpuint (att->boot, ==, 0);
  g_assert_cmpstr (att->app_version, ==, "1.0.0");

  /* its other next step: a production job of 2 */
  g_assert_true (tb_window_show_page (window, "images"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (images), "images.create-job", "s", upk));
  g_assert_cmpstr (tb_window_get_visible_page (window), ==, "production");
  g_assert_true (tb_production_page_is_oem (production));
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  package = g_strdup (tb_form_dialog_get_text (GTK_WIDGET (dialog), "output"));
  g_assert_true (g_str_has_suffix (package, ".tbjob"));
  respond ((const char *[]){ "count", "2", "pass", "chain passphrase", "job-pass", "chain job pass",
                             "job-pass2", "chain job pass", NULL }, "accept");
  spin_until (is_idle, window);
  dialog = find_dialog ();
  g_assert_nonnull (dialog); /* Job Created, with the root's fingerprint */
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "fingerprint"));
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_true (g_file_test (package, G_FILE_TEST_IS_REGULAR));

  /* a station: a context of its own imports the job and makes 2 devices */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-context", NULL));
  answer_chooser (station_dir);
  spin_until (has_context, window);
  g_assert_cmpstr (tb_context_get_path (tb_window_get_context (window)), ==, station_dir);
  g_assert_true (tb_window_show_page (window, "production"));
  g_assert_false (tb_production_page_is_oem (production));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (production), "production.import", NULL));
  answer_chooser (package);
  respond ((const char *[]){ "job-pass", "chain job pass", "pass", "station passphrase", NULL }, "accept");
  spin_until (is_idle, window);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *uri = tb_devices_page_new_board (devices, &error);
      g_assert_no_error (error);
      g_assert_true (tb_production_page_select_probe (production, uri));
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (production), "production.program-next", NULL));
      if (i == 0)
        respond ((const char *[]){ "pass", "station passphrase", NULL }, "accept");
      spin_until (is_idle, window);
    }
  g_assert_cmpuint (tb_production_page_get_n_results (production), ==, 3);
  dialog = find_dialog ();
  g_assert_nonnull (dialog); /* the third is refused: the limit */
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "2 of 2"));
  gtk_window_destroy (GTK_WINDOW (dialog));
  /* the station hands its records to the OEM */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (production), "production.export-records", NULL));
  answer_chooser (records);
  g_assert_true (g_file_test (records, G_FILE_TEST_IS_REGULAR));

  /* back at the OEM: the station's records verify, and the review report */
  tb_window_open_context (window, oem_dir);
  spin_until (has_context, window);
  g_assert_true (tb_window_show_page (window, "production"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (production), "production.verify-records", NULL));
  answer_chooser (records);
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Records Verified");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "2 devices"));
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_true (tb_window_show_page (window, "trust-chain"));
  spin_frames (2);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (tb_window_get_trust_chain_page (window)), "trust.export",
                                             NULL));
  answer_chooser (report);
  spin_until (is_idle, window);
  g_assert_true (g_file_test (report, G_FILE_TEST_IS_REGULAR));
  {
    g_autofree char *pdf = NULL;
    gsize len = 0;
    g_assert_true (g_file_get_contents (report, &pdf, &len, NULL));
    g_assert_cmpuint (len, >, 1000);
    g_assert_true (g_str_has_prefix (pdf, "%PDF-"));
  }

  /* then the demo, from the menu: every page shows the chain that happened */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-demo", NULL));
  spin_until (has_context, window);
  g_assert_true (tb_context_is_demo (tb_window_get_context (window)));
  g_assert_true (tb_window_show_page (window, "images"));
  g_assert_cmpuint (tb_images_page_get_n_mastered (images), >=, 1);
  g_assert_true (tb_window_show_page (window, "devices"));
  tb_devices_page_refresh (devices);
  g_assert_cmpuint (tb_devices_page_get_n_probes (devices), >=, 1);
  g_assert_true (tb_window_show_page (window, "production"));
  g_assert_true (tb_production_page_is_oem (production));
  {
    g_autoptr(GPtrArray) jobs = tb_job_list (tb_window_get_context (window));
    g_assert_cmpuint (jobs->len, >=, 1);
  }
  g_assert_true (tb_window_show_page (window, "audit"));
  g_assert_cmpuint (tb_audit_page_get_n_shown (tb_window_get_audit_page (window)), >=, 10);
  g_assert_true (tb_window_show_page (window, "keys"));
  g_assert_cmpuint (tb_keys_page_get_n_keys (tb_window_get_keys_page (window)), >=, 4);
  g_assert_true (tb_window_show_page (window, "trust-chain"));
  spin_frames (2);
  g_assert_true (tb_trust_chain_page_has_graph (tb_window_get_trust_chain_page (window)));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Every page of the demo, light and dark, at 1400×900: what
 * tools/screenshots writes into docs/screenshots/. */
static void
test_gallery (void)
{
  static const char *const schemes[] = { "light", "dark" };
  TbWindow *window = tb_window_new (ADW_APPLICATION (app));
  g_auto(GStrv) pages = NULL;
  g_autofree char *keep_dir = g_strdup (g_getenv ("TB_SCREENSHOT_DIR"));

  /* tools/screenshots points this at docs/screenshots */
  if (g_getenv ("TB_GALLERY_DIR") != NULL)
    g_setenv ("TB_SCREENSHOT_DIR", g_getenv ("TB_GALLERY_DIR"), TRUE);
  /* as a new user's first start: a demo made afresh, no other boards */
  {
    g_autofree char *demo = tb_demo_get_default_path ();
    g_autofree char *boards = tb_probe_get_boards_dir ();
    tb_test_rm_rf (demo);
    tb_test_rm_rf (boards);
  }
  gtk_window_set_default_size (GTK_WINDOW (window), 1400, 900);
  gtk_window_present (GTK_WINDOW (window));
  spin_frames (5);
  for (guint s = 0; s < G_N_ELEMENTS (schemes); s++)
    {
      g_autofree char *name = g_strdup_printf ("welcome-%s", schemes[s]);
      adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                          s == 0 ? ADW_COLOR_SCHEME_FORCE_LIGHT : ADW_COLOR_SCHEME_FORCE_DARK);
      screenshot (GTK_WIDGET (window), name);
    }
  tb_window_open_demo (window);
  spin_until (has_context, window);
  pages = tb_window_dup_page_names (window);
  /* the Devices page shows the demo's provisioned board, as after a click */
  {
    g_autoptr(GPtrArray) boards = tb_probe_list_boards ();
    const char *uri = NULL;

    for (guint i = 0; boards != NULL && i < boards->len && uri == NULL; i++)
      {
        TbProbeInfo *info = g_ptr_array_index (boards, i);
        if (strstr (info->uri, "/demo-board") != NULL)
          uri = info->uri;
      }
    g_assert_nonnull (uri);
    g_assert_true (tb_window_show_page (window, "devices"));
    tb_devices_page_refresh (tb_window_get_devices_page (window));
    g_assert_true (tb_devices_page_select (tb_window_get_devices_page (window), uri));
    spin_frames (2);
    spin_until (is_idle, window);
  }
  for (guint s = 0; s < G_N_ELEMENTS (schemes); s++)
    {
      adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                          s == 0 ? ADW_COLOR_SCHEME_FORCE_LIGHT : ADW_COLOR_SCHEME_FORCE_DARK);
      for (guint i = 0; pages[i] != NULL; i++)
        {
          g_autofree char *name = g_strdup_printf ("%s-%s", pages[i], schemes[s]);
          g_assert_true (tb_window_show_page (window, pages[i]));
          spin_frames (2);
          spin_until (is_idle, window);
          screenshot (GTK_WIDGET (window), name);
        }
    }
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);
  gtk_window_destroy (GTK_WINDOW (window));
  if (keep_dir != NULL)
    g_setenv ("TB_SCREENSHOT_DIR", keep_dir, TRUE);
}

/* ---- the Keys and Audit pages ---- */

/* The widgets of @type under @root that are shown: a list box's filter
 * hides a row by making it child-invisible, a stack its other pages. */
static void
collect_shown (GtkWidget *root, GType type, GPtrArray *out)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      if (!gtk_widget_get_visible (child) || !gtk_widget_get_child_visible (child))
        continue;
      if (G_TYPE_CHECK_INSTANCE_TYPE (child, type))
        g_ptr_array_add (out, child);
      else
        collect_shown (child, type, out);
    }
}

static GPtrArray *
shown (gpointer root, GType type)
{
  GPtrArray *out = g_ptr_array_new ();

  collect_shown (GTK_WIDGET (root), type, out);
  return out;
}

/* Whether an entry of the audit log's rows has exactly @title. */
static gboolean
has_row_titled (GPtrArray *rows, const char *title)
{
  for (guint i = 0; i < rows->len; i++)
    if (g_strcmp0 (adw_preferences_row_get_title (g_ptr_array_index (rows, i)), title) == 0)
      return TRUE;
  return FALSE;
}

static guint wanted_shown;
static TbAuditPage *audit_under_test;

static gboolean
audit_shows_wanted (TbWindow *window)
{
  return tb_audit_page_get_n_shown (audit_under_test) == wanted_shown;
}

/* Types @text into the Audit page's search entry, reached with Ctrl+F's
 * action as a user does, and waits for the list to follow. */
static void
search_audit (TbWindow *window, const char *text, guint expected)
{
  g_autoptr(GPtrArray) entries = NULL;
  GtkWidget *focus;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (audit_under_test), "audit.search", NULL));
  entries = shown (audit_under_test, GTK_TYPE_SEARCH_ENTRY);
  g_assert_cmpuint (entries->len, ==, 1);
  focus = gtk_root_get_focus (GTK_ROOT (window));
  g_assert_nonnull (focus);
  g_assert_true (focus == g_ptr_array_index (entries, 0) || gtk_widget_is_ancestor (focus, g_ptr_array_index (entries, 0)));
  gtk_editable_set_text (GTK_EDITABLE (g_ptr_array_index (entries, 0)), text);
  wanted_shown = expected;
  spin_until (audit_shows_wanted, window);
}

static void
audit_append (TbContext *ctx, const char *event, const char *subject, const char *details_json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, details_json, -1, &error));
  g_assert_true (tb_audit_append (ctx, event, subject, json_node_get_object (json_parser_get_root (parser)), &error));
  g_assert_no_error (error);
}

static void
screenshot_light_and_dark (GtkWidget *widget, const char *name)
{
  g_autofree char *dark = g_strdup_printf ("%s-dark", name);

  screenshot (widget, name);
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);
  screenshot (widget, dark);
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);
}

/* The Audit page: an empty log says what will come; entries read as
 * sentences at local time; the search filters them; an entry opens on its
 * fields and hash; the status says whether the chain holds, and where it
 * breaks once the log is tampered with. */
static void
test_audit_page (void)
{
  g_autofree char *dir = g_build_filename (tmp, "audit-ctx", NULL);
  g_autofree char *log = g_build_filename (dir, "audit", "log.jsonl", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_create (dir, "Audit OEM", &error);
  g_autoptr(GPtrArray) rows = NULL;
  TbWindow *window;

  g_assert_no_error (error);
  tb_context_unlock (ctx);
  window = new_window ();
  tb_window_open_context (window, dir);
  spin_until (has_context, window);
  g_assert_true (tb_window_show_page (window, "audit"));
  audit_under_test = tb_window_get_audit_page (window);
  g_assert_cmpuint (tb_audit_page_get_n_shown (audit_under_test), ==, 0);
  {
    /* the empty log names the next step */
    g_autoptr(GPtrArray) buttons = shown (audit_under_test, GTK_TYPE_BUTTON);
    g_assert_cmpuint (buttons->len, ==, 1);
    g_assert_cmpstr (gtk_actionable_get_action_name (g_ptr_array_index (buttons, 0)), ==, "win.show-page");
  }
  screenshot_light_and_dark (GTK_WIDGET (window), "audit-empty");

  audit_append (ctx, "image.master", "sensor 1.0.0",
                "{\"product\":\"sensor\",\"version\":\"1.0.0\",\"security_counter\":3,\"image_id\":\"00ff\"}");
  audit_append (ctx, "device.provision", "1a2b3c4d5e6f708192a3b4c5",
                "{\"device_type\":\"tb-virtual-m4\",\"product\":\"sensor\",\"app_version\":\"1.0.0\","
                "\"lifecycle\":\"locked\"}");
  audit_append (ctx, "key.store", "spare",
                "{\"usage\":\"product\",\"algorithm\":\"ec-p256\",\"storage\":\"file\"}");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (audit_under_test), "audit.reload", NULL));
  spin_frames (2);

  /* sentences, at local time, newest first */
  rows = shown (audit_under_test, ADW_TYPE_EXPANDER_ROW);
  g_assert_cmpuint (rows->len, ==, 3);
  g_assert_cmpuint (tb_audit_page_get_n_shown (audit_under_test), ==, 3);
  g_assert_true (has_row_titled (rows, "Mastered sensor 1.0.0, signed by mastering (security counter 3)"));
  g_assert_true (has_row_titled (rows, "Provisioned device 1a2b3c4d… with sensor 1.0.0"));
  g_assert_cmpstr (adw_preferences_row_get_title (g_ptr_array_index (rows, 0)), ==,
                   "Stored key spare (product key, ec-p256) in an encrypted file");
  for (guint i = 0; i < rows->len; i++)
    {
      const char *subtitle = adw_expander_row_get_subtitle (g_ptr_array_index (rows, i));
      g_assert_false (g_regex_match_simple ("[0-9]{4}-[0-9]{2}-[0-9]{2}T", subtitle, 0, 0));
      g_assert_nonnull (strstr (subtitle, " · #"));
    }
  /* local time: in a zone 5:30 east of UTC, the oldest entry's time moves */
  {
    g_autoptr(GPtrArray) entries = tb_audit_read (ctx, &error);
    const char *utc = tb_audit_entry_get_time (g_ptr_array_index (entries, 0));
    g_autoptr(GDateTime) when = g_date_time_new_from_iso8601 (utc, NULL);
    g_autoptr(GDateTime) east = g_date_time_add_minutes (when, 5 * 60 + 30);
    g_autofree char *expected = g_date_time_format (east, "%-d %b %Y, %H:%M:%S");
    g_autofree char *old_tz = g_strdup (g_getenv ("TZ"));
    g_autoptr(GPtrArray) local_rows = NULL;

    g_assert_no_error (error);
    g_setenv ("TZ", "IST-05:30", TRUE);
    tb_audit_page_reload (audit_under_test);
    local_rows = shown (audit_under_test, ADW_TYPE_EXPANDER_ROW);
    if (strstr (adw_expander_row_get_subtitle (g_ptr_array_index (local_rows, 2)), expected) == NULL)
      g_error ("“%s” is not at %s", adw_expander_row_get_subtitle (g_ptr_array_index (local_rows, 2)), expected);
    if (old_tz != NULL)
      g_setenv ("TZ", old_tz, TRUE);
    else
      g_unsetenv ("TZ");
    tb_audit_page_reload (audit_under_test);
  }
  g_assert_true (tb_audit_page_is_valid (audit_under_test));
  g_assert_cmpstr (tb_audit_page_get_status (audit_under_test), ==, "All 3 entries verified, chain intact");
  screenshot_light_and_dark (GTK_WIDGET (window), "audit-sentences");

  /* Ctrl+F reaches the search while the page is shown (a global shortcut
   * runs only for a mapped widget) */
  {
    g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (audit_under_test));
    gboolean bound = FALSE;

    for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
      {
        g_autoptr(GObject) c = g_list_model_get_item (controllers, i);
        if (!GTK_IS_SHORTCUT_CONTROLLER (c) ||
            gtk_shortcut_controller_get_scope (GTK_SHORTCUT_CONTROLLER (c)) != GTK_SHORTCUT_SCOPE_GLOBAL)
          continue;
        for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (c)); j++)
          {
            g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (c), j);
            g_autofree char *trigger = gtk_shortcut_trigger_to_string (gtk_shortcut_get_trigger (shortcut));
            GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);
            bound |= g_strcmp0 (trigger, "<Control>f") == 0 && GTK_IS_NAMED_ACTION (action) &&
                     g_strcmp0 (gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)), "audit.search") == 0;
          }
      }
    g_assert_true (bound);
  }

  /* the search: by words of the sentence, by kind, nothing */
  search_audit (window, "provisioned", 1);
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = shown (audit_under_test, ADW_TYPE_EXPANDER_ROW);
  g_assert_cmpuint (rows->len, ==, 1);
  g_assert_cmpstr (adw_preferences_row_get_title (g_ptr_array_index (rows, 0)), ==,
                   "Provisioned device 1a2b3c4d… with sensor 1.0.0");
  screenshot (GTK_WIDGET (window), "audit-filter");
  search_audit (window, "IMAGE", 1);
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = shown (audit_under_test, ADW_TYPE_EXPANDER_ROW);
  g_assert_cmpuint (rows->len, ==, 1);
  g_assert_true (g_str_has_prefix (adw_preferences_row_get_title (g_ptr_array_index (rows, 0)), "Mastered sensor"));
  search_audit (window, "no such thing", 0);
  screenshot (GTK_WIDGET (window), "audit-filter-none");
  search_audit (window, "", 3);

  /* details on demand: the raw fields and the entry's hash */
  {
    g_auto(GStrv) hashes = NULL;
    g_autoptr(GPtrArray) entries = tb_audit_read_with_hashes (ctx, &hashes, &error);
    g_autoptr(GPtrArray) fields = NULL;
    AdwExpanderRow *newest;
    gboolean hash_shown = FALSE;

    g_assert_no_error (error);
    g_assert_cmpuint (entries->len, ==, g_strv_length (hashes));
    g_clear_pointer (&rows, g_ptr_array_unref);
    rows = shown (audit_under_test, ADW_TYPE_EXPANDER_ROW);
    newest = g_ptr_array_index (rows, 0);
    adw_expander_row_set_expanded (newest, TRUE);
    spin_frames (5);
    fields = shown (newest, ADW_TYPE_ACTION_ROW);
    for (guint i = 0; i < fields->len; i++)
      if (g_strcmp0 (adw_preferences_row_get_title (g_ptr_array_index (fields, i)), "Entry hash (SHA-256)") == 0)
        {
          g_assert_cmpstr (adw_action_row_get_subtitle (g_ptr_array_index (fields, i)), ==, hashes[2]);
          hash_shown = TRUE;
        }
    g_assert_true (hash_shown);
    screenshot_light_and_dark (GTK_WIDGET (window), "audit-details");
  }

  /* a modified entry breaks the chain at the next one */
  {
    g_autofree char *text = tb_test_read_file (log, NULL);
    char *counter = strstr (text, "\"security_counter\":3");

    g_assert_nonnull (counter);
    counter[strlen ("\"security_counter\":")] = '4';
    tb_test_write_file (log, text);
  }
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (audit_under_test), "audit.reload", NULL));
  spin_frames (2);
  g_assert_false (tb_audit_page_is_valid (audit_under_test));
  g_assert_cmpstr (tb_audit_page_get_status (audit_under_test), ==, "Chain broken at entry 2");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (audit_under_test), "audit.show-first-bad", NULL));
  spin_frames (5);
  screenshot_light_and_dark (GTK_WIDGET (window), "audit-broken");
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The row the Keys page selected (tb_keys_page_select()): the selected
 * row of one of its lists. */
static AdwActionRow *
selected_key_row (TbKeysPage *page)
{
  g_autoptr(GPtrArray) lists = shown (page, GTK_TYPE_LIST_BOX);

  for (guint i = 0; i < lists->len; i++)
    {
      GtkListBoxRow *row = gtk_list_box_get_selected_row (g_ptr_array_index (lists, i));
      if (row != NULL)
        return ADW_ACTION_ROW (row);
    }
  return NULL;
}

/* Every icon-only button under @root has a tooltip (its accessible name),
 * and so does every menu button. */
static void
assert_buttons_named (GtkWidget *root)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      if (!gtk_widget_get_visible (child) || !gtk_widget_get_child_visible (child))
        continue;
      if (GTK_IS_MENU_BUTTON (child) || (GTK_IS_BUTTON (child) && gtk_button_get_label (GTK_BUTTON (child)) == NULL &&
                                        GTK_IS_IMAGE (gtk_button_get_child (GTK_BUTTON (child)))))
        {
          if (gtk_widget_get_tooltip_text (child) == NULL)
            g_error ("a %s without a tooltip", G_OBJECT_TYPE_NAME (child));
          continue;
        }
      assert_buttons_named (child);
    }
}

/* The Keys page: each key's subtitle says what it does, its algorithm,
 * where it lives and until when it is certified, not its name again; one
 * suggested action, named for what it does; the system trust store p11-kit
 * lists with the tokens (here a stand-in module, seen when p11-kit loads
 * user modules: not as root) and the empty slots are left out, and a
 * dimmed line says so. */
static void
test_keys_page (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) keys = NULL;
  g_autofree char *config = g_build_filename (tmp, "p11-config", NULL);
  g_autofree char *modules = g_build_filename (config, "pkcs11", "modules", NULL);
  g_autofree char *module_file = g_build_filename (modules, "trust-store.module", NULL);
  g_autofree char *old_config = g_strdup (g_getenv ("XDG_CONFIG_HOME"));
  TbWindow *window = new_window ();
  TbKeysPage *page;

  tb_window_open_demo (window);
  spin_until (has_context, window);
  g_assert_true (tb_window_show_page (window, "keys"));
  page = tb_window_get_keys_page (window);

  keys = tb_context_list_keys (tb_window_get_context (window));
  g_assert_cmpuint (keys->len, >=, 4);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *name = ((TbKeyInfo *) g_ptr_array_index (keys, i))->name;
      AdwActionRow *row;
      const char *subtitle;

      g_assert_true (tb_keys_page_select (page, "key", name));
      row = selected_key_row (page);
      g_assert_nonnull (row);
      g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, name);
      subtitle = adw_action_row_get_subtitle (row);
      g_assert_cmpstr (subtitle, !=, name);
      g_assert_false (g_str_has_prefix (subtitle, name));
      g_assert_nonnull (strstr (subtitle, "ECDSA P-256"));
      g_assert_nonnull (strstr (subtitle, "encrypted file"));
      g_assert_nonnull (strstr (subtitle, "certified until"));
    }
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "keys.close-details", NULL));

  /* one suggested action, named for what it does */
  {
    g_autoptr(GPtrArray) splits = shown (page, ADW_TYPE_SPLIT_BUTTON);
    g_autoptr(GPtrArray) buttons = shown (page, GTK_TYPE_BUTTON);
    guint n_suggested = 0;

    g_assert_cmpuint (splits->len, ==, 1);
    g_assert_true (gtk_widget_has_css_class (g_ptr_array_index (splits, 0), "suggested-action"));
    g_assert_cmpstr (adw_split_button_get_label (g_ptr_array_index (splits, 0)), ==, "_Generate Key…");
    for (guint i = 0; i < buttons->len; i++)
      n_suggested += gtk_widget_has_css_class (g_ptr_array_index (buttons, i), "suggested-action");
    g_assert_cmpuint (n_suggested, ==, 0); /* no other */
    g_assert_nonnull (adw_split_button_get_dropdown_tooltip (g_ptr_array_index (splits, 0)));
  }
  assert_buttons_named (GTK_WIDGET (page));

  /* the system trust store, as p11-kit's trust module lists it */
  g_assert_cmpint (g_mkdir_with_parents (modules, 0700), ==, 0);
  {
    g_autofree char *text = g_strdup_printf ("module: %s\n", g_getenv ("TB_FAKE_TRUST_STORE"));
    tb_test_write_file (module_file, text);
  }
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "keys.refresh-tokens", NULL));
  spin_frames (2);
  {
    g_autoptr(GPtrArray) tokens = tb_pkcs11_list_tokens (NULL, &error);
    g_autoptr(GPtrArray) rows = shown (page, ADW_TYPE_ACTION_ROW);
    g_autoptr(GPtrArray) labels = shown (page, GTK_TYPE_LABEL);
    g_autoptr(GString) note = g_string_new (NULL);
    guint hidden = 0;
    gboolean trust_store = FALSE;

    g_assert_no_error (error);
    for (guint i = 0; i < labels->len; i++)
      if (gtk_widget_has_css_class (g_ptr_array_index (labels, i), "dim-label"))
        g_string_append (note, gtk_label_get_text (g_ptr_array_index (labels, i)));
    /* each token p11-kit lists has a row, but the trust store and the
     * empty slots */
    for (guint i = 0; i < tokens->len; i++)
      {
        TbTokenInfo *t = g_ptr_array_index (tokens, i);
        gboolean listed = FALSE;
        gboolean expected = !tb_token_info_is_trust_store (t) && (t->initialized || t->label[0] != '\0');

        for (guint j = 0; j < rows->len; j++)
          listed |= g_strcmp0 (adw_preferences_row_get_title (g_ptr_array_index (rows, j)),
                               t->label[0] != '\0' ? t->label : "(no label)") == 0;
        g_assert_cmpint (listed, ==, expected);
        hidden += !expected;
        trust_store |= tb_token_info_is_trust_store (t);
      }
    g_assert_cmpuint (tb_keys_page_get_n_tokens (page), ==, tokens->len - hidden);
    /* …and a dimmed line says why what is missing is missing */
    if (trust_store)
      g_assert_nonnull (strstr (note->str, "The system trust store is not listed"));
    else
      g_test_message ("p11-kit loads no user module as root: the trust store is told apart in /pkcs11/trust-store");
    if (hidden > (guint) trust_store)
      g_assert_nonnull (strstr (note->str, "empty slot"));
    if (hidden == 0)
      g_assert_cmpuint (note->len, ==, 0);
  }
  screenshot_light_and_dark (GTK_WIDGET (window), "keys-rows");
  g_assert_true (scroll_to_end (GTK_WIDGET (page)));
  screenshot_light_and_dark (GTK_WIDGET (window), "keys-tokens-trust-store");

  if (old_config != NULL)
    g_setenv ("XDG_CONFIG_HOME", old_config, TRUE);
  else
    g_unsetenv ("XDG_CONFIG_HOME");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "keys.refresh-tokens", NULL));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Spins until @revealer has finished opening or closing. */
static void
spin_until_revealed (GtkRevealer *revealer, gboolean revealed)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (gtk_revealer_get_child_revealed (revealer) != revealed)
    {
      g_main_context_iteration (NULL, FALSE);
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for the revealer");
      g_usleep (1000);
    }
  spin_frames (5);
}

/* The whole graph is in the visible part of its scrolled window, at a
 * zoom that fills it (or at 100 %), never below the readable minimum. */
static void
assert_graph_fitted (TbTrustChainPage *chain)
{
  TbTrustView *view = tb_trust_chain_page_get_view (chain);
  TbTrustGraph *graph = tb_trust_view_get_graph (view);
  GtkWidget *scroller = gtk_widget_get_ancestor (GTK_WIDGET (view), GTK_TYPE_SCROLLED_WINDOW);
  double width = gtk_widget_get_width (scroller), height = gtk_widget_get_height (scroller);
  double zoom = tb_trust_view_get_zoom (view);
  double left = G_MAXDOUBLE, top = G_MAXDOUBLE, right = 0, bottom = 0;

  g_assert_true (tb_trust_view_is_fitting (view));
  g_assert_cmpfloat (zoom, >=, TB_TRUST_VIEW_MIN_FIT_ZOOM);
  g_assert_cmpfloat (zoom, <=, 1.0);
  for (guint i = 0; i < graph->nodes->len; i++)
    {
      TbTrustNode *n = g_ptr_array_index (graph->nodes, i);
      graphene_rect_t r;

      g_assert_true (gtk_widget_compute_bounds (tb_trust_view_get_node_widget (view, n->id), scroller, &r));
      if (r.origin.x < -0.5 || r.origin.y < -0.5 || r.origin.x + r.size.width > width + 0.5 ||
          r.origin.y + r.size.height > height + 0.5)
        g_error ("%s at %.0f,%.0f %.0fx%.0f is outside the visible %.0fx%.0f (zoom %.2f)", n->id, r.origin.x,
                 r.origin.y, r.size.width, r.size.height, width, height, zoom);
      left = MIN (left, r.origin.x);
      top = MIN (top, r.origin.y);
      right = MAX (right, r.origin.x + r.size.width);
      bottom = MAX (bottom, r.origin.y + r.size.height);
    }
  /* fitted, not merely small: the graph spans the width or the height */
  if (zoom < 0.99)
    g_assert_true ((right - left) / width >= 0.75 || (bottom - top) / height >= 0.6);
}

/* The colour (R, G, B, 0–255) of the view's drawing inside the card of
 * the node with @id, right of its short first lines: the card's colour. */
static void
card_colour (TbTrustView *view, const char *id, guchar rgb[3])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (tmp, "trust-view.png", NULL);
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree guchar *pixels = NULL;
  graphene_rect_t r;
  int width, stride, x, y;
  const guchar *p;

  spin_frames (5);
  g_assert_true (gtk_widget_compute_bounds (tb_trust_view_get_node_widget (view, id), GTK_WIDGET (view), &r));
  g_assert_true (tb_widget_save_png (GTK_WIDGET (view), path, &error));
  g_assert_no_error (error);
  texture = gdk_texture_new_from_filename (path, &error);
  g_assert_no_error (error);
  width = gdk_texture_get_width (texture);
  stride = width * 4;
  pixels = g_malloc ((gsize) stride * gdk_texture_get_height (texture));
  gdk_texture_download (texture, pixels, stride);
  x = (int) (r.origin.x + r.size.width * 0.93);
  y = (int) (r.origin.y + r.size.height * 0.5);
  g_assert_cmpint (x, <, width);
  g_assert_cmpint (y, <, gdk_texture_get_height (texture));
  /* Cairo ARGB32: B, G, R, A */
  p = pixels + (gsize) y * stride + (gsize) x * 4;
  rgb[0] = p[2];
  rgb[1] = p[1];
  rgb[2] = p[0];
}

static double
card_luminance (TbTrustView *view, const char *id)
{
  guchar rgb[3];

  card_colour (view, id, rgb);
  return (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255.0;
}

/* The first widget under @root that activates @action. */
static GtkWidget *
find_actionable (GtkWidget *root, const char *action)
{
  if (GTK_IS_ACTIONABLE (root) && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (root)), action) == 0)
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_actionable (child, action);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* @widget is shown, mapped and inside @window's visible area. */
static void
assert_on_screen (GtkWidget *widget, GtkWidget *window)
{
  graphene_rect_t r;

  g_assert_nonnull (widget);
  g_assert_true (gtk_widget_is_visible (widget));
  g_assert_true (gtk_widget_get_mapped (widget));
  g_assert_true (gtk_widget_compute_bounds (widget, window, &r));
  g_assert_cmpfloat (r.size.width, >, 0);
  g_assert_cmpfloat (r.size.height, >, 0);
  g_assert_cmpfloat (r.origin.x, >=, 0);
  g_assert_cmpfloat (r.origin.y, >=, 0);
  g_assert_cmpfloat (r.origin.x + r.size.width, <=, gtk_widget_get_width (window));
  g_assert_cmpfloat (r.origin.y + r.size.height, <=, gtk_widget_get_height (window));
}

/* The Trust Chain of the demo at the size of issue 16, 1400×900: the graph
 * is fitted when the page opens and again when the details pane opens and
 * closes; a selected node leaves the findings and the report export on
 * screen; every button says what it does. */
static void
test_trust_chain_fit (void)
{
  TbWindow *window = tb_window_new (ADW_APPLICATION (app));
  TbTrustChainPage *chain = tb_window_get_trust_chain_page (window);
  TbTrustView *view = tb_trust_chain_page_get_view (chain);
  GtkRevealer *details = tb_trust_chain_page_get_details (chain);
  GtkWidget *findings = tb_trust_chain_page_get_findings (chain);

  gtk_window_set_default_size (GTK_WINDOW (window), 1400, 900);
  gtk_window_present (GTK_WINDOW (window));
  spin_frames (5);
  tb_window_open_demo (window);
  spin_until (has_context, window);
  g_assert_true (tb_window_show_page (window, "trust-chain"));
  spin_frames (10);
  g_assert_true (tb_trust_chain_page_has_graph (chain));
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), >=, 1380); /* less the shadow */

  /* opened: nothing selected, no details, the whole graph */
  g_assert_null (tb_trust_view_get_selected (view));
  g_assert_false (gtk_revealer_get_child_revealed (details));
  assert_graph_fitted (chain);
  assert_on_screen (findings, GTK_WIDGET (window));
  assert_on_screen (find_actionable (GTK_WIDGET (chain), "trust.export"), GTK_WIDGET (window));
  screenshot (GTK_WIDGET (window), "trust-chain-1400");

  /* a node selected: the pane opens, the graph refits to the room left,
   * the findings and the export stay where they were */
  g_assert_true (tb_trust_view_select (view, "key:root-ca"));
  spin_until_revealed (details, TRUE);
  assert_graph_fitted (chain);
  assert_on_screen (findings, GTK_WIDGET (window));
  assert_on_screen (find_actionable (GTK_WIDGET (chain), "trust.export"), GTK_WIDGET (window));
  assert_on_screen (find_actionable (GTK_WIDGET (chain), "trust.fit"), GTK_WIDGET (window));
  assert_on_screen (find_actionable (GTK_WIDGET (chain), "trust.close-details"), GTK_WIDGET (window));
  assert_buttons_named (GTK_WIDGET (chain));
  screenshot (GTK_WIDGET (window), "trust-chain-1400-selected");
  /* the cards take the style's colours: light, then dark */
  g_assert_cmpfloat (card_luminance (view, "key:mastering"), >, 0.8);
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);
  screenshot (GTK_WIDGET (window), "trust-chain-1400-dark");
  g_assert_cmpfloat (card_luminance (view, "key:mastering"), <, 0.3);
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);
  /* from the style sheet itself, not from a light and a dark palette */
  {
    g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();
    guchar rgb[3];

    gtk_css_provider_load_from_data (css, "@define-color card_bg_color #c00000;", -1);
    gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                                GTK_STYLE_PROVIDER_PRIORITY_USER);
    card_colour (view, "key:mastering", rgb);
    gtk_style_context_remove_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css));
    g_assert_cmpint (rgb[0], >=, 0xb0);
    g_assert_cmpint (rgb[1], <=, 0x10);
    g_assert_cmpint (rgb[2], <=, 0x10);
  }

  /* zooming stops the fitting, Fit brings it back; zoomed in, a node
   * selected (by the keyboard, say) is scrolled into sight */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (chain), "trust.zoom-in", NULL));
  spin_frames (3);
  g_assert_false (tb_trust_view_is_fitting (view));
  tb_trust_view_set_zoom (view, 2.0);
  spin_frames (3);
  /* the context changing under the user keeps their zoom */
  tb_trust_chain_page_refresh (chain);
  spin_frames (3);
  g_assert_false (tb_trust_view_is_fitting (view));
  g_assert_cmpfloat (tb_trust_view_get_zoom (view), ==, 2.0);
  {
    GtkWidget *scroller = gtk_widget_get_ancestor (GTK_WIDGET (view), GTK_TYPE_SCROLLED_WINDOW);
    const char *far[] = { "key:provisioning-ca", "key:mastering", "key:root-ca" };
    for (guint i = 0; i < G_N_ELEMENTS (far); i++)
      {
        graphene_rect_t r;
        g_assert_true (tb_trust_view_select (view, far[i]));
        spin_frames (3);
        g_assert_true (gtk_widget_compute_bounds (tb_trust_view_get_node_widget (view, far[i]), scroller, &r));
        g_assert_cmpfloat (r.origin.x, >=, -0.5);
        g_assert_cmpfloat (r.origin.y, >=, -0.5);
        g_assert_cmpfloat (r.origin.x + r.size.width, <=, gtk_widget_get_width (scroller) + 0.5);
        g_assert_cmpfloat (r.origin.y + r.size.height, <=, gtk_widget_get_height (scroller) + 0.5);
      }
  }
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (chain), "trust.fit", NULL));
  spin_frames (3);
  assert_graph_fitted (chain);

  /* Ctrl+scroll zooms around the pointer: the node under it stays there */
  {
    GtkWidget *node = tb_trust_view_get_node_widget (view, "key:mastering");
    graphene_rect_t before, after;

    g_assert_true (gtk_widget_compute_bounds (node, GTK_WIDGET (view), &before));
    tb_trust_view_zoom_at (view, 1.6, before.origin.x + before.size.width / 2,
                           before.origin.y + before.size.height / 2);
    spin_frames (3);
    g_assert_false (tb_trust_view_is_fitting (view));
    g_assert_true (gtk_widget_compute_bounds (node, GTK_WIDGET (view), &after));
    g_assert_cmpfloat (after.size.width, >, before.size.width * 1.5);
    g_assert_cmpfloat (fabs ((after.origin.x + after.size.width / 2) - (before.origin.x + before.size.width / 2)), <=,
                       2.0);
  }
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (chain), "trust.fit", NULL));
  spin_frames (3);

  /* closed: no selection, the graph refits to the whole width */
  g_assert_cmpstr (tb_trust_view_get_selected (view)->id, ==, "key:root-ca");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (chain), "trust.close-details", NULL));
  spin_until_revealed (details, FALSE);
  g_assert_null (tb_trust_view_get_selected (view));
  /* the keyboard focus is back on the node the pane was about */
  g_assert_true (gtk_widget_has_focus (tb_trust_view_get_node_widget (view, "key:root-ca")));
  assert_graph_fitted (chain);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* ---- the window: welcome, errors, header, shortcuts, sidebar, a11y ---- */

typedef gboolean (*WidgetMatch) (GtkWidget *widget, gconstpointer data);

static GtkWidget *
find_widget (GtkWidget *root, WidgetMatch match, gconstpointer data)
{
  if (match (root, data))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, match, data);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_button_for_action (GtkWidget *widget, gconstpointer action)
{
  return GTK_IS_BUTTON (widget) && gtk_widget_get_visible (widget) && gtk_widget_get_mapped (widget) &&
         g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), action) == 0;
}

static gboolean
is_row_with_tooltip (GtkWidget *widget, gconstpointer text)
{
  return GTK_IS_LIST_BOX_ROW (widget) && g_strcmp0 (gtk_widget_get_tooltip_text (widget), text) == 0;
}

static gboolean
is_window_title (GtkWidget *widget, gconstpointer data)
{
  return ADW_IS_WINDOW_TITLE (widget) && gtk_widget_get_mapped (widget) &&
         gtk_widget_get_tooltip_text (widget) != NULL;
}

static guint
count_mapped_buttons_for_action (GtkWidget *root, const char *action)
{
  guint n = is_button_for_action (root, action) ? 1 : 0;

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL; child = gtk_widget_get_next_sibling (child))
    n += count_mapped_buttons_for_action (child, action);
  return n;
}

static GtkWindow *
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) w = g_list_model_get_item (toplevels, i);
      if (G_TYPE_CHECK_INSTANCE_TYPE (w, type) && gtk_widget_get_visible (GTK_WIDGET (w)))
        return w;
    }
  return NULL;
}

static GtkWindow *
wait_for_toplevel (GType type)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  GtkWindow *w;

  while ((w = find_toplevel (type)) == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  return w;
}

/* A new window on a context made (empty) in @dir, named @name. */
static TbWindow *
new_window_on_new_context (const char *dir, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_create (dir, name, &error);
  TbWindow *window;

  g_assert_no_error (error);
  g_assert_nonnull (ctx);
  window = new_window ();
  tb_window_open_context (window, dir);
  spin_until (has_context, window);
  return window;
}

static gboolean
strv_has (const char *const *strv, const char *s)
{
  return strv != NULL && g_strv_contains (strv, s);
}

/* "New Context…" is the welcome's suggested action, the demo secondary;
 * every button of the window's template is named. */
static void
test_welcome (void)
{
  TbWindow *window = new_window ();
  GtkWidget *create = find_widget (GTK_WIDGET (window), is_button_for_action, "win.new-context");
  GtkWidget *demo = find_widget (GTK_WIDGET (window), is_button_for_action, "win.open-demo");

  g_assert_cmpstr (tb_window_get_visible_page (window), ==, "welcome");
  g_assert_nonnull (create);
  g_assert_nonnull (demo);
  g_assert_true (gtk_widget_has_css_class (create, "suggested-action"));
  g_assert_false (gtk_widget_has_css_class (demo, "suggested-action"));
  g_assert_cmpuint (tb_test_assert_buttons_named (GTK_WIDGET (window)), >=, 10);
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);
  screenshot (GTK_WIDGET (window), "welcome-dark");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* A recent context whose folder was deleted: the error offers to choose
 * another (the folder chooser), and the dead entry leaves the list. */
static void
test_dead_recent (void)
{
  g_autofree char *dir = g_build_filename (tmp, "dead-ctx", NULL);
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  TbWindow *window;
  GtkWidget *row;
  AdwMessageDialog *dialog;
  GtkWindow *chooser;

  window = new_window_on_new_context (dir, "Soon Gone");
  tb_window_close_context (window);
  spin_frames (2);
  row = find_widget (GTK_WIDGET (window), is_row_with_tooltip, dir);
  g_assert_nonnull (row);
  g_assert_true (GTK_IS_LIST_BOX_ROW (row));
  tb_test_rm_rf (dir);

  gtk_widget_activate (row);
  spin_until (is_idle, window);
  spin_frames (2);
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  g_assert_true (adw_message_dialog_has_response (dialog, "choose"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), dir));
  screenshot (GTK_WIDGET (dialog), "welcome-missing-context");
  /* gone from the stored list and from the welcome page */
  {
    g_auto(GStrv) stored = g_settings_get_strv (settings, "recent-contexts");
    g_assert_false (strv_has ((const char *const *) stored, dir));
  }
  g_assert_null (find_widget (GTK_WIDGET (window), is_row_with_tooltip, dir));

  adw_message_dialog_response (dialog, "choose");
  gtk_window_destroy (GTK_WINDOW (dialog));
  chooser = wait_for_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG);
  g_assert_nonnull (chooser);
  g_assert_cmpint (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (chooser)), ==, GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_CANCEL);
  spin_frames (2);

  /* a path from the command line that does not exist: the same offer */
  tb_window_open_context (window, "/nonexistent/trustbench-context");
  spin_until (is_idle, window);
  spin_frames (2);
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  g_assert_true (adw_message_dialog_has_response (dialog, "choose"));
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_null (tb_window_get_context (window));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The header names the context (its name, and the folder's name or
 * "Built-in demo"), never the raw path, which is the tooltip. */
static void
test_header_subtitle (void)
{
  g_autofree char *dir = g_build_filename (tmp, "acme-lab", NULL);
  TbWindow *window;
  GtkWidget *title;

  window = new_window_on_new_context (dir, "ACME Lab");
  spin_frames (2);
  title = find_widget (GTK_WIDGET (window), is_window_title, NULL);
  g_assert_nonnull (title);
  g_assert_cmpstr (adw_window_title_get_title (ADW_WINDOW_TITLE (title)), ==, "ACME Lab");
  g_assert_cmpstr (adw_window_title_get_subtitle (ADW_WINDOW_TITLE (title)), ==, "acme-lab");
  g_assert_false (g_path_is_absolute (adw_window_title_get_subtitle (ADW_WINDOW_TITLE (title))));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (title), ==, dir);
  tb_window_close_context (window);

  tb_window_open_demo (window);
  spin_until (has_context, window);
  {
    g_autofree char *subtitle = tb_window_dup_context_subtitle (window);
    g_assert_cmpstr (subtitle, ==, "Built-in demo");
    g_assert_cmpstr (adw_window_title_get_subtitle (ADW_WINDOW_TITLE (title)), ==, subtitle);
  }
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Ctrl+? opens the shortcuts window, which lists shortcuts that exist. */
static void
test_shortcuts (void)
{
  TbWindow *window = new_window ();
  g_auto(GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "win.show-help-overlay");
  GtkWindow *overlay;

  g_assert_true (strv_has ((const char *const *) accels, "<Control>question"));
  g_assert_null (find_toplevel (GTK_TYPE_SHORTCUTS_WINDOW));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL));
  overlay = wait_for_toplevel (GTK_TYPE_SHORTCUTS_WINDOW);
  g_assert_nonnull (overlay);
  /* every shortcut shown by action has an accelerator */
  {
    GtkWidget *w = GTK_WIDGET (overlay);
    GPtrArray *todo = g_ptr_array_new ();
    guint n = 0;

    g_ptr_array_add (todo, w);
    while (todo->len > 0)
      {
        w = g_ptr_array_steal_index (todo, todo->len - 1);
        if (GTK_IS_SHORTCUTS_SHORTCUT (w))
          {
            g_autofree char *action = NULL;
            g_autofree char *accel = NULL;
            g_object_get (w, "action-name", &action, "accelerator", &accel, NULL);
            if (action != NULL)
              {
                g_auto(GStrv) a = gtk_application_get_accels_for_action (GTK_APPLICATION (app), action);
                if (a[0] == NULL)
                  g_error ("the shortcuts window lists %s, which has no shortcut", action);
              }
            else
              g_assert_nonnull (accel);
            n++;
          }
        for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL; c = gtk_widget_get_next_sibling (c))
          g_ptr_array_add (todo, c);
      }
    g_ptr_array_unref (todo);
    g_assert_cmpuint (n, >=, 10);
  }
  screenshot (GTK_WIDGET (overlay), "shortcuts");
  gtk_window_destroy (overlay);
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
is_sidebar_row (GtkWidget *widget, gconstpointer name)
{
  return GTK_IS_LIST_BOX_ROW (widget) && g_strcmp0 (gtk_widget_get_name (widget), name) == 0;
}

/* The sidebar rows activate as a click does, also through the action an
 * assistive technology sees on them ("row.activate"). */
static void
test_sidebar_activate (void)
{
  g_autofree char *dir = g_build_filename (tmp, "sidebar-ctx", NULL);
  TbWindow *window;

  window = new_window_on_new_context (dir, "Sidebar");
  g_assert_cmpstr (tb_window_get_visible_page (window), !=, "devices");
  g_assert_true (gtk_widget_activate (find_widget (GTK_WIDGET (window), is_sidebar_row, "devices")));
  g_assert_cmpstr (tb_window_get_visible_page (window), ==, "devices");
  g_assert_true (gtk_widget_activate_action (find_widget (GTK_WIDGET (window), is_sidebar_row, "audit"),
                                             "row.activate", NULL));
  g_assert_cmpstr (tb_window_get_visible_page (window), ==, "audit");
  /* and every button of every page of a fresh context is named */
  g_assert_cmpuint (tb_test_assert_buttons_named (GTK_WIDGET (tb_window_get_devices_page (window))), >=, 2);
  g_assert_cmpuint (tb_test_assert_buttons_named (GTK_WIDGET (window)), >=, 10);
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
is_application_row (GtkWidget *widget, gconstpointer data)
{
  return ADW_IS_ACTION_ROW (widget) && g_strcmp0 (gtk_widget_get_name (widget), "application") == 0;
}

/* The Devices page: one "New Virtual Board" at a time; provisioning from
 * the board's details with an image picked in the same dialog installs it,
 * and the board shows what it boots, again after a reset. */
static void
test_devices_provision (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (tmp, "devices-ctx", NULL);
  g_autofree char *bin = g_build_filename (tmp, "devices-app.bin", NULL);
  g_autofree char *upk = g_build_filename (tmp, "devices-app.tbupk", NULL);
  g_autofree char *image = g_build_filename (tmp, "devices-app.tbimg", NULL);
  g_autofree char *boards = tb_probe_get_boards_dir ();
  const char *products[] = { "meter", "valve", NULL };
  TbDevicesPage *devices;
  TbWindow *window;
  AdwMessageDialog *dialog;
  TbAttestation *att;
  GtkWidget *row;

  tb_test_rm_rf (boards); /* the page starts empty */
  {
    g_autoptr(TbContext) ctx = tb_context_create (dir, "Devices OEM", &error);
    g_autoptr(TbFirmware) fw = NULL;
    g_autoptr(TbUpk) u = NULL;
    TbMasterOptions mo = { "valve", NULL, NULL, "1.4.2", 7, 0 };
    guint8 data[3000];

    for (gsize i = 0; i < sizeof data; i++)
      data[i] = (guint8) (i * 7);
    g_assert_no_error (error);
    g_assert_true (tb_hierarchy_create (ctx, products, NULL, "devices passphrase", NULL, &error));
    g_assert_true (g_file_set_contents (bin, (const char *) data, sizeof data, &error));
    fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, TB_BOARD_FLASH_BASE + 0x8000, &error);
    g_assert_no_error (error);
    u = tb_master_image (ctx, fw, &mo, "devices passphrase", image, upk, NULL, &error);
    g_assert_no_error (error);
  }

  window = new_window ();
  tb_window_open_context (window, dir);
  spin_until (has_context, window);
  g_assert_true (tb_window_show_page (window, "devices"));
  devices = tb_window_get_devices_page (window);
  tb_devices_page_refresh (devices);
  spin_frames (3);
  g_assert_cmpuint (tb_devices_page_get_n_probes (devices), ==, 0);
  /* empty: one way to make a board; an image exists, so no link back */
  g_assert_cmpuint (count_mapped_buttons_for_action (GTK_WIDGET (devices), "devices.new-board"), ==, 1);
  g_assert_null (find_widget (GTK_WIDGET (devices), is_button_for_action, "win.show-page"));
  tb_test_assert_buttons_named (GTK_WIDGET (devices));
  screenshot (GTK_WIDGET (window), "devices-empty");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (devices), "devices.new-board", NULL));
  spin_frames (2);
  spin_until (is_idle, window);
  g_assert_cmpuint (tb_devices_page_get_n_probes (devices), ==, 1);
  g_assert_cmpuint (count_mapped_buttons_for_action (GTK_WIDGET (devices), "devices.new-board"), ==, 1);
  g_assert_null (tb_devices_page_get_attestation (devices)); /* blank */

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (devices), "devices.provision", NULL));
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  {
    AdwComboRow *images = g_object_get_data (G_OBJECT (dialog), "image");
    AdwComboRow *product = g_object_get_data (G_OBJECT (dialog), "product");
    GObject *item;

    g_assert_nonnull (images);
    /* the mastered image, then "identity only" */
    g_assert_cmpuint (g_list_model_get_n_items (adw_combo_row_get_model (images)), ==, 2);
    item = adw_combo_row_get_selected_item (images);
    g_assert_nonnull (strstr (gtk_string_object_get_string (GTK_STRING_OBJECT (item)), "valve 1.4.2"));
    /* the image picks its product */
    item = adw_combo_row_get_selected_item (product);
    g_assert_cmpstr (gtk_string_object_get_string (GTK_STRING_OBJECT (item)), ==, "valve");
    tb_test_assert_buttons_named (GTK_WIDGET (dialog));

    /* "Choose a mastered image file…" in the same row adds the file and
     * picks it */
    g_signal_emit_by_name (g_object_get_data (G_OBJECT (dialog), "choose-image"), "clicked");
    answer_chooser (upk);
    g_assert_cmpuint (g_list_model_get_n_items (adw_combo_row_get_model (images)), ==, 3);
    g_assert_cmpuint (adw_combo_row_get_selected (images), ==, 1);
  }
  adw_combo_row_set_selected (g_object_get_data (G_OBJECT (dialog), "lock"), 1); /* lab: debug stays open */
  set_field (dialog, "pass", "devices passphrase");
  screenshot (GTK_WIDGET (dialog), "devices-provision-dialog");
  adw_message_dialog_response (dialog, "accept");
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin_frames (2);
  spin_until (is_idle, window);
  g_assert_null (find_dialog ());
  att = tb_devices_page_get_attestation (devices);
  g_assert_nonnull (att);
  g_assert_cmpuint (att->lifecycle, ==, TB_LIFECYCLE_PROVISIONED);
  g_assert_cmpuint (att->boot, ==, 0);
  g_assert_cmpstr (att->app_version, ==, "1.4.2");
  row = find_widget (GTK_WIDGET (devices), is_application_row, NULL);
  g_assert_nonnull (row);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "valve 1.4.2 runs"));
  /* provisioned: the next step offered is an update, not provisioning */
  g_assert_cmpuint (count_mapped_buttons_for_action (GTK_WIDGET (devices), "devices.provision"), ==, 0);
  g_assert_cmpuint (count_mapped_buttons_for_action (GTK_WIDGET (devices), "devices.program"), ==, 1);
  screenshot (GTK_WIDGET (window), "devices-booted");

  /* after a reset the secure boot manager checks it again: still runs */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (devices), "devices.reset", NULL));
  spin_frames (2);
  spin_until (is_idle, window);
  att = tb_devices_page_get_attestation (devices);
  g_assert_nonnull (att);
  g_assert_cmpuint (att->boot, ==, 0);
  g_assert_cmpstr (att->app_version, ==, "1.4.2");
  row = find_widget (GTK_WIDGET (devices), is_application_row, NULL);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "valve 1.4.2 runs"));
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);
  screenshot (GTK_WIDGET (window), "devices-booted-dark");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* "Provision a board with it…" from another page: the window's action
 * shows the Devices page, and the provision dialog of the board then
 * chosen has that image picked. */
static void
test_devices_provision_image_action (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (tmp, "devices-ctx", NULL);
  g_autofree char *upk = g_build_filename (tmp, "devices-app.tbupk", NULL);
  g_autofree char *other = g_build_filename (tmp, "devices-other.tbupk", NULL);
  g_autofree char *image = g_build_filename (tmp, "devices-app.tbimg", NULL);
  g_autofree char *other_image = g_build_filename (tmp, "devices-other.tbimg", NULL);
  g_autofree char *uri = NULL;
  TbDevicesPage *devices;
  TbWindow *window;
  AdwMessageDialog *dialog;
  TbAttestation *att;

  /* a copy of the image, as if brought from elsewhere: not in the list */
  {
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true (g_file_get_contents (upk, &data, &len, NULL));
    g_assert_true (g_file_set_contents (other, data, len, NULL));
    g_clear_pointer (&data, g_free);
    g_assert_true (g_file_get_contents (image, &data, &len, NULL));
    g_assert_true (g_file_set_contents (other_image, data, len, NULL));
  }
  window = new_window ();
  tb_window_open_context (window, dir); /* made by /tb/ui/devices-provision */
  spin_until (has_context, window);
  devices = tb_window_get_devices_page (window);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.provision-image", "s", other));
  g_assert_cmpstr (tb_window_get_visible_page (window), ==, "devices");
  uri = tb_devices_page_new_board (devices, &error);
  g_assert_no_error (error);
  g_assert_true (tb_devices_page_select (devices, uri));
  spin_frames (2);
  spin_until (is_idle, window);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (devices), "devices.provision", NULL));
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  {
    AdwComboRow *images = g_object_get_data (G_OBJECT (dialog), "image");
    /* the mastered image, the one sent here, "identity only" */
    g_assert_cmpuint (g_list_model_get_n_items (adw_combo_row_get_model (images)), ==, 3);
    g_assert_cmpuint (adw_combo_row_get_selected (images), ==, 1);
  }
  set_field (dialog, "pass", "devices passphrase");
  adw_message_dialog_response (dialog, "accept");
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin_frames (2);
  spin_until (is_idle, window);
  att = tb_devices_page_get_attestation (devices);
  g_assert_nonnull (att);
  g_assert_cmpuint (att->lifecycle, ==, TB_LIFECYCLE_LOCKED);
  g_assert_cmpuint (att->boot, ==, 0);
  g_assert_cmpstr (att->app_version, ==, "1.4.2");
  gtk_window_destroy (GTK_WINDOW (window));
}

/* With no image mastered, the empty Devices page links the step before. */
static void
test_devices_empty_links_images (void)
{
  g_autofree char *dir = g_build_filename (tmp, "devices-empty-ctx", NULL);
  g_autofree char *boards = tb_probe_get_boards_dir ();
  TbDevicesPage *devices;
  TbWindow *window;
  GtkWidget *link;

  tb_test_rm_rf (boards);
  window = new_window_on_new_context (dir, "No Images Yet");
  g_assert_true (tb_window_show_page (window, "devices"));
  devices = tb_window_get_devices_page (window);
  tb_devices_page_refresh (devices);
  spin_frames (3);
  link = find_widget (GTK_WIDGET (devices), is_button_for_action, "win.show-page");
  g_assert_nonnull (link);
  screenshot (GTK_WIDGET (window), "devices-empty-no-image");
  g_signal_emit_by_name (link, "clicked");
  g_assert_cmpstr (tb_window_get_visible_page (window), ==, "images");
  gtk_window_destroy (GTK_WINDOW (window));
}

/* An OEM with no mastered image: the Production page's empty state leads
 * to the Images page, not to a Create Job that could only fail. */
static void
test_production_empty_links_images (void)
{
  g_autofree char *dir = g_build_filename (tmp, "production-empty-ctx", NULL);
  g_autoptr(GError) error = NULL;
  const char *products[] = { "lamp", NULL };
  TbProductionPage *production;
  TbWindow *window;
  GtkWidget *link;

  {
    g_autoptr(TbContext) ctx = tb_context_create (dir, "Lamp OEM", &error);
    g_assert_no_error (error);
    g_assert_true (tb_hierarchy_create (ctx, products, NULL, "lamp passphrase", NULL, &error));
    g_assert_no_error (error);
  }
  window = new_window ();
  tb_window_open_context (window, dir);
  spin_until (has_context, window);
  g_assert_true (tb_window_show_page (window, "production"));
  production = tb_window_get_production_page (window);
  g_assert_true (tb_production_page_is_oem (production));
  spin_frames (3);
  g_assert_null (find_widget (GTK_WIDGET (production), is_button_for_action, "production.create-job"));
  link = find_widget (GTK_WIDGET (production), is_button_for_action, "win.show-page");
  g_assert_nonnull (link);
  screenshot (GTK_WIDGET (window), "production-empty-oem");
  g_signal_emit_by_name (link, "clicked");
  g_assert_cmpstr (tb_window_get_visible_page (window), ==, "images");
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  GTestDBus *bus = NULL;
  int rc;

  tmp = tb_test_make_tmpdir ();
  g_setenv ("XDG_DATA_HOME", tmp, TRUE);
  {
    g_autofree char *boards = g_build_filename (tmp, "boards", NULL);
    g_setenv ("TRUSTBENCH_BOARDS", boards, TRUE);
  }
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  /* a SoftHSM token, found through p11-kit's configured modules */
  {
    g_autofree char *util = g_find_program_in_path ("softhsm2-util");
    g_autofree char *tokens = g_build_filename (tmp, "softhsm", NULL);
    g_autofree char *conf = g_build_filename (tmp, "softhsm2.conf", NULL);
    g_autofree char *text = g_strdup_printf ("directories.tokendir = %s\nobjectstore.backend = file\n"
                                             "log.level = ERROR\n", tokens);
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;

    if (util != NULL)
      {
        g_mkdir (tokens, 0700);
        tb_test_write_file (conf, text);
        g_setenv ("SOFTHSM2_CONF", conf, TRUE);
        if (!g_spawn_command_line_sync ("softhsm2-util --init-token --free --label ui-token --pin 2468 "
                                        "--so-pin 13572468", &out, &err, &status, NULL) ||
            !g_spawn_check_wait_status (status, NULL))
          g_unsetenv ("SOFTHSM2_CONF");
      }
  }
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  /* accessible properties are kept (for the checks), no AT-SPI bus is used */
  g_setenv ("GTK_A11Y", "test", FALSE);
  g_setenv ("NO_AT_BRIDGE", "1", TRUE);

  /* a private session bus: the tests behave the same whether the desktop
   * has one, autolaunches one (dbus-x11) or has none */
  {
    /* g_test_dbus_up() clears DISPLAY with the desktop's bus variables */
    g_autofree char *display = g_strdup (g_getenv ("DISPLAY"));

    bus = g_test_dbus_new (G_TEST_DBUS_NONE);
    g_test_dbus_up (bus);
    if (display != NULL)
      g_setenv ("DISPLAY", display, TRUE);
  }

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  app = tb_application_new (G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);

  g_test_add_func ("/tb/ui/pages", test_pages);
  g_test_add_func ("/tb/ui/command-line", test_command_line);
  g_test_add_func ("/tb/ui/broken-context", test_broken_context);
  g_test_add_func ("/tb/ui/demo", test_demo);
  g_test_add_func ("/tb/ui/create-hierarchy", test_create_hierarchy);
  g_test_add_func ("/tb/ui/trust-chain-large", test_trust_chain_large);
  g_test_add_func ("/tb/ui/production", test_production);
  g_test_add_func ("/tb/ui/tokens", test_tokens);
  g_test_add_func ("/tb/ui/hotplug", test_hotplug);
  g_test_add_func ("/tb/ui/whole-chain", test_whole_chain);
  g_test_add_func ("/tb/ui/audit-page", test_audit_page);
  g_test_add_func ("/tb/ui/keys-page", test_keys_page);
  g_test_add_func ("/tb/ui/trust-chain-fit", test_trust_chain_fit);
  g_test_add_func ("/tb/ui/welcome", test_welcome);
  g_test_add_func ("/tb/ui/dead-recent", test_dead_recent);
  g_test_add_func ("/tb/ui/header-subtitle", test_header_subtitle);
  g_test_add_func ("/tb/ui/shortcuts", test_shortcuts);
  g_test_add_func ("/tb/ui/sidebar-activate", test_sidebar_activate);
  g_test_add_func ("/tb/ui/devices-provision", test_devices_provision);
  g_test_add_func ("/tb/ui/devices-provision-image-action", test_devices_provision_image_action);
  g_test_add_func ("/tb/ui/devices-empty-links-images", test_devices_empty_links_images);
  g_test_add_func ("/tb/ui/production-empty-links-images", test_production_empty_links_images);
  g_test_add_func ("/tb/ui/gallery", test_gallery);
  rc = g_test_run ();

  g_clear_object (&app);
  /* not g_test_dbus_down(): GTK keeps its bus connection to the end */
  g_test_dbus_stop (bus);
  tb_test_rm_rf (tmp);
  g_free (tmp);
  return rc;
}
