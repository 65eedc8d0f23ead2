#!/bin/bash
# bench/store_split.sh: the store's CPU at S series x PER samples, split by
# what it writes, through A/Bs of its settings in the same run. Each
# variant is a fresh statecastd (default model, fresh store) fed S x PER
# samples flat out (bench/loadgen.c, as bench/ing100k.sh's "long" case);
# CPU per sample of each thread group (/proc/PID/task/*/stat, utime +
# stime, from the first sample until the store drained): the loop
# (statecastd's main thread), store-writer, the checkpoint's thread
# (ckpt*), the rest. Variants interleaved over REPS reps; medians.
#
#   bench/store_split.sh [--series S] [--per PER] [--reps N] [--build DIR]
#                        [--base DIR] [--out FILE] [NAME=SETTINGS ...]
#
# --base DIR (a build directory of another tree, e.g. main's): every
# variant runs on both builds, interleaved, as "base:NAME" and "NAME".
#
# Default variants: all (defaults), nofc (store.forecast_every_s=0),
# nockpt (store.checkpoint_s=0), nosnap (store.snapshot_s=1d: no SQLite
# snapshot within the run), none (all three off). A NAME=SETTINGS
# argument replaces them: SETTINGS is a comma list of -o values.
#
# Timestamps: the last sample a moment before the wall clock (loadgen --end
# now), inside the store's retention as a live feed's; before session 15
# from 1.7e9, and the store writer deleted every forecast it stored
# (bench/results/wal15.md section 0).
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
S=100000 PER=30 REPS=1 B=build BB="" OUT=bench/results/store3-split.md
VARS=()
. bench/lib.sh
parse_args "usage: see the head of bench/store_split.sh" \
	--series=S --per=PER --reps=REPS --build=B --base=BB --out=OUT "*=*@VARS" -- "$@"
[ ${#VARS[@]} -gt 0 ] || VARS=("all=" "nofc=store.forecast_every_s=0" \
	"nockpt=store.checkpoint_s=0" "nosnap=store.snapshot_s=1d" \
	"none=store.forecast_every_s=0,store.checkpoint_s=0,store.snapshot_s=1d")
bench_workdir store3
make -s -j2 all build/bench/loadgen
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# threads PID: "loop writer ckpt other" CPU ticks of PID's threads by name.
threads() {
	local t name v loop=0 wr=0 ck=0 ot=0
	for t in /proc/$1/task/*; do
		name=$(cat "$t/comm" 2>/dev/null) || continue
		v=$(stat_ticks "$t/stat" 2>/dev/null) || continue
		case "$name" in
		statecastd) loop=$((loop + v)) ;;
		store-writer) wr=$((wr + v)) ;;
		ckpt*) ck=$((ck + v)) ;;
		*) ot=$((ot + v)) ;;
		esac
	done
	echo "$loop $wr $ck $ot"
}

# run NAME SETTINGS [BUILD]: one daemon, one pass; appends "rate loop wr ck ot total
# bytes" (us per sample, database bytes per sample) to $W/NAME.
run() {
	local name=$1 set=$2 bin=${3:-$B} opts=() o n pid a b out hz rate
	n=$((S * PER))
	IFS=, read -ra o <<<"$set"
	for x in "${o[@]}"; do opts+=(-o "$x"); done
	rm -rf "$W/sd"; mkdir -p "$W/sd"
	daemon_start "$bin/statecastd" "$W/sd/db" "$W/sd/log" -o model.path=models/default.model "${opts[@]}" ||
		{ echo "store_split: statecastd did not start (see $W/sd/log)" >&2; return 1; }
	pid=$PID; PIDS="$PIDS $pid"
	a=$(threads "$pid")
	out=$(build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" --count "$n" \
		--end now --until-rpc 127.0.0.1:$R --drain || true)
	b=$(threads "$pid")
	rate=$(field drained_rate "$out")
	hz=$(getconf CLK_TCK)
	db=$(du -cb "$W/sd/db" "$W/sd/db-wal" 2>/dev/null | tail -1 | cut -f1)
	kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
	awk -v a="$a" -v b="$b" -v hz="$hz" -v n="$n" -v r="${rate:-n/a}" -v db="$db" 'BEGIN {
		split(a, x); split(b, y); tot = 0; s = r
		for (i = 1; i <= 4; i++) { u = (y[i] - x[i]) / hz / n * 1e6; tot += u; s = s sprintf(" %.2f", u) }
		printf "%s %.2f %.0f\n", s, tot, db / n }' >>"$W/$name"
}

for rep in $(seq "$REPS"); do
	for v in "${VARS[@]}"; do
		echo "store_split: rep $rep, ${v%%=*}" >&2
		if [ -n "$BB" ] && [ $((rep % 2)) = 1 ]; then run "base:${v%%=*}" "${v#*=}" "$BB"; fi
		run "${v%%=*}" "${v#*=}"
		if [ -n "$BB" ] && [ $((rep % 2)) = 0 ]; then run "base:${v%%=*}" "${v#*=}" "$BB"; fi
	done
done
col() { awk -v c="$2" '{ print $c }' "$W/$1" | median; }
{
	echo "<!-- store-split -->"
	echo "Written by \`bench/store_split.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC'),"
	echo "tree $(head_rev), build $B${BB:+, base build $BB (rows base:NAME)}; machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p');"
	echo "load average at the start: $LOAD0, at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "$S series x $PER samples, a fresh daemon per run, $REPS rep(s) interleaved, medians."
	echo "CPU us per sample by thread, from the first sample until the store drained."
	echo
	echo "| variant | settings | samples/s until drained | loop | store-writer | checkpoint | other | total | SQLite bytes per sample (db + wal) |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for v in "${VARS[@]}"; do for nm in ${BB:+base:${v%%=*}} ${v%%=*}; do
		echo "| $nm | ${v#*=} | $(col "$nm" 1) | $(col "$nm" 2) | $(col "$nm" 3) | $(col "$nm" 4) | $(col "$nm" 5) | $(col "$nm" 6) | $(col "$nm" 7) |"
	done; done
	echo "<!-- /store-split -->"
} >"$W/part"
cat "$W/part"
results_section "$OUT" store-split "$W/part"
