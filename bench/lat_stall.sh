#!/bin/bash
# bench/lat_stall.sh: where the loop thread's long stretches of its own CPU
# go at 50,000 samples/s. One run as bench/latency.sh's 50k/s run (default
# model and store, S series primed, 16 subscribed, loadgen paced for DUR
# seconds) of BIN with STATECAST_TRACE on and `perf record` sampling the
# loop thread alone (-t: the thread whose id is the daemon's pid) on
# CLOCK_MONOTONIC, the trace's clock; then bench/lat_trace.py --stalls
# lists the stretches between two trace events in which the loop ran more
# than CPU_US of CPU and what perf saw it run in them.
#
#   bench/lat_stall.sh [--bin BIN] [--series S] [--duration SEC]
#                      [--cpu US] [--boost N] [--out FILE]
#                      [--opt SETTING]...
#
# --boost N (root): the run in a session whose autogroup has nice N, as
# bench/latency.sh --boost. --opt KEY=VALUE: a setting (-o) for the daemon.
# lat8 found with it that after every COMMIT the loop spun 3-30 ms in
# libuv's async handle (bench/results/lat8-stall.md). It also counts the
# loop's sched_yield calls over the run (perf stat): that spin's only
# system call.
# Timestamps: loadgen's 1.7e9, as bench/latency.sh (see its header: the
# writer's retention purge runs, the loop's latency is what is measured).
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
ORIG=("$@")
BIN=build/statecastd
S=1000
DUR=5
CPU=1500
BOOST=""
OUT=bench/results/lat-stall.md
OPT=()
. bench/lib.sh
parse_args "usage: bench/lat_stall.sh [--bin BIN] [--series S] [--duration SEC] [--cpu US] [--boost N] [--out FILE] [--opt SETTING]..." \
	--bin=BIN --series=S --duration=DUR --cpu=CPU --boost=BOOST --out=OUT \
	--opt+=OPT -- "$@"
if [ -n "$BOOST" ] && [ -z "${LAT_STALL_BOOSTED:-}" ]; then
	LAT_STALL_BOOSTED=1 exec setsid -w "$PWD/bench/lat_stall.sh" "${ORIG[@]}"
fi
need_tools perf
make -s -j2 all build/bench/loadgen
bench_workdir lat-stall
[ -n "$BOOST" ] && echo "$BOOST" >"/proc/$$/autogroup"
opts=()
for o in ${OPT[@]+"${OPT[@]}"}; do opts+=(-o "$o"); done
export STATECAST_TRACE=$W/trace.txt
daemon_start "$BIN" "$W/db" "$W/log" -o model.path=models/default.model \
	${opts[@]+"${opts[@]}"} || { echo "lat_stall: $BIN did not start" >&2; exit 1; }
unset STATECAST_TRACE
PIDS="$PIDS $PID"
D=$PID
build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" --count $((S * 5)) \
	--prefix lat --latency-series 16 --until-rpc 127.0.0.1:$R >/dev/null
perf record -q -k CLOCK_MONOTONIC -e cpu-clock -F 2000 -t "$D" \
	-o "$W/perf.data" -- sleep $((DUR + 1)) 2>"$W/perf.err" &
PP=$!
PIDS="$PIDS $PP"
# The loop's sched_yield calls over the same window: libuv 1.44 makes them
# only in uv__async_spin, waiting on a uv_async_t whose sender is
# mid-send (io/wake.h): lat8 found the store's, lat9 the checkpoint's
# (libuv's thread pool).
perf stat -x, -e syscalls:sys_enter_sched_yield -t "$D" \
	-o "$W/yield.txt" -- sleep $((DUR + 1)) 2>/dev/null &
PY=$!
PIDS="$PIDS $PY"
l=$(build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" --rate 50000 \
	--duration "$DUR" --prefix lat --t0 $((1700000000 + 5 * 60)) \
	--latency-rpc 127.0.0.1:$R --latency-series 16 --until-rpc 127.0.0.1:$R \
	--lat-trace "$W/lat.txt")
wait "$PP" || true
wait "$PY" || true
# "<not counted>": the thread never ran while perf watched, so 0 calls.
YIELDS=$(awk -F, '/sched_yield/ { print ($1 ~ /^[0-9]+$/ ? $1 : 0) }' "$W/yield.txt" 2>/dev/null)
kill -TERM "$D"; wait "$D" 2>/dev/null || true
perf script -i "$W/perf.data" -F time,ip,sym,dso >"$W/perf.txt" 2>/dev/null
{
	echo "# The loop thread's long stretches of its own CPU at 50,000 samples/s"
	echo
	echo "Written by \`bench/lat_stall.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC'), this tree at commit $(head_rev);"
	echo "daemon: $BIN${OPT[*]:+ with ${OPT[*]}}."
	echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)${BOOST:+; boosted (autogroup nice $BOOST)}."
	echo
	echo "One run: $S series primed, then loadgen at 50,000/s for $DUR s with 16"
	echo "series subscribed; the daemon's loop trace (STATECAST_TRACE) and"
	echo "\`perf record -k CLOCK_MONOTONIC -e cpu-clock -F 2000 -t <loop>\`."
	echo "loadgen: p50 $(field lat_p50_us "$l") us, p99 $(field lat_p99_us "$l") us, p99.9 $(field lat_p999_us "$l") us over $(field lat_n "$l") timed samples."
	echo "sched_yield calls by the loop thread meanwhile (perf stat, the"
	echo "tracepoint syscalls:sys_enter_sched_yield): ${YIELDS:-n/a}; libuv 1.44 makes"
	echo "them only spinning on a uv_async_t whose sender is mid-send."
	echo
	bench/lat_trace.py --stalls "$W/trace.txt" "$W/lat.txt" "$W/perf.txt" --cpu "$CPU"
} >"$OUT"
echo "lat_stall: wrote $OUT"
