#!/bin/bash
# bench/histcost.sh: what one `history` call costs the daemon at S series
# with the sample log near its cap, this tree against a peer build, and
# what schema 8 (a log row's tmax, the covering id-range index) adds.
# Writes bench/results/read18-hist.md (--out).
#
#   bench/histcost.sh [--peer BUILD_DIR] [--series S] [--per P] [--reps R]
#                     [--out FILE]
#
# Defaults: peer /tmp/base-c4598dc/build, 100000 series x 78 samples
# (60 s step ending a step before the wall clock, paced at 150000/s, as
# bench/logread.sh: the log ~7.8M samples, no compaction round yet), 3
# reps. Two seeds, each drained and stopped cleanly: one by the peer
# (schema 7: what an existing database is), one by this tree (schema 8:
# every log row with its tmax). Three arms, interleaved over the reps:
#   A  the peer on a copy of its seed (reads on its loop, schema 7);
#   M  this tree on a copy of the peer's seed, migrated at open (the
#      covering index; the rows' tmax NULL: every row spanning the id);
#   B  this tree on a copy of its own seed (tmax in every row).
# Each run: the daemon on its copy (and the copy's state dump), then
# bench/histcost.py (after the restore's catch-up) times 200 series' last
# 30 samples and whole range, R passes, and 20 status pages (listen.http
# on); the daemon's CPU a call (every thread) and the wall time a call. Seeds and copies are deleted at the end.
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
PEER=/tmp/base-c4598dc/build
S=100000
P=78
REPS=3
OUT=bench/results/read18-hist.md
. bench/lib.sh
parse_args "usage: bench/histcost.sh [--peer BUILD] [--series S] [--per P] [--reps R] [--out FILE]" \
	--peer=PEER --series=S --per=P --reps=REPS --out=OUT -- "$@"
need_tools sqlite3
make -s -j2 all build/bench/loadgen
bench_workdir histcost
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(t0_before_now $((P + 1)) 60)

seed() { # BIN DB
	daemon_start "$1" "$2" "$W/seed.log" -o model.path=models/default.model
	build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" \
		--count $((S * P)) --t0 "$T0" --rate 150000 --until-rpc 127.0.0.1:$R \
		>"$W/seed.loadgen" || true
	drained build/statecast "$R" 600 || true
	kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}
seed "$PEER/statecastd" "$W/seed7.db"
seed build/statecastd "$W/seed8.db"
SHAPE7=$(sqlite3 "$W/seed7.db" 'SELECT count(*) || " rows, " || sum(n) || " samples" FROM sample_log')
SHAPE8=$(sqlite3 "$W/seed8.db" 'SELECT count(*) || " rows, " || sum(n) || " samples, " || count(tmax) || " with tmax" FROM sample_log')

: >"$W/runs"
run() { # ARM REP
	local arm=$1 bin=build/statecastd src=$W/seed7.db x hp
	[ "$arm" = A ] && bin=$PEER/statecastd
	[ "$arm" = B ] && src=$W/seed8.db
	rm -f "$W/run.db"*
	for x in "" -wal -shm .dump; do [ -e "$src$x" ] && cp "$src$x" "$W/run.db$x"; done
	daemon_start "$bin" "$W/run.db" "$W/$arm.$2.log" -o model.path=models/default.model \
		-o listen.http=127.0.0.1:0
	hp=$(listen_port "$W/$arm.$2.log" 0 http)
	echo "$arm $2 $(/usr/bin/python3 bench/histcost.py "$R" 3 "$PID" "$hp" 20 | tr '\n' ' ')load=$(cut -d' ' -f1 /proc/loadavg)" |
		tee -a "$W/runs"
	kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
	rm -f "$W/run.db"*
}
for rep in $(seq "$REPS"); do
	if [ $((rep % 2)) = 1 ]; then order="A M B"; else order="B M A"; fi
	for arm in $order; do run "$arm" "$rep"; done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# med ARM KIND FIELD: the median over reps.
med() { awk -v a="$1" '$1 == a' "$W/runs" | sed "s/.*$2 wall_ms=\([0-9.]*\) cpu_ms=\([0-9.]*\).*/\1 \2/" |
	awk -v f="$3" '{ print (f == "wall" ? $1 : $2) }' | median; }
{
	echo "# One \`history\` call at $S series, the log near its cap: the peer, and schema 8"
	echo
	echo "Written by \`bench/histcost.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC'), this tree $(head_rev)."
	echo "Machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), shared;"
	echo "load average at the start $LOAD0, at the end $LOAD1."
	echo
	echo "Seeds ($S series x $P samples, t0 $T0): the peer's ($PEER) log $SHAPE7;"
	echo "this tree's log $SHAPE8. A: the peer on its seed; M: this tree on the"
	echo "peer's seed (migrated to schema 8 at open: covering index, tmax NULL);"
	echo "B: this tree on its own seed. After the restore's catch-up; 200 series,"
	echo "3 passes each; medians of $REPS reps. ms a call: the daemon's CPU (every thread), wall."
	echo
	echo "| call | A CPU | M CPU | B CPU | M/A | B/A | A wall | M wall | B wall |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for k in recent full page; do
		a=$(med A $k cpu) m=$(med M $k cpu) b=$(med B $k cpu)
		echo "| $k | $a | $m | $b | $(ratio "$m" "$a") | $(ratio "$b" "$a") | $(med A $k wall) | $(med M $k wall) | $(med B $k wall) |"
	done
	echo
	echo "(recent: \`history\` of the last 30 samples; full: the whole range, $P; page: the status"
	echo "page \`/\`, 20 fetches: 50 sparklines, each a read of a series' last samples.) Every run:"
	echo
	echo '```'
	cat "$W/runs"
	echo '```'
} >"$OUT"
echo "histcost: wrote $OUT"
