#!/bin/bash
# bench/loop3.sh: the loop thread's own work per sample (socket reads, line
# splitting, parsing, the registry, series creation, queueing; not the model,
# not the store), this tree against a base revision (main by default) in the
# same run. Writes its section of bench/results/loop3.md (bench/ing100k.sh
# --out bench/results/loop3.md writes the other).
#
#   bench/loop3.sh [--base REV] [--base-dir DIR] [--cg-series S] [--cg-per K]
#                  [--series S2] [--per K2] [--reps N] [--out FILE]
#
# --cg-series 0 skips part 1, --reps 0 part 2; each part writes its own
# section (loop3-ir, loop3-cpu) and leaves the other as it was.
# LOOP3_KEEP=DIR keeps the loop thread's callgrind files (DIR/base.cg,
# DIR/head.cg).
#
# 1. Instructions (do not depend on the machine's load): each tree's
#    statecastd (default model, store on) under callgrind
#    (--separate-threads=yes) while bench/loadgen.c sends S series x K
#    samples (2000 x 6: every series new, as perf.sh's row), flat out; the
#    loop thread's file read by bench/loop_ir.py: instructions per sample
#    of the loop outside the model and the store, and by function.
# 2. CPU time: N reps, interleaved (the tree that goes first alternates),
#    of S2 series x K2 samples (100000 x 12) flat out, `perf record -F 999
#    -e cpu-clock` of the daemon from the first sample until the store
#    drained, split by bench/cpu_split.py: "parse" is the loop thread
#    outside the model and SQLite, with its kernel part. Medians.
# Timestamps: from 1700000000 (three years back): the loop's instructions
# and profile are what is measured, and retention's deletes run in the
# store writer's thread, not the loop's.
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
BASE=main
BASE_DIR=""
CG_S=2000
CG_PER=6
S=100000
PER=12
REPS=3
OUT=bench/results/loop3.md
. bench/lib.sh
parse_args "usage: bench/loop3.sh [--base REV] [--base-dir DIR] [--cg-series S] [--cg-per K] [--series S2] [--per K2] [--reps N] [--out FILE]" \
	--base=BASE --base-dir=BASE_DIR --cg-series=CG_S --cg-per=CG_PER --series=S --per=PER --reps=REPS --out=OUT -- "$@"
need_tools perf valgrind
bench_workdir loop3

make -s -j2 all build/bench/loadgen
base_tree loop3
LG=build/bench/loadgen
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
bdir() { [ "$1" = base ] && echo "$BASE_DIR/build" || echo build; }

# cg TREE: callgrind of the loop thread; prints loop_ir.py's output.
cg() {
	local b n f
	b=$(bdir "$1")
	n=$((CG_S * CG_PER))
	rm -rf "$W/cg"; mkdir -p "$W/cg"
	PIN="valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=$W/cg/out.%p" \
		DAEMON_WAIT_S=300 daemon_start "$b/statecastd" "$W/cg/db" "$W/cg/log" \
		-o model.path=models/default.model ||
		{ echo "loop3: statecastd did not start under callgrind (see $W/cg/log)" >&2; return 1; }
	PIDS="$PIDS $PID"
	$LG --graphite 127.0.0.1:$G --series "$CG_S" --count "$n" --t0 1700000000 \
		--until-rpc 127.0.0.1:$R --drain >/dev/null || true
	# loadgen's wait gives up on a daemon that callgrind slows 50x: every
	# sample taken before the daemon is stopped, so that both trees count
	# the same work (loop_ir.py divides by the lines parsed). The stats
	# request is answered by the loop after the tick that stepped the last
	# read; the store's draining is the writer's, not counted here.
	for _ in $(seq 1200); do
		[ "$(stat_samples "$b/statecast" "$R")" -ge "$n" ] && break
		sleep 0.5
	done
	kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true
	f=$(ls "$W"/cg/out.*-01 | head -n 1)
	[ -n "${LOOP3_KEEP:-}" ] && cp "$f" "$LOOP3_KEEP/$1.cg"
	/usr/bin/python3 bench/loop_ir.py "$f"
}

# stat_samples CLI PORT: the daemon's accepted samples (stats), 0 when it
# does not answer.
stat_samples() {
	"$1" stats --json --rpc 127.0.0.1:$2 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("samples", 0))' 2>/dev/null || echo 0
}

# timed TREE: one flat-out run under perf; prints cpu_split.py's line and
# loadgen's rate.
timed() {
	local b n pid pp out
	b=$(bdir "$1")
	n=$((S * PER))
	rm -rf "$W/sd"; mkdir -p "$W/sd"
	daemon_start "$b/statecastd" "$W/sd/db" "$W/sd/log" -o model.path=models/default.model ||
		{ echo "loop3: statecastd did not start (see $W/sd/log)" >&2; return 1; }
	pid=$PID; PIDS="$PIDS $pid"
	perf record -q -F 999 -e cpu-clock -p "$pid" -o "$W/perf.data" >/dev/null 2>&1 &
	pp=$!; sleep 0.5
	out=$($LG --graphite 127.0.0.1:$G --series "$S" --count "$n" --t0 1700000000 \
		--until-rpc 127.0.0.1:$R --drain || true)
	kill -INT "$pp" 2>/dev/null; wait "$pp" 2>/dev/null || true
	kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
	echo "$(/usr/bin/python3 bench/cpu_split.py "$W/perf.data" 999 "$n" "$pid" "$b") rate=$(field rate "$out")"
	rm -f "$W/perf.data"
}

declare -A ir
for t in base head; do
	[ "$CG_S" -gt 0 ] || break
	echo "loop3: callgrind, $t"
	ir[$t]=$(cg $t)
done

declare -A parse kern rate
for t in base head; do parse[$t]=""; kern[$t]=""; rate[$t]=""; done
for rep in $(seq "$REPS"); do
	order=$(ab_order "$rep" base head)
	for t in $order; do
		echo "loop3: rep $rep of $REPS, $t"
		x=$(timed $t)
		parse[$t]="${parse[$t]} $(field cpu_parse_us "$x")"
		kern[$t]="${kern[$t]} $(field cpu_parse_kernel_us "$x")"
		rate[$t]="${rate[$t]} $(field rate "$x")"
	done
done

med() { echo "$1" | median; }
irf() { field "$2" "$(echo "${ir[$1]}" | head -n 1)"; }
fns() { echo "${ir[$1]}" | tail -n +2 | sed 's/=/ /' | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }'; }
head_md() { # head_md TITLE: the section's heading and provenance
	echo "## $1, this tree against $BASE"
	echo
	echo "Written by \`bench/loop3.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "This tree: $HEAD_REV; base: $BASE ($BASE_REV), built in the same run."
	echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); load average at the start: $LOAD0, at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
}
[ "$CG_S" -gt 0 ] && {
	echo "<!-- loop3-ir -->"
	head_md "The loop thread's instructions per sample (callgrind)"
	echo
	echo "statecastd (default model, store on) under \`valgrind --tool=callgrind --separate-threads=yes\`,"
	echo "bench/loadgen.c sending $CG_S series x $CG_PER samples (every series new) flat out, the daemon"
	echo "stopped once it had taken every one; the loop thread's file read by bench/loop_ir.py"
	echo "(per sample = per Graphite line parsed: samples= in the table). loop = read + tick: read = the read"
	echo "callback (line splitting, parsing, registry, series creation, queueing) less the new"
	echo "series' state init (the model's); tick = srv_tick_run less the model step and the sink;"
	echo "sink = the copy of the tick's samples into a store batch."
	echo
	echo "| | $BASE | this tree | ratio |"
	echo "|---|---|---|---|"
	for k in samples loop read tick parse sink model; do
		echo "| $k | $(irf base $k) | $(irf head $k) | $(ratio "$(irf head $k)" "$(irf base $k)") |"
	done
	echo
	echo "Costliest functions of io/lines.c, io/graphite.c and daemon/{listen,tick,registry,sink}.c,"
	echo "exclusive, per sample:"
	echo
	echo "- $BASE: $(fns base)"
	echo "- this tree: $(fns head)"
	echo "<!-- /loop3-ir -->"
} >"$W/ir.md"
[ "$REPS" -gt 0 ] && {
	echo "<!-- loop3-cpu -->"
	head_md "The loop thread's CPU time per sample ($REPS reps, interleaved)"
	echo "$S series x $PER samples flat out, a fresh daemon and store each run; \`perf record -F 999"
	echo "-e cpu-clock\` of the daemon, bench/cpu_split.py: parse = the loop thread outside the"
	echo "model and SQLite (us per sample), of which kernel; samples/s stepped (loadgen)."
	echo
	echo "| tree | parse (median) | runs | of which kernel (median) | runs | samples/s (median) | runs |"
	echo "|---|---|---|---|---|---|---|"
	for t in base head; do
		tn=$BASE; [ $t = head ] && tn="this tree"
		echo "| $tn | $(med "${parse[$t]}") | ${parse[$t]} | $(med "${kern[$t]}") | ${kern[$t]} | $(med "${rate[$t]}") | ${rate[$t]} |"
	done
	echo
	echo "- this tree / $BASE: parse $(ratio "$(med "${parse[head]}")" "$(med "${parse[base]}")"), its kernel part $(ratio "$(med "${kern[head]}")" "$(med "${kern[base]}")"), samples/s $(ratio "$(med "${rate[head]}")" "$(med "${rate[base]}")")."
	echo "<!-- /loop3-cpu -->"
} >"$W/cpu.md"
[ -s "$W/ir.md" ] && results_section "$OUT" loop3-ir "$W/ir.md"
[ -s "$W/cpu.md" ] && results_section "$OUT" loop3-cpu "$W/cpu.md"
echo "loop3: wrote $OUT"
