#!/bin/bash
# bench/hotpath.sh: the loop thread's and the store writer's cost per sample
# at many series, this tree against a base revision (main by default) in
# the same run, and what the store's settings do to the writer's share.
# Writes bench/results/hotpath.md.
#
#   bench/hotpath.sh [--base REV] [--base-dir DIR] [--reps N] [--series S]
#                    [--per K] [--opt-reps N2] [--big S2] [--out FILE]
#
# Part 1, per rep, interleaved (which tree goes first alternates): each
# tree's statecastd with the default model and the minimal model, the store
# on, S series flat out (bench/loadgen.c, K samples per series, 6 by
# default as bench/perf.sh; the first 4 learn the step, so a larger K is
# nearer a steady state). Reported per run: samples/s (stepped, and until
# the store committed every row: loadgen --drain), CPU per sample of the whole
# daemon and of its busiest threads (/proc/PID/task/*/stat: the loop
# thread, the store writer, the compute-pool helper), and the bytes the
# daemon wrote per sample (/proc/PID/io wchar: SQLite's WAL and
# checkpoints). Medians over the reps.
# Part 2 (--opt-reps reps, --reps by default), this tree only, default
# model, interleaved: the store's knobs
# that decide how many B-tree pages a sample dirties (store.commit_ms,
# store.forecast_every_s at 60 s, the load's step, and off), against the
# defaults.
# Part 3 (--big S2, e.g. 1000000): each tree once, default model, S2 series
# flat out (6 per series) under `flock /tmp/statecast-1m.lock` (such a run
# holds ~10 GB); loadgen does not finish at the base's pace, so the rate is
# the daemon's `stepped` counter over the window [60 s, 180 s] of the run,
# beside how often the store's queue stopped Graphite reads.
# Timestamps: loadgen --end now (the last sample a moment before the wall
# clock, inside the store's retention as a live feed's); before session 15
# loadgen's default t0 1.7e9, with which the store writer deleted every
# forecast a run stored as out of retention (bench/results/wal15.md).
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
BASE=main
BASE_DIR=""
REPS=3
OPT_REPS=""
S=100000
PER=6
BIG=0
OUT=bench/results/hotpath.md
. bench/lib.sh
parse_args "usage: bench/hotpath.sh [--base REV] [--base-dir DIR] [--reps N] [--opt-reps N2] [--series S] [--per K] [--big S2] [--out FILE]" \
	--base=BASE --base-dir=BASE_DIR --reps=REPS --opt-reps=OPT_REPS --series=S --per=PER --big=BIG --out=OUT -- "$@"
OPT_REPS=${OPT_REPS:-$REPS}
bench_workdir hotpath

make -s -j2 all build/bench/loadgen
base_tree hotpath
N=$((S * PER))
MIN_MODEL=$W/min.model
min_model build "$MIN_MODEL"

# Per-thread CPU ticks: "TID TICKS" lines.
threads() { for t in /proc/$1/task/*; do echo "${t##*/} $(stat_ticks "$t/stat")"; done; }

# run BUILD MODEL [-o ...]: one statecastd run on a fresh store; prints
# "RATE CPU_US T1_US T2_US T3_US WBYTES DRAINED_RATE" (threads by CPU,
# descending).
run() {
	local b=$1 model=$2 out c0 c1 w0 w1 th
	shift 2
	rm -rf "$W/sd"; mkdir -p "$W/sd"
	daemon_start "$b/statecastd" "$W/sd/db" "$W/sd/log" -o model.path="$model" "$@" ||
		{ echo "n/a n/a n/a n/a n/a n/a n/a"; return; }
	c0=$(cpu_ticks "$PID"); w0=$(awk '/^wchar/ { print $2 }' "/proc/$PID/io")
	threads "$PID" | sort >"$W/t0"
	# loadgen returns once the store has committed every row (--drain):
	# the CPU and bytes include the store's backlog.
	out=$(build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" --count "$N" --end now --until-rpc 127.0.0.1:$R --drain || true)
	c1=$(cpu_ticks "$PID"); w1=$(awk '/^wchar/ { print $2 }' "/proc/$PID/io")
	threads "$PID" | sort >"$W/t1"
	th=$(join "$W/t0" "$W/t1" | awk -v n="$N" -v hz="$(getconf CLK_TCK)" \
		'{ printf "%.2f\n", ($3 - $2) / hz / n * 1e6 }' | sort -gr | head -3 | tr '\n' ' ')
	kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; PID=""
	r=$(field rate "$out"); d=$(field drained_rate "$out")
	[ "$d" = nan ] && d=""
	awk -v r="${r:-n/a}" -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v n="$N" \
		-v th="$th" -v w="$((w1 - w0))" -v d="${d:-n/a}" \
		'BEGIN { split(th, t, " "); printf "%s %.2f %s %s %s %d %s\n", r, c / hz / n * 1e6, t[1], t[2], t[3], w / n, d }'
}

declare -A res
keys="base:min head:min base:def head:def"
for k in $keys; do res[$k]=""; done
for rep in $(seq "$REPS"); do
	echo "hotpath: part 1, rep $rep of $REPS"
	order=$(ab_order "$rep" base head)
	for m in def min; do
		model=$MIN_MODEL
		[ $m = def ] && model=models/default.model
		for t in $order; do
			b=build
			[ $t = base ] && b=$BASE_DIR/build
			res[$t:$m]="${res[$t:$m]}$(run "$b" "$model");"
		done
	done
done

OPTS=("" "-o store.commit_ms=1000" "-o store.forecast_every_s=60" "-o store.forecast_every_s=0")
declare -A opt
for i in "${!OPTS[@]}"; do opt[$i]=""; done
for rep in $(seq "$OPT_REPS"); do
	echo "hotpath: part 2, rep $rep of $OPT_REPS"
	for i in "${!OPTS[@]}"; do
		# shellcheck disable=SC2086
		opt[$i]="${opt[$i]}$(run build models/default.model ${OPTS[$i]});"
	done
done

# big BUILD: one run at BIG series; prints "RATE_60_180 STEPPED_AT_180
# HELD_EPISODES CPU_CORES RSS_KIB". Run under the 1M lock.
stats_of() { build/statecast stats --json --rpc 127.0.0.1:$R 2>/dev/null |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("stepped", 0))' 2>/dev/null || echo 0; }
big() {
	local b=$1 lg a ta ca z tz cz
	rm -rf "$W/sd"; mkdir -p "$W/sd"
	daemon_start "$b/statecastd" "$W/sd/db" "$W/sd/log" -o model.path=models/default.model ||
		{ echo "n/a n/a n/a n/a n/a"; return; }
	build/bench/loadgen --graphite 127.0.0.1:$G --series "$BIG" --count $((BIG * 6)) --end now \
		--until-rpc 127.0.0.1:$R >/dev/null 2>&1 &
	lg=$!
	sleep 60
	a=$(stats_of); ta=$(date +%s.%N); ca=$(cpu_ticks "$PID")
	# Each second, every thread's scheduler state: R (running or
	# waiting for a core), D (waiting on the disk), S (sleeping).
	: >"$W/states"
	for _ in $(seq 120); do
		cat /proc/$PID/task/*/stat 2>/dev/null | awk '{ print $3 }' >>"$W/states"
		sleep 1
	done
	z=$(stats_of); tz=$(date +%s.%N); cz=$(cpu_ticks "$PID")
	awk -v a="$a" -v z="$z" -v ta="$ta" -v tz="$tz" -v c="$((cz - ca))" -v hz="$(getconf CLK_TCK)" \
		-v h="$(grep -c 'past store.max_queue' "$W/sd/log" || true)" -v rss="$(rss_kb "$PID")" \
		-v st="$(sort "$W/states" | uniq -c | awk '{ printf "%s%s:%s", (NR > 1 ? "," : ""), $2, $1 }')" \
		'BEGIN { printf "%.0f %d %d %.2f %d %s\n", (z - a) / (tz - ta), z, h, c / hz / (tz - ta), rss, st }'
	kill "$lg" 2>/dev/null; wait "$lg" 2>/dev/null || true
	kill -TERM "$PID" 2>/dev/null; sleep 2; kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; PID=""
}
BIGB=""; BIGH=""
if [ "$BIG" -gt 0 ]; then
	echo "hotpath: part 3, $BIG series (waiting for /tmp/statecast-1m.lock)"
	exec 9>/tmp/statecast-1m.lock
	flock 9
	BIGB=$(big "$BASE_DIR/build")
	BIGH=$(big build)
	flock -u 9
fi

# col RUNS K: the median of column K (1-based) over the ';'-separated runs.
col() { echo "$1" | tr ';' '\n' | awk -v k="$2" 'NF { print $k }' | median; }
allruns() { echo "$1" | tr ';' '\n' | awk 'NF { print $1 }' | tr '\n' ' '; }
row() { # row RUNS LABEL
	echo "| $2 | $(col "$1" 1) | $(col "$1" 7) | $(col "$1" 2) | $(col "$1" 3) | $(col "$1" 4) | $(col "$1" 5) | $(col "$1" 6) | $(allruns "$1") |"
}
{
	echo "# Hot path at $S series: this tree against $BASE"
	echo
	echo "Written by \`bench/hotpath.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "This tree: $HEAD_REV; base: $BASE ($BASE_REV), built from \`git archive\`."
	echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared: read ratios and medians)."
	echo
	echo "bench/loadgen.c, Graphite plaintext over 4 connections, $S series, $N"
	echo "samples flat out ($PER per series: 4 learn the step, then all are stepped),"
	echo "statecastd with the store on (a fresh database each run). $REPS reps,"
	echo "interleaved. samples/s = loadgen's (every sample stepped, as in"
	echo "bench/perf.sh); drained = from the first sample until the store had"
	echo "committed every row (loadgen --drain: stats store_queued_rows 0)."
	echo "CPU = utime + stime per sample over that same span: the whole"
	echo "daemon, then its three busiest threads (loop thread, store writer and"
	echo "compute-pool helper, in whichever order they ranked in that run)."
	echo "Written = bytes the daemon wrote per sample over the same span (wchar:"
	echo "the WAL and the checkpoints into the database). Medians; samples/s of"
	echo "every run last."
	echo
	echo "## 1. This tree against $BASE"
	echo
	echo "| run | samples/s | drained samples/s | CPU us/sample | busiest thread | 2nd | 3rd | written B/sample | samples/s, every run |"
	echo "|---|---|---|---|---|---|---|---|---|"
	row "${res[base:def]}" "$BASE, default model"
	row "${res[head:def]}" "this tree, default model"
	row "${res[base:min]}" "$BASE, minimal model"
	row "${res[head:min]}" "this tree, minimal model"
	echo
	echo "Default model, this tree / $BASE: samples/s $(ratio "$(col "${res[head:def]}" 1)" "$(col "${res[base:def]}" 1)"), drained samples/s $(ratio "$(col "${res[head:def]}" 7)" "$(col "${res[base:def]}" 7)"), written bytes per sample $(ratio "$(col "${res[head:def]}" 6)" "$(col "${res[base:def]}" 6)"), CPU per sample $(ratio "$(col "${res[head:def]}" 2)" "$(col "${res[base:def]}" 2)")."
	echo "Minimal model, this tree / $BASE: samples/s $(ratio "$(col "${res[head:min]}" 1)" "$(col "${res[base:min]}" 1)"), CPU per sample $(ratio "$(col "${res[head:min]}" 2)" "$(col "${res[base:min]}" 2)")."
	echo
	echo "## 2. The store's settings (this tree, default model)"
	echo
	echo "$OPT_REPS reps, interleaved."
	echo
	echo "| settings | samples/s | drained samples/s | CPU us/sample | busiest thread | 2nd | 3rd | written B/sample | samples/s, every run |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for i in "${!OPTS[@]}"; do
		row "${opt[$i]}" "${OPTS[$i]:-defaults ($(build/statecastd --print-config 2>/dev/null | awk '/^commit_ms|^forecast_every_s/ { printf "%s%s=%s", (n++ ? ", " : ""), $1, $3 }'))}"
	done
	if [ "$BIG" -gt 0 ]; then
		echo
		echo "## 3. $BIG series flat out (default model, one run per tree)"
		echo
		echo "loadgen sends $((BIG * 6)) samples (6 per series) flat out; the rate is"
		echo "the daemon's \`stepped\` counter over the window from 60 s to 180 s"
		echo "after the start (the base does not finish in a bench's time). Held ="
		echo "times the store's queue passed store.max_queue and stopped Graphite"
		echo "reads (log lines). CPU = cores the daemon used over the window."
		echo
		echo "Thread states = the daemon's threads sampled once a second over the"
		echo "window (/proc/PID/task/*/stat): R running or waiting for a core, D"
		echo "waiting on the disk, S sleeping."
		echo
		echo "| run | samples/s, 60-180 s | stepped at 180 s | held | CPU (cores) | RSS at 180 s (KiB) | thread states |"
		echo "|---|---|---|---|---|---|---|"
		set -- $BIGB; echo "| $BASE | $1 | $2 | $3 | $4 | $5 | ${6:-} |"
		set -- $BIGH; echo "| this tree | $1 | $2 | $3 | $4 | $5 | ${6:-} |"
		echo
		echo "This tree / $BASE: $(ratio "${BIGH%% *}" "${BIGB%% *}")."
	fi
} >"$OUT"
echo "hotpath: wrote $OUT"
