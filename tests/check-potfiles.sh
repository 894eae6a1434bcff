#!/bin/sh
# Every source or UI file with user-visible strings must be listed in
# po/POTFILES.in, and every listed file must exist.
set -eu
top=${1:-.}
cd "$top"
expected=$(mktemp); listed=$(mktemp)
trap 'rm -f "$expected" "$listed"' EXIT
{
  grep -l -E '(^|[^A-Za-z0-9_])N?_\(' app/*.c core/*/*.c ui/*.c 2>/dev/null || true
  grep -l 'translatable="yes"' ui/*.ui ui/gtk/*.ui 2>/dev/null || true
  ls data/*.desktop.in data/*.metainfo.xml.in data/*.gschema.xml
} | sort -u >"$expected"
grep -v -E '^(#|$)' po/POTFILES.in | sort -u >"$listed"
status=0
for f in $(comm -23 "$expected" "$listed"); do echo "missing from po/POTFILES.in: $f (run tools/update-potfiles)"; status=1; done
for f in $(cat "$listed"); do [ -f "$f" ] || { echo "listed in po/POTFILES.in but absent: $f"; status=1; }; done
[ $status = 0 ] && echo "po/POTFILES.in lists $(wc -l <"$listed") files"
exit $status
