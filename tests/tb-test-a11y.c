/* SPDX-License-Identifier: GPL-3.0-or-later */

/* What a screen reader needs from the buttons of a widget tree, checked on
 * the GTK side: GTK 4.8 does not turn a tooltip into an accessible name,
 * so an icon-only button needs both. */

#include "config.h"

#include "tb-test-a11y.h"

static gboolean
has_text_label (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_visible (widget) && *gtk_label_get_text (GTK_LABEL (widget)) != '\0')
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL; child = gtk_widget_get_next_sibling (child))
    if (has_text_label (child))
      return TRUE;
  return FALSE;
}

static gboolean
has_accessible_name (GtkWidget *widget)
{
  return gtk_test_accessible_has_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL) ||
         gtk_test_accessible_has_relation (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_RELATION_LABELLED_BY);
}

static char *
describe (GtkWidget *widget)
{
  const char *action = GTK_IS_ACTIONABLE (widget) ? gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)) : NULL;
  const char *icon = GTK_IS_BUTTON (widget) ? gtk_button_get_icon_name (GTK_BUTTON (widget))
                     : GTK_IS_MENU_BUTTON (widget) ? gtk_menu_button_get_icon_name (GTK_MENU_BUTTON (widget)) : NULL;

  return g_strdup_printf ("%s (action %s, icon %s, in %s)", G_OBJECT_TYPE_NAME (widget), action, icon,
                          G_OBJECT_TYPE_NAME (gtk_widget_get_parent (widget)));
}

static guint
check (GtkWidget *widget)
{
  guint n = 0;

  /* the window's own buttons are GTK's, named (and described) by it */
  if (!gtk_widget_get_visible (widget) || GTK_IS_WINDOW_CONTROLS (widget))
    return 0;
  /* a menu button's inner toggle button is named for it by GTK */
  if ((GTK_IS_BUTTON (widget) && !GTK_IS_MENU_BUTTON (gtk_widget_get_parent (widget))) || GTK_IS_MENU_BUTTON (widget))
    {
      gboolean labelled = has_text_label (widget);

      if (!labelled && !has_accessible_name (widget))
        g_error ("%s has no accessible name", describe (widget));
      if (!labelled && gtk_widget_get_tooltip_text (widget) == NULL)
        g_error ("icon-only %s has no tooltip", describe (widget));
      n++;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL; child = gtk_widget_get_next_sibling (child))
    n += check (child);
  return n;
}

/**
 * tb_test_assert_buttons_named:
 * @root: a window, page or dialog
 *
 * Fails the test unless every visible button and menu button under @root
 * (shown or not: every page of a stack) has an accessible name — its own
 * label, a label inside it, or an accessible label — and every icon-only
 * one also a tooltip.
 *
 * Returns: how many buttons were checked
 */
guint
tb_test_assert_buttons_named (GtkWidget *root)
{
  return check (root);
}
