#!/bin/bash
# bench/readlat.sh: sample -> pushed forecast latency at 50,000 samples/s
# while an operator and a dashboard read the daemon (status page, /metrics,
# `history` polls), at S series with the sample log near its cap: this
# tree against a peer build, same run, interleaved. Writes
# bench/results/read18-lat.md (--out).
#
#   bench/readlat.sh [--peer BUILD_DIR] [--reps N] [--series S] [--per P]
#                    [--duration SEC] [--page-s X] [--metrics-s X]
#                    [--hist-s X] [--nseries N] [--no-control]
#                    [--seed DB] [--out FILE]
#
# Defaults: peer /tmp/base-c4598dc/build, 3 reps, 100000 series x 78
# samples seeded (as bench/logread.sh: 60 s step ending a step before the
# wall clock, paced at 150000/s, the peer's daemon at the default
# store.log_max_samples, drained, no compaction round in flight, then
# SIGTERM: the log holds ~7.8M samples, near its 8M cap). The peer seeds
# it so that both can open it: a database this tree wrote (schema 8) is
# newer than main's program, which refuses it. --seed DB reuses
# such a database (it is copied, never changed), or seeds it there and
# keeps it when it does not exist (delete it when done: ~1 GB).
#
# A run (FN WHO REP, A = the peer, B = this tree; ab_loop's alternating
# order): a copy of the seed, the daemon on it with default model and
# store and listen.http on; 1000 series lat.* primed with 5 samples each
# (bench/latency.sh's 50k/s run: loadgen's 1.7e9 stamps, a subscriber on
# 16 series); then loadgen paced at 50,000/s for SEC seconds (30) while
# bench/readload.py reads on a schedule: the status page `/` every X s
# (10), /metrics every X s (15), and every X s (5) a poll of `history`,
# the last 30 samples of N series (50) of the seeded ones. Reported: p99
# and p99.9 at the socket (issue 9's ruler, bench/latency.sh's header),
# p50, whether p99 is over 2 ms, the loop thread's CPU over the run, and
# the reads' own wall times. Unless --no-control, every rep also runs
# each build without the reads (A0, B0): the same run's floor.
# Any daemon, loadgen or reader this script starts is stopped by PID.
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
PEER=/tmp/base-c4598dc/build
REPS=3
S=100000
P=78
DUR=30
PAGE_S=10
METRICS_S=15
HIST_S=5
NSER=50
NOCTL=""
SEED=""
RATE=50000
OUT=bench/results/read18-lat.md
. bench/lib.sh
parse_args "usage: bench/readlat.sh [--peer BUILD] [--reps N] [--series S] [--per P] [--duration SEC] [--page-s X] [--metrics-s X] [--hist-s X] [--nseries N] [--no-control] [--seed DB] [--out FILE]" \
	--peer=PEER --reps=REPS --series=S --per=P --duration=DUR --page-s=PAGE_S \
	--metrics-s=METRICS_S --hist-s=HIST_S --nseries=NSER --no-control:NOCTL=1 \
	--seed=SEED --out=OUT -- "$@"
need_tools sqlite3
make -s -j2 all build/bench/loadgen
[ -x "$PEER/statecastd" ] || { echo "readlat: no $PEER/statecastd" >&2; exit 2; }
bench_workdir readlat
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

if [ -z "$SEED" ] || [ ! -e "$SEED" ]; then
	SEED=${SEED:-$W/seed.db}
	T0=$(t0_before_now $((P + 1)) 60)
	daemon_start "$PEER/statecastd" "$SEED" "$W/seed.log" -o model.path=models/default.model
	build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" \
		--count $((S * P)) --t0 "$T0" --rate 150000 --until-rpc 127.0.0.1:$R \
		>"$W/seed.loadgen" || true
	drained build/statecast "$R" 600 || true
	for _ in $(seq 3000); do
		build/statecast stats --json --rpc 127.0.0.1:$R 2>/dev/null |
			/usr/bin/python3 -c 'import json,sys; sys.exit(0 if not json.load(sys.stdin).get("store_compacting") else 1)' && break
		sleep 0.2
	done
	kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
fi
LOGSHAPE=$(sqlite3 "$SEED" 'SELECT count(*) || " rows, " || coalesce(sum(n), 0) || " samples" FROM sample_log')
echo "readlat: seed $SEED: log $LOGSHAPE, $(du -sh "$SEED" | cut -f1)"

# The loop thread's CPU ticks (tid = pid), and the read thread's
# (store-reader; none in the peer).
loop_ticks() { stat_ticks "/proc/$1/task/$1/stat"; }
reader_ticks() {
	local t n=0 k
	for t in /proc/$1/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = store-reader ] || continue
		k=$(stat_ticks "$t/stat" 2>/dev/null)
		n=$((n + ${k:-0}))
	done
	echo "$n"
}
hz=$(getconf CLK_TCK)

: >"$W/runs"
run() { # WHO REP READS(1/0)
	local who=$1 rep=$2 reads=$3 bin=build/statecastd tag=$1 hp lg rl c0 c1 r0 r1 l
	[ "$who" = A ] && bin=$PEER/statecastd
	[ "$reads" = 0 ] && tag=${who}0
	rm -f "$W/run.db"*
	cp "$SEED" "$W/run.db"
	for x in -wal -shm; do [ -e "$SEED$x" ] && cp "$SEED$x" "$W/run.db$x"; done
	daemon_start "$bin" "$W/run.db" "$W/$tag.$rep.log" -o model.path=models/default.model \
		-o listen.http=127.0.0.1:0
	hp=$(listen_port "$W/$tag.$rep.log" 0 http)
	build/bench/loadgen --graphite 127.0.0.1:$G --series 1000 --count 5000 \
		--t0 1700000000 --prefix lat --latency-series 16 --until-rpc 127.0.0.1:$R >/dev/null ||
		echo "readlat: priming failed" >&2
	rm -f "$W/ready"
	if [ "$reads" = 1 ]; then
		/usr/bin/python3 bench/readload.py "$R" "$hp" "$DUR" "$PAGE_S" "$METRICS_S" \
			"$HIST_S" "$NSER" "$S" "$W/ready" >"$W/rl.out" 2>"$W/rl.err" &
		rl=$!
		PIDS="$PIDS $rl"
		for _ in $(seq 600); do [ -e "$W/ready" ] && break; sleep 0.1; done
	fi
	c0=$(loop_ticks "$PID"); r0=$(reader_ticks "$PID")
	build/bench/loadgen --graphite 127.0.0.1:$G --series 1000 --rate "$RATE" \
		--duration "$DUR" --prefix lat --t0 $((1700000000 + 5 * 60)) \
		--latency-rpc 127.0.0.1:$R --latency-series 16 --until-rpc 127.0.0.1:$R >"$W/lg.out" &
	lg=$!
	PIDS="$PIDS $lg"
	wait "$lg" || echo "readlat: loadgen failed: $(cat "$W/lg.out")" >&2
	[ "$reads" = 1 ] && { wait "$rl" || echo "readlat: readload failed: $(cat "$W/rl.err")" >&2; }
	c1=$(loop_ticks "$PID"); r1=$(reader_ticks "$PID")
	kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
	rm -f "$W/run.db"*
	l=$(cat "$W/lg.out")
	{
		printf '%s %s p50=%s p99=%s p999=%s k_p50=%s k_p99=%s k_p999=%s rate=%s loop_s=%s reader_s=%s load=%s' \
			"$tag" "$rep" "$(field lat_p50_us "$l")" "$(field lat_p99_us "$l")" \
			"$(field lat_p999_us "$l")" "$(field lat_k_p50_us "$l")" \
			"$(field lat_k_p99_us "$l")" "$(field lat_k_p999_us "$l")" "$(field rate "$l")" \
			"$(awk -v c=$((c1 - c0)) -v h="$hz" 'BEGIN { printf "%.2f", c / h }')" \
			"$(awk -v c=$((r1 - r0)) -v h="$hz" 'BEGIN { printf "%.2f", c / h }')" \
			"$(cut -d' ' -f1 /proc/loadavg)"
		if [ "$reads" = 1 ]; then
			awk '{ k = $1; for (i = 2; i <= NF; i++) printf " %s_%s", k, $i }' "$W/rl.out"
		fi
		echo
	} | tee -a "$W/runs"
}
rep_fn() {
	run "$1" "$2" 1
	[ -n "$NOCTL" ] || run "$1" "$2" 0
}
ab_loop "$REPS" rep_fn
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# med TAG FIELD: the median over reps of FIELD of TAG's runs.
med() { awk -v w="$1" '$1 == w' "$W/runs" | tr ' ' '\n' | sed -n "s/^$2=//p" | median; }
# over TAG: how many of TAG's runs had p99 at the socket over 2 ms.
over() { awk -v w="$1" '$1 == w' "$W/runs" | tr ' ' '\n' | sed -n 's/^k_p99=//p' |
	awk '/^[0-9.]+$/ { n++; if ($1 + 0 > 2000) k++ } END { printf "%d of %d", k, n }'; }
{
	echo "# Latency at 50,000 samples/s with reads running, $S series, the log near its cap"
	echo
	echo "Written by \`bench/readlat.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC'), this tree $(head_rev)."
	echo "Machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), shared;"
	echo "load average at the start $LOAD0, at the end $LOAD1."
	echo
	echo "A = the peer ($PEER), B = this tree; A0, B0 the same without the reads."
	echo "Seed: $S series x $P samples, log $LOGSHAPE. Each run: a copy of the seed,"
	echo "1000 lat.* series primed, loadgen at $RATE/s for $DUR s with 16 latency series; reads"
	echo "(bench/readload.py): \`/\` every $PAGE_S s, \`/metrics\` every $METRICS_S s, \`history\` (last 30"
	echo "samples) of $NSER seeded series every $HIST_S s. Medians of $REPS reps; us, at the socket"
	echo "(k_) unless said; loop_s: the loop thread's CPU seconds over the run."
	echo
	echo "| run | p50 | p99 | p99.9 | p99 > 2 ms | p99 (loadgen reader) | loop_s | reader_s |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for t in A B A0 B0; do
		grep -q "^$t " "$W/runs" || continue
		echo "| $t | $(med $t k_p50) | $(med $t k_p99) | $(med $t k_p999) | $(over $t) | $(med $t p99) | $(med $t loop_s) | $(med $t reader_s) |"
	done
	echo
	echo "B/A: p99 at the socket $(ratio "$(med B k_p99)" "$(med A k_p99)"), p99.9 $(ratio "$(med B k_p999)" "$(med A k_p999)"), loop CPU $(ratio "$(med B loop_s)" "$(med A loop_s)")."
	echo
	echo "The reads' own wall times (ms a call, medians over reps of each run's median / p90 / max):"
	echo
	echo "| read | A median | B median | A p90 | B p90 | A max | B max |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for k in page metrics history; do
		echo "| $k | $(med A ${k}_wall_ms) | $(med B ${k}_wall_ms) | $(med A ${k}_p90_ms) | $(med B ${k}_p90_ms) | $(med A ${k}_max_ms) | $(med B ${k}_max_ms) |"
	done
	echo
	echo "Every run:"
	echo
	echo '```'
	cat "$W/runs"
	echo '```'
} >"$OUT.new"
mv "$OUT.new" "$OUT"
echo "readlat: wrote $OUT"
