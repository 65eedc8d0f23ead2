#!/bin/bash
# bench/front.sh: the smoothing front (ssm/smooth.h) of this tree against a
# base revision, in the same run: state floats, CPU per sample (update +
# forecast, bench/front_bench.c), accuracy (statecast eval on the public
# and holdout sets: the front alone and the shipped model of each tree), and
# the daemon's CPU time and RSS per sample/series with each tree's default
# model and store (bench/loadgen.c, 100k series). Writes
# bench/results/front.md.
#
#   bench/front.sh [--base REV] [--rounds N] [--series S] [--out FILE]
#
# CPU time, not wall time: the machine is shared, and the daemon's CPU per
# sample is what bounds its throughput on a core of its own.
#
# REV defaults to 63a7570, the tree before the front was made smaller. The
# base is exported with `git archive` into a temporary directory and built
# there; nothing in this tree changes but the report.
# Timestamps: loadgen --end now (the last sample a moment before the wall
# clock, inside the store's retention as a live feed's); before session 15
# loadgen's default t0 1.7e9, with which the store writer deleted every
# forecast a run stored as out of retention (bench/results/wal15.md).
set -eu
cd "$(dirname "$0")/.."
BASE=63a7570
ROUNDS=3
SERIES=100000
OUT=bench/results/front.md
ARGS="$*"
. bench/lib.sh
parse_args "usage: bench/front.sh [--base REV] [--rounds N] [--series S] [--out FILE]" \
	--base=BASE --rounds=ROUNDS --series=SERIES --out=OUT -- "$@"
bench_workdir front


echo "front: building the base $BASE in $W/base"
build_tree "$BASE" "$W/base" build/libssm.a build/statecast build/statecastd
cc -O2 -I"$W/base" -o "$W/front_bench.base" bench/front_bench.c \
	"$W/base/build/libssm.a" $BLAS
make -s -j2 all build/bench/front_bench build/bench/loadgen

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

# daemon BIN MODEL DIR: CPU us per sample and KiB of RSS per series of a
# statecastd fed SERIES series x 6 rounds (store on), as "us kib". Started
# by daemon_start (bench/lib.sh), so under its memory guard.
daemon() {
	local n=$((SERIES * 6)) c0 c1 m0 m1
	mkdir -p "$3"
	daemon_start "$1" "$3/db" "$3/log" -o model.path="$2" ||
		{ echo "front: statecastd did not start (see $3/log)" >&2; return 1; }
	# daemon() runs in $(...), a subshell: its PID goes to $W/pids so
	# that an interrupted run still stops it.
	echo "$PID" >>"$W/pids"
	c0=$(cpu_ticks "$PID"); m0=$(rss_kb "$PID")
	build/bench/loadgen --graphite 127.0.0.1:$G --series "$SERIES" \
		--count "$n" --end now --until-rpc 127.0.0.1:$R >/dev/null
	c1=$(cpu_ticks "$PID"); m1=$(rss_kb "$PID")
	kill -TERM "$PID"; wait "$PID" 2>/dev/null || true
	rm -f "$W/daemon.pid"
	awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v n="$n" \
		-v m="$((m1 - m0))" -v s="$SERIES" \
		'BEGIN{printf "%.2f %.2f\n", c / hz * 1e6 / n, m / s}'
}
echo "front: daemon runs, $SERIES series"
D_B=$(daemon "$W/base/build/statecastd" "$W/base/models/default.model" "$W/db1")
D_N=$(daemon build/statecastd models/default.model "$W/dn1")
D_B2=$(daemon "$W/base/build/statecastd" "$W/base/models/default.model" "$W/db2")
D_N2=$(daemon build/statecastd models/default.model "$W/dn2")

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
	echo "## The daemon (default model of each tree, store on)"
	echo
	echo "statecastd fed by bench/loadgen.c: $SERIES series x 6 rounds, Graphite, flat out; the daemon's CPU time"
	echo "(utime + stime, all threads) per sample processed and its RSS growth per series; base, now, base, now."
	echo
	echo "| run | base CPU us/sample | now CPU us/sample | ratio | base KiB/series | now KiB/series | ratio |"
	echo "|---|---|---|---|---|---|---|"
	for i in 1 2; do
		if [ $i = 1 ]; then set -- $D_B $D_N; else set -- $D_B2 $D_N2; fi
		echo "| $i | $1 | $3 | $(awk -v a="$3" -v b="$1" 'BEGIN{printf "%.2f", a/b}') | $2 | $4 | $(awk -v a="$4" -v b="$2" 'BEGIN{printf "%.2f", a/b}') |"
	done
	echo
	echo "One core sustains at most 1e6 / (CPU us per sample) samples/s; bench/perf.sh measures the rates."
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
