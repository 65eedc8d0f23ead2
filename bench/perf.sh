#!/bin/bash
# bench/perf.sh: statecastd's ingest throughput, latency, memory and restore
# time, side by side with carbon-c-relay and VictoriaMetrics on the same
# generated Graphite input, in the same run. Writes bench/results/perf.md.
#
#   bench/perf.sh [--quick] [--series "1000 100000 1000000"]
#                 [--steady-seeded DIR] [--out FILE]
#
# Timestamps: the throughput, CPU split and scaling runs stamp their last
# sample a moment before the wall clock (loadgen --end now), as a live
# feed does: with loadgen's default t0 (1.7e9, three years back) the store
# writer deleted each run's stored forecasts as out of retention, and the
# rows measured that (bench/results/wal15.md section 0). The latency rows
# keep 1.7e9 (priming, then t0 + 5 steps: the order they need), so their
# store writer may purge what they store; their figure is the loop's
# sample-to-push time, which the writer (SCHED_IDLE) does not sit on.
#
# --quick (what `make bench` runs) measures 1k and 100k series; the default
# adds 1M. A steady-state row (bench/steady.sh, one rep: 100k series whose
# database already holds 300 samples and ~215 stored forecasts each,
# against an empty database; --quick: 20k x 200) measures what the
# empty-database rows miss; its seeding is the longest part of perf.sh (30M
# samples, a forecast stored at each, ~15 GB: 45 minutes at load 15,
# bench/results/steady11.md). --steady-seeded DIR takes instead a seed
# kept from an earlier bench/steady.sh run of the same series count (the
# default model, this code, a 60 s step; bench/steady.sh --seeded: it
# holds its t0 and sample count, and is aged further in place), saving
# the seeding's time and disk. A series count of 1M or more runs under
# `flock /tmp/statecast-1m.lock` (the machine's memory is shared: one 1M
# run at a time). Every process listens on loopback ports (statecastd's its own
# pick, the peers' checked to be theirs: bench/lib.sh) and is killed at the
# end. Rates are samples the receiver PROCESSED per second
# (bench/loadgen.c waits for the receiver's own counter), not bytes sent.
# At 100k series it also runs a longer row, 30 samples per series (the
# 6-sample row is mostly series' first samples, which cost less than later
# ones: bench/results/ing100k.md), statecastd and the relay only.
# Besides throughput, memory and restore per series count, it measures:
# latency at 10% and 50% of the sustained rate and at the 50k/s target;
# CPU per sample split into parse, step and store (perf record, see
# bench/cpu_split.py); the model's GFLOP/s against sgemm (ssm_bench
# --model); and scaling from 1 to 2 cores (taskset, model.threads).
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
OUT=bench/results/perf.md
SERIES="1000 100000 1000000"
ROUNDS=6
QUICK=0
STEADY_SEEDED=""
. bench/lib.sh
parse_args "usage: bench/perf.sh [--quick] [--series LIST] [--steady-seeded DIR] [--out FILE]" \
	'--quick:SERIES="1000 100000"; QUICK=1' --series=SERIES --steady-seeded=STEADY_SEEDED --out=OUT -- "$@"
[ -z "$STEADY_SEEDED" ] || [ -f "$STEADY_SEEDED/db" ] ||
	{ echo "perf: --steady-seeded $STEADY_SEEDED: no database $STEADY_SEEDED/db" >&2; exit 1; }
need_tools carbon-c-relay victoria-metrics perf
# The load before this script adds its own: a run of tens of minutes on a
# shared machine is read against both ends.
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
make -s -j2 all build/bench/loadgen build/bench/ssm_bench
B=build
bench_workdir perf


# statecastd MODEL DIR [-o SETTING...]: daemon_start (bench/lib.sh) with the
# store and log in DIR; sets SD_PID SD_G SD_R. $PIN (e.g. "taskset -c 0")
# runs it on chosen cores.
start_statecastd() {
	local model=$1 dir=$2 rc=0
	shift 2
	daemon_start $B/statecastd "$dir/db" "$dir/log" -o model.path="$model" "$@" || rc=$?
	SD_PID=$PID SD_G=$G SD_R=$R
	PIDS="$PIDS $SD_PID"
	[ $rc = 0 ] || echo "perf: statecastd did not start (log: $dir/log)" >&2
	return $rc
}
stop() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null || true; }
# VictoriaMetrics on peer_start's ports: Graphite P[1], HTTP P[2].
vm_cmd() {
	victoria-metrics -graphiteListenAddr=127.0.0.1:${P[1]} -httpListenAddr=127.0.0.1:${P[2]} \
		-storageDataPath="$W/vm" -loggerLevel=ERROR >"$W/vm.log" 2>&1 &
	PEER_PID=$! PEER_PORTS="${P[1]} ${P[2]}"
}

count_for() { # samples for S series: ROUNDS rounds, at least 200k
	local n=$(( $1 * ROUNDS ))
	[ $n -lt 200000 ] && n=$(( (200000 / $1) * $1 ))
	echo $n
}

MIN_MODEL=$W/min.model
min_model "$B" "$MIN_MODEL"

rows=""
lat_rows=""
mem_rows=""
skipped=""
per_last=30 # KiB per series, until measured
LOCK1M="" # set while fd 9 holds /tmp/statecast-1m.lock
for S in $SERIES; do
	[ -z "$LOCK1M" ] || { flock -u 9; LOCK1M=""; } # a 1M run's, held until the next count
	N=$(count_for "$S")
	# The default model's states must fit: skip a series count whose
	# estimated RSS (last measured KiB/series + 30%) exceeds what is free.
	need=$(awk -v s="$S" -v p="$per_last" 'BEGIN { printf "%d", s * p * 1.3 }')
	avail=$(awk '/^MemAvailable/ {print $2}' /proc/meminfo)
	if [ "$need" -gt "$avail" ]; then
		echo "perf: skipping $S series: needs ~$need KiB, $avail available"
		skipped="$skipped $S (needs ~$((need / 1024)) MiB, $((avail / 1024)) MiB available);"
		continue
	fi
	echo "perf: $S series, $N samples"
	if [ "$S" -ge 1000000 ]; then
		echo "perf: waiting for /tmp/statecast-1m.lock"
		exec 9>/tmp/statecast-1m.lock
		flock 9
		LOCK1M=1
	fi
	# carbon-c-relay: parse + route into a discarding sink (loadgen's).
	relay_start; PIDS="$PIDS $RELAY_PID"
	relay=$($B/bench/loadgen --graphite 127.0.0.1:$RELAY_PORT --series "$S" --count "$N" --end now --until-sink "$RELAY_SINK" || true)
	kill "$RELAY_PID" 2>/dev/null || true
	# VictoriaMetrics: parse + persist.
	peer_start 2 vm_cmd || true
	VPID=$PEER_PID VG=${P[1]} VH=${P[2]}; PIDS="$PIDS $VPID"
	vm=$($B/bench/loadgen --graphite 127.0.0.1:$VG --series "$S" --count "$N" --end now \
		--until-metric "127.0.0.1:$VH/metrics" --metric vm_rows_inserted_total || true)
	stop "$VPID"; rm -rf "$W/vm"
	# statecastd, default model, persistence on.
	mkdir -p "$W/sd"; rm -f "$W/sd/"*
	start_statecastd models/default.model "$W/sd"
	rss0=$(rss_kb "$SD_PID")
	sd=$($B/bench/loadgen --graphite 127.0.0.1:$SD_G --series "$S" --count "$N" --end now --until-rpc 127.0.0.1:$SD_R --drain || true)
	rss_peak=$(awk '/^VmHWM/ {print $2}' "/proc/$SD_PID/status" 2>/dev/null || echo n/a)
	drained "$B/statecast" "$SD_R" || true
	rss1=$(rss_kb "$SD_PID" 2>/dev/null || echo 0)
	if guarded "$SD_PID"; then
		echo "perf: $S series: statecastd stopped by the memory guard; no restore or minimal-model run"
		mem_rows="$mem_rows| $S | $rss0 | killed by the memory guard at $(sed -n "s/^$SD_PID //p" "$W/guard") KiB RSS, before the run ended | n/a | n/a | n/a |
"
		rows="$rows| $S | $N | $(field rate "$relay") | $(field rate "$vm") | killed (memory) | n/a | not run | n/a | n/a | n/a | n/a |
"
		continue
	fi
	stop "$SD_PID"
	# Restore: restart on the same database, read the daemon's own line.
	start_statecastd models/default.model "$W/sd"
	restore=$(grep -o 'restored [0-9]* series from [^ ]* in [0-9.]* s' "$W/sd/log" | tail -n 1)
	stop "$SD_PID"
	# statecastd, minimal model (one tiny layer, horizon 1): ingest cost.
	mkdir -p "$W/sdmin"; rm -f "$W/sdmin/"*
	start_statecastd "$MIN_MODEL" "$W/sdmin"
	sdmin=$($B/bench/loadgen --graphite 127.0.0.1:$SD_G --series "$S" --count "$N" --end now --until-rpc 127.0.0.1:$SD_R --drain || true)
	stop "$SD_PID"

	r_relay=$(field rate "$relay"); r_vm=$(field rate "$vm")
	r_sd=$(field rate "$sd"); r_min=$(field rate "$sdmin")
	d_sd=$(field drained_rate "$sd"); d_min=$(field drained_rate "$sdmin")
	rows="$rows| $S | $N | ${r_relay:-n/a} | ${r_vm:-n/a} | ${r_sd:-n/a} | ${d_sd:-n/a} | ${r_min:-n/a} | ${d_min:-n/a} | $(ratio "$r_sd" "$r_relay") | $(ratio "$r_sd" "$r_vm") | $(ratio "$r_min" "$r_relay") |
"
	per=$(awk -v a="$rss0" -v b="$rss1" -v s="$S" 'BEGIN { printf "%.2f", (b-a)/s }')
	per_last=$per
	last_S=$S; last_per=$per
	last_restore_s=$(echo "$restore" | sed -n 's/.* in \([0-9.]*\) s$/\1/p')
	[ "$S" = 100000 ] && { rate_100k=$r_sd; drained_100k=$d_sd; min_ratio_100k=$(ratio "$r_min" "$r_relay"); }
	mem_rows="$mem_rows| $S | $rss0 | $rss1 | $rss_peak | $per | ${restore:-not logged} |
"
	# Latency at 10% and 50% of the sustained rate, and at the target's
	# 50k/s (smallest series count); at 50k/s also on one thread.
	if [ -z "$lat_rows" ] && [ -n "$r_sd" ] && [ "${r_sd%.*}" -gt 0 ]; then
		specs="0.1:0 0.5:0 50000:0 50000:1"
		[ $QUICK = 1 ] && specs="0.1:0 0.5:0 50000:0"
		for spec in $specs; do
			frac=${spec%:*}; thr=${spec#*:}
			if [ "${frac%.*}" -gt 1 ]; then
				rate=$frac; share=$(awk -v r="$rate" -v s="$r_sd" 'BEGIN { printf "%.2f", r/s }')
			else
				rate=$(awk -v r="$r_sd" -v f="$frac" 'BEGIN { printf "%d", r*f }'); share=$frac
			fi
			mkdir -p "$W/lat"; rm -f "$W/lat/"*
			start_statecastd models/default.model "$W/lat" -o model.threads=$thr
			# Prime the series (step learning) before measuring.
			$B/bench/loadgen --graphite 127.0.0.1:$SD_G --series "$S" --count $((S * 5)) \
				--prefix lat --latency-series 16 --until-rpc 127.0.0.1:$SD_R >/dev/null || true
			l=$($B/bench/loadgen --graphite 127.0.0.1:$SD_G --series "$S" --rate "$rate" \
				--duration 5 --prefix lat --t0 $((1700000000 + 5 * 60)) \
				--latency-rpc 127.0.0.1:$SD_R --latency-series 16 --until-rpc 127.0.0.1:$SD_R || true)
			stop "$SD_PID"
			thr_name=$thr; [ "$thr" = 0 ] && thr_name="$(nproc) (default)"
			# The target is judged at the socket (bench/latency.sh's
			# header); n/a when loadgen had no kernel stamps.
			if [ "$spec" = 50000:0 ]; then
				lat50_p99=$(field lat_k_p99_us "$l"); lat50_rd=$(field lat_p99_us "$l")
			fi
			lat_rows="$lat_rows| $S | $thr_name | $share | $rate | $(field rate "$l") | $(field lat_n "$l") | $(field lat_k_p50_us "$l" | sed 's/^$/n\/a/') | $(field lat_k_p99_us "$l" | sed 's/^$/n\/a/') | $(field lat_k_p999_us "$l" | sed 's/^$/n\/a/') | $(field lat_p50_us "$l") | $(field lat_p99_us "$l") | $(field lat_p999_us "$l") |
"
		done
	fi
done
[ -z "$LOCK1M" ] || { flock -u 9; LOCK1M=""; }

# The 100k row above is 6 samples per series: the first 4 wait while each
# series learns its step, and a young series' smoothing front is cheaper
# than an older one's (bench/results/ing100k.md), so it is not a steady
# state. The longer row: the same series count, LONG_PER samples per series,
# statecastd (default model, store) and the relay on the same input.
LONG_PER=30
long_row=""
case " $SERIES " in *" 100000 "*)
	LS=100000; LN=$((LS * LONG_PER))
	echo "perf: $LS series, $LN samples ($LONG_PER per series)"
	relay_start; PIDS="$PIDS $RELAY_PID"
	lrelay=$($B/bench/loadgen --graphite 127.0.0.1:$RELAY_PORT --series $LS --count $LN --end now --until-sink "$RELAY_SINK" || true)
	kill "$RELAY_PID" 2>/dev/null || true
	mkdir -p "$W/sdl"; rm -f "$W/sdl/"*
	start_statecastd models/default.model "$W/sdl"
	lsd=$($B/bench/loadgen --graphite 127.0.0.1:$SD_G --series $LS --count $LN --end now --until-rpc 127.0.0.1:$SD_R --drain || true)
	stop "$SD_PID"
	# A relay that dropped lines (complete=0) has no rate for the row.
	lr=$(field rate "$lrelay")
	[ "$(field complete "$lrelay")" = 1 ] || lr=n/a
	long_row="| $LS | $LN | $LONG_PER | ${lr:-n/a} | $(field rate "$lsd") | $(field drained_rate "$lsd") | $(ratio "$(field rate "$lsd")" "$lr") |"
	;;
esac

# Steady state: every row above starts from an empty database, but a daemon
# that has run a week at the defaults holds up to 2016 stored forecasts a
# series, and each new forecast row then dirties an index leaf of its own
# (bench/results/store10-split.md section 6). bench/steady.sh seeds a
# database with this build (STEADY_AGED samples a series, a forecast stored
# at each but a new series' first ones),
# restarts the daemon on it with the default settings and takes
# STEADY_PER samples a series flat out, beside a run on an empty database
# (one rep each; bench/steady.sh --reps for medians). --quick: 20k series
# x 200 aged. It needs disk (about 700 bytes a seeded forecast, 20 GiB
# left free) and refuses otherwise: the row then says so. The seeded
# forecasts come in rounds of consecutive series, ~4 to an index leaf:
# a lower bound on a week-old daemon's cost (bench/results/steady11.md).
STEADY_S=100000 STEADY_AGED=300 STEADY_PER=30
[ $QUICK = 1 ] && STEADY_S=20000 STEADY_AGED=200
if [ -n "$STEADY_SEEDED" ]; then
	# The seed's own count of samples a series (DIR/aged) replaces STEADY_AGED.
	STEADY_AGED=$(cat "$STEADY_SEEDED/aged" 2>/dev/null || echo "?")
	echo "perf: steady state, $STEADY_S series x $STEADY_AGED aged (seeded: $STEADY_SEEDED)"
	steady=$(bench/steady.sh --build "$B" --series $STEADY_S --seeded "$STEADY_SEEDED" --per $STEADY_PER \
		--reps 1 --no-plain --out "$W/steady.md" 2>"$W/steady.err" | tail -n 1 || true)
else
	echo "perf: steady state, $STEADY_S series x $STEADY_AGED aged"
	steady=$(bench/steady.sh --build "$B" --series $STEADY_S --aged $STEADY_AGED --per $STEADY_PER \
		--reps 1 --no-plain --out "$W/steady.md" 2>"$W/steady.err" | tail -n 1 || true)
fi
steady_row="| $STEADY_S | $STEADY_AGED | $STEADY_PER | $(field aged_rate "$steady") | $(field aged_drained "$steady") | $(field aged_cpu "$steady") | $(field empty_rate "$steady") | $(field empty_drained "$steady") | $(field empty_cpu "$steady") | $(ratio "$(field aged_rate "$steady")" "$(field empty_rate "$steady")") |"
[ -n "$(field aged_rate "$steady")" ] || steady_row="| $STEADY_S | $STEADY_AGED | $STEADY_PER | not measured: $(tail -n 1 "$W/steady.err" | tr '|' '/') | | | | | | |"

# CPU per sample, split (1k series, default model and settings): perf
# samples every thread's CPU at PF Hz while loadgen streams flat out.
PF=999; SC=1000; SN=200000
[ $QUICK = 1 ] && SN=100000
mkdir -p "$W/cpu"; rm -f "$W/cpu/"*
start_statecastd models/default.model "$W/cpu"
perf record -q -F $PF -e cpu-clock -p "$SD_PID" -o "$W/cpu/perf.data" >/dev/null 2>&1 &
PERF_PID=$!; sleep 0.5
cpu_run=$($B/bench/loadgen --graphite 127.0.0.1:$SD_G --series $SC --count $SN --end now --until-rpc 127.0.0.1:$SD_R --drain || true)
kill -INT "$PERF_PID" 2>/dev/null; wait "$PERF_PID" 2>/dev/null || true
split=$(/usr/bin/python3 bench/cpu_split.py "$W/cpu/perf.data" $PF "$SN" "$SD_PID" "$B" || true)
stop "$SD_PID"
flops=$($B/bench/ssm_bench --model models/default.model || true)

# Scaling, 1k series flat out, REPS runs per setting interleaved (medians):
# one core; two cores with the loop stepping alone (the store's writer
# thread has the other core); two cores with the compute pool. The rate is
# timed to the last sample stepped (loadgen's window); the CPU is counted
# until the store drained: on one core the writer (SCHED_IDLE) gets the
# core only once the loop is done, so a CPU figure that stopped with the
# window would leave out most of the store's work there and little of it
# on two cores (bench/results/par9.md: that was most of the old table's
# 6.2 against 9.2 us a sample).
REPS=5
[ $QUICK = 1 ] && REPS=3
scale_run() { # PIN THREADS: prints "RATE CORES_IN_WINDOW US_PER_SAMPLE US_AFTER WRITER_US"
	local c0 c1 c2 w0 w2
	mkdir -p "$W/sc"; rm -f "$W/sc/"*
	PIN=$1 start_statecastd models/default.model "$W/sc" -o model.threads=$2
	c0=$(cpu_ticks "$SD_PID"); w0=$(writer_ticks "$SD_PID")
	r=$($B/bench/loadgen --graphite 127.0.0.1:$SD_G --series $SC --count $SN --end now --until-rpc 127.0.0.1:$SD_R || true)
	c1=$(cpu_ticks "$SD_PID")
	drained "$B/statecast" "$SD_R" || true
	c2=$(cpu_ticks "$SD_PID"); w2=$(writer_ticks "$SD_PID")
	stop "$SD_PID"
	# CPU the daemon got during the window, in cores: on a shared machine
	# a second core only helps when it is actually had.
	awk -v r="$(field rate "$r")" -v d="$(field done_s "$r")" -v n="$SN" \
		-v c0="$c0" -v c1="$c1" -v c2="$c2" -v w0="$w0" -v w2="$w2" \
		-v hz="$(getconf CLK_TCK)" 'BEGIN {
		us = 1e6 / hz / n
		printf "%s %.2f %.2f %.2f %.2f\n", r, (d > 0 ? (c1 - c0) / hz / d : 0),
			(c2 - c0) * us, (c2 - c1) * us, (w2 - w0) * us }'
}
# writer_ticks PID: CPU ticks of the daemon's store-writer thread.
writer_ticks() {
	local t
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = store-writer ] && { stat_ticks "$t/stat"; return; }
	done
	echo 0
}
sc1="" sc2="" sc2p="" cu1="" cu2="" cu2p=""
us1="" us2="" us2p="" af1="" af2="" af2p="" wr1="" wr2="" wr2p=""
for _ in $(seq $REPS); do
	set -- $(scale_run "taskset -c 0" 1); sc1="$sc1 $1"; cu1="$cu1 $2"; us1="$us1 $3"; af1="$af1 $4"; wr1="$wr1 $5"
	set -- $(scale_run "taskset -c 0,1" 1); sc2="$sc2 $1"; cu2="$cu2 $2"; us2="$us2 $3"; af2="$af2 $4"; wr2="$wr2 $5"
	set -- $(scale_run "taskset -c 0,1" 2); sc2p="$sc2p $1"; cu2p="$cu2p $2"; us2p="$us2p $3"; af2p="$af2p $4"; wr2p="$wr2p $5"
done
m1=$(echo "$sc1" | median)
scale_row() { # CORES THREADS RATES CORES US AFTER WRITER: one row of the table
	local m
	m=$(echo "$3" | median)
	echo "| $1 | $2 | $m | $3 | $(ratio "$m" "$m1") | $(echo "$4" | median) | $(echo "$5" | median) | $5 | $(echo "$6" | median) | $(echo "$7" | median) |"
}
# Targets (issue 9), from this run's figures.
verdict() { # MEASURED TARGET higher|lower
	awk -v m="$1" -v t="$2" -v d="$3" 'BEGIN {
		if (m == "" || m == "n/a") { print "not measured"; exit }
		ok = (d == "higher") ? (m + 0 >= t + 0) : (m + 0 <= t + 0)
		f = (d == "higher") ? t / m : m / t
		if (ok) print "met"; else printf "MISSED by %.1fx\n", f }'
}
tot_us=$(field cpu_total_us "$split")
cap=$(awk -v u="$tot_us" 'BEGIN { if (u + 0 > 0) printf "%d", 2e6 / u; else print "n/a" }')
commit=$(head_rev)

{
	echo "# Performance: statecastd beside carbon-c-relay and VictoriaMetrics"
	echo
	echo "Written by \`bench/perf.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit."
	echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load average at the start: $LOAD0, at the end: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: read ratios, not absolutes)."
	echo "Peers (Debian packages): $(dpkg-query -W -f='${Package} ${Version}, ' carbon-c-relay victoria-metrics | sed 's/, $//')."
	echo
	echo "Input: bench/loadgen.c, Graphite plaintext over 4 connections, S series,"
	echo "one sample per series per round, flat out. A rate is samples the receiver"
	echo "processed per second (relay: lines reaching loadgen's sink; VictoriaMetrics:"
	echo "vm_rows_inserted_total; statecastd: its stats counters), first byte to last."
	echo "statecastd's rate counts samples stepped; \"until drained\" counts from the"
	echo "first byte until its store has also committed every row the run made (stats:"
	echo "store_queued_rows 0, bench/loadgen.c --drain). Ratios use the stepped rate."
	echo
	echo "## Sustained samples/s"
	echo
	echo "| series | samples | carbon-c-relay | VictoriaMetrics | statecastd (default model, store) | until drained | statecastd (minimal model, store) | until drained | default / relay | default / VM | minimal / relay |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	printf '%s' "$rows"
	echo
	if [ -n "$long_row" ]; then
		echo "The 100k row is 6 samples per series, 4 of which wait while each series learns"
		echo "its step; young series are cheaper to step than older ones (the smoothing"
		echo "front's cost grows with a series' history, bench/results/ing100k.md), so that"
		echo "row is the start of a series' life rather than a steady state. Longer, same run:"
		echo
		echo "| series | samples | per series | carbon-c-relay | statecastd (default model, store) | until drained | default / relay |"
		echo "|---|---|---|---|---|---|---|"
		echo "$long_row"
		echo
	fi
	echo "## Steady state: an aged database (bench/steady.sh)"
	echo
	echo "statecastd restarted with its default settings on a database this build"
	echo "seeded with \"aged\" samples a series and a forecast stored at each (-o"
	echo "store.forecast_every_s=1s while seeding; a week at the defaults stores up to"
	echo "2016), then S x \"per series\" samples flat out; beside it the same run on an"
	echo "empty database. One run each; CPU = all threads until the store drained."
	[ -z "$STEADY_SEEDED" ] || echo "The aged database was seeded before this run (\`--steady-seeded $STEADY_SEEDED\`), by bench/steady.sh, and has aged since; \"aged\" is the samples a series held at its start."
	echo
	echo "| series | aged | per series | aged: samples/s | until drained | CPU us/sample | empty: samples/s | until drained | CPU us/sample | aged / empty (stepped) |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	echo "$steady_row"
	echo
	echo "## Latency, sample sent -> forecast pushed"
	echo
	echo "Loadgen writes in slices of 1 ms worth of samples at the given rate and"
	echo "times the 16 latency series' lines from their write to the forecast"
	echo "notification they caused (statecastd default model and store;"
	echo "notifications go out as each batch is stepped, before the store commits),"
	echo "by two rulers: at the socket, the push's arrival at the subscriber's"
	echo "socket (the kernel's receive stamp, inside the daemon's write on"
	echo "loopback): the daemon's latency, on which the target is judged; reader,"
	echo "loadgen's reader thread had it (plus that thread's wait for a core), the"
	echo "figure of runs before lat11."
	echo
	echo "| series | threads | share of sustained | rate asked | rate achieved | n | p50 at socket (us) | p99 at socket (us) | p99.9 at socket (us) | p50 reader (us) | p99 reader (us) | p99.9 reader (us) |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	printf '%s' "$lat_rows"
	echo
	echo "A relay figure of 0 or n/a means carbon-c-relay crashed or dropped lines in that run"
	echo "(bench/lib.sh waits for its \"startup sequence complete\": a connection before it made it segfault); rerun to fill it. VictoriaMetrics"
	echo "adds rows to vm_rows_inserted_total about once a second, so a run that it"
	echo "finishes in under a second or so reads as about (samples / 1 s): a lower bound."
	echo
	echo "## Memory and restore (default model)"
	echo
	echo "RSS after = once the store's queue has drained (rows waiting for SQLite are"
	echo "not the series' memory); peak = VmHWM during ingest, queue included. Each"
	echo "daemon runs under a memory guard that kills it if the machine's available"
	echo "memory falls under 1.5 GiB."
	echo
	echo "| series | RSS before (KiB) | RSS after (KiB) | peak RSS (KiB) | KiB per series (after - before) | restore (daemon's log) |"
	echo "|---|---|---|---|---|---|"
	printf '%s' "$mem_rows"
	[ -n "$skipped" ] && echo && echo "Skipped for lack of memory:$skipped"
	if [ -s "$W/guard" ]; then
		echo
		echo "A daemon killed by the memory guard grew while its rows waited for SQLite:"
		echo "flat out, the loop produces sample and forecast rows faster than the writer"
		echo "commits them into a database of that size, and the store's input queue has no"
		echo "bound (peak minus after, above, is that queue at the smaller counts)."
	fi
	echo
	echo "## CPU per sample: parse, step, store"
	echo
	echo "statecastd, default model and store, $SC series, $SN samples flat out ($(field rate "$cpu_run") samples/s"
	echo "stepped, $(field drained_rate "$cpu_run") until drained, under perf); \`perf record -F $PF -e cpu-clock\` of every"
	echo "thread from the first sample until the store had committed every row, classified by"
	echo "bench/cpu_split.py (step: ssm/ code, OpenBLAS, libm and pool helpers; store:"
	echo "SQLite, io/store, daemon/persist and the writer thread; parse: the rest of the"
	echo "loop thread: socket reads, parsing, registry, notifications)."
	echo
	echo "| parse (us) | step (us) | of which smoothing front (us) | store (us) | total CPU (us/sample) |"
	echo "|---|---|---|---|---|"
	echo "| $(field cpu_parse_us "$split") | $(field cpu_step_us "$split") | $(field cpu_front_us "$split") | $(field cpu_store_us "$split") | $(field cpu_total_us "$split") |"
	echo
	echo "Model arithmetic (\`build/bench/ssm_bench --model models/default.model\`, one"
	echo "thread, 1024 series in batches of 64): the network (encoder, S4D layers, head)"
	echo "does $(field model_flops "$flops") FLOPs per step; a whole step, smoothing front"
	echo "included, takes $(field step_ns "$flops") ns, i.e. $(field model_gflops "$flops") GFLOP/s against this machine's"
	echo "single-threaded sgemm $(field sgemm_gflops "$flops") GFLOP/s (fraction $(field fraction "$flops")). State: $(field state_bytes "$flops") bytes per series."
	echo
	echo "## Scaling from 1 to 2 cores"
	echo
	echo "statecastd, default model and store, $SC series, $SN samples flat out, $REPS runs each"
	echo "(interleaved; median, all runs after it). The store's writer is its own"
	echo "thread in every row; \`model.threads\` adds compute-pool helpers that step a"
	echo "round's batches beside the loop thread (daemon/pool.h; bit-identical)."
	echo "samples/s and the cores had are timed to the last sample stepped; the CPU"
	echo "per sample (all threads) is counted until the store drained, and \"after\""
	echo "is its part after the last sample was stepped: on one core the writer"
	echo "(SCHED_IDLE) mostly runs then, so the window alone would miss the store."
	echo
	echo "| cores (taskset) | model.threads | samples/s | runs | vs 1 core | CPU had in the window (cores) | CPU us/sample until drained | runs | of which after the window | of which the store writer |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	scale_row "1 (-c 0)" 1 "$sc1" "$cu1" "$us1" "$af1" "$wr1"
	scale_row "2 (-c 0,1)" 1 "$sc2" "$cu2" "$us2" "$af2" "$wr2"
	scale_row "2 (-c 0,1)" 2 "$sc2p" "$cu2p" "$us2p" "$af2p" "$wr2p"
	echo
	echo "## Targets (issue 9) in this run"
	echo
	echo "| target | measured | verdict |"
	echo "|---|---|---|"
	echo "| default model + store >= 250000 samples/s at 100k series | ${rate_100k:-n/a} | $(verdict "${rate_100k:-}" 250000 higher) |"
	echo "| the same, until the store drained | ${drained_100k:-n/a} | $(verdict "${drained_100k:-}" 250000 higher) |"
	[ -n "$long_row" ] && echo "| the same, $LONG_PER samples per series (longer row) | $(field rate "$lsd") | $(verdict "$(field rate "$lsd")" 250000 higher) |"
	if [ $STEADY_S = 100000 ]; then
		echo "| the same at steady state ($STEADY_AGED aged samples a series, a forecast stored at each) | $(field aged_rate "$steady") | $(verdict "$(field aged_rate "$steady")" 250000 higher) |"
		echo "| the same at steady state, until the store drained | $(field aged_drained "$steady") | $(verdict "$(field aged_drained "$steady")" 250000 higher) |"
	fi
	echo "| p99 sample -> forecast < 2 ms at 50000 samples/s (1k series), at the subscriber's socket | ${lat50_p99:-n/a} us (reader: ${lat50_rd:-n/a} us) | $(verdict "${lat50_p99:-}" 2000 lower) |"
	echo "| RSS <= 8 KiB per series (default model, $last_S series) | ${last_per:-n/a} KiB | $(verdict "${last_per:-}" 8 lower) |"
	echo "| restore of 1M series < 10 s ($last_S series here) | ${last_restore_s:-n/a} s | $( [ "$last_S" = 1000000 ] && verdict "${last_restore_s:-}" 10 lower || echo "1M not measured in this run") |"
	echo "| minimal model >= carbon-c-relay (ratio, 100k series) | ${min_ratio_100k:-n/a} | $(verdict "${min_ratio_100k:-}" 1 higher) |"
	echo
	echo "What bounds throughput: CPU. This run's $tot_us us of CPU per sample (parse +"
	echo "step + store, all threads) caps 2 cores at about $cap samples/s even with every"
	echo "core busy and perfect overlap; the step (smoothing front included) is the"
	echo "largest part. Latency at a rate near that cap is queueing: a sample waits for"
	echo "the tick in progress, and on a shared machine for the scheduler."
} >"$OUT"
echo "perf: wrote $OUT"
