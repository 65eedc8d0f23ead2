#!/bin/bash
# bench/front_speed.sh: the smoothing front's speed (ssm/smooth.h) in this
# tree against a base revision, in the same run, and whether both compute
# the same bits. Writes bench/results/front_speed.md.
#
#   bench/front_speed.sh [--base REV] [--rounds N] [--callgrind] [--out FILE]
#
# - Same bits: bench/front_digest.c, built against both trees, hashes every
#   forecast, quantile, scale and state of 600 cases (periods, horizons,
#   series kinds with gaps and outages, combination rules); the lines must
#   match. When they do, the accuracy (bench/front.sh's eval rows) is the
#   base's by construction; when they do not (changes at rounding level),
#   the report says how far each case's mean scaled error and coverage
#   moved (front_digest prints both per case).
# - Speed: bench/front_bench.c (update + forecast per sample, thread CPU
#   time, median of 5 runs) and ssm_bench --model models/default.model (the
#   whole model step, front included, 1024 series in batches of 64), base
#   and this tree alternating for N rounds; medians over the rounds.
# - --callgrind: also the instructions front_bench executes per sample on
#   each side (valgrind --tool=callgrind, one run of 3 x 32 x 1000
#   samples): a count that the machine's load does not move.
#
# REV defaults to main. The base is exported with `git archive` into a
# temporary directory and built there.
set -eu
cd "$(dirname "$0")/.."
BASE=main
ROUNDS=5
CG=0
OUT=bench/results/front_speed.md
ARGS="$*"
. bench/lib.sh
parse_args "usage: bench/front_speed.sh [--base REV] [--rounds N] [--callgrind] [--out FILE]" \
	--base=BASE --rounds=ROUNDS "--callgrind:CG=1" --out=OUT -- "$@"
bench_workdir fspeed
need_tools valgrind


echo "front_speed: building the base $BASE in $W/base"
build_tree "$BASE" "$W/base" build/libssm.a build/bench/front_bench \
	build/bench/ssm_bench
cc -O2 -I"$W/base" -o "$W/front_digest.base" bench/front_digest.c \
	"$W/base/build/libssm.a" $BLAS
make -s -j2 build/bench/front_bench build/bench/ssm_bench build/bench/front_digest

# The outputs alone (`front_digest outputs`), and with the state blocks:
# a change of the state layout moves only the second.
"$W/front_digest.base" outputs >"$W/digest.base"
build/bench/front_digest outputs >"$W/digest.new"
"$W/front_digest.base" >"$W/digest_st.base"
build/bench/front_digest >"$W/digest_st.new"
NSAME_ST=$(paste -d' ' "$W/digest_st.base" "$W/digest_st.new" | awk '$5 == $12' | wc -l)
NCASE=$(wc -l <"$W/digest.new")
# Fields: period H kind opts hash mean_scaled_error coverage (7 a side).
NSAME=$(paste -d' ' "$W/digest.base" "$W/digest.new" | awk '$5 == $12' | wc -l)
# Where the bits differ: how far each case's forecast quality moved.
CLOSE=$(paste -d' ' "$W/digest.base" "$W/digest.new" | awk '{
	d = $6 > 0 ? $13 / $6 - 1 : $13 - $6; d = d < 0 ? -d : d
	n += d <= 1e-3; m = d > m ? d : m; eb += $6; en += $13; cb += $7; cn += $14 }
	END { printf "%d %.2g %.5f %.5f %.5f %.5f", n, m, eb / NR, en / NR, cb / NR, cn / NR }')
read -r NCLOSE MAXREL EB EN CB CN <<<"$CLOSE"

# Interleaved rounds, so that both sides see the same machine load.
: >"$W/fb.base"; : >"$W/fb.new"; : >"$W/sb.base"; : >"$W/sb.new"
for r in $(seq "$ROUNDS"); do
	echo "front_speed: round $r of $ROUNDS"
	"$W/base/build/bench/front_bench" 5 >>"$W/fb.base" 2>/dev/null
	build/bench/front_bench 5 >>"$W/fb.new" 2>/dev/null
	"$W/base/build/bench/ssm_bench" --model "$W/base/models/default.model" \
		| sed -n 's/.*step_ns=\([0-9.]*\).*/\1/p' >>"$W/sb.base"
	build/bench/ssm_bench --model models/default.model \
		| sed -n 's/.*step_ns=\([0-9.]*\).*/\1/p' >>"$W/sb.new"
done

# ir BIN: instructions per sample of one front_bench run under callgrind
# (3 periods x 32 series x 1000 samples).
ir() {
	valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" "$1" 1 2>&1 >/dev/null |
		awk '/refs:/ {gsub(",", "", $4); printf "%.0f", $4 / 96000}'
}
if [ "$CG" = 1 ]; then
	echo "front_speed: callgrind"
	IR_B=$(ir "$W/base/build/bench/front_bench")
	IR_N=$(ir build/bench/front_bench)
fi

fbmed() { awk -v p="$1" '$1 == p {print $4}' "$2" | median; }
spd() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2fx", a/b}'; }

{
	echo "# The smoothing front's speed: this tree against $BASE"
	echo
	echo "Written by \`bench/front_speed.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo);"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared: read ratios, not absolute figures)."
	echo "Base: \`$BASE\` = \`$(git rev-parse --short "$BASE")\`, built from \`git archive\` in the same run."
	echo "This tree: \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- ssm bench || echo " with uncommitted ssm/ or bench/ changes")."
	echo
	echo "## Same bits"
	echo
	echo "bench/front_digest.c against both trees: $NSAME of $NCASE cases hash the same (every forecast,"
	echo "quantile and scale of 700 steps each: \`front_digest outputs\`); with the state blocks in the"
	echo "hash too, $NSAME_ST of $NCASE ($NCASE: the state layout is the base's; fewer: it changed)."
	if [ "$NSAME" = "$NCASE" ]; then
		echo "The front computes the same outputs as the base, to the bit: accuracy (relMASE, MSIS, coverage,"
		echo "holdout) is the base's by construction."
	else
		echo "**The outputs differ.** How far each case's forecasts moved (front_digest's mean |error| / scale"
		echo "over every horizon from sample 100 on, and 80% interval coverage): $NCLOSE of $NCASE cases within"
		echo "0.1% of the base's mean error, the largest relative change $MAXREL; over all cases mean error"
		echo "$EB (base) / $EN (now), coverage $CB / $CN. Rounding-level differences move these by"
		echo "~1e-5; a changed method would move them far more. Accuracy on real series: bench/accuracy."
	fi
	echo
	echo "## The front alone"
	echo
	echo "    build/bench/front_bench 5     (base and this tree alternating, $ROUNDS rounds)"
	echo
	echo "ssm_smooth_update() + ssm_smooth_forecast() (H 48, 3 quantiles), what the daemon runs per sample;"
	echo "32 seasonal series x 1000 samples; thread CPU time; median of 5 runs per round, then of $ROUNDS rounds."
	echo
	echo "| period | us/sample base | us/sample now | speed-up |"
	echo "|---|---|---|---|"
	for p in 1 12 48; do
		b=$(fbmed $p "$W/fb.base"); n=$(fbmed $p "$W/fb.new")
		echo "| $p | $b | $n | $(spd "$b" "$n") |"
	done
	echo
	if [ "$CG" = 1 ]; then
		echo "Instructions per sample (update + forecast, the three periods together), counted by callgrind:"
		echo
		echo "    valgrind --tool=callgrind build/bench/front_bench 1"
		echo
		echo "| | base | now | ratio |"
		echo "|---|---|---|---|"
		echo "| instructions / sample | $IR_B | $IR_N | $(awk -v a="$IR_N" -v b="$IR_B" 'BEGIN{printf "%.3f", a/b}') |"
		echo
	fi
	echo "## The whole model step"
	echo
	echo "    build/bench/ssm_bench --model models/default.model     (alternating, $ROUNDS rounds)"
	echo
	echo "ns per sample of ssm_model_step_batch (front, network, head), 1024 series (period 1) in batches of 64;"
	echo "median of 7 runs per round, then of $ROUNDS rounds."
	echo
	b=$(median <"$W/sb.base"); n=$(median <"$W/sb.new")
	echo "| | ns/sample base | ns/sample now | speed-up |"
	echo "|---|---|---|---|"
	echo "| model step | $b | $n | $(spd "$b" "$n") |"
	echo
	echo "Every round, base / now: front_bench period 48 $(awk '$1 == 48 {printf "%s ", $4}' "$W/fb.base")/"
	echo "$(awk '$1 == 48 {printf "%s ", $4}' "$W/fb.new"); ssm_bench $(tr '\n' ' ' <"$W/sb.base")/ $(tr '\n' ' ' <"$W/sb.new")."
} >"$OUT"
echo "front_speed: wrote $OUT"
cat "$OUT"
