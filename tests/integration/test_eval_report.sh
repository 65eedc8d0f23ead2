#!/bin/sh
# statecast eval --report DIR on the public set (bench/data): report.md has
# one row per series with its best anchor, one SVG chart per series that
# parses as XML, and a summary line; a report directory that cannot be
# created is an error.
set -u
cd "$(dirname "$0")/../.."
BIN=${STATECAST:-build/statecast}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'ok   %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$1"; }

if "$BIN" eval --data bench/data/public --no-timing --method smooth \
	--report "$tmp/rep" >"$tmp/log" 2>&1; then
	ok "eval --report runs"
else
	bad "eval --report runs"
	cat "$tmp/log"
fi
rows=$(grep -c '\.svg) |$' "$tmp/rep/report.md" 2>/dev/null || echo 0)
[ "$rows" -eq 22 ] && ok "report.md: 22 series rows" ||
	bad "report.md: 22 series rows (got $rows)"
grep -q '| AirPassengers | .* | snaive | ' "$tmp/rep/report.md" &&
	ok "AirPassengers' best anchor is snaive (seasonal series)" ||
	bad "AirPassengers' best anchor is snaive"
grep -q 'beats its series. best anchor on [0-9]* of 22 series' \
	"$tmp/rep/report.md" && ok "summary line" || bad "summary line"
n=$(ls "$tmp/rep"/*.svg 2>/dev/null | wc -l)
[ "$n" -eq 22 ] && ok "22 SVG charts" || bad "22 SVG charts (got $n)"
if /usr/bin/python3 - "$tmp/rep" <<'PY'
import glob, sys, xml.dom.minidom
for f in glob.glob(sys.argv[1] + "/*.svg"):
    r = xml.dom.minidom.parse(f).documentElement
    assert r.tagName == "svg" and r.getElementsByTagName("path"), f
PY
then ok "every chart parses as SVG with paths"; else bad "charts parse"; fi
grep -q 'eval: done 22' "$tmp/log" && ok "progress: closing line on stderr" ||
	bad "progress: closing line on stderr"
: >"$tmp/file"
if "$BIN" eval --data bench/data/public --no-timing --method naive \
	--report "$tmp/file/sub" >"$tmp/log2" 2>&1; then
	bad "an impossible report directory fails"
else
	ok "an impossible report directory fails"
fi
printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" -eq 0 ]
