#!/bin/bash
# bench/periodic_cost.sh: the CPU that writing every series' state once
# costs, this build against a base build, same machine, same run: SQLite
# snapshots (what main writes every store.snapshot_s) and the checkpoint
# file (docs/STATE_DUMP.md, what this build writes every
# store.checkpoint_s). Writes bench/results/periodic_cost.md (--out).
#
#   bash bench/periodic_cost.sh [--series S] [--base DIR] [--reps N] [--out FILE]
#
# Per rep, the builds interleaved, each on a fresh database: S series x 5
# samples paced at 40000/s, the store drained, then quiet until the
# periodic writes of those samples are done. Then the daemon's CPU (utime +
# stime, every thread, /proc) over WINDOW_S seconds (default 60) with
# nothing new (the idle daemon), then one more sample of every series (the
# same for both builds), the store drained, and its CPU over the next
# WINDOW_S: the difference is what writing every moved series' state once
# costs. The periods are shortened so that one write of every series fits
# in the window: base -o store.snapshot_s=20s; this build
# -o store.checkpoint_s=20s -o store.snapshot_s=1d (the checkpoint alone;
# its SQLite snapshots, every 10 min by default, cost what the base's do,
# per snapshot). The cost of one write of a state does not depend on the
# period; the report scales it to the default periods.
# --base DIR: a tree whose build/statecastd is the base (else main is
# archived and built in a temporary directory).
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
S=100000
REPS=2
BASE=main
BASE_DIR=""
OUT=bench/results/periodic_cost.md
WINDOW_S=${WINDOW_S:-60}
. bench/lib.sh
parse_args "usage: bash bench/periodic_cost.sh [--series S] [--base DIR] [--reps N] [--out FILE]" \
	--series=S --reps=REPS --base=BASE_DIR --out=OUT -- "$@"
make -s -j2 all build/bench/loadgen
bench_workdir pcost KILL
base_tree periodic_cost
A="$BASE_DIR/build/statecastd"
B=build/statecastd
OPTS_A="-o store.snapshot_s=20s"
OPTS_B="-o store.checkpoint_s=20s -o store.snapshot_s=1d"

queued() {
	build/statecast stats --json --rpc 127.0.0.1:$R 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("store_queued_rows", 0))' 2>/dev/null || echo 0
}
drain() { for _ in $(seq 1500); do [ "$(queued)" = 0 ] && break; sleep 0.2; done; }
# A checkpoint writer (this build) is quiet once no generation is being
# written; the base once its snapshot period has passed.
quiet() {
	local log=$1 nb ne
	sleep 22
	for _ in $(seq 600); do
		nb=$(grep -c 'checkpoint [0-9a-f]*: writing' "$log" || true)
		ne=$(grep -c -E 'checkpoint [0-9a-f]* (of [0-9]* series recorded|abandoned|not recorded)' "$log" || true)
		[ "$ne" -ge "$nb" ] && break
		sleep 0.2
	done
}
: >"$W/runs"
# run WHO REP: one run of build WHO (A or B), ab_loop's turn.
run() {
	local who=$1 rep=$2
	bin=${!who}
	opts=OPTS_$who
	rm -f "$W/db"*
	log="$W/$who.$rep.log"
	# shellcheck disable=SC2086
	daemon_start "$bin" "$W/db" "$log" ${!opts}
	build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" \
		--count $((S * 5)) --rate 40000 --until-rpc 127.0.0.1:$R >/dev/null || true
	drain
	quiet "$log"
	# The idle daemon first (nothing moved: no snapshot, no
	# generation), then one more sample of every series (every
	# state moves once) and the same window.
	c0=$(cpu_ticks "$PID")
	sleep "$WINDOW_S"
	c1=$(cpu_ticks "$PID")
	build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" \
		--count "$S" --t0 $((1700000000 + 5 * 60)) \
		--until-rpc 127.0.0.1:$R >/dev/null || true
	drain
	c2=$(cpu_ticks "$PID")
	sleep "$WINDOW_S"
	c3=$(cpu_ticks "$PID")
	gens=$(grep -c "checkpoint [0-9a-f]* of $S series recorded" "$log" || true)
	kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
	awk -v w="$who" -v r="$rep" -v a="$c0" -v b="$c1" -v c="$c2" -v d="$c3" -v hz="$(getconf CLK_TCK)" -v g="$gens" \
		'BEGIN { printf "%s %d %.2f %.2f %.2f %d\n", w, r, (d - c) / hz, (b - a) / hz, ((d - c) - (b - a)) / hz, g }' |
		tee -a "$W/runs"
}
ab_loop "$REPS" run
med() { awk -v w="$1" -v c="$2" '$1 == w { print $c }' "$W/runs" | median; }
ca=$(med A 5); cb=$(med B 5)
{
	echo "# CPU of writing every series' state once: SQLite snapshots (main) against the checkpoint file (this build), $S series"
	echo
	echo "Written by \`bash bench/periodic_cost.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "This build (B): $HEAD_REV; base (A): $BASE_REV. Machine: $(nproc) cores, $(free -g | awk '/^Mem/ {print $2}') GiB,"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared)."
	echo
	echo "Each run: a fresh database, $S series x 5 samples at 40000/s, drained, quiet;"
	echo "the daemon's CPU (every thread) over $WINDOW_S s with nothing new; then one sample"
	echo "of every series, drained, and its CPU over the next $WINDOW_S s, minus the idle one."
	echo "A: \`$OPTS_A\` (every moved series snapshotted into SQLite within 20 s);"
	echo "B: \`$OPTS_B\` (one checkpoint generation of every series, no SQLite snapshot)."
	echo
	echo "| quantity | A: main, SQLite snapshots | B: this build, checkpoint | B / A |"
	echo "|---|---|---|---|"
	echo "| CPU s to write every series' state once, median of $REPS | $ca | $cb | $(ratio "$cb" "$ca") |"
	echo "| us of CPU per series written | $(awk -v c="$ca" -v s="$S" 'BEGIN { printf "%.2f", c / s * 1e6 }') | $(awk -v c="$cb" -v s="$S" 'BEGIN { printf "%.2f", c / s * 1e6 }') | |"
	echo
	echo "Every run (build, rep, CPU s in the window after the new samples, CPU s in the idle window before, difference, checkpoint generations of all $S series recorded since start):"
	echo
	echo '```'
	cat "$W/runs"
	echo '```'
} >"$OUT"
echo "periodic_cost: wrote $OUT"
