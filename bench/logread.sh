#!/bin/bash
# bench/logread.sh: what the sample log's cap (store.log_max_samples) costs
# the read paths at S series, the log near each cap's full, same build,
# same run. Writes bench/results/log17-read.md (--out).
#
#   bench/logread.sh [--series S] [--per P] [--reps R] [--reads N]
#                    [--pages K] [--cap-a C] [--cap-b C] [--rate X]
#                    [--out FILE]
#
# Defaults: 100000 series x 78 samples (60 s step, ending a step before the
# wall clock: inside retention, nothing deleted), caps 4000000 (A: before
# session 16) and 8388608 (B: the default), 3 reps, 200 reads, 20 pages.
#
# Seeding, once per cap: this tree's statecastd with -o
# store.log_max_samples=C on a new database takes loadgen's S x P samples
# (paced at X/s, 150000 by default), its store drained and any compaction
# round in flight finished (stats' store_compacting false), then SIGTERM.
# At 100k series a round starts at the cap or at 16384 log rows
# (docs/ARCHITECTURE.md): B's ~8.2M, A's 4M, so 78 a series leaves B's log
# with everything (7.8M, no round yet) and A's with what followed its one
# round (3.8M); both near full, as a daemon's log is just before a round.
# The log of each (rows, samples) is read with sqlite3 and reported.
# Then R reps, A and B interleaved (ab_loop): the daemon restarted on its
# database (same cap, listen.http on) and bench/logread.py times the read
# paths: `history` over msgpack-RPC, the full range and the last 30
# samples of N series spread over the ids, and K fetches of the HTTP
# status page (http.status_series sparklines, each a read of the store);
# wall medians and the daemon's CPU a call (every thread, /proc), the CPU
# being what the shared machine's load does not inflate. Medians of the
# reps' figures.
set -eu
cd "$(dirname "$0")/.."
ARGS=""
[ $# -gt 0 ] && ARGS=$(printf "%q " "$@") && ARGS=${ARGS% }
S=100000
P=78
REPS=3
READS=200
PAGES=20
CAP_A=4000000
CAP_B=8388608
RATE=150000
OUT=bench/results/log17-read.md
. bench/lib.sh
parse_args "usage: bench/logread.sh [--series S] [--per P] [--reps R] [--reads N] [--pages K] [--cap-a C] [--cap-b C] [--rate X] [--out FILE]" \
	--series=S --per=P --reps=REPS --reads=READS --pages=PAGES \
	--cap-a=CAP_A --cap-b=CAP_B --rate=RATE --out=OUT -- "$@"
need_tools sqlite3
make -s -j2 all build/bench/loadgen
bench_workdir logread
BIN=build/statecastd
T0=$(t0_before_now $((P + 1)) 60)

# compacting PORT: stats' store_compacting (True/False).
compacting() {
	build/statecast stats --json --rpc 127.0.0.1:$1 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("store_compacting", False))' 2>/dev/null || echo False
}

declare -A CAP=([A]=$CAP_A [B]=$CAP_B) LOGSHAPE
for who in A B; do
	db="$W/$who.db"
	daemon_start "$BIN" "$db" "$W/$who.seed.log" -o store.log_max_samples="${CAP[$who]}"
	build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" \
		--count $((S * P)) --t0 "$T0" --rate "$RATE" --until-rpc 127.0.0.1:$R \
		>"$W/$who.loadgen" || true
	drained build/statecast "$R" 600 || true
	for _ in $(seq 3000); do [ "$(compacting "$R")" = False ] && break; sleep 0.2; done
	kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
	LOGSHAPE[$who]=$(sqlite3 "$db" 'SELECT count(*) || " rows, " || coalesce(sum(n), 0) || " samples" FROM sample_log')
	echo "logread: $who seeded: log ${LOGSHAPE[$who]}, $(du -sh "$db" | cut -f1)"
done

: >"$W/reads"
read_rep() {
	local who=$1 rep=$2 log="$W/$1.read.$2.log" hp
	daemon_start "$BIN" "$W/$who.db" "$log" -o store.log_max_samples="${CAP[$who]}" \
		-o listen.http=127.0.0.1:0
	hp=$(listen_port "$log" 0 http)
	/usr/bin/python3 bench/logread.py "$R" "$hp" "$PID" "$S" "$READS" "$PAGES" |
		sed "s/^/$who $rep /" | tee -a "$W/reads"
	kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}
ab_loop "$REPS" read_rep

# med WHO PATH FIELD: the median over reps of FIELD of WHO's PATH lines.
med() { awk -v w="$1" -v p="$2" '$1 == w && $3 == p' "$W/reads" | tr ' ' '\n' | sed -n "s/^$3=//p" | median; }
{
	echo "# The sample log's cap and the read paths at $S series"
	echo
	echo "Written by \`bench/logread.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC'), this tree $(head_rev)."
	echo "Machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared)."
	echo
	echo "The same build with store.log_max_samples A = $CAP_A, B = $CAP_B; each"
	echo "database $S series x $P samples (t0 $T0, 60 s step, inside retention),"
	echo "seeded by the build with its cap, then stopped cleanly. The log at the reads:"
	echo
	echo "- A: ${LOGSHAPE[A]}"
	echo "- B: ${LOGSHAPE[B]}"
	echo
	echo "Medians of $REPS reps (each: $READS series, $PAGES status pages); wall ms a call"
	echo "(median over the rep's calls, and its 90th percentile), the daemon's CPU ms a call:"
	echo
	echo "| path | A wall ms | B wall ms | B/A | A p90 ms | B p90 ms | A CPU ms | B CPU ms | B/A CPU |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for p in full recent page; do
		wa=$(med A $p wall_ms) wb=$(med B $p wall_ms)
		ca=$(med A $p cpu_ms) cb=$(med B $p cpu_ms)
		echo "| $p | $wa | $wb | $(ratio "$wb" "$wa") | $(med A $p p90_ms) | $(med B $p p90_ms) | $ca | $cb | $(ratio "$cb" "$ca") |"
	done
	echo
	echo "(full: \`history\` of the whole range, $P points; recent: its last 30 samples;"
	echo "page: the HTTP status page \`/\`.) Every rep:"
	echo
	echo '```'
	cat "$W/reads"
	echo '```'
} >"$OUT"
echo "logread: wrote $OUT"
