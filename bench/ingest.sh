#!/bin/bash
# bench/ingest.sh: statecastd's ingest and store cost, this tree against a
# base revision (main by default) in the same run, with carbon-c-relay on the
# same input as the peer. Writes bench/results/ingest.md.
#
#   bench/ingest.sh [--base REV] [--base-dir DIR] [--reps N] [--series S]
#                   [--per P] [--t0 T] [--out FILE]
#
# Per rep, interleaved (the order of base and this tree alternates): the
# relay, then statecastd of each tree with the minimal model and with the
# default model, persistence on, S series flat out, P samples each (6 by
# default; bench/loadgen.c, as bench/perf.sh does). Reported: medians of samples/s (stepped, and until
# the store has committed every row: loadgen --drain) and of the daemon's
# CPU per sample (utime + stime of every thread from the first sample until
# the store drained, /proc), and every run. Then, once per tree, `perf
# record` of every thread during a minimal-model run at S series and a
# default-model run at 1k series, until the store drained, split into
# parse / step / store by bench/cpu_split.py.
#
# Timestamps: every run's last sample is stamped a moment before the wall
# clock (loadgen --end now), as a live feed's are; until session 15 they
# started at 1.7e9, three years back, and the store writer deleted every
# forecast a run stored as out of retention (bench/results/wal15.md
# section 0). --t0 T stamps from T instead (--t0 1700000000: the earlier
# runs). The rows retention deleted in each run (stats
# store_retention_deleted, n/a for a build without it) are reported.
#
# The base is exported with `git archive` and built in a temporary
# directory (or --base-dir names a tree already built).
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
BASE=main
BASE_DIR=""
REPS=3
S=100000
PER=6
T0=""
OUT=bench/results/ingest.md
. bench/lib.sh
parse_args "usage: bench/ingest.sh [--base REV] [--base-dir DIR] [--reps N] [--series S] [--per P] [--t0 T] [--out FILE]" \
	--base=BASE --base-dir=BASE_DIR --reps=REPS --series=S --per=PER --t0=T0 --out=OUT -- "$@"
TS=(--end now)
[ -z "$T0" ] || TS=(--t0 "$T0")
need_tools carbon-c-relay perf
bench_workdir ingest

make -s -j2 all build/bench/loadgen
base_tree ingest
LG=build/bench/loadgen
N=$((S * PER))
MIN_MODEL=$W/min.model
min_model build "$MIN_MODEL"

# sd BUILD MODEL SERIES COUNT [PERF_OUT]: one statecastd run on a fresh
# store; prints "RATE DRAINED_RATE CPU_US_PER_SAMPLE RETENTION_DELETED" (perf records it when
# PERF_OUT); the CPU and the profile run until the store has drained.
sd() {
	local b=$1 model=$2 series=$3 count=$4 perf_out=${5:-} g r pid pp c0 c1 out
	rm -rf "$W/sd"; mkdir -p "$W/sd"
	daemon_start "$b/statecastd" "$W/sd/db" "$W/sd/log" -o model.path="$model" ||
		{ echo "ingest: statecastd did not start (see $W/sd/log)" >&2; return 1; }
	pid=$PID; g=$G; r=$R; PIDS="$PIDS $pid"
	if [ -n "$perf_out" ]; then
		perf record -q -F 999 -e cpu-clock -p "$pid" -o "$perf_out" >/dev/null 2>&1 &
		pp=$!; sleep 0.5
	fi
	c0=$(cpu_ticks "$pid")
	out=$($LG --graphite 127.0.0.1:$g --series "$series" --count "$count" "${TS[@]}" --until-rpc 127.0.0.1:$r --drain || true)
	c1=$(cpu_ticks "$pid")
	del=$("$b/statecast" stats --json --rpc 127.0.0.1:$r 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("store_retention_deleted", "n/a"))' 2>/dev/null || echo n/a)
	if [ -n "$perf_out" ]; then
		kill -INT "$pp" 2>/dev/null; wait "$pp" 2>/dev/null || true
		SPLIT=$(/usr/bin/python3 bench/cpu_split.py "$perf_out" 999 "$count" "$pid" "$b" || true)
	fi
	kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
	awk -v r="$(field rate "$out")" -v d="$(field drained_rate "$out")" -v c="$((c1 - c0))" \
		-v hz="$(getconf CLK_TCK)" -v n="$count" -v x="$del" \
		'BEGIN { printf "%s %s %.2f %s\n", (r == "" ? "n/a" : r), (d == "" || d == "nan" ? "n/a" : d), c / hz / n * 1e6, x }'
}

relay_run() {
	local out
	relay_start; PIDS="$PIDS $RELAY_PID"
	out=$($LG --graphite 127.0.0.1:$RELAY_PORT --series "$S" --count "$N" "${TS[@]}" --until-sink "$RELAY_SINK" || true)
	kill "$RELAY_PID" 2>/dev/null; wait "$RELAY_PID" 2>/dev/null || true
	r=$(field rate "$out"); echo "${r:-n/a}"
}

relay=""
declare -A rate cpu
declare -A drained deleted
for k in base:min head:min base:def head:def; do rate[$k]=""; drained[$k]=""; cpu[$k]=""; deleted[$k]=""; done
for rep in $(seq "$REPS"); do
	echo "ingest: rep $rep of $REPS"
	relay="$relay $(relay_run)"
	order=$(ab_order "$rep" base head)
	for m in min def; do
		model=$MIN_MODEL
		[ $m = def ] && model=models/default.model
		for t in $order; do
			b=build
			[ $t = base ] && b=$BASE_DIR/build
			set -- $(sd "$b" "$model" "$S" "$N")
			rate[$t:$m]="${rate[$t:$m]} $1"; drained[$t:$m]="${drained[$t:$m]} $2"
			cpu[$t:$m]="${cpu[$t:$m]} $3"; deleted[$t:$m]="${deleted[$t:$m]} $4"
		done
	done
done

# CPU split, once per tree: minimal model at S series, default at 1k.
declare -A split
for t in base head; do
	b=build
	[ $t = base ] && b=$BASE_DIR/build
	SPLIT=""
	sd "$b" "$MIN_MODEL" "$S" "$N" "$W/perf.data" >/dev/null
	split[$t:min]=$SPLIT
	SPLIT=""
	sd "$b" models/default.model 1000 200000 "$W/perf.data" >/dev/null
	split[$t:def]=$SPLIT
done

mr=$(echo "$relay" | median)
row() { # row TREE MODEL LABEL
	local k=$1:$2 r d c
	r=$(echo "${rate[$k]}" | median); c=$(echo "${cpu[$k]}" | median)
	d=$(echo "${drained[$k]}" | median)
	echo "| $3 | $r | ${rate[$k]} | $(ratio "$r" "$mr") | $d | ${drained[$k]} | $c | ${cpu[$k]} |"
}
srow() { # srow TREE MODEL LABEL
	local x=${split[$1:$2]}
	echo "| $3 | $(field cpu_parse_us "$x") | $(field cpu_step_us "$x") | $(field cpu_store_us "$x") | $(field cpu_total_us "$x") |"
}
{
	echo "# Ingest and store cost: this tree against $BASE"
	echo
	echo "Written by \`bench/ingest.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "This tree: $HEAD_REV; base: $BASE ($BASE_REV), built from \`git archive\`."
	echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared: read ratios and medians)."
	echo "Peer: carbon-c-relay $(dpkg-query -W -f='${Version}' carbon-c-relay) into loadgen's discarding sink, same input, same run."
	echo
	echo "## Samples/s and CPU per sample, $S series, $N samples flat out"
	echo
	echo "bench/loadgen.c, Graphite plaintext over 4 connections, one sample per"
	echo "series per round; statecastd with persistence on (a fresh store each run),"
	echo "default settings. $REPS reps, interleaved (the tree that goes first alternates)."
	echo "samples/s = stepped (loadgen's rate); until drained = from the first sample"
	echo "until the store had committed every row (stats: store_queued_rows 0)."
	echo "CPU = utime + stime of the daemon's every thread over that same span, per sample."
	echo "Timestamps: loadgen ${TS[*]} (60 s step)."
	echo
	echo "| run | samples/s (median) | runs | / relay | until drained (median) | runs | CPU us/sample (median) | runs |"
	echo "|---|---|---|---|---|---|---|---|"
	echo "| carbon-c-relay | $mr | $relay | 1.000 | | | | |"
	row base min "statecastd $BASE, minimal model"
	row head min "statecastd this tree, minimal model"
	row base def "statecastd $BASE, default model"
	row head def "statecastd this tree, default model"
	echo
	echo "Minimal model, this tree / $BASE: samples/s $(ratio "$(echo "${rate[head:min]}" | median)" "$(echo "${rate[base:min]}" | median)"), CPU per sample $(ratio "$(echo "${cpu[head:min]}" | median)" "$(echo "${cpu[base:min]}" | median)")."
	echo "Rows deleted by retention (stats store_retention_deleted) in each run:" \
		"$(for k in base:min head:min base:def head:def; do printf '%s%s;' "$k" "${deleted[$k]}"; done)"
	echo
	echo "Default model, this tree / $BASE: samples/s $(ratio "$(echo "${rate[head:def]}" | median)" "$(echo "${rate[base:def]}" | median)"), until drained $(ratio "$(echo "${drained[head:def]}" | median)" "$(echo "${drained[base:def]}" | median)"), CPU per sample $(ratio "$(echo "${cpu[head:def]}" | median)" "$(echo "${cpu[base:def]}" | median)")."
	echo
	echo "## CPU per sample split: parse, step, store (us)"
	echo
	echo "One run per tree and case, \`perf record -F 999 -e cpu-clock\` of every"
	echo "thread until the store drained, classified by bench/cpu_split.py (store = SQLite, io/store*,"
	echo "daemon/persist and the writer thread). Minimal model: $S series, $N"
	echo "samples; default model: 1000 series, 200000 samples (as bench/perf.sh)."
	echo
	echo "| run | parse | step | store | total |"
	echo "|---|---|---|---|---|"
	srow base min "$BASE, minimal model, $S series"
	srow head min "this tree, minimal model, $S series"
	srow base def "$BASE, default model, 1000 series"
	srow head def "this tree, default model, 1000 series"
} >"$OUT"
echo "ingest: wrote $OUT"
