#!/bin/bash
# bench/perf.sh: statecastd's ingest throughput, latency, memory and restore
# time, side by side with carbon-c-relay and VictoriaMetrics on the same
# generated Graphite input, in the same run. Writes bench/results/perf.md.
#
#   bench/perf.sh [--quick] [--series "1000 100000 1000000"] [--out FILE]
#
# --quick (what `make bench` runs) measures 1k and 100k series; the default
# adds 1M. Every process listens on loopback ports picked free at start and
# is killed at the end. Rates are samples the receiver PROCESSED per second
# (bench/loadgen.c waits for the receiver's own counter), not bytes sent.
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
OUT=bench/results/perf.md
SERIES="1000 100000 1000000"
ROUNDS=6
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) SERIES="1000 100000" ;;
	--series) SERIES=$2; shift ;;
	--out) OUT=$2; shift ;;
	*) echo "usage: bench/perf.sh [--quick] [--series LIST] [--out FILE]" >&2; exit 2 ;;
	esac
	shift
done
for p in carbon-c-relay victoria-metrics; do
	if ! command -v "$p" >/dev/null; then
		pkg=$p
		echo "perf: installing $pkg (apt-get)"
		apt-get install -y -qq "$pkg" >/dev/null
	fi
done
make -s -j2 all build/bench/loadgen
B=build
W=$(mktemp -d /tmp/statecast-perf.XXXXXX)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$W"; }
trap cleanup EXIT
free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
field() { # field NAME LINE
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
wait_port() { # wait_port PORT: until something listens
	for _ in $(seq 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "perf: nothing listens on $1" >&2; return 1
}

# statecastd MODEL DIR: starts it; sets SD_PID SD_G SD_R
start_statecastd() {
	SD_G=$(free_port); SD_R=$(free_port)
	$B/statecastd -o listen.graphite=127.0.0.1:$SD_G -o listen.influx= \
		-o listen.rpc=127.0.0.1:$SD_R -o listen.socket= -o listen.http= \
		-o model.path="$1" -o store.path="$2/db" -o limits.max_series=2000000 \
		>>"$2/log" 2>&1 &
	SD_PID=$!
	PIDS="$PIDS $SD_PID"
	wait_port "$SD_R"
}
stop() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null || true; }

count_for() { # samples for S series: ROUNDS rounds, at least 200k
	local n=$(( $1 * ROUNDS ))
	[ $n -lt 200000 ] && n=$(( (200000 / $1) * $1 ))
	echo $n
}

MIN_MODEL=$W/min.model
$B/statecast train --init-only --d-model 4 --layers 1 --n-state 4 \
	--horizon 1 --out "$MIN_MODEL" >/dev/null 2>&1

rows=""
lat_rows=""
mem_rows=""
for S in $SERIES; do
	N=$(count_for "$S")
	echo "perf: $S series, $N samples"
	# carbon-c-relay: parse + route into a discarding sink (loadgen's).
	SINK=$(free_port); RP=$(free_port)
	printf 'cluster sink forward 127.0.0.1:%s;\nmatch * send to sink stop;\n' "$SINK" >"$W/relay.conf"
	# A queue big enough that the relay never drops (it would under load).
	carbon-c-relay -f "$W/relay.conf" -p "$RP" -w 2 -q 2000000 >"$W/relay.log" 2>&1 &
	RPID=$!; PIDS="$PIDS $RPID"; wait_port "$RP" || true
	relay=$($B/bench/loadgen --graphite 127.0.0.1:$RP --series "$S" --count "$N" --until-sink "$SINK" || true)
	kill "$RPID" 2>/dev/null || true
	# VictoriaMetrics: parse + persist.
	VG=$(free_port); VH=$(free_port)
	victoria-metrics -graphiteListenAddr=127.0.0.1:$VG -httpListenAddr=127.0.0.1:$VH \
		-storageDataPath="$W/vm" -loggerLevel=ERROR >"$W/vm.log" 2>&1 &
	VPID=$!; PIDS="$PIDS $VPID"; wait_port "$VH" || true; wait_port "$VG" || true
	vm=$($B/bench/loadgen --graphite 127.0.0.1:$VG --series "$S" --count "$N" \
		--until-metric "127.0.0.1:$VH/metrics" --metric vm_rows_inserted_total || true)
	stop "$VPID"; rm -rf "$W/vm"
	# statecastd, default model, persistence on.
	mkdir -p "$W/sd"; rm -f "$W/sd/"*
	start_statecastd models/default.model "$W/sd"
	rss0=$(rss_kb "$SD_PID")
	sd=$($B/bench/loadgen --graphite 127.0.0.1:$SD_G --series "$S" --count "$N" --until-rpc 127.0.0.1:$SD_R || true)
	rss1=$(rss_kb "$SD_PID")
	stop "$SD_PID"
	# Restore: restart on the same database, read the daemon's own line.
	start_statecastd models/default.model "$W/sd"
	restore=$(grep -o 'restored [0-9]* series from [^ ]* in [0-9.]* s' "$W/sd/log" | tail -n 1)
	stop "$SD_PID"
	# statecastd, minimal model (one tiny layer, horizon 1): ingest cost.
	mkdir -p "$W/sdmin"; rm -f "$W/sdmin/"*
	start_statecastd "$MIN_MODEL" "$W/sdmin"
	sdmin=$($B/bench/loadgen --graphite 127.0.0.1:$SD_G --series "$S" --count "$N" --until-rpc 127.0.0.1:$SD_R || true)
	stop "$SD_PID"

	r_relay=$(field rate "$relay"); r_vm=$(field rate "$vm")
	r_sd=$(field rate "$sd"); r_min=$(field rate "$sdmin")
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.3f", a/b; else print "n/a" }'; }
	rows="$rows| $S | $N | ${r_relay:-n/a} | ${r_vm:-n/a} | ${r_sd:-n/a} | ${r_min:-n/a} | $(ratio "$r_sd" "$r_relay") | $(ratio "$r_sd" "$r_vm") | $(ratio "$r_min" "$r_relay") |
"
	per=$(awk -v a="$rss0" -v b="$rss1" -v s="$S" 'BEGIN { printf "%.2f", (b-a)/s }')
	mem_rows="$mem_rows| $S | $rss0 | $rss1 | $per | ${restore:-not logged} |
"
	# Latency at 10% and 50% of the sustained rate (smallest series count).
	if [ -z "$lat_rows" ] && [ -n "$r_sd" ] && [ "${r_sd%.*}" -gt 0 ]; then
		for frac in 0.1 0.5; do
			rate=$(awk -v r="$r_sd" -v f="$frac" 'BEGIN { printf "%d", r*f }')
			mkdir -p "$W/lat"; rm -f "$W/lat/"*
			start_statecastd models/default.model "$W/lat"
			# Prime the series (step learning) before measuring.
			$B/bench/loadgen --graphite 127.0.0.1:$SD_G --series "$S" --count $((S * 5)) \
				--prefix lat --latency-series 16 --until-rpc 127.0.0.1:$SD_R >/dev/null || true
			l=$($B/bench/loadgen --graphite 127.0.0.1:$SD_G --series "$S" --rate "$rate" \
				--duration 5 --prefix lat --t0 $((1700000000 + 5 * 60)) \
				--latency-rpc 127.0.0.1:$SD_R --latency-series 16 --until-rpc 127.0.0.1:$SD_R || true)
			stop "$SD_PID"
			lat_rows="$lat_rows| $S | $frac | $rate | $(field lat_n "$l") | $(field lat_p50_us "$l") | $(field lat_p99_us "$l") | $(field lat_p999_us "$l") |
"
		done
	fi
done

{
	echo "# Performance: statecastd beside carbon-c-relay and VictoriaMetrics"
	echo
	echo "Written by \`bench/perf.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: read ratios, not absolutes)."
	echo "Peers (Debian packages): $(dpkg-query -W -f='${Package} ${Version}, ' carbon-c-relay victoria-metrics | sed 's/, $//')."
	echo
	echo "Input: bench/loadgen.c, Graphite plaintext over 4 connections, S series,"
	echo "one sample per series per round, flat out. A rate is samples the receiver"
	echo "processed per second (relay: lines reaching loadgen's sink; VictoriaMetrics:"
	echo "vm_rows_inserted_total; statecastd: its stats counters), first byte to last."
	echo
	echo "## Sustained samples/s"
	echo
	echo "| series | samples | carbon-c-relay | VictoriaMetrics | statecastd (default model, store) | statecastd (minimal model, store) | default / relay | default / VM | minimal / relay |"
	echo "|---|---|---|---|---|---|---|---|---|"
	printf '%s' "$rows"
	echo
	echo "## Latency, sample written -> forecast notification received"
	echo
	echo "| series | share of sustained | rate (samples/s) | n | p50 (us) | p99 (us) | p99.9 (us) |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s' "$lat_rows"
	echo
	echo "A relay figure of 0 or n/a means carbon-c-relay crashed or dropped lines in that run"
	echo "(it segfaults now and then on this machine); rerun to fill it."
	echo
	echo "## Memory and restore (default model)"
	echo
	echo "| series | RSS before (KiB) | RSS after (KiB) | KiB per series | restore (daemon's log) |"
	echo "|---|---|---|---|---|"
	printf '%s' "$mem_rows"
} >"$OUT"
echo "perf: wrote $OUT"
