#!/bin/bash
# bench/mem1m.sh: resident memory per series and restore time at a large
# series count (default 1M) with the default model and the store, ingest
# paced so that the store's writer keeps up (flat out, rows queued for SQLite
# grow without bound: bench/results/perf.md). Writes bench/results/mem1m.md.
#
#   bench/mem1m.sh [--series S] [--rate SAMPLES_PER_S] [--out FILE]
#
# --rate 0 sends flat out. Exits 1 when loadgen did (an incomplete run; the
# results file says so).
# Each series gets 5 samples (4 to learn its step, then stepped), so every
# series holds a state. A memory guard kills the daemon if the machine's
# available memory falls under 1.5 GiB (the machine is shared).
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
S=1000000
RATE=40000
OUT=bench/results/mem1m.md
. bench/lib.sh
parse_args "usage: bench/mem1m.sh [--series S] [--rate R] [--out FILE]" \
	--series=S --rate=RATE --out=OUT -- "$@"
make -s -j2 all build/bench/loadgen
B=build
bench_workdir mem1m
start() { daemon_start build/statecastd "$W/db" "$W/log"; }
start
rss0=$(rss_kb "$PID")
# --rate 0: flat out (loadgen unpaced). A loadgen that exits non-zero (the
# daemon stopped progressing, or died) makes the run incomplete: said in
# the results, and this script then exits 1.
pace="--rate $RATE"; [ "$RATE" = 0 ] && pace=""
lg_rc=0
run=$($B/bench/loadgen --graphite 127.0.0.1:$G --series "$S" --count $((S * 5)) \
	$pace --until-rpc 127.0.0.1:$R) || lg_rc=$?
[ $lg_rc = 0 ] || echo "mem1m: loadgen exited $lg_rc: $run" >&2
peak=$(awk '/^VmHWM/ {print $2}' "/proc/$PID/status" 2>/dev/null || echo n/a)
q_end=$(queued_rows "$B/statecast" "$R")
drained "$B/statecast" "$R" || true
rss1=$(rss_kb "$PID" 2>/dev/null || echo 0)
t0=$(date +%s.%N)
kill -TERM "$PID"; wait "$PID" 2>/dev/null || true
stop_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
dbsize=$(du -k "$W/db" | cut -f1)
start || true
restore=$(grep -o 'restored [0-9]* series from [^ ]* in [0-9.]* s' "$W/log" | tail -n 1)
rss2=$(rss_kb "$PID" 2>/dev/null || echo 0)
kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true
PID=""
per=$(awk -v a="$rss0" -v b="$rss1" -v s="$S" 'BEGIN { printf "%.2f", (b-a)/s }')
per2=$(awk -v a="$rss0" -v b="$rss2" -v s="$S" 'BEGIN { printf "%.2f", (b-a)/s }')
{
	echo "# Memory per series and restore time at $S series"
	echo
	echo "Written by \`bench/mem1m.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)."
	echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem/ {print $2}') GiB, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared)."
	echo
	achieved=$(echo "$run" | tr ' ' '\n' | sed -n 's/^rate=//p')
	if [ "$RATE" = 0 ]; then
		echo "statecastd with the default model and the store; loadgen sends $S series x 5"
		echo "samples flat out (${achieved:-no rate} samples/s processed); RSS read once the store's"
		echo "queue drained ($q_end rows queued"
	else
		echo "statecastd with the default model and the store; loadgen sends $S series x 5"
		echo "samples paced at $RATE samples/s (${achieved:-no rate} processed), so that the store's"
		echo "writer keeps up; RSS read once the store's queue drained ($q_end rows queued"
	fi
	echo "when loadgen finished). Then SIGTERM (snapshots of every series, in slices)"
	echo "and a restart on the same database."
	[ -s "$W/guard" ] && echo && echo "**The memory guard killed the daemon: $(cat "$W/guard") (PID, KiB RSS).**"
	if [ $lg_rc != 0 ]; then
		echo
		echo "**Incomplete run: loadgen exited $lg_rc (the daemon stopped processing before"
		echo "every sample was stepped, or went away); its line: \`$run\`.**"
	fi
	echo
	echo "| quantity | value |"
	echo "|---|---|"
	echo "| RSS before / after ingest (KiB) | $rss0 / $rss1 |"
	echo "| peak RSS during ingest (KiB) | $peak |"
	echo "| KiB per series after ingest | $per |"
	echo "| KiB per series after restore | $per2 |"
	echo "| database size (KiB) | $dbsize |"
	echo "| shutdown (snapshots of every series) | $stop_s s |"
	echo "| restore | ${restore:-not logged} |"
	echo
	echo "Targets: at most 8 KiB per series; $S series restored in under 10 s."
} >"$OUT"
echo "mem1m: wrote $OUT"
[ $lg_rc = 0 ] || { echo "mem1m: incomplete run (loadgen exited $lg_rc)" >&2; exit 1; }
