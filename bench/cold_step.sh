#!/bin/bash
# bench/cold_step.sh: the model step with cold states (bench/cold_step.c:
# N series round-robin, every state from memory at 100k) in this tree
# against a base build, interleaved, in the same run: what prefetching and
# layout change, which an instruction count cannot show.
#
#   bench/cold_step.sh --base-dir DIR [--series N] [--rounds R] [--reps K]
#
# DIR is a tree with build/libssm.a and build/libscio.a built (bench/lib.sh
# build_tree). Prints a markdown table to stdout: ns of CPU per step, the
# median of K runs per tree, and whether both trees' checksums agree.
set -eu
cd "$(dirname "$0")/.."
BASE_DIR=""
N=100000
ROUNDS=4
REPS=5
. bench/lib.sh
parse_args "usage: bench/cold_step.sh --base-dir DIR [--series N] [--rounds R] [--reps K]" \
	--base-dir=BASE_DIR --series=N --rounds=ROUNDS --reps=REPS -- "$@"
[ -n "$BASE_DIR" ] || { echo "cold_step: --base-dir is required" >&2; exit 2; }
bench_workdir coldstep
make -s -j2 build/bench/cold_step
base_prog "$BASE_DIR" bench/cold_step.c "$W/cold_step.base"
declare -A ns sum
ns[base]=""; ns[head]=""
one() { # one WHO REP
	local bin=build/bench/cold_step out
	[ "$1" = base ] && bin=$W/cold_step.base
	out=$("$bin" models/default.model "$N" "$ROUNDS")
	ns[$1]="${ns[$1]} $(field ns_per_step "$out")"
	sum[$1]=$(field checksum "$out")
}
ab_loop "$REPS" one base head
mb=$(echo "${ns[base]}" | median); mh=$(echo "${ns[head]}" | median)
echo "| tree | ns/step (median) | runs | checksum |"
echo "|---|---|---|---|"
echo "| base $(git -C "$BASE_DIR" rev-parse --short HEAD 2>/dev/null || echo "$BASE_DIR") | $mb | ${ns[base]} | ${sum[base]} |"
echo "| this tree $(head_rev) | $mh | ${ns[head]} | ${sum[head]} |"
echo
echo "this tree / base: $(ratio "$mh" "$mb"); checksums $([ "${sum[base]}" = "${sum[head]}" ] && echo agree || echo DIFFER); $N series, $ROUNDS rounds after 6 untimed, load average $(cut -d' ' -f1-3 /proc/loadavg)"
