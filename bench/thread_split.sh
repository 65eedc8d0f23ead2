#!/bin/bash
# bench/thread_split.sh: where statecastd's CPU goes, thread by thread, at
# S series x P samples each (the default model and store, as bench/ingest.sh
# runs it): per thread (loop, pool helpers, store writer) user and kernel CPU
# per sample from /proc/PID/task/*/stat, from the first sample until the
# store drained, and how much of it came after loadgen's window (the
# samples all stepped: what a rate is timed by) while the store caught up;
# then the top functions of each thread from a `perf record -F 499 -e
# cpu-clock` of the same run (a second run, so that perf's own cost is not
# in the /proc figures).
#
#   bench/thread_split.sh [--build DIR] [--series S] [--per P]
#                         [--model FILE] [--top N] [--no-perf]
#                         [--keep PERF.DATA] [--set KEY=VALUE]
#                         [--pin CMD] [--threads N]
#
# --set passes one more `-o KEY=VALUE` to statecastd (for instance
# store.forecast_every_s=0: the writer without forecast rows); --threads N
# is `-o model.threads=N`; --pin runs statecastd under CMD ("taskset -c 0":
# one core; loadgen is not pinned). On one core the store's writer
# (SCHED_IDLE) runs mostly after the window, so a figure that stops at the
# window leaves out most of the store (bench/results/par9.md).
#
# Prints markdown to stdout.
# Timestamps: loadgen --end now (the last sample a moment before the wall
# clock, inside the store's retention as a live feed's); before session 15
# loadgen's default t0 1.7e9, with which the store writer deleted every
# forecast a run stored as out of retention (bench/results/wal15.md).
set -eu
cd "$(dirname "$0")/.."
B=build
S=100000
PER=30
MODEL=models/default.model
TOP=25
NOPERF=""
KEEP=""
SET=""
PIN=""
THREADS=""
. bench/lib.sh
parse_args "usage: bench/thread_split.sh [--build DIR] [--series S] [--per P] [--model FILE] [--top N] [--no-perf] [--keep PERF.DATA] [--set KEY=VALUE] [--pin CMD] [--threads N]" \
	--build=B --series=S --per=PER --model=MODEL --top=TOP --no-perf:NOPERF=1 --keep=KEEP --set=SET \
	--pin=PIN --threads=THREADS -- "$@"
bench_workdir tsplit
[ -n "$NOPERF" ] || need_tools perf
make -s -j2 build/bench/loadgen
LG=build/bench/loadgen
N=$((S * PER))

# store_at PORT: "committed/queued" rows of the store (stats), now.
store_at() {
	"$B/statecast" stats --json --rpc 127.0.0.1:$1 2>/dev/null | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print("%s/%s" % (d.get("store_rows_committed"), d.get("store_queued_rows")))' 2>/dev/null || echo "n/a"
}

run() { # run PERF_OUT|"": one run; prints the loadgen line
	local pf=$1 pid pp out
	rm -rf "$W/sd"; mkdir -p "$W/sd"
	daemon_start "$B/statecastd" "$W/sd/db" "$W/sd/log" -o model.path="$MODEL" ${SET:+-o "$SET"} \
		${THREADS:+-o model.threads="$THREADS"} ||
		{ echo "thread_split: statecastd did not start (see $W/sd/log)" >&2; exit 1; }
	pid=$PID; PIDS="$PIDS $pid"
	if [ -n "$pf" ]; then
		perf record -q -F 499 -g -e cpu-clock -p "$pid" -o "$pf" >/dev/null 2>&1 &
		pp=$!; sleep 0.5
	fi
	tasks "$pid" >"$W/t0"
	# The window: until every sample is stepped; then until the store
	# drained (t2).
	out=$($LG --graphite 127.0.0.1:$G --series "$S" --count "$N" --end now --until-rpc 127.0.0.1:$R || true)
	tasks "$pid" >"$W/t1"
	echo "$(store_at "$R")" >"$W/store1"
	drained "$B/statecast" "$R" || echo "thread_split: the store did not drain in 120 s" >&2
	tasks "$pid" >"$W/t2"
	if [ -n "$pf" ]; then kill -INT "$pp" 2>/dev/null; wait "$pp" 2>/dev/null || true; fi
	kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
	echo "$out"
}

hz=$(getconf CLK_TCK)
out=$(run "")
echo "## $S series x $PER samples ($N), $MODEL, build $B${SET:+, -o $SET}${THREADS:+, model.threads=$THREADS}${PIN:+, under $PIN}"
echo
echo "loadgen: $out"
echo "store rows committed/queued when every sample was stepped: $(cat "$W/store1")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "CPU from the first sample until the store drained; \"after\" is the part of it"
echo "after loadgen's window (every sample stepped), when the store caught up."
echo
echo "| thread | user us/sample | kernel us/sample | total us/sample | after us/sample | page faults /1k samples | sleeps /1k samples | preemptions /1k samples |"
echo "|---|---|---|---|---|---|---|---|"
# After the joins: TID, then COMM U S F V N at t0 ($2-$7), t1 ($8-$13) and
# t2 ($14-$19). A thread started during the run (daemon/slabfill.c's, with
# the first new series) has zeros at t0; its name is taken at t2.
join -a 2 -e 0 -o auto <(sort "$W/t0") <(sort "$W/t1") |
	join -a 2 -e 0 -o auto - <(sort "$W/t2") | awk -v hz="$hz" -v n="$N" '
	{ u = ($15 - $3) / hz / n * 1e6; s = ($16 - $4) / hz / n * 1e6
	  a = ($15 + $16 - $9 - $10) / hz / n * 1e6
	  if (u + s == 0) next
	  c = $14; name[c] = 1; U[c] += u; K[c] += s; A[c] += a
	  tu += u; ts += s; ta += a
	  F[c] += ($17 - $5) / n * 1e3; V[c] += ($18 - $6) / n * 1e3
	  P[c] += ($19 - $7) / n * 1e3
	  tf += ($17 - $5) / n * 1e3; tv += ($18 - $6) / n * 1e3
	  tp += ($19 - $7) / n * 1e3 }
	END { for (k in name) printf "| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", k, U[k], K[k], U[k] + K[k], A[k], F[k], V[k], P[k]
	      printf "| all | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", tu, ts, tu + ts, ta, tf, tv, tp }'
[ -n "$NOPERF" ] && exit 0
echo
out=$(run "$W/perf.data")
echo "perf run: $out"
echo
echo "By kind of code (bench/thread_cats.py, us of CPU per sample, perf's own"
echo "cost included):"
echo
/usr/bin/python3 bench/thread_cats.py "$W/perf.data" 499 "$N" "$B"
echo
for c in statecastd pool-helper store-writer; do
	echo "### $c: top functions (self, % of this thread's samples)"
	echo
	echo '```'
	perf report -i "$W/perf.data" --comm "$c" --no-children --percentage relative --sort sym -g none \
		--percent-limit 0.5 --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n "$TOP"
	echo '```'
	echo
done
[ -n "$KEEP" ] && cp "$W/perf.data" "$KEEP"
exit 0
