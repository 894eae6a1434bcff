# The accessibility tree of the workbench, as a screen reader gets it over
# AT-SPI: every sidebar row can be activated, every button on every page has
# a name. Run under its own Xvfb and session bus (tools/a11y-check, or the
# `a11y` test): a11y-check.py TRUSTBENCH SCHEMA-DIR
import os
import tempfile
import re
import shutil
import subprocess
import sys
import time

import pyatspi

trustbench, schemas = sys.argv[1], sys.argv[2]
home = tempfile.mkdtemp(prefix="tb-a11y-")
env = dict(os.environ, XDG_DATA_HOME=home, XDG_CONFIG_HOME=home, TRUSTBENCH_BOARDS=os.path.join(home, "boards"),
           GSETTINGS_SCHEMA_DIR=schemas, GSETTINGS_BACKEND="memory", GTK_A11Y="atspi",
           GDK_BACKEND="x11", GSK_RENDERER="cairo", NO_AT_BRIDGE="0")
env.pop("ASAN_OPTIONS", None)
app_proc = subprocess.Popen([trustbench, "--demo"], env=env)

INTERACTIVE = {pyatspi.ROLE_PUSH_BUTTON, pyatspi.ROLE_TOGGLE_BUTTON, pyatspi.ROLE_CHECK_BOX, pyatspi.ROLE_RADIO_BUTTON,
               pyatspi.ROLE_SPIN_BUTTON}


def find_app():
    try:
        desktop = pyatspi.Registry.getDesktop(0)
        for i in range(desktop.childCount):
            a = desktop.getChildAtIndex(i)
            if a is not None and a.name in ("trustbench", "Trustbench"):
                return a
    except Exception:
        pass  # an application left the bus while it was listed: look again
    return None


def walk(node, depth=0, out=None):
    if out is None:
        out = []
    try:
        states = node.getState()
        if depth > 0 and not states.contains(pyatspi.STATE_VISIBLE):
            return out
        out.append(node)
        for i in range(node.childCount):
            c = node.getChildAtIndex(i)
            if c is not None:
                walk(c, depth + 1, out)
    except Exception:
        pass
    return out


TYPE_NAME = re.compile(r"^(Gtk|Adw|Tb)[A-Z]\w*$")


def label_of(node):
    """The accessible name; GTK 4.8 falls back to the widget's type name
    (\"GtkMenuButton\") when a widget has none, which is no name at all."""
    name = node.name or ""
    if name and not TYPE_NAME.match(name):
        return name
    try:
        rels = node.getRelationSet()
        for r in rels:
            if r.getRelationType() == pyatspi.RELATION_LABELLED_BY:
                return r.getTarget(0).name
    except Exception:
        pass
    return ""


def is_demo_window(node):
    """Whether NODE is the window on the demo context; a node that went away
    meanwhile (the accessibility tree changes while the demo is built) is not."""
    try:
        return node.getRole() == pyatspi.ROLE_FRAME and node.name == "Demo OEM"
    except Exception:
        return False


# the window, once the demo context (built on first start) is open in it
deadline = time.time() + 600
app = None
while time.time() < deadline:
    app = find_app()
    if app is not None and any(is_demo_window(n) for n in walk(app)):
        break
    if app_proc.poll() is not None:
        print(f"a11y-check: the workbench exited ({app_proc.returncode})", file=sys.stderr)
        sys.exit(2)
    time.sleep(1)
else:
    print("a11y-check: the workbench did not open the demo on the accessibility bus", file=sys.stderr)
    app_proc.kill()
    sys.exit(2)
time.sleep(2)

pages = []
for n in walk(app):
    if n.getRole() == pyatspi.ROLE_LIST and any(label_of(n.getChildAtIndex(i)) == "Trust Chain"
                                                for i in range(n.childCount)):
        pages = [n.getChildAtIndex(i) for i in range(n.childCount)]
        break
print(f"sidebar rows: {len(pages)}")
missing = 0
seen = set()


def where(node):
    """The names of the nearest named ancestors, to find a nameless button."""
    names = []
    p = node.parent
    while p is not None and len(names) < 3:
        name = label_of(p)
        if name:
            names.append(name)
        p = p.parent
    return " < ".join(names)


for page in pages or [None]:
    pname = label_of(page) if page is not None else "(window)"
    if page is not None:
        try:
            action = page.queryAction()
            names = [action.getName(i) for i in range(action.nActions)]
        except NotImplementedError:
            names = []
        if names:
            action.doAction(0)
        else:
            print(f"  sidebar row {pname!r}: no action a screen reader can activate")
            missing += 1
            page.parent.querySelection().selectChild(page.getIndexInParent())
        time.sleep(2)
    buttons = [n for n in walk(app) if n.getRole() in INTERACTIVE]
    nameless = [b for b in buttons if not label_of(b).strip()]
    print(f"page {pname}: {len(buttons)} buttons, {len(nameless)} without a name")
    for b in nameless:
        key = (b.getRoleName(), where(b))
        if key in seen:
            continue
        seen.add(key)
        missing += 1
        desc = b.description or ""
        kids = ", ".join(f"{b.getChildAtIndex(i).getRoleName()} {label_of(b.getChildAtIndex(i))!r}"
                         for i in range(b.childCount) if b.getChildAtIndex(i) is not None)
        print(f"  NAMELESS {b.getRoleName()} {b.name!r} in {where(b)!r} (description {desc!r}; children: {kids})")
app_proc.terminate()
app_proc.wait()
shutil.rmtree(home, ignore_errors=True)
if not pages:
    print("a11y-check: no sidebar found", file=sys.stderr)
    missing += 1
print(f"a11y-check: {missing} problem(s)")
sys.exit(1 if missing else 0)
