#!/bin/bash
# bench/front.sh: the smoothing front (ssm/smooth.h) of this tree against a
# base revision, in the same run: state floats, CPU per sample (update +
# forecast, bench/front_bench.c), and accuracy (statecast eval on the public
# set: the front alone and the shipped model of each tree). Writes
# bench/results/front.md.
#
#   bench/front.sh [--base REV] [--rounds N] [--out FILE]
#
# REV defaults to 63a7570, the tree before the front was made smaller. The
# base is exported with `git archive` into a temporary directory and built
# there; nothing in this tree changes but the report.
set -eu
cd "$(dirname "$0")/.."
BASE=63a7570
ROUNDS=3
OUT=bench/results/front.md
ARGS="$*"
while [ $# -gt 0 ]; do
	case "$1" in
	--base) BASE=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--out) OUT=$2; shift ;;
	*) echo "usage: bench/front.sh [--base REV] [--rounds N] [--out FILE]" >&2; exit 2 ;;
	esac
	shift
done
W=$(mktemp -d /tmp/statecast-front.XXXXXX)
trap 'rm -rf "$W"' EXIT
BLAS="-llapacke -L/usr/lib/x86_64-linux-gnu/openblas-pthread/ -lopenblas -lm"

echo "front: building the base $BASE in $W/base"
mkdir -p "$W/base"
git archive "$BASE" | tar -x -C "$W/base"
make -s -C "$W/base" -j2 build/libssm.a build/statecast >/dev/null
cc -O2 -I"$W/base" -o "$W/front_bench.base" bench/front_bench.c \
	"$W/base/build/libssm.a" $BLAS
make -s -j2 all build/bench/front_bench

# Interleaved rounds, so that both sides see the same machine load.
: >"$W/base.txt"; : >"$W/new.txt"
for r in $(seq "$ROUNDS"); do
	echo "front: round $r of $ROUNDS"
	"$W/front_bench.base" 5 >>"$W/base.txt" 2>/dev/null
	build/bench/front_bench 5 >>"$W/new.txt" 2>/dev/null
done

# ev SET BIN ARGS...: prints "mase relmase msis coverage snaive floats"
ev() {
	set=$1; shift
	"$@" --data bench/data/$set --baselines bench/data/baselines-$set.tsv \
		--no-timing 2>&1 | awk '/^mean MASE/{m=$3} /^mean MSIS/{s=$3}
		/^mean coverage/{c=$3} /^relMASE/{r=$4}
		/^better than snaive/{b=$5 "/" $7} /^state/{f=$2}
		END{print m, r, s, c, b, f}'
}
OLD="$W/base/build/statecast"
OLDM="$W/base/models/default.model"
E_BS_public=$(ev public "$OLD" eval --method smooth)
E_NS_public=$(ev public build/statecast eval --method smooth)
E_BM_public=$(ev public "$OLD" eval --model "$OLDM")
E_NM_public=$(ev public build/statecast eval --model models/default.model)
E_BS_holdout=$(ev holdout "$OLD" eval --method smooth)
E_NS_holdout=$(ev holdout build/statecast eval --method smooth)
E_BM_holdout=$(ev holdout "$OLD" eval --model "$OLDM")
E_NM_holdout=$(ev holdout build/statecast eval --model models/default.model)

median() { # median PERIOD FILE: median us/sample over the rounds
	awk -v p="$1" '$1 == p {print $4}' "$2" | sort -g |
		awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'
}
floats() { awk -v p="$1" '$1 == p {print $3; exit}' "$2"; }
row() { # row LABEL "m r s c b f" "m r s c b f"
	set -- "$1" $2 $3
	echo "| $1 | $2 / $8 | $3 / $9 | $4 / ${10} | $5 / ${11} | $6 / ${12} | $7 / ${13} |"
}

{
	echo "# The smoothing front: this tree against $BASE"
	echo
	echo "Written by \`bench/front.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo);"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared: read ratios)."
	echo "Base: \`$BASE\` ($(git log -1 --format=%s "$BASE" | cut -c1-70)...), built from \`git archive\` in the same run."
	echo "This tree: \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- ssm models || echo " with uncommitted ssm/ or models/ changes")."
	echo
	echo "## Cost per sample and state size"
	echo
	echo "bench/front_bench.c: ssm_smooth_update() + ssm_smooth_forecast() (H 48, 3 quantiles), what the daemon runs per"
	echo "sample; 32 seasonal series x 1000 samples; thread CPU time; median of 5 runs per round, then of $ROUNDS interleaved rounds."
	echo
	echo "| period | state floats base | state floats now | ratio | us/sample base | us/sample now | speed-up |"
	echo "|---|---|---|---|---|---|---|"
	for p in 1 12 48; do
		fb=$(floats $p "$W/base.txt"); fn=$(floats $p "$W/new.txt")
		tb=$(median $p "$W/base.txt"); tn=$(median $p "$W/new.txt")
		echo "| $p | $fb | $fn | $(awk -v a="$fn" -v b="$fb" 'BEGIN{printf "%.3f", a/b}') | $tb | $tn | $(awk -v a="$tb" -v b="$tn" 'BEGIN{printf "%.2fx", a/b}') |"
	done
	echo
	echo "The model's state is the front's at max_period 48 and H 48 plus the network's (see the eval rows)."
	echo
	echo "## Accuracy (statecast eval, EVAL.md), base / now"
	echo
	echo "    statecast eval --data bench/data/SET --baselines bench/data/baselines-SET.tsv --no-timing \\"
	echo "        --method smooth | --model models/default.model"
	echo
	echo "| what | mean MASE | relMASE vs ets | mean MSIS | coverage 80% | better than snaive | state floats (largest) |"
	echo "|---|---|---|---|---|---|---|"
	row "public (22): front alone" "$E_BS_public" "$E_NS_public"
	row "public (22): models/default.model of each tree" "$E_BM_public" "$E_NM_public"
	row "holdout (12): front alone" "$E_BS_holdout" "$E_NS_holdout"
	row "holdout (12): models/default.model of each tree" "$E_BM_holdout" "$E_NM_holdout"
} >"$OUT"
echo "front: wrote $OUT"
cat "$OUT"
