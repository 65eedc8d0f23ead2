#!/bin/bash
# bench/scale_split.sh: bench/perf.sh's three scaling configurations (one
# core, taskset -c 0, model.threads 1; two cores with 1 and 2 threads),
# REPS runs of each interleaved, each one bench/thread_split.sh --no-perf:
# the CPU per sample by thread from the first sample until the store
# drained, and the part of it after loadgen's window (every sample
# stepped). Whether a sample costs more CPU on two cores than on one, with
# the store's work counted wherever it ran (bench/results/par9.md).
#
#   bench/scale_split.sh [--build DIR] [--series S] [--per P] [--reps K]
#
# Prints a markdown table to stdout: one row per run, then the medians.
set -eu
cd "$(dirname "$0")/.."
B=build
S=1000
PER=200
REPS=3
. bench/lib.sh
parse_args "usage: bench/scale_split.sh [--build DIR] [--series S] [--per P] [--reps K]" \
	--build=B --series=S --per=PER --reps=REPS -- "$@"
bench_workdir scalesplit
# row CONFIG OUT: "CONFIG | loop | helper | writer | all | after | rate"
# from thread_split's table (total us/sample, after us/sample).
row() {
	echo "$2" | awk -v c="$1" -F' *\\| *' '
		/^loadgen:/ { split($0, f, " ")
			for (i in f) if (f[i] ~ /^rate=/) rate = substr(f[i], 6) }
		$2 == "statecastd" { loop += $5 } $2 == "pool-helper" { help += $5 }
		$2 == "store-writer" { wr = $5 } $2 == "all" { all = $5; after = $6 }
		END { printf "%s %.2f %.2f %.2f %.2f %.2f %s\n", c, loop, help, wr, all, after, rate }'
}
one() { # one CONFIG REP
	local pin threads out
	case $1 in
	1c1t) pin="taskset -c 0" threads=1 ;;
	2c1t) pin="taskset -c 0,1" threads=1 ;;
	2c2t) pin="taskset -c 0,1" threads=2 ;;
	esac
	out=$(bench/thread_split.sh --build "$B" --series "$S" --per "$PER" --no-perf --pin "$pin" --threads "$threads")
	row "$1" "$out" >>"$W/rows"
	echo "$1 $2 load $(cut -d' ' -f1 /proc/loadavg)" >>"$W/loads"
}
for rep in $(seq "$REPS"); do
	for c in 1c1t 2c1t 2c2t; do one "$c" "$rep"; done
done
echo "## $S series x $PER samples, $REPS runs per configuration, interleaved (build $B)"
echo
echo "us of CPU per sample, from the first sample until the store drained; \"after\" ="
echo "the part after every sample was stepped (loadgen's window); samples/s is"
echo "the window's. Load averages during the runs: $(awk '{ print $4 }' "$W/loads" | sort -g | sed -n '1p;$p' | tr '\n' ' ')(min, max)."
echo
echo "| configuration | loop | pool helper | store writer | all threads | of which after the window | samples/s |"
echo "|---|---|---|---|---|---|---|"
while read -r c l h w a f r; do echo "| $c | $l | $h | $w | $a | $f | $r |"; done <"$W/rows"
for c in 1c1t 2c1t 2c2t; do
	echo "| **$c median** | $(for k in 2 3 4 5 6 7; do awk -v c="$c" -v k="$k" '$1 == c { print $k }' "$W/rows" | median; done | paste -sd'|' | sed 's/|/ | /g') |"
done
echo
echo "1c1t: taskset -c 0, model.threads 1; 2c1t: taskset -c 0,1, model.threads 1;"
echo "2c2t: taskset -c 0,1, model.threads 2. nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')."
