#!/bin/bash
# bench/crashdb.sh: a database (and checkpoint) as kill -9 leaves it, for
# bench/restore.sh --crash --db: every restart of an A/B then starts from
# copies of the same files.
#
#   bench/crashdb.sh --out DIR [--series S] [--per N] [--rate R]
#                    [--ckpt SECONDS] [--after K] [--bin DAEMON]
#
# The daemon (this tree's build/statecastd, or DAEMON) takes S series x N
# samples (step 60 s) paced at R samples/s with store.checkpoint_s=SECONDS,
# and once its store has drained, waits until a generation of all S series
# that covers the ingest is recorded (one begun after the drain, or, when
# the daemon begins none because nothing new was stored since, the last one;
# it fails when there is none). With --after K it then takes K more
# samples of every series (the same pace), which the next start replays
# after the records, and is killed as soon as the store has committed them
# (a generation is usually being written then: the crash falls inside
# it). Then kill -9, and DIR/c.db (+ -wal, -shm, .ckpt0/1) is what it left.
# A run of 1M series holds ~10 GB: run it under
#    flock /tmp/statecast-1m.lock bench/crashdb.sh --series 1000000 ...
set -eu
cd "$(dirname "$0")/.."
S=200000
PER=5
RATE=40000
CK=20
AFTER=0
OUTDIR=""
BIN=build/statecastd
. bench/lib.sh
parse_args "usage: bench/crashdb.sh --out DIR [--series S] [--per N] [--rate R] [--ckpt SECONDS] [--after K] [--bin DAEMON]" \
	--series=S --per=PER --rate=RATE --ckpt=CK --after=AFTER --out=OUTDIR --bin=BIN -- "$@"
[ -n "$OUTDIR" ] || { echo "crashdb: --out DIR is required" >&2; exit 2; }
make -s -j2 all build/bench/loadgen
bench_workdir crashdb KILL
mkdir -p "$OUTDIR"
rm -f "$OUTDIR"/c.db*
DBF="$OUTDIR/c.db"
LOG="$OUTDIR/ingest.log"
: >"$LOG"
DAEMON_WAIT_S=600 daemon_start "$BIN" "$DBF" "$LOG" -o store.checkpoint_s="$CK"
build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" --count $((S * PER)) \
	--rate "$RATE" --until-rpc 127.0.0.1:$R >"$W/loadgen.1" || true
drained build/statecast "$R" 600 || true
# A recorded generation of all S series that covers the ingest, and none
# being written. The daemon begins one every CK s only while something new
# was stored since the last began: one that begins after the drain covers
# the ingest; and when none begins for 2 x CK + 10 s with none being
# written, the last one ended began after the ingest's last sample (the
# ingest ended before it began), so it covers the ingest and no other will
# come. Anything else (no complete generation, or the wait's end) fails.
ended='checkpoint [0-9a-f]* (of [0-9]* series recorded|abandoned|not recorded)'
nb0=$(grep -c 'checkpoint [0-9a-f]*: writing' "$LOG" || true)
nbq=$nb0 quiet=0 ok=""
for _ in $(seq $((CK * 5 * 20))); do
	nb=$(grep -c 'checkpoint [0-9a-f]*: writing' "$LOG" || true)
	ne=$(grep -c -E "$ended" "$LOG" || true)
	last=$(grep -E "$ended" "$LOG" | tail -n 1)
	full=0
	echo "$last" | grep -q "of $S series recorded" && full=1
	if [ "$ne" -ge "$nb" ] && [ "$full" = 1 ] && [ "$nb" -gt "$nb0" ]; then
		ok="one begun after the drain"
		break
	fi
	# Ticks of 0.2 s without a generation beginning or being written.
	if [ "$nb" -ne "$nbq" ] || [ "$ne" -lt "$nb" ]; then
		nbq=$nb quiet=0
	else
		quiet=$((quiet + 1))
	fi
	if [ "$quiet" -ge $(((2 * CK + 10) * 5)) ]; then
		[ "$full" = 1 ] && ok="none begun in $((2 * CK + 10)) s after the drain: nothing new was stored after the last one ended began, which holds the ingest"
		break
	fi
	sleep 0.2
done
if [ -z "$ok" ]; then
	echo "crashdb: no recorded generation of all $S series covers the ingest (last: ${last:-none}); see $LOG" >&2
	exit 1
fi
echo "crashdb: checkpoint generation: $ok"
if [ "$AFTER" -gt 0 ]; then
	build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" \
		--count $((S * AFTER)) --rate "$RATE" --t0 $((1700000000 + PER * 60)) \
		--until-rpc 127.0.0.1:$R >"$W/loadgen.2" || true
	drained build/statecast "$R" 600 || true
fi
kill -9 "$PID"; wait "$PID" 2>/dev/null || true; PID=""
rm -f "$DBF".ckpt.tmp
grep -o 'checkpoint [0-9a-f]* of [0-9]* series recorded in [0-9.]* s' "$LOG" | tail -n 2
echo "crashdb: $S series x $PER (+ $AFTER after the last recorded generation) in $DBF:"
ls -la "$OUTDIR"
