#!/bin/bash
# bench/lat_mutex.sh: how often the loop thread sleeps on a contended mutex
# at 50,000 samples/s, and on whose, this tree's statecastd against a peer
# build, interleaved (bench/lib.sh ab_loop).
#
#   bench/lat_mutex.sh [--peer BUILD_DIR] [--peer-desc TEXT] [--reps N]
#                      [--series S] [--duration SEC] [--out FILE]
#
# Each run as bench/latency.sh's 50k/s run (default model and store, S
# series primed, 16 subscribed, loadgen paced for DUR seconds) with
# `perf record -e syscalls:sys_enter_futex --filter 'op == 128'` on the
# loop thread alone (-t: the thread whose id is the daemon's pid): glibc's
# pthread_mutex_lock sleeps with FUTEX_WAIT_PRIVATE (op 128) when the
# mutex is held, where condition variables wait with FUTEX_WAIT_BITSET;
# so each event is one sleep of the loop on a held mutex. A DWARF call
# graph (the build has no frame pointers) names the caller: the store's
# mutex (store_submit, store_get_stats, ... in io/store.c), the compute
# pool's (daemon/pool.c), the background jobs' (daemon/bg.c) or other.
# Waits are counted too, apart: FUTEX_WAIT_BITSET_PRIVATE (op 137; 393
# with FUTEX_CLOCK_REALTIME, what a default pthread condition variable
# sleeps with), which the pool's futexes use since pool15; in the pool
# that is the loop waiting for a helper's chunk (a wait for work, not for
# a lock), whichever the build.
# lat10 counted 8 in 10 s by hand (bench/results/lat10.md section 5);
# lat11 moved the store's writer off SCHED_IDLE while it holds the mutex.
# Timestamps: loadgen's 1.7e9, as bench/latency.sh (see its header: the
# writer's retention purge runs, the loop's latency is what is measured).
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
OUT=bench/results/lat-mutex.md
PEER=""
PEER_DESC=""
REPS=3
S=1000
DUR=10
. bench/lib.sh
parse_args "usage: bench/lat_mutex.sh [--peer BUILD_DIR] [--peer-desc TEXT] [--reps N] [--series S] [--duration SEC] [--out FILE]" \
	--peer=PEER --peer-desc=PEER_DESC --reps=REPS --series=S --duration=DUR \
	--out=OUT -- "$@"
need_tools perf
make -s -j2 all build/bench/loadgen
bench_workdir lat-mutex
if [ -z "$PEER" ]; then
	build_tree main "$W/main"
	PEER=$W/main/build
	PEER_DESC=${PEER_DESC:-"main at $(git rev-parse --short main)"}
fi
PEER_DESC=${PEER_DESC:-$PEER}

# run WHO REP: one run of WHO's daemon; appends "WHO store pool bg other
# total p99_socket p99_reader" to $W/rows.
run() {
	local bin=build/statecastd d l
	[ "$1" = peer ] && bin=$PEER/statecastd
	rm -rf "$W/d"; mkdir -p "$W/d"
	daemon_start "$bin" "$W/d/db" "$W/d/log" -o model.path=models/default.model ||
		{ echo "lat_mutex: $bin did not start" >&2; exit 1; }
	d=$PID
	PIDS="$PIDS $d"
	build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" --count $((S * 5)) \
		--prefix lat --latency-series 16 --until-rpc 127.0.0.1:$R >/dev/null
	perf record -q -e syscalls:sys_enter_futex --filter 'op == 128 || op == 137 || op == 393' \
		--call-graph dwarf,8192 -t "$d" -o "$W/perf.data" \
		-- sleep "$DUR" 2>"$W/perf.err" &
	local pp=$!
	PIDS="$PIDS $pp"
	l=$(build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" --rate 50000 \
		--duration "$DUR" --prefix lat --t0 $((1700000000 + 5 * 60)) \
		--latency-rpc 127.0.0.1:$R --latency-series 16 --until-rpc 127.0.0.1:$R) || true
	wait "$pp" || true
	kill -TERM "$d"; wait "$d" 2>/dev/null || true
	# One block per event: its first line has the op (0x80: a mutex,
	# 0x89 or 0x189: a wait), the first of our functions in its stack names the
	# mutex or what waits.
	perf script -i "$W/perf.data" -F comm,tid,ip,sym,trace 2>/dev/null | awk -v who="$1" -v l="$l" '
		function flush() {
			if (!inev) return
			if (k == "") k = "other"
			if (wt) w[k]++
			else { n[k]++; tot++ }
			inev = 0; k = ""; wt = 0
		}
		/^[[:space:]]*$/ { flush(); next }
		!inev && /op: 0x0*1?89,/ { wt = 1 }
		{ inev = 1 }
		k == "" && /store_|io_store/ { k = "store" }
		k == "" && /srv_pool|pool_/ { k = "pool" }
		k == "" && /srv_bg/ { k = "bg" }
		END {
			flush()
			split(l, f, " ")
			for (i in f) { split(f[i], kv, "="); v[kv[1]] = kv[2] }
			printf "%s %d %d %d %d %d %s %s %d %d\n", who, n["store"], n["pool"], n["bg"], n["other"], tot,
				(v["lat_k_p99_us"] == "" ? "n/a" : v["lat_k_p99_us"]), (v["lat_p99_us"] == "" ? "n/a" : v["lat_p99_us"]),
				w["pool"], w["store"] + w["bg"] + w["other"]
		}' >>"$W/rows"
	echo "lat_mutex: $(tail -1 "$W/rows") (load $(cut -d' ' -f1 /proc/loadavg))"
}
ab_loop "$REPS" run peer this

sum() { awk -v w="$1" -v c="$2" '$1 == w { s += $c; n++ } END { printf "%s", n ? s / n : "n/a" }' "$W/rows"; }
{
	echo "# The loop thread's sleeps on a contended mutex at 50,000 samples/s"
	echo
	echo "Written by \`bench/lat_mutex.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC'), this tree at commit $(head_rev);"
	echo "peer: $PEER_DESC, interleaved in the same run."
	echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared)."
	echo
	echo "Each run: $S series primed, loadgen at 50,000/s for $DUR s, 16 subscribed;"
	echo "perf counts the loop thread's FUTEX_WAIT_PRIVATE calls (a sleep on a"
	echo "held pthread mutex), each named by the first of the daemon's functions"
	echo "in its call graph. p99 at socket / reader: loadgen's two rulers (us)."
	echo "Apart (not in \"all\"): the loop's FUTEX_WAIT_BITSET_PRIVATE calls, a"
	echo "condition variable's or (since pool15) the pool's futex: \"pool waits\" is"
	echo "the loop waiting for a helper's chunk, \"other waits\" any other."
	echo
	echo "| build | run | store mutex | pool | bg jobs | other | all | p99 at socket | p99 reader | pool waits | other waits |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	awk -v pd="$PEER_DESC" '{ c[$1]++; printf "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", ($1 == "peer" ? pd : "this tree"), c[$1], $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$W/rows"
	echo
	echo "Mean sleeps a run on the store's mutex: $PEER_DESC $(sum peer 2), this tree $(sum this 2); on the pool's: $(sum peer 3) and $(sum this 3); all mutexes: $(sum peer 6) and $(sum this 6); the loop's waits for a helper's chunk: $(sum peer 9) and $(sum this 9)."
} >"$OUT"
echo "lat_mutex: wrote $OUT"
