#!/bin/bash
# bench/logskip.sh: what schema 8's tmax (a sample_log row's newest sample
# time) saves the read paths at S series with the log near its cap: the
# same build and the same database, with every row's tmax (B) and with
# tmax cleared to NULL (A: what a row written before schema 8 is, read as
# every row was before), same run, interleaved. Writes
# bench/results/read18-skip.md (--out).
#
#   bench/logskip.sh [--series S] [--per P] [--reps R] [--reads N]
#                    [--pages K] [--rate X] [--seed DB] [--out FILE]
#
# Defaults as bench/logread.sh: 100000 series x 78 samples (60 s step,
# ending a step before the wall clock), seeded by this tree's daemon at the
# default store.log_max_samples (paced at X/s, 150000), drained, no
# compaction round in flight, SIGTERM: the log ~7.8M samples, no round yet.
# --seed DB reuses such a database written by this tree (schema 8), or
# seeds it there and keeps it. A and B are copies of it (B's tmax kept,
# A's set to NULL with sqlite3). Each rep restarts the daemon on its copy
# (listen.http on) and bench/logread.py times `history` of N series' whole
# range (full), their last 30 samples (recent) and K status pages (page):
# wall ms a call and the daemon's CPU ms a call (every thread: with the
# read thread, the reads' CPU is no longer the loop's, but it is still
# the machine's). The seed's copies are deleted at the end.
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
S=100000
P=78
REPS=3
READS=200
PAGES=20
RATE=150000
SEED=""
OUT=bench/results/read18-skip.md
. bench/lib.sh
parse_args "usage: bench/logskip.sh [--series S] [--per P] [--reps R] [--reads N] [--pages K] [--rate X] [--seed DB] [--out FILE]" \
	--series=S --per=P --reps=REPS --reads=READS --pages=PAGES --rate=RATE \
	--seed=SEED --out=OUT -- "$@"
need_tools sqlite3
make -s -j2 all build/bench/loadgen
bench_workdir logskip
BIN=build/statecastd
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

if [ -z "$SEED" ] || [ ! -e "$SEED" ]; then
	SEED=${SEED:-$W/seed.db}
	T0=$(t0_before_now $((P + 1)) 60)
	daemon_start "$BIN" "$SEED" "$W/seed.log" -o model.path=models/default.model
	build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" \
		--count $((S * P)) --t0 "$T0" --rate "$RATE" --until-rpc 127.0.0.1:$R \
		>"$W/seed.loadgen" || true
	drained build/statecast "$R" 600 || true
	for _ in $(seq 3000); do
		build/statecast stats --json --rpc 127.0.0.1:$R 2>/dev/null |
			/usr/bin/python3 -c 'import json,sys; sys.exit(0 if not json.load(sys.stdin).get("store_compacting") else 1)' && break
		sleep 0.2
	done
	kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
fi
for who in A B; do
	cp "$SEED" "$W/$who.db"
	for x in -wal -shm; do [ -e "$SEED$x" ] && cp "$SEED$x" "$W/$who.db$x"; done
done
sqlite3 "$W/A.db" 'UPDATE sample_log SET tmax=NULL'
SHAPE=$(sqlite3 "$W/B.db" 'SELECT count(*) || " rows, " || sum(n) || " samples, " || count(tmax) || " with tmax" FROM sample_log')
SHAPE_A=$(sqlite3 "$W/A.db" 'SELECT count(tmax) FROM sample_log')
echo "logskip: log $SHAPE; A: $SHAPE_A rows with tmax"

: >"$W/reads"
read_rep() {
	local who=$1 rep=$2 log="$W/$1.read.$2.log" hp
	daemon_start "$BIN" "$W/$who.db" "$log" -o model.path=models/default.model \
		-o listen.http=127.0.0.1:0
	hp=$(listen_port "$log" 0 http)
	/usr/bin/python3 bench/logread.py "$R" "$hp" "$PID" "$S" "$READS" "$PAGES" |
		sed "s/^/$who $rep /" | tee -a "$W/reads"
	kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}
ab_loop "$REPS" read_rep
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

med() { awk -v w="$1" -v p="$2" '$1 == w && $3 == p' "$W/reads" | tr ' ' '\n' | sed -n "s/^$3=//p" | median; }
{
	echo "# Schema 8's tmax and the read paths at $S series, the log near its cap"
	echo
	echo "Written by \`bench/logskip.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC'), this tree $(head_rev)."
	echo "Machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), shared;"
	echo "load average at the start $LOAD0, at the end $LOAD1."
	echo
	echo "One database ($S series x $P samples, seeded by this tree): log $SHAPE."
	echo "A: a copy with every row's tmax set to NULL (read as before schema 8: every"
	echo "row spanning the series); B: a copy as written. The same build for both."
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
echo "logskip: wrote $OUT"
