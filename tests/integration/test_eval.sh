#!/bin/sh
# statecast eval against the R anchors on the public set (bench/data): the
# naive and snaive methods need no fitting, so their MASE, MSIS and coverage
# must equal baselines-public.tsv's to 4 significant digits on every series;
# that proves origins, scale and scoring are EVAL.md's. The smooth front end
# must run on every series with finite scores and stay within a regression
# guard of ets (relMASE < 1.00; the measured figure is in
# bench/results/accuracy.md).
set -u
cd "$(dirname "$0")/../.."
BIN=${STATECAST:-build/statecast}
DATA=bench/data/public
BASE=bench/data/baselines-public.tsv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'ok   %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$1"; }

for m in naive snaive; do
	if ! "$BIN" eval --data "$DATA" --no-timing --method $m --out "$tmp/$m.tsv" \
		--baselines "$BASE" >"$tmp/$m.log" 2>&1; then
		bad "eval --method $m runs"
		cat "$tmp/$m.log"
		continue
	fi
	# Join on series; compare mase, msis, coverage to 4 significant digits.
	res=$(awk -F'\t' -v m=$m '
		NR == FNR { if ($2 == m) { b[$1] = $4 "\t" $5 "\t" $6 }; next }
		FNR == 1 { next }
		function close4(a, b) { d = a - b; if (d < 0) d = -d;
			s = b < 0 ? -b : b; return d <= 5e-5 * s + 1e-12 }
		{ n++; if (!($1 in b)) { print "missing " $1; bad++; next }
		  split(b[$1], r, "\t")
		  if (!close4($4, r[1]) || !close4($5, r[2]) || !close4($6, r[3])) {
			print $1 ": " $4 " " $5 " " $6 " vs " b[$1]; bad++ } }
		END { print n + 0, bad + 0 }' "$BASE" "$tmp/$m.tsv")
	last=$(printf '%s\n' "$res" | tail -n 1)
	if [ "$last" = "22 0" ]; then
		ok "eval --method $m reproduces the anchors on 22 series"
	else
		bad "eval --method $m reproduces the anchors"
		printf '%s\n' "$res"
	fi
done

if "$BIN" eval --data "$DATA" --no-timing --method smooth --out "$tmp/s.tsv" \
	--baselines "$BASE" >"$tmp/s.log" 2>&1; then
	ok "eval --method smooth runs"
else
	bad "eval --method smooth runs"
	cat "$tmp/s.log"
fi
if head -n 1 "$tmp/s.tsv" | grep -q "^series	method	origins	mase	msis	coverage" &&
	[ "$(awk -F'\t' 'NR > 1 && $4 + 0 > 0 && $4 == $4 + 0 && $6 >= 0 && $6 <= 1' "$tmp/s.tsv" | wc -l)" -eq 22 ]; then
	ok "smooth: TSV header and 22 finite rows"
else
	bad "smooth: TSV header and 22 finite rows"
fi
rel=$(awk '/^relMASE vs ets/ { print $4 }' "$tmp/s.log")
if [ -n "$rel" ] && awk -v r="$rel" 'BEGIN { exit !(r < 1.00) }'; then
	ok "smooth: relMASE vs ets $rel < 1.00"
else
	bad "smooth: relMASE vs ets '$rel' < 1.00"
fi
if "$BIN" eval --data "$tmp/none" >/dev/null 2>&1; then
	bad "eval fails on a missing directory"
else
	ok "eval fails on a missing directory"
fi
printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" -eq 0 ]
