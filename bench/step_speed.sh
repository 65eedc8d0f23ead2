#!/bin/bash
# bench/step_speed.sh: the model step's cost (ssm_model_step_batch: the
# smoothing front, the network, the head and what serves its output) in
# this tree against a base revision, in the same run, and how far the
# served forecasts moved. Writes bench/results/step3.md.
#
#   bench/step_speed.sh [--base REV] [--rounds N] [--out FILE]
#
# - Outputs: bench/model_diff.c, built against both trees, steps the
#   shipped model over 256 series x 600 samples and compares every served
#   quantile (relative to the value, or to the series' scale near zero);
#   bench/front_digest.c says whether the front alone computes the same
#   bits.
# - Instructions per step, counted by callgrind inside
#   ssm_model_step_batch only (bench/model_diff.c's first 16 series x 600
#   samples, both trees at once), split into the front (update and
#   forecast) and the rest: a count the machine's load does not move.
# - Time: ssm_bench --model (thread CPU, median of 7 runs) and front_bench,
#   base and this tree alternating for N rounds; medians over the rounds.
#
# REV defaults to main (step3's measurement: --base 47a7f23, the main it
# started from). The base is exported with `git archive` into a
# temporary directory and built there.
set -eu
cd "$(dirname "$0")/.."
BASE=main
ROUNDS=5
OUT=bench/results/step3.md
ARGS="$*"
. bench/lib.sh
parse_args "usage: bench/step_speed.sh [--base REV] [--rounds N] [--out FILE]" \
	--base=BASE --rounds=ROUNDS --out=OUT -- "$@"
bench_workdir sspeed
need_tools valgrind


echo "step_speed: building the base $BASE in $W/base"
build_tree "$BASE" "$W/base" build/libssm.a build/libscio.a \
	build/bench/ssm_bench build/bench/front_bench
base_prog "$W/base" bench/model_diff.c "$W/model_diff.base"
cc -O2 -I"$W/base" -o "$W/front_digest.base" bench/front_digest.c \
	"$W/base/build/libssm.a" $BLAS
make -s -j2 build/bench/ssm_bench build/bench/front_bench \
	build/bench/front_digest build/bench/model_diff

echo "step_speed: outputs"
"$W/model_diff.base" "$W/base/models/default.model" "$W/md.base"
build/bench/model_diff models/default.model "$W/md.new"
DIFF=$(build/bench/model_diff --cmp "$W/md.base" "$W/md.new")
# The outputs alone (`front_digest outputs`), and with the state blocks:
# a change of the state layout moves only the second.
"$W/front_digest.base" outputs >"$W/digest.base"
build/bench/front_digest outputs >"$W/digest.new"
"$W/front_digest.base" >"$W/digest_st.base"
build/bench/front_digest >"$W/digest_st.new"
NSAME_ST=$(paste -d' ' "$W/digest_st.base" "$W/digest_st.new" | awk '$5 == $12' | wc -l)
NCASE=$(wc -l <"$W/digest.new")
NSAME=$(paste -d' ' "$W/digest.base" "$W/digest.new" | awk '$5 == $12' | wc -l)

# ir BIN MODEL: "total front" instructions per step inside
# ssm_model_step_batch, on model_diff's first 16 series (x 600 samples).
ir() { step_ir "$1" "$2" "$W/ir.$3" >"$W/ir.$3"; }
echo "step_speed: callgrind"
ir "$W/model_diff.base" "$W/base/models/default.model" base &
ir build/bench/model_diff models/default.model new
wait
read -r IRT_B IRF_B <"$W/ir.base"
read -r IRT_N IRF_N <"$W/ir.new"

# Interleaved rounds, so that both sides see the same machine load.
: >"$W/fb.base"; : >"$W/fb.new"; : >"$W/sb.base"; : >"$W/sb.new"
for r in $(seq "$ROUNDS"); do
	echo "step_speed: round $r of $ROUNDS"
	OPENBLAS_NUM_THREADS=1 "$W/base/build/bench/ssm_bench" --model "$W/base/models/default.model" |
		sed -n 's/.*step_ns=\([0-9.]*\).*/\1/p' >>"$W/sb.base"
	OPENBLAS_NUM_THREADS=1 build/bench/ssm_bench --model models/default.model |
		sed -n 's/.*step_ns=\([0-9.]*\).*/\1/p' >>"$W/sb.new"
	"$W/base/build/bench/front_bench" 5 >>"$W/fb.base" 2>/dev/null
	build/bench/front_bench 5 >>"$W/fb.new" 2>/dev/null
done

spd() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a > 0 && b > 0) printf "%.2fx", a/b; else print "n/a" }'; }
fbmed() { awk -v p="$1" '$1 == p {print $4}' "$2" | median; }

{
	echo "# The model step: this tree against $BASE"
	echo
	echo "Written by \`bench/step_speed.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo);"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared: read ratios, not absolute figures)."
	echo "Base: \`$BASE\` = \`$(git rev-parse --short "$BASE")\`, built from \`git archive\` in the same run."
	echo "This tree: \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- ssm bench || echo " with uncommitted ssm/ or bench/ changes")."
	echo
	echo "## Outputs"
	echo
	echo "bench/model_diff.c, the shipped model over 256 series x 600 samples, every served quantile of"
	echo "both trees (difference relative to the value, or to the series' scale where the value is smaller):"
	echo
	echo "    $DIFF"
	echo
	echo "bench/front_digest.c: $NSAME of $NCASE cases of the smoothing front alone hash the same in both trees"
	echo "(outputs: every forecast, quantile and scale); with the state blocks too, $NSAME_ST of $NCASE."
	echo
	echo "## Instructions per step (callgrind)"
	echo
	echo "    valgrind --tool=callgrind --toggle-collect=ssm_model_step_batch build/bench/model_diff models/default.model OUT 16"
	echo
	echo "16 series (periods 1 and 24, scales 1e-2 to 1e4, gaps, missing values) x 600 samples; counted inside"
	echo "ssm_model_step_batch only, per series step; the front = ssm__front_update +"
	echo "ssm__front_forecast, or ssm__front_update_forecast (the smoothing bank's update and forecast),"
	echo "the rest = features, encoder,"
	echo "layers, head, composition, gate and serving."
	echo
	echo "| | base | now | ratio |"
	echo "|---|---|---|---|"
	echo "| whole step | $IRT_B | $IRT_N | $(ratio "$IRT_N" "$IRT_B") |"
	echo "| front | $IRF_B | $IRF_N | $(ratio "$IRF_N" "$IRF_B") |"
	echo "| rest | $((IRT_B - IRF_B)) | $((IRT_N - IRF_N)) | $(ratio $((IRT_N - IRF_N)) $((IRT_B - IRF_B))) |"
	echo
	echo "## Time"
	echo
	echo "    build/bench/ssm_bench --model models/default.model; build/bench/front_bench 5     (alternating, $ROUNDS rounds)"
	echo
	echo "ssm_bench: ns per sample of ssm_model_step_batch, 1024 series (period 1) in batches of 64, thread"
	echo "CPU time, median of 7 runs per round; front_bench: the front alone, us per sample (period 48)."
	echo "Medians over the rounds."
	echo
	b=$(median <"$W/sb.base"); n=$(median <"$W/sb.new")
	fb=$(fbmed 48 "$W/fb.base"); fn=$(fbmed 48 "$W/fb.new")
	echo "| | base | now | speed-up |"
	echo "|---|---|---|---|"
	echo "| model step, ns/sample | $b | $n | $(spd "$b" "$n") |"
	echo "| front alone (period 48), us/sample | $fb | $fn | $(spd "$fb" "$fn") |"
	echo
	echo "Every round, base / now: ssm_bench $(tr '\n' ' ' <"$W/sb.base")/ $(tr '\n' ' ' <"$W/sb.new");"
	echo "front_bench period 48 $(awk '$1 == 48 {printf "%s ", $4}' "$W/fb.base")/ $(awk '$1 == 48 {printf "%s ", $4}' "$W/fb.new")."
} >"$OUT"
echo "step_speed: wrote $OUT"
cat "$OUT"
