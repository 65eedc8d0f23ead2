#!/bin/bash
# bench/drain_tail.sh: what the store writer does between loadgen's last
# sample and "drained" (loadgen --drain: no row left waiting for its
# COMMIT), and whether that tail is a constant or grows with the run.
#
#   bench/drain_tail.sh [--build DIR] [--series S] [--per "P1 P2 ..."]
#                       [--reps N] [-o OPT]... [--case NAME=OPTS]...
#                       [--peer NAME=DIR]... [--out FILE]
#
# Per rep, per case and per P (interleaved: the order alternates), one
# statecastd of DIR (build by default) on an empty database takes S x P
# samples flat out (loadgen --end now, as bench/ingest.sh) while
# bench/writer_lag.py polls its `stats` and its threads' CPU every 50 ms.
# Reported per run (bench/writer_lag.py --summary): the tail (first poll
# with nothing queued after the poll that saw every sample stepped, minus
# that poll), the rows and MiB queued when the last sample was stepped and
# the writer's scheduling class then, what the writer did in the tail (its
# longest stretch without a commit, the WAL checkpoints it completed, its
# time on a CPU, waiting for one and asleep (I/O: a checkpoint's fsync),
# the bytes it wrote, its commits), and over the run the writer's CPU (and,
# settled, store-wal's: the WAL checkpointer's thread, and the process's),
# the share of polls it
# ran raised (SCHED_BATCH: its queue passed a quarter of store.max_queue)
# and the largest queue. -o passes daemon options to every run
# (repeatable); each --case NAME="OPT OPT ..." adds a case run with those
# options too, beside the case "default" (same run, interleaved: a writer
# policy's A/B); each --peer NAME=DIR a case run by the build in DIR (a
# base's, e.g. /tmp/base-REV/build). The polls' own cost (a stats request every 50 ms) is the
# same in every run.
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
BUILD=build
S=20000
PERS="30 120"
REPS=3
OUT=bench/results/drain_tail.md
OPTS=()
CASES=()
PEERS=()
. bench/lib.sh
parse_args "usage: bench/drain_tail.sh [--build DIR] [--series S] [--per \"P1 P2 ...\"] [--reps N] [-o OPT]... [--case NAME=OPTS]... [--peer NAME=DIR]... [--out FILE]" \
	--build=BUILD --series=S --per=PERS --reps=REPS -o+=OPTS --case+=CASES --peer+=PEERS --out=OUT -- "$@"
bench_workdir drain_tail
LG=$BUILD/bench/loadgen
[ -x "$LG" ] && [ -x "$BUILD/statecastd" ] || { echo "drain_tail: build $BUILD/statecastd and $BUILD/bench/loadgen first" >&2; exit 1; }
declare -A COPTS CBUILD
NAMES=default
COPTS[default]="" CBUILD[default]=$BUILD
for c in ${CASES[@]+"${CASES[@]}"}; do
	NAMES="$NAMES ${c%%=*}"
	COPTS[${c%%=*}]=${c#*=} CBUILD[${c%%=*}]=$BUILD
done
for c in ${PEERS[@]+"${PEERS[@]}"}; do
	NAMES="$NAMES ${c%%=*}"
	COPTS[${c%%=*}]="" CBUILD[${c%%=*}]=${c#*=}
	[ -x "${c#*=}/statecastd" ] || { echo "drain_tail: no ${c#*=}/statecastd" >&2; exit 1; }
done

# run CASE P REP: one run; appends "CASE P REP loadgen's figures, the
# summary" to $W/runs.
run() {
	local cs=$1 per=$2 rep=$3 n=$(($2 * S)) d=$W/r$2-$3 pp out o
	local -a dopts=()
	for o in ${OPTS[@]+"${OPTS[@]}"} ${COPTS[$cs]}; do dopts+=(-o "$o"); done
	mkdir -p "$d"
	daemon_start "${CBUILD[$cs]}/statecastd" "$d/db" "$d/log" -o model.path=models/default.model ${dopts[@]+"${dopts[@]}"} ||
		{ echo "drain_tail: statecastd did not start (see $d/log)" >&2; exit 1; }
	/usr/bin/python3 bench/writer_lag.py "$PID" "$R" "$d/lag.tsv" 0.05 "$d/stop" &
	pp=$!; echo "$pp" >>"$W/pids"
	sleep 0.3
	out=$($LG --graphite 127.0.0.1:$G --series "$S" --count "$n" --end now --until-rpc 127.0.0.1:$R --drain || true)
	# Polled on for 2 s: a checkpoint left until after the drain is in
	# the writer's CPU "settled".
	sleep 2
	touch "$d/stop"; wait "$pp" || true
	kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true
	echo "case=$cs per=$per rep=$rep rate=$(field rate "$out") drained_rate=$(field drained_rate "$out") lg_tail_s=$(awk -v a="$(field drained_s "$out")" -v b="$(field done_s "$out")" 'BEGIN { printf "%.3f", a - b }') $(/usr/bin/python3 bench/writer_lag.py --summary "$d/lag.tsv" "$n")" | tee -a "$W/runs"
	[ -z "${BENCH_KEEP_LAG:-}" ] || cp "$d/lag.tsv" "$BENCH_KEEP_LAG/lag-$cs-p$per-r$rep.tsv"
	rm -rf "$d"
}
# rev WORDS: the words in reverse order (even reps).
rev() { echo "$1" | tr ' ' '\n' | tac | tr '\n' ' '; }
for rep in $(seq "$REPS"); do
	pers=$PERS names=$NAMES
	[ $((rep % 2)) = 1 ] || { pers=$(rev "$PERS"); names=$(rev "$NAMES"); }
	for per in $pers; do
		for cs in $names; do run "$cs" "$per" "$rep"; done
	done
done

# med CASE P KEY: the median of KEY over the runs of CASE at P.
med() { grep "^case=$1 per=$2 " "$W/runs" | tr ' ' '\n' | sed -n "s/^$3=//p" | median; }
{
	echo "# drain_tail: $(git rev-parse --short HEAD) ($BUILD), $S series"
	echo
	echo "Command: \`bench/drain_tail.sh $ARGS\`"
	echo "Machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	for c in $NAMES; do echo "- case $c: ${CBUILD[$c]} ($(git -C "${CBUILD[$c]}/.." rev-parse --short HEAD 2>/dev/null || echo "?")), options: ${OPTS[*]+${OPTS[*]}} ${COPTS[$c]:-(none)}"; done
	echo
	echo "| case | samples a series | runs | stepped/s | until drained/s | tail s (polls) | tail s (loadgen) | queued at the last step: rows | MiB | longest commit stall in the tail s | checkpoints in the tail | writer on CPU / runqueue / asleep in the tail s | writer MiB in the tail | commits in the tail | writer CPU over the run s | writer CPU settled s | store-wal CPU settled s | writer + store-wal CPU settled s | process CPU settled s | writer MiB settled | checkpoints settled | store-wal passes settled | WAL file MiB, largest | run s | raised share | largest queue MiB |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for c in $NAMES; do
		for p in $PERS; do
			echo "| $c | $p | $(grep -c "^case=$c per=$p " "$W/runs") | $(med "$c" "$p" rate) | $(med "$c" "$p" drained_rate) | $(med "$c" "$p" tail_s) | $(med "$c" "$p" lg_tail_s) | $(med "$c" "$p" queued_rows_at_done) | $(med "$c" "$p" queued_mib_at_done) | $(med "$c" "$p" commit_stall_tail_s) | $(med "$c" "$p" checkpoints_tail) | $(med "$c" "$p" writer_run_tail_s) / $(med "$c" "$p" writer_runq_tail_s) / $(med "$c" "$p" writer_sleep_tail_s) | $(med "$c" "$p" writer_mib_tail) | $(med "$c" "$p" commits_tail) | $(med "$c" "$p" writer_cpu_run_s) | $(med "$c" "$p" writer_cpu_settled_s) | $(med "$c" "$p" wal_cpu_settled_s) | $(med "$c" "$p" store_cpu_settled_s) | $(med "$c" "$p" all_cpu_settled_s) | $(med "$c" "$p" writer_mib_settled) | $(med "$c" "$p" checkpoints_settled) | $(med "$c" "$p" wal_passes_settled) | $(med "$c" "$p" wal_mib_max) | $(med "$c" "$p" run_s) | $(med "$c" "$p" raised_share) | $(med "$c" "$p" max_queued_mib) |"
		done
	done
	echo
	echo "Medians; every run:"
	echo
	sed 's/^/    /' "$W/runs"
} >"$OUT"
cat "$OUT"
