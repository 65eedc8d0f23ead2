#!/bin/bash
# bench/migrate_step.sh: the model step when a series' state moves between
# the two cores every round (bench/migrate_step.c "swap") against the same
# steps with each thread keeping its series ("stable"), both threads busy
# in both: what the compute pool's first-come claiming of chunks
# (daemon/pool.c) could cost in cache misses, apart from what two busy
# cores cost anyway. Interleaved reps, medians.
#
#   bench/migrate_step.sh [--reps K] [--sizes "N:ROUNDS ..."]
#
# Default sizes: 64 series (the states fit one core's L2), 1,000 (L3, as
# bench/perf.sh's 1k rows) and 20,000 (memory, as at 100k series).
# Prints a markdown table: ns of CPU per step, and whether the checksums
# agree (which thread steps a series must change no bit).
set -eu
cd "$(dirname "$0")/.."
REPS=8
SIZES="64:2000 1000:150 20000:10"
. bench/lib.sh
parse_args "usage: bench/migrate_step.sh [--reps K] [--sizes \"N:ROUNDS ...\"]" \
	--reps=REPS --sizes=SIZES -- "$@"
bench_workdir migrate
make -s -j2 build/bench/migrate_step
declare -A ns sum
one() { # one MODE REP
	local out
	out=$(build/bench/migrate_step models/default.model "$n" "$r" "$1")
	ns[$1]="${ns[$1]} $(field ns_per_step "$out")"
	sum[$1]="${sum[$1]} $(field checksum "$out")"
}
echo "| series | stable ns/step (median) | runs | swap ns/step (median) | runs | swap / stable | checksums agree |"
echo "|---|---|---|---|---|---|---|"
for sz in $SIZES; do
	n=${sz%:*} r=${sz#*:}
	ns[stable]="" ns[swap]="" sum[stable]="" sum[swap]=""
	ab_loop "$REPS" one stable swap
	ms=$(echo "${ns[stable]}" | median); mw=$(echo "${ns[swap]}" | median)
	agree=no
	[ "$(echo "${sum[stable]} ${sum[swap]}" | tr ' ' '\n' | grep . | sort -u | wc -l)" = 1 ] && agree=yes
	echo "| $n | $ms | ${ns[stable]} | $mw | ${ns[swap]} | $(ratio "$mw" "$ms") | $agree |"
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); nproc $(nproc)"
