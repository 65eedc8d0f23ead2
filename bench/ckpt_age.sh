#!/bin/bash
# bench/ckpt_age.sh: how old a checkpoint's records are when a crash comes,
# under a steady ingest: this build against a base build (main's by
# default), same run, interleaved. A crash restart replays every sample
# after its series' record (docs/STATE_DUMP.md), so the records' age is
# what the replay after a kill -9 scales with.
#
#   bench/ckpt_age.sh [--series S] [--rate R] [--secs D] [--ckpt P]
#                     [--reps N] [--base DIR] [--out FILE]
#
# Each run: a fresh database, S series fed R samples/s for D seconds with
# store.checkpoint_s=P, then SIGTERM. From the daemon's log: every
# generation's time from its begin to its record (write over about P,
# then the fsync and the record), and the CPU of the daemon. A generation
# begins once the previous one is recorded and P has passed since its
# begin, so a series' record is, at a crash, on average about
# 1.5 x (begin to record) - P/2 old (the cycle is the begin-to-record
# time; the slot is written at a uniform point of the first P of it).
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
S=200000
RATE=20000
D=120
P=20
REPS=2
BASE=main
BASE_DIR=""
OUT=bench/results/ckpt_age.md
. bench/lib.sh
parse_args "usage: bench/ckpt_age.sh [--series S] [--rate R] [--secs D] [--ckpt P] [--reps N] [--base DIR] [--out FILE]" \
	--series=S --rate=RATE --secs=D --ckpt=P --reps=REPS --base=BASE_DIR --out=OUT -- "$@"
make -s -j2 all build/bench/loadgen
bench_workdir ckage KILL
base_tree ckpt_age
A="$BASE_DIR/build/statecastd"
B=build/statecastd
: >"$W/runs"
# run WHO I: run I of build WHO (A or B); A then B at every rep.
run() {
	local who=$1 i=$2
	bin=${!who}
	rm -f "$W"/db*
	log="$W/$who.$i.log"
	daemon_start "$bin" "$W/db" "$log" -o store.checkpoint_s="$P"
	build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" \
		--duration "$D" --rate "$RATE" >"$W/$who.$i.loadgen" || true
	cpu=$(awk -v hz="$(getconf CLK_TCK)" -v t="$(cpu_ticks "$PID")" 'BEGIN { printf "%.1f", t / hz }')
	kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
	# Generations of every series (the first ones, written while
	# the series were still being created, hold fewer).
	rec=$(grep -o "checkpoint [0-9a-f]* of $S series recorded in [0-9.]* s" "$log" |
		awk '{ print $NF == "s" ? $(NF - 1) : $NF }' | tr '\n' ' ')
	echo "$who $i $cpu $rec" | tee -a "$W/runs"
}
ab_loop --fixed "$REPS" run
med() { awk -v w="$1" '$1 == w { for (i = 4; i <= NF; i++) print $i }' "$W/runs" | median; }
cpum() { awk -v w="$1" '$1 == w { print $3 }' "$W/runs" | median; }
ga=$(med A); gb=$(med B)
age() { awk -v g="$1" -v p="$P" 'BEGIN { if (g + 0 > 0) printf "%.1f", 1.5 * g - p / 2; else print "n/a" }'; }
{
	echo "# Checkpoint records' age under ingest: this build against main"
	echo
	echo "Written by \`bench/ckpt_age.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "This build: $HEAD_REV; base (A): $BASE_REV. Machine: $(nproc) cores, $(free -g | awk '/^Mem/ {print $2}') GiB,"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared)."
	echo
	echo "$S series fed $RATE samples/s for $D s, store.checkpoint_s=$P, $REPS runs of each"
	echo "build interleaved; every generation of all $S series in the daemon's log."
	echo
	echo "| quantity | A: main | B: this build | B / A |"
	echo "|---|---|---|---|"
	echo "| generation, begin to record, median (s) | $ga | $gb | $(ratio "$gb" "$ga") |"
	echo "| records' mean age at a crash, 1.5 x that - P/2 (s) | $(age "$ga") | $(age "$gb") | $(ratio "$(age "$gb")" "$(age "$ga")") |"
	echo "| samples replayed after a crash at this rate, mean | $(awk -v a="$(age "$ga")" -v r="$RATE" 'BEGIN { printf "%.0f", a * r }') | $(awk -v a="$(age "$gb")" -v r="$RATE" 'BEGIN { printf "%.0f", a * r }') | |"
	echo "| daemon CPU over the run, median (s) | $(cpum A) | $(cpum B) | $(ratio "$(cpum B)" "$(cpum A)") |"
	echo
	echo "Every run (build, run, CPU s, begin-to-record s of each full generation):"
	echo
	echo '```'
	cat "$W/runs"
	echo '```'
} >"$OUT"
echo "ckpt_age: wrote $OUT"
