#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The house of docs/architecture.md, checked from the #include lines.

Each folder of core/ may include only the folders below it; no page of
ui/ includes the window; the front ends (app/, ui/) reach boards only
through the probe layer, never core/device's virtual board."""

import os
import re
import sys

BELOW = {
    "base": set(),
    "context": {"base"},
    "device": {"base"},
    "pki": {"base", "context"},
    "image": {"base", "context", "pki", "device"},
    "probe": {"base", "device"},
    "provision": {"base", "context", "pki", "image", "probe", "device"},
    "production": {"base", "context", "pki", "image", "probe", "provision", "device"},
    "report": {"base", "context", "pki"},
    "demo": {"base", "context", "pki", "image", "probe", "provision", "device", "production", "report"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(folder):
    for dirpath, _, names in os.walk(folder):
        for name in sorted(names):
            if name.endswith((".c", ".h")):
                yield os.path.join(dirpath, name)


def main(top):
    os.chdir(top)
    home = {}  # header name -> its folder under core/
    for folder in BELOW:
        if not os.path.isdir(os.path.join("core", folder)):
            print(f"core/{folder} is missing")
            return 1
        for path in sources(os.path.join("core", folder)):
            home[os.path.basename(path)] = folder
    problems = []
    for folder in sorted(os.listdir("core")):
        if not os.path.isdir(os.path.join("core", folder)):
            continue
        if folder not in BELOW:
            problems.append(f"core/{folder}: a folder docs/architecture.md does not place (add it to tests/check-layers.py)")
            continue
        for path in sources(os.path.join("core", folder)):
            for inc in INCLUDE.findall(open(path, encoding="utf-8").read()):
                other = home.get(os.path.basename(inc))
                if other is not None and other != folder and other not in BELOW[folder]:
                    problems.append(f"{path}: includes {inc} from core/{other}, which is not below core/{folder}")
    for path in list(sources("ui")) + list(sources("app")):
        text = open(path, encoding="utf-8").read()
        includes = INCLUDE.findall(text)
        base = os.path.basename(path)
        if path.startswith("ui") and base.endswith("-page.c") and "tb-window.h" in includes:
            problems.append(f"{path}: a page includes the window (use tb-work-host.h)")
        if "tb-virtual-board.h" in includes or re.search(r"\btb_virtual_board_\w+\s*\(", text):
            problems.append(f"{path}: a front end reaches the virtual board directly (use the probe layer)")
    for p in problems:
        print(p)
    if not problems:
        print(f"layers hold: {len(home)} core files in {len(BELOW)} folders")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
