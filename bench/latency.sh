#!/bin/bash
# bench/latency.sh: sample -> pushed forecast latency and the sustained rate,
# this tree's statecastd against a peer build (main's, by default), in the
# same run, interleaved. Writes bench/results/latency.md.
#
# Two rulers, both from bench/loadgen.c, both in every table: the time
# from a sample's send to the push of the forecast it produced
#   "at the socket": the push arrived at the subscriber's socket (the
#       kernel's receive stamp, SO_TIMESTAMPNS). On loopback the kernel
#       stamps it inside the daemon's own write(), so this is the issue's
#       definition ("from a sample's send to the push of the forecast it
#       produced"), and issue 9's target (p99 < 2 ms at 50,000/s) is
#       judged on it.
#   "reader": loadgen's reader thread had it. This adds the time that
#       thread waited for a core, which on a loaded machine was most of
#       the slow samples (bench/results/lat10.md: loadgen's reader
#       waiting 57-69% of their time); it is the figure of every run
#       before lat11, kept so that those stay comparable.
# A run where loadgen got no kernel stamp shows n/a at the socket (loadgen
# says why on stderr), never a figure of the other ruler.
#
#   bench/latency.sh [--peer BUILD_DIR] [--reps N] [--series S]
#                    [--duration SEC] [--nice N] [--boost N] [--out FILE]
#                    [--trace] [--sched] [--only-50k] [--peer-opt SETTING]...
#                    [--this-opt SETTING]... [--peer-desc TEXT] [--now]
#
# --trace: this tree's daemon runs with STATECAST_TRACE (daemon/trace.h)
# and loadgen with --lat-trace in the 50k/s runs; bench/lat_trace.py splits
# each run's latency into the daemon's part (send -> notification written)
# and the delivery (written -> loadgen's reader had it) and tells what the
# loop did meanwhile: a table per run in the results. --only-50k skips the
# 10% and 50% rates.
#
# --sched (root, perf; implies --trace): each traced 50k/s run (peer and
# this tree) also runs under `perf sched record -a -k CLOCK_MONOTONIC`
# (every context switch of the machine), and bench/lat_sched.py tells
# who held the cores while the slow samples waited: the daemon's loop,
# writer and other threads, the load generator, other programs (the
# machine's other tenants) or nobody. lat10 found with it that in the
# slow samples of a loaded machine other programs held most of the cores
# (bench/results/lat10.md).
#
# --peer-opt / --this-opt KEY=VALUE (repeatable): a setting (-o) given to
# the peer's daemons / this tree's only, in every run (sustained rate
# included): with --peer build (this tree's build, say) it makes an A/B of
# a setting, e.g. --peer build --peer-opt model.threads=1. --peer-desc
# names the peer in the results.
#
# --nice N runs both daemons under `nice -n N` (N < 0 needs root). With the
# kernel's autogroups (/proc/sys/kernel/sched_autogroup_enabled = 1, as
# here) nice only weighs threads of one session against each other: the
# cores are shared between sessions first, so other tenants' sessions
# still take the daemon's cores (perf sched: at nice -10 the loop thread
# ran 0.24 s of a 5 s run at 50k/s, preempted 837 times).
# --boost N (root) runs the measurements (daemons and loadgen, after the
# builds) in a session of their own whose autogroup has nice N (-10, say):
# it stands for the target's own 2-core machine, where the daemon, its
# store writer and the load generator share the cores with nobody else.
# The load generator is in the same session on purpose: on a real machine
# it would compete too (it costs about 2% of a core at 50k/s).
# --peer: a build directory holding statecastd (and bench/loadgen is taken
# from this tree for both); by default main is exported with `git archive`
# into a temporary directory and built there. The latency runs follow
# bench/perf.sh's latency section: default model and store, S series
# (1000) primed first, then loadgen paced at 10% and 50% of the peer's
# sustained rate (measured first in this run, median) and at 50,000/s,
# with a subscriber on 16 series timing each sample from its write to the
# forecast notification it caused. Every figure is the median over REPS
# runs; all runs are listed. With perf installed, each daemon run also
# counts the loop thread's sched_yield calls (libuv's async spin, the
# stall lat8 and lat9 removed: any is one).
# Timestamps: loadgen's 1.7e9 (priming, then t0 + 5 steps), three years
# back, so the store writer deletes what the runs store as out of
# retention; what is measured is the sample-to-push time, the loop's, and
# the writer runs in its own thread at SCHED_IDLE. Kept as the default so
# that the figures stay comparable with every latency run before.
# --now stamps every run near the wall clock instead (bench/lib.sh
# t0_before_now: priming and the paced run's rounds, 60 s apart, end a
# step before now; the sustained runs end at now, loadgen --end): inside
# the store's retention, as a live feed's samples, so the writer stores
# the forecasts and deletes nothing (lat16 measured both: bench/results/
# lat16*.md).
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
ORIG=("$@")
OUT=bench/results/latency.md
PEER=""
REPS=3
S=1000
DUR=5
NICE=""
BOOST=""
TRACE=""
SCHED=""
ONLY50=""
PEER_OPT=()
THIS_OPT=()
PEER_DESC=""
NOW=""
. bench/lib.sh
parse_args "usage: bench/latency.sh [--peer BUILD] [--reps N] [--series S] [--duration SEC] [--nice N] [--boost N] [--out FILE] [--trace] [--sched] [--only-50k] [--peer-opt SETTING]... [--this-opt SETTING]... [--peer-desc TEXT] [--now]" \
	--peer=PEER --reps=REPS --series=S --duration=DUR --nice=NICE --boost=BOOST \
	--out=OUT --trace:TRACE=1 --sched:SCHED=1 --only-50k:ONLY50=1 --peer-opt+=PEER_OPT \
	--this-opt+=THIS_OPT --peer-desc=PEER_DESC --now:NOW=1 -- "$@"
[ -n "$SCHED" ] && TRACE=1
if [ -n "$SCHED" ] && ! command -v perf >/dev/null; then
	echo "latency: --sched needs perf" >&2
	exit 2
fi
# "-o KEY=VALUE" words for daemon_start.
PEER_OPTS="" THIS_OPTS=""
for o in ${PEER_OPT[@]+"${PEER_OPT[@]}"}; do PEER_OPTS="$PEER_OPTS -o $o"; done
for o in ${THIS_OPT[@]+"${THIS_OPT[@]}"}; do THIS_OPTS="$THIS_OPTS -o $o"; done
# --boost: a session of its own (setsid -w waits for it), so that only
# this script and its children share the boosted autogroup.
if [ -n "$BOOST" ] && [ -z "${LATENCY_BOOSTED:-}" ]; then
	LATENCY_BOOSTED=1 exec setsid -w "$PWD/bench/latency.sh" "${ORIG[@]}"
fi
make -s -j2 all build/bench/loadgen build/bench/echo_peer
B=build
bench_workdir latency
# LATENCY_KEEP=DIR: the --trace runs' files (trace-*, lat-*, and with --sched sched-*) are copied
# there before the work directory goes, for bench/lat_trace.py by hand.
[ -z "${LATENCY_KEEP:-}" ] || BENCH_KEEP='cp "$W"/trace-* "$W"/lat-* "$W"/sched-* "$LATENCY_KEEP"/ 2>/dev/null'
peer_desc=$PEER
if [ -z "$PEER" ]; then
	echo "latency: building main ($(git rev-parse --short main)) in $W/main"
	build_tree main "$W/main"
	PEER=$W/main/build
	peer_desc="main at $(git rev-parse --short main)"
fi
[ -n "$PEER_DESC" ] && peer_desc=$PEER_DESC
[ -n "$PEER_OPTS" ] && peer_desc="$peer_desc,$PEER_OPTS"

# The session's autogroup gets nice BOOST once the builds are done.
[ -n "$BOOST" ] && echo "$BOOST" >"/proc/$$/autogroup"

# start BIN DIR [-o SETTING...]: daemon_start (bench/lib.sh) on a fresh DIR,
# under nice when --nice was given; sets SD_PID SD_G SD_R.
# WHO (peer or this) picks the settings of --peer-opt / --this-opt.
start() {
	local bin=$1 dir=$2 rc=0 opts=$THIS_OPTS
	shift 2
	[ "${WHO:-this}" = peer ] && opts=$PEER_OPTS
	mkdir -p "$dir"; rm -rf "${dir:?}/"*
	# shellcheck disable=SC2086 # opts: "-o KEY=VALUE" words
	PIN=${NICE:+nice -n $NICE} daemon_start "$bin" "$dir/db" "$dir/log" \
		-o model.path=models/default.model $opts "$@" || rc=$?
	SD_PID=$PID SD_G=$G SD_R=$R
	PIDS="$PIDS $SD_PID"
	[ $rc = 0 ] || echo "latency: $bin did not start" >&2
	return $rc
}
stop() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null || true; }

# stamps RATE: sets T_PRIME and T_RUN, the --t0 of the priming (5 rounds)
# and of the paced run at RATE (t0 + 5 steps): 1.7e9 by default, with
# --now the t0 whose rounds end a step before the wall clock.
stamps() {
	local rounds
	T_PRIME=1700000000
	if [ -n "$NOW" ]; then
		rounds=$(awk -v r="$1" -v d="$DUR" -v s="$S" 'BEGIN { n = r * d / s; printf "%d", (n == int(n) ? n : int(n) + 1) }')
		T_PRIME=$(t0_before_now $((5 + rounds)) 60)
	fi
	T_RUN=$((T_PRIME + 5 * 60))
}

sustained() { # BIN: samples/s, 1k series flat out
	local end=""
	[ -n "$NOW" ] && end="--end now"
	start "$1" "$W/sd"
	# shellcheck disable=SC2086 # end: "--end now" or nothing
	r=$($B/bench/loadgen --graphite 127.0.0.1:$SD_G --series "$S" --count 200000 \
		$end --until-rpc 127.0.0.1:$SD_R) || echo "latency: loadgen failed: $r" >&2
	stop "$SD_PID"
	field rate "$r"
}

# The loop thread (tid = pid): CPU ticks used and involuntary context
# switches (preemptions) so far.
loop_ticks() { stat_ticks "/proc/$1/task/$1/stat"; }
loop_preempts() { awk '/^nonvoluntary_ctxt_switches/ { print $2 }' "/proc/$1/task/$1/status"; }
# ... and its nanoseconds spent runnable but waiting for a core.
loop_rqwait() { awk '{ print $2 }' "/proc/$1/task/$1/schedstat"; }
# CPU ticks of the store writer: the thread named store-writer, or in a
# build that does not name it, the daemon's SCHED_BATCH thread (policy 3).
writer_ticks() {
	local t k n=0
	for t in /proc/$1/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = store-writer ] ||
			[ "$(awk '{ print $41 }' "$t/stat" 2>/dev/null)" = 3 ] || continue
		k=$(stat_ticks "$t/stat" 2>/dev/null)
		n=$((n + ${k:-0}))
	done
	echo "$n"
}

# The loop thread's sched_yield calls while perf stat (started on PID's
# loop thread, FILE its output) runs: libuv 1.44 makes them only spinning
# on a uv_async_t whose sender is mid-send (io/wake.h); n/a without perf.
yields_start() { # PID FILE: sets YP
	YP=""
	command -v perf >/dev/null || return 0
	perf stat -x, -e syscalls:sys_enter_sched_yield -t "$1" -o "$2" 2>/dev/null &
	YP=$!
	PIDS="$PIDS $YP"
}
# Sets YL to the count ("<not counted>": the thread never ran, 0). Not
# from a $(...): perf must be this shell's child to be waited for.
yields_end() { # FILE
	YL=n/a
	[ -n "$YP" ] || return 0
	kill -INT "$YP" 2>/dev/null; wait "$YP" 2>/dev/null || true
	YL=$(awk -F, '/sched_yield/ { print ($1 ~ /^[0-9]+$/ ? $1 : 0); f = 1 } END { if (!f) print "n/a" }' "$1" 2>/dev/null) || YL=n/a
}

# --sched: every context switch of the machine over a traced run (perf
# sched record, on CLOCK_MONOTONIC like the traces), kept as perf sched
# timehist's text in sched-TAG.txt, and "TAG DAEMON_PID LOADGEN_PID" in
# $W/scheds for bench/lat_sched.py. perf runs in a session (so an
# autogroup) of its own, so that its CPU is not taken from the measured
# session's share (nor boosted with it): the tables show it as another
# program ("other: perf").
sched_start() { # TAG: sets SP
	SP=""
	[ -n "$SCHED" ] && [ -n "$1" ] || return 0
	rm -f "$W/sched.data"
	setsid perf sched record -k CLOCK_MONOTONIC -a -o "$W/sched.data" \
		>/dev/null 2>"$W/sched.err" &
	SP=$!
	PIDS="$PIDS $SP"
	# Until perf has opened its events (it writes the header then).
	for _ in $(seq 50); do [ -s "$W/sched.data" ] && break; sleep 0.1; done
}
sched_end() { # TAG DAEMON_PID LOADGEN_PID
	[ -n "$SP" ] || return 0
	kill -INT "$SP" 2>/dev/null; wait "$SP" 2>/dev/null || true
	if perf sched timehist -i "$W/sched.data" >"$W/sched-$1.txt" 2>/dev/null; then
		echo "$1 $2 $3" >>"$W/scheds"
	else
		echo "latency: perf sched failed: $(tail -1 "$W/sched.err")" >&2
	fi
	rm -f "$W/sched.data"
}

latency() { # BIN RATE [TRACE_TAG]: "p50 p99 p999 achieved n loop_busy preempts_per_s rq_wait writer_busy samples_per_tick tick_max helper_busy tick_cpu_share load yields k_p50 k_p99 k_p999" (k_: at the socket)
	local tr=""
	rm -f "$W/trace.txt" "$W/lat.txt"
	if [ -n "${3:-}" ]; then
		tr="--lat-trace $W/lat.txt"
		export STATECAST_TRACE=$W/trace.txt
	fi
	start "$1" "$W/lat"
	unset STATECAST_TRACE
	stamps "$2"
	$B/bench/loadgen --graphite 127.0.0.1:$SD_G --series "$S" --count $((S * 5)) \
		--t0 "$T_PRIME" --prefix lat --latency-series 16 --until-rpc 127.0.0.1:$SD_R >/dev/null ||
		echo "latency: priming failed" >&2
	yields_start "$SD_PID" "$W/yields.txt"
	sched_start "${3:-}"
	c0=$(loop_ticks "$SD_PID"); v0=$(loop_preempts "$SD_PID"); q0=$(loop_rqwait "$SD_PID"); w0=$(writer_ticks "$SD_PID"); a0=$(cpu_ticks "$SD_PID"); t0=$(date +%s.%N)
	# In the background for its pid (--sched tells its threads apart).
	$B/bench/loadgen --graphite 127.0.0.1:$SD_G --series "$S" --rate "$2" \
		--duration "$DUR" --prefix lat --t0 "$T_RUN" \
		--latency-rpc 127.0.0.1:$SD_R --latency-series 16 --until-rpc 127.0.0.1:$SD_R $tr >"$W/lg.out" &
	local lg=$!
	PIDS="$PIDS $lg"
	wait "$lg" || echo "latency: loadgen failed: $(cat "$W/lg.out")" >&2
	l=$(cat "$W/lg.out")
	local load; load=$(cut -d' ' -f1 /proc/loadavg)
	c1=$(loop_ticks "$SD_PID"); v1=$(loop_preempts "$SD_PID"); q1=$(loop_rqwait "$SD_PID"); w1=$(writer_ticks "$SD_PID"); a1=$(cpu_ticks "$SD_PID"); t1=$(date +%s.%N)
	yields_end "$W/yields.txt"
	sched_end "${3:-}" "$SD_PID" "$lg"
	stop "$SD_PID"
	# The daemon wrote its trace as it stopped; the peer's build, without
	# daemon/trace.h, wrote none: its runs show loadgen's side only.
	if [ -n "${3:-}" ] && [ -s "$W/lat.txt" ]; then
		if [ -s "$W/trace.txt" ]; then
			echo "$3 $(bench/lat_trace.py "$W/trace.txt" "$W/lat.txt")" >>"$W/traces"
			# Kept for the attribution of the slow samples (--attr).
			mv "$W/trace.txt" "$W/trace-$3.txt"
			mv "$W/lat.txt" "$W/lat-$3.txt"
		fi
	fi
	busy=$(awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", c / hz / (b - a) }')
	pre=$(awk -v v="$((v1 - v0))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", v / (b - a) }')
	rq=$(awk -v q="$((q1 - q0))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", q * 1e-9 / (b - a) }')
	wbusy=$(awk -v c="$((w1 - w0))" -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", c / hz / (b - a) }')
	hbusy=$(awk -v c="$((a1 - a0 - (c1 - c0) - (w1 - w0)))" -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", c / hz / (b - a) }')
	tshare=$(awk -v w="$(field tick_wall_s "$l")" -v c="$(field tick_cpu_s "$l")" 'BEGIN { if (w + 0 > 0) printf "%.2f", c / w; else print "n/a" }')
	spt=$(awk -v n="$(field sent "$l")" -v k="$(field ticks "$l")" 'BEGIN { if (k + 0 > 0) printf "%.0f", n / k; else print "n/a" }')
	echo "$(field lat_p50_us "$l") $(field lat_p99_us "$l") $(field lat_p999_us "$l") $(field rate "$l") $(field lat_n "$l") $busy $pre $rq $wbusy $spt $(field tick_max "$l") $hbusy $tshare $load $YL $(kfields "$l")"
}

# The kernel ruler's p50 p99 p999 from a loadgen line; n/a without stamps.
kfields() { # LINE
	local k
	for k in lat_k_p50_us lat_k_p99_us lat_k_p999_us; do
		printf '%s ' "$(field $k "$1" | sed 's/^$/n\/a/')"
	done
}

# How many of the runs' figures are over 2000 us ("k of n").
over2ms() { # FIGURES...
	echo "$*" | tr ' ' '\n' | awk '/^[0-9.]+$/ { n++; if ($1 + 0 > 2000) k++ } END { printf "%d of %d", k, n }'
}

# The measurement's floor: bench/echo_peer.c answers each latency line with
# a notification of the same size at once (no model, no store), timed by
# the same loadgen the same way: "p50 p99 p999 achieved n ... load".
echo_latency() { # RATE
	local g r pid l up try
	# A free port can be taken between free_port and the bind: try anew.
	for try in 1 2 3; do
		g=$(free_port); r=$(free_port); up=""
		$B/bench/echo_peer "$g" "$r" &
		pid=$!
		PIDS="$PIDS $pid"
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			(exec 3<>"/dev/tcp/127.0.0.1/$r") 2>/dev/null && { up=1; break; }
			sleep 0.05
		done
		[ -n "$up" ] && break
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
	done
	stamps "$1"
	l=$($B/bench/loadgen --graphite 127.0.0.1:$g --series "$S" --rate "$1" \
		--duration "$DUR" --prefix lat --t0 "$T_RUN" \
		--latency-rpc 127.0.0.1:$r --latency-series 16 --until-rpc 127.0.0.1:$r) ||
		echo "latency: loadgen (echo) failed: $l" >&2
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
	echo "$(field lat_p50_us "$l") $(field lat_p99_us "$l") $(field lat_p999_us "$l") $(field rate "$l") $(field lat_n "$l") n/a n/a n/a n/a n/a n/a n/a n/a $(cut -d' ' -f1 /proc/loadavg) n/a $(kfields "$l")"
}

# Sustained rate, interleaved.
sa=""; sb=""
for i in $(seq "$REPS"); do
	sa="$sa $(WHO=peer sustained "$PEER/statecastd")"
	sb="$sb $(WHO=this sustained "$B/statecastd")"
	echo "latency: sustained run $i: peer$sa / this$sb"
done
ma=$(echo "$sa" | median); mb=$(echo "$sb" | median)
r10=$(awk -v r="$ma" 'BEGIN { printf "%d", r * 0.1 }')
r50=$(awk -v r="$ma" 'BEGIN { printf "%d", r * 0.5 }')

rows=""
specs="10%:$r10 50%:$r50 50k/s:50000"
[ -n "$ONLY50" ] && specs="50k/s:50000"
for spec in $specs; do
	name=${spec%:*}; rate=${spec#*:}
	for who in peer this echo; do eval "${who}_50=''; ${who}_99=''; ${who}_999=''; ${who}_ach=''; ${who}_busy=''; ${who}_pre=''; ${who}_rq=''; ${who}_wb=''; ${who}_spt=''; ${who}_tmax=''; ${who}_hb=''; ${who}_ts=''; ${who}_ld=''; ${who}_yl=''; ${who}_k50=''; ${who}_k99=''; ${who}_k999=''"; done
	for i in $(seq "$REPS"); do
		for who in peer this echo; do
			bin=$B/statecastd; [ $who = peer ] && bin=$PEER/statecastd
			tag=""
			[ -n "$TRACE" ] && [ "$rate" = 50000 ] && tag="$who-$i"
			if [ $who = echo ]; then
				set -- $(echo_latency "$rate")
			else
				set -- $(WHO=$who latency "$bin" "$rate" $tag)
			fi
			eval "${who}_50=\"\$${who}_50 ${1:-}\"; ${who}_99=\"\$${who}_99 ${2:-}\"; ${who}_999=\"\$${who}_999 ${3:-}\"; ${who}_ach=\"\$${who}_ach ${4:-}\"; ${who}_busy=\"\$${who}_busy ${6:-}\"; ${who}_pre=\"\$${who}_pre ${7:-}\"; ${who}_rq=\"\$${who}_rq ${8:-}\"; ${who}_wb=\"\$${who}_wb ${9:-}\"; ${who}_spt=\"\$${who}_spt ${10:-}\"; ${who}_tmax=\"\$${who}_tmax ${11:-}\"; ${who}_hb=\"\$${who}_hb ${12:-}\"; ${who}_ts=\"\$${who}_ts ${13:-}\"; ${who}_ld=\"\$${who}_ld ${14:-}\"; ${who}_yl=\"\$${who}_yl ${15:-}\"; ${who}_k50=\"\$${who}_k50 ${16:-}\"; ${who}_k99=\"\$${who}_k99 ${17:-}\"; ${who}_k999=\"\$${who}_k999 ${18:-}\""
			echo "latency: $name ($rate/s) run $i $who: at the socket p50 ${16:-} p99 ${17:-} p99.9 ${18:-} us, reader p50 ${1:-} p99 ${2:-} p99.9 ${3:-} us, achieved ${4:-}, n ${5:-}, loop busy ${6:-}, preempted ${7:-}/s, waiting for a core ${8:-}, writer busy ${9:-}, samples/tick ${10:-}, tick max ${11:-}, helpers busy ${12:-}, tick CPU/wall ${13:-}, load ${14:-}, loop sched_yield ${15:-}"
		done
	done
	for who in peer this echo; do
		eval "v50=\$${who}_50; v99=\$${who}_99; v999=\$${who}_999; ach=\$${who}_ach; vbusy=\$${who}_busy; vpre=\$${who}_pre; vrq=\$${who}_rq; vwb=\$${who}_wb; vspt=\$${who}_spt; vtmax=\$${who}_tmax; vhb=\$${who}_hb; vts=\$${who}_ts; vld=\$${who}_ld; vyl=\$${who}_yl; vk50=\$${who}_k50; vk99=\$${who}_k99; vk999=\$${who}_k999"
		label=$peer_desc; sus=$ma; [ $who = this ] && { label="this tree${THIS_OPTS:+,$THIS_OPTS}"; sus=$mb; }
		[ $who = echo ] && { label="echo peer (floor)"; sus=n/a; }
		rows="$rows| $name | $rate | $(ratio "$rate" "$sus") | $label | $(echo "$ach" | median) | $(echo "$vk50" | median) | $(echo "$vk99" | median) | $(echo "$vk999" | median) | $(over2ms $vk99) | $(echo "$v50" | median) | $(echo "$v99" | median) | $(echo "$v999" | median) | $(over2ms $v99) | $(echo "$vbusy" | median) | $(echo "$vrq" | median) | $(echo "$vpre" | median) | $(echo "$vwb" | median) | $(echo "$vhb" | median) | $(echo "$vts" | median) | $(echo "$vspt" | median) | $(echo "$vtmax" | median) | $(echo "$vyl" | median) | $(echo "$vld" | median) | at the socket p50:$vk50; p99:$vk99; p99.9:$vk999; reader p50:$v50; p99:$v99; p99.9:$v999; sched_yield:$vyl |
"
	done
done

# --sched: the table of WHO's (this or peer) runs, when perf recorded them.
sched_report() { # WHO LABEL
	local tag dp lp
	local who=$1 label=$2
	shift 2
	[ -s "$W/scheds" ] || return 0
	while read -r tag dp lp; do
		case $tag in "$who"-*) ;; *) continue ;; esac
		[ -s "$W/lat-$tag.txt" ] || continue
		set -- "$@" "$W/sched-$tag.txt" "$W/lat-$tag.txt" "$dp" "$lp"
	done <"$W/scheds"
	[ $# -gt 0 ] || return 0
	echo
	echo "## Who held the cores while slow samples waited ($label, 50k/s, --sched)"
	echo
	echo "bench/lat_sched.py: every context switch of the machine over the"
	echo "run (perf sched record -a); for each send of timed samples of which"
	echo "some took over 2 ms, the window from the send to the last of them"
	echo "arriving, and each task's time on a core inside it, by whom: this"
	echo "daemon's threads, the timing load generator, other programs of the"
	echo "machine, or no task (idle). A stretch the host took from the VM"
	echo "counts as the task that was on the core."
	echo
	bench/lat_sched.py "$@"
	echo
	echo "## Who held the cores while the loop waited for one ($label, 50k/s, --sched)"
	echo
	echo "bench/lat_sched.py --delays 300: the same runs, the windows being the"
	echo "loop thread's own waits for a core of 300 us or more in the timed"
	echo "span (from its wake-up or its preemption to its next run), slow"
	echo "samples or not. The loop itself is off the cores then."
	echo
	bench/lat_sched.py --delays 300 "$@"
}

commit=$(head_rev)
{
	echo "# Latency: sample sent -> forecast pushed (at the subscriber's socket, and at loadgen's reader)"
	echo
	echo "Written by \`bench/latency.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC'), this tree at commit $commit;"
	echo "peer: $peer_desc, built in the same run."
	echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared: read ratios and medians)."
	echo
	echo "statecastd with the default model and the store (store.path set), $S series,"
	echo "Graphite over 4 connections from bench/loadgen.c. Each figure is the median of"
	echo "$REPS runs, peer and this tree interleaved."
	[ -n "$NICE" ] && echo "Both daemons ran under \`nice -n $NICE\` (loadgen did not), so that other tenants of the machine take less of their cores."
	if [ -n "$NOW" ]; then
		echo "Timestamps (--now): every run's samples end a step before the wall clock, inside the store's retention (the writer stores the forecasts and deletes none)."
	else
		echo "Timestamps: loadgen's 1.7e9 (three years back: the store writer deletes the forecasts the runs store as out of retention; see the script's header)."
	fi
	[ -n "$BOOST" ] && echo "Boosted: the measurements (daemons and loadgen) ran in a session of their own whose autogroup had nice $BOOST, standing for a dedicated 2-core machine (see the script's header)."
	echo
	echo "## Sustained samples/s ($S series, 200000 samples flat out)"
	echo
	echo "| build | median | runs | vs peer |"
	echo "|---|---|---|---|"
	echo "| $peer_desc | $ma | $sa | 1.000 |"
	echo "| this tree${THIS_OPTS:+,$THIS_OPTS} | $mb | $sb | $(ratio "$mb" "$ma") |"
	echo
	echo "## Latency ($DUR s paced in 1 ms slices, 16 subscribed series)"
	echo
	echo "Rates: 10% and 50% of the peer's sustained median above, and the target's 50,000/s."
	echo
	echo "Of sustained: the rate over that build's sustained median in this run (at"
	echo "1 or more the daemon falls behind and latency is the backlog). Loop busy:"
	echo "CPU time of the loop thread over the run's wall time. Waiting: the share of"
	echo "wall time the loop thread was runnable but had no core (schedstat run-queue"
	echo "wait). Preempted/s: its involuntary context switches per second."
	echo "Writer busy: CPU time of the store's writer thread over wall time."
	echo "Helpers busy: the daemon's other threads (the compute pool's helpers)."
	echo "Tick CPU/wall: the loop thread's CPU time in ticks over their wall time"
	echo "(statecastd's tick_cpu_s / tick_wall_s; n/a for a build without them):"
	echo "below 1, the loop waited for a core mid-tick."
	echo "Samples/tick: samples sent over the run's ticks (loop iterations that"
	echo "stepped); tick max: the most samples one tick stepped since the daemon"
	echo "started, priming included, where a series that has learnt its step"
	echo "steps the samples it buffered meanwhile at once (counted from this tree"
	echo "on: n/a for a build without it)."
	echo "Loop sched_yield: the loop thread's sched_yield calls over the run"
	echo "(perf stat, syscalls:sys_enter_sched_yield): libuv 1.44 makes them only"
	echo "spinning on a uv_async_t whose sender is mid-send (io/wake.h), so any"
	echo "is a stall of the loop's; n/a without perf."
	echo
	echo "At the socket: send -> the push arrived at the subscriber's socket (the"
	echo "kernel's receive stamp): the daemon's latency, on which the target"
	echo "(p99 < 2 ms) is judged. Reader: send -> loadgen's reader thread had it"
	echo "(plus that thread's wait for a core; the figure of runs before lat11)."
	echo "p99 > 2 ms: the runs whose p99 was over 2 ms, by each ruler."
	echo
	echo "| load | rate asked | of sustained | build | rate achieved | p50 at socket (us) | p99 at socket (us) | p99.9 at socket (us) | p99 > 2 ms, at socket | p50 reader (us) | p99 reader (us) | p99.9 reader (us) | p99 > 2 ms, reader | loop busy | waiting | preempted/s | writer busy | helpers busy | tick CPU/wall | samples/tick | tick max | loop sched_yield | load | runs |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	printf '%s' "$rows"
	echo
	echo "Load: the machine's 1-minute load average as each run ended (median)."
	echo "Echo peer (floor): bench/echo_peer.c in place of statecastd, run the same"
	echo "way in the same rounds: it writes each latency line's notification (same"
	echo "size) at once, with no model and no store; its latency is loadgen's, the"
	echo "loopback's and the scheduler's share of every figure above."
	if [ -s "$W/traces" ]; then
		echo
		echo "## Where the time went (--trace: this tree's 50k/s runs)"
		echo
		echo "Each timed sample split at the last forecast notification the daemon"
		echo "wrote before the sample arrived (bench/lat_trace.py): daemon = send ->"
		echo "notification written; delivery = written -> loadgen's reader thread had"
		echo "it (loopback and that thread getting a core). Read wait: send -> the"
		echo "loop's next read of a Graphite connection. Pool rounds: the loop from"
		echo "sharing a round with the compute pool until every chunk was in (us);"
		echo "steals: chunks a preempted helper held past their bound that the loop"
		echo "stepped itself (this tree). Times in us."
		echo
		echo "| run | n | p50 | p99 | daemon p50 | daemon p99 | delivery p50 | delivery p99 | read wait p99 | slow (>2 ms) | slow mostly in delivery | tick p99 | tick max | loop in ticks | tick CPU/wall | pool rounds | pool round p99 | pool round max | steals |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		while read -r tag rest; do
			g() { echo "$rest" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
			echo "| $tag | $(g n) | $(g p50_us) | $(g p99_us) | $(g daemon_p50_us) | $(g daemon_p99_us) | $(g delivery_p50_us) | $(g delivery_p99_us) | $(g readwait_p99_us) | $(g slow) | $(g slow_by_delivery) | $(g tick_p99_us) | $(g tick_max_us) | $(g tick_busy) | $(g tick_cpu_wall) | $(g pool_rounds) | $(g pool_p99_us) | $(g pool_max_us) | $(g steals) |"
		done <"$W/traces"
		for who in this peer; do
			set --
			for f in "$W"/trace-$who-*.txt; do
				[ -e "$f" ] || continue
				# Only traces with the loop's CPU time and run
				# delay (daemon/trace.h, 7 fields a line).
				[ "$(awk '$1 !~ /^#/ { print NF; exit }' "$f")" = 7 ] || continue
				set -- "$@" "$f" "$W/lat-${f#"$W"/trace-}"
			done
			[ $# -gt 0 ] || continue
			label="this tree"; [ $who = peer ] && label=$peer_desc
			echo
			echo "## Slow samples attributed to causes ($label, 50k/s, all traced runs)"
			echo
			echo "bench/lat_trace.py --attr: the loop's timeline cut into phases at the"
			echo "events that read its run delay (poll, tick, pool round, periodic work);"
			echo "each phase's wall time split into the loop's CPU, its run delay"
			echo "(runnable without a core) and sleep; a slow sample (over 2 ms at"
			echo "the subscriber's socket, the kernel's receive stamp: the ruler the"
			echo "target is judged on) has its daemon part (send -> notification"
			echo "written) summed per cause over the phases it overlaps, and is counted"
			echo "under the cause holding most of it."
			echo
			bench/lat_trace.py --attr "$@"
			echo
			echo "## Every timed sample's latency in parts ($label, 50k/s, all traced runs)"
			echo
			echo "bench/lat_trace.py --parts: each timed sample cut at the loop's"
			echo "events: send -> the start of the tick that wrote its notification"
			echo "(of which: until the loop's next read; an earlier tick still"
			echo "running at the send), that tick's start -> the notification"
			echo "written, and the delivery to loadgen's reader."
			echo
			bench/lat_trace.py --parts "$@"
			sched_report "$who" "$label"
		done
	fi
} >"$OUT"
echo "latency: wrote $OUT"
