#!/bin/bash
# bench/ing100k.sh: where statecastd's CPU goes at 100k series, and this
# tree against a base revision (main by default) in the same run. Writes
# bench/results/ing100k.md.
#
#   bench/ing100k.sh [--base REV] [--base-dir DIR] [--reps N] [--series S]
#                    [--pers "6 30"] [--out FILE]
#
# perf.sh's 100k row is S = 100,000 series x 6 samples each, flat out (the
# first 4 of a series are buffered while its step is learned), so the
# creation of a series weighs on every sample. Three cases, default model
# with persistence: "new" = that row (a fresh daemon); "old" = 6 more
# samples per series on the same daemon right after (no series created);
# "long" = a fresh daemon, 30 samples per series (--pers "6 30").
# - The split: once per tree, each case under `perf record -F 999 -e
#   cpu-clock` of every thread from its first sample until the store
#   drained, classified by bench/cpu_split.py; creation per series = (new -
#   old) x 6 per part, in microseconds.
# - A/B: REPS reps, interleaved (the tree that goes first alternates), of
#   the cases without perf: samples/s stepped and until drained (loadgen
#   --drain) and CPU per sample of every thread (/proc utime + stime over
#   the same span). Medians and every run.
# - The model step: instructions per step inside ssm_model_step_batch
#   (callgrind on bench/model_diff.c's first 16 series x 600 samples, as
#   bench/step_speed.sh counts them) and whether the served quantiles of
#   the two trees are the same bits (model_diff --cmp, 256 x 600).
# Timestamps: a run's passes end a step before the wall clock (bench/lib.sh
# t0_before_now), inside the store's retention as a live feed's; before
# session 15 they started at 1.7e9 and the store writer deleted every
# forecast stored (bench/results/wal15.md section 0).
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
BASE=main
BASE_DIR=""
REPS=3
S=100000
PERS="6 30"
OUT=bench/results/ing100k.md
. bench/lib.sh
parse_args "usage: bench/ing100k.sh [--base REV] [--base-dir DIR] [--reps N] [--series S] [--pers \"6 30\"] [--out FILE]" \
	--base=BASE --base-dir=BASE_DIR --reps=REPS --series=S --pers=PERS --out=OUT -- "$@"
set -- $PERS
P_LO=$1 P_HI=${2:-}
[ -n "$P_HI" ] && [ "$P_HI" -gt "$P_LO" ] || { echo "ing100k: --pers needs two counts, the smaller first" >&2; exit 2; }
need_tools perf valgrind
bench_workdir ing100k

make -s -j2 all build/bench/loadgen build/bench/model_diff
base_tree ing100k
LG=build/bench/loadgen
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# run BUILD PER PASSES [PERF]: one statecastd (default model, fresh store),
# then PASSES passes of S series x PER samples, each pass's timestamps
# after the last one's (pass 1 creates the series, later ones find them).
# Per pass k, $W/res.k holds "RATE DRAINED CPU_US" and, with PERF (any
# word), $W/split.k cpu_split.py's line of a perf record of that pass.
run() {
	local b=$1 per=$2 passes=$3 perf=${4:-} n k pid pp c0 c1 out t0
	n=$((S * per))
	rm -rf "$W/sd" "$W"/res.* "$W"/split.*; mkdir -p "$W/sd"
	daemon_start "$b/statecastd" "$W/sd/db" "$W/sd/log" -o model.path=models/default.model ||
		{ echo "ing100k: statecastd did not start (see $W/sd/log)" >&2; return 1; }
	pid=$PID; PIDS="$PIDS $pid"
	t0=$(t0_before_now $((passes * per)) 60)
	for k in $(seq "$passes"); do
		if [ -n "$perf" ]; then
			perf record -q -F 999 -e cpu-clock -p "$pid" -o "$W/perf.data" >/dev/null 2>&1 &
			pp=$!; sleep 0.5
		fi
		c0=$(cpu_ticks "$pid")
		out=$($LG --graphite 127.0.0.1:$G --series "$S" --count "$n" \
			--t0 $((t0 + (k - 1) * per * 60)) --until-rpc 127.0.0.1:$R --drain || true)
		c1=$(cpu_ticks "$pid")
		if [ -n "$perf" ]; then
			kill -INT "$pp" 2>/dev/null; wait "$pp" 2>/dev/null || true
			/usr/bin/python3 bench/cpu_split.py "$W/perf.data" 999 "$n" "$pid" "$b" >"$W/split.$k" || true
		fi
		awk -v r="$(field rate "$out")" -v d="$(field drained_rate "$out")" -v c="$((c1 - c0))" \
			-v hz="$(getconf CLK_TCK)" -v n="$n" \
			'BEGIN { printf "%s %s %.2f\n", (r == "" ? "n/a" : r), (d == "" || d == "nan" ? "n/a" : d), c / hz / n * 1e6 }' >"$W/res.$k"
	done
	kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
}

# Cases: "new" = pass 1 of P_LO (perf.sh's 100k row: every series created),
# "old" = pass 2 of P_LO on the same daemon (the same series again, none
# created), "long" = P_HI in one pass on a fresh daemon.
CASES="new old long"
case_run() { # case_run TREE [PERF]: runs both daemons, fills the case files
	local b=build
	[ "$1" = base ] && b=$BASE_DIR/build
	run "$b" "$P_LO" 2 ${2:-}
	cp "$W/res.1" "$W/$1.new.res"; cp "$W/res.2" "$W/$1.old.res"
	[ -n "${2:-}" ] && { cp "$W/split.1" "$W/$1.new.split"; cp "$W/split.2" "$W/$1.old.split"; }
	run "$b" "$P_HI" 1 ${2:-}
	cp "$W/res.1" "$W/$1.long.res"
	[ -n "${2:-}" ] && cp "$W/split.1" "$W/$1.long.split"
	return 0
}

# The split, once per tree.
declare -A split
for t in base head; do
	echo "ing100k: split, $t"
	case_run $t perf
	for c in $CASES; do split[$t:$c]=$(cat "$W/$t.$c.split"); done
done

# A/B, interleaved.
declare -A rate drained cpu
for t in base head; do for c in $CASES; do rate[$t:$c]=""; drained[$t:$c]=""; cpu[$t:$c]=""; done; done
for rep in $(seq "$REPS"); do
	order=$(ab_order "$rep" base head)
	for t in $order; do
		echo "ing100k: rep $rep of $REPS, $t"
		case_run $t
		for c in $CASES; do
			set -- $(cat "$W/$t.$c.res")
			rate[$t:$c]="${rate[$t:$c]} $1"; drained[$t:$c]="${drained[$t:$c]} $2"
			cpu[$t:$c]="${cpu[$t:$c]} $3"
		done
	done
done

# The model step: instructions and bits.
base_prog "$BASE_DIR" bench/model_diff.c "$W/model_diff.base"
"$W/model_diff.base" "$BASE_DIR/models/default.model" "$W/md.base"
build/bench/model_diff models/default.model "$W/md.head"
BITS=$(build/bench/model_diff --cmp "$W/md.base" "$W/md.head")
rm -f "$W/md.base" "$W/md.head"
read -r IRT_B IRF_B < <(step_ir "$W/model_diff.base" "$BASE_DIR/models/default.model" "$W/ir.base")
read -r IRT_H IRF_H < <(step_ir build/bench/model_diff models/default.model "$W/ir.head")

med() { echo "$1" | median; }
cname() { # cname CASE: its label
	case $1 in
	new) echo "$S x $P_LO, new series (perf.sh's row)" ;;
	old) echo "$S x $P_LO, the same series again" ;;
	long) echo "$S x $P_HI, new series" ;;
	esac
}
tname() { [ "$1" = base ] && echo "$BASE" || echo "this tree"; }
# creation cost per series of one part: (new - old) x P_LO
create() { awk -v a="$(field "$2" "${split[$1:new]}")" -v b="$(field "$2" "${split[$1:old]}")" -v p="$P_LO" \
	'BEGIN { if (a == "" || b == "") print "n/a"; else printf "%.1f", (a - b) * p }'; }
{
	echo "# Ingest at 100k series: where the CPU goes, this tree against $BASE"
	echo
	echo "Written by \`bench/ing100k.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "This tree: $HEAD_REV; base: $BASE ($BASE_REV), built in the same run."
	echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); load average at the start: $LOAD0, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "(a shared machine: read medians and ratios, not absolute figures)."
	echo
	echo "Input: bench/loadgen.c, Graphite plaintext over 4 connections, one sample per"
	echo "series per round (60 s apart), flat out; statecastd with the default model and"
	echo "persistence on, a fresh store for each daemon, default settings. Cases:"
	echo
	echo "- $(cname new): a fresh daemon, $((S * P_LO)) samples; every series is created, and"
	echo "  its first 4 samples wait while its step is learned. This is bench/perf.sh's 100k row."
	echo "- $(cname old): the same daemon right after, $((S * P_LO)) more samples with later"
	echo "  timestamps: the same series, none created."
	echo "- $(cname long): a fresh daemon, $((S * P_HI)) samples."
	echo
	echo "## CPU per sample split (us), one perf-recorded run per tree"
	echo
	echo "\`perf record -F 999 -e cpu-clock\` of every thread from the first sample of a case until"
	echo "the store drained, classified by bench/cpu_split.py: parse = the loop thread outside"
	echo "the model and SQLite (socket reads, parsing, registry, series creation, queueing,"
	echo "notifications, store batches; its kernel part, page faults of new series' memory"
	echo "included, is shown again as \"of which kernel\"), step = the model (front = the"
	echo "smoothing front, ssm/smooth*.c and ssm/model_front.c), store = SQLite, io/store*,"
	echo "daemon/persist and the writer thread."
	echo
	echo "| tree | case | parse | of which kernel | step | of which front | store | total |"
	echo "|---|---|---|---|---|---|---|---|"
	for t in base head; do
		for c in $CASES; do
			x=${split[$t:$c]}
			echo "| $(tname $t) | $(cname $c) | $(field cpu_parse_us "$x") | $(field cpu_parse_kernel_us "$x") | $(field cpu_step_us "$x") | $(field cpu_front_us "$x") | $(field cpu_store_us "$x") | $(field cpu_total_us "$x") |"
		done
	done
	echo
	echo "Creation of a series, us of CPU per series = (new - same series again) x $P_LO, per"
	echo "part (one run each, as noisy as they are). For step it is not creation alone: the"
	echo "front costs more per sample as a series ages (samples 7-12 against 1-6), which"
	echo "lowers this figure, or makes it negative."
	echo
	echo "| tree | parse | of which kernel | step | of which front | store | total |"
	echo "|---|---|---|---|---|---|---|"
	for t in base head; do
		echo "| $(tname $t) | $(create $t cpu_parse_us) | $(create $t cpu_parse_kernel_us) | $(create $t cpu_step_us) | $(create $t cpu_front_us) | $(create $t cpu_store_us) | $(create $t cpu_total_us) |"
	done
	echo
	echo "## A/B: samples/s and CPU per sample ($REPS reps, interleaved)"
	echo
	echo "samples/s = stepped (loadgen's rate); until drained = until the store had"
	echo "committed every row; CPU = utime + stime of every thread over that span, per sample."
	echo
	echo "| case | tree | samples/s (median) | runs | until drained (median) | runs | CPU us/sample (median) | runs |"
	echo "|---|---|---|---|---|---|---|---|"
	for c in $CASES; do
		for t in base head; do
			k=$t:$c
			echo "| $(cname $c) | $(tname $t) | $(med "${rate[$k]}") | ${rate[$k]} | $(med "${drained[$k]}") | ${drained[$k]} | $(med "${cpu[$k]}") | ${cpu[$k]} |"
		done
	done
	echo
	for c in $CASES; do
		echo "- $(cname $c), this tree / $BASE: samples/s $(ratio "$(med "${rate[head:$c]}")" "$(med "${rate[base:$c]}")"), until drained $(ratio "$(med "${drained[head:$c]}")" "$(med "${drained[base:$c]}")"), CPU per sample $(ratio "$(med "${cpu[head:$c]}")" "$(med "${cpu[base:$c]}")")."
	done
	echo
	echo "## The model step"
	echo
	echo "    valgrind --tool=callgrind --toggle-collect=ssm_model_step_batch build/bench/model_diff models/default.model OUT 16"
	echo
	echo "| | $BASE | this tree | ratio |"
	echo "|---|---|---|---|"
	echo "| instructions per step | $IRT_B | $IRT_H | $(ratio "$IRT_H" "$IRT_B") |"
	echo "| of which the front | $IRF_B | $IRF_H | $(ratio "$IRF_H" "$IRF_B") |"
	echo "| the rest | $((IRT_B - IRF_B)) | $((IRT_H - IRF_H)) | $(ratio "$((IRT_H - IRF_H))" "$((IRT_B - IRF_B))") |"
	echo
	echo "Served quantiles, bench/model_diff.c (256 series x 600 samples), $BASE against this tree:"
	echo
	echo "    $BITS"
} >"$W/part.md"
{ echo "<!-- ing100k-run -->"; cat "$W/part.md"; echo "<!-- /ing100k-run -->"; } >"$W/part.md.s"
if [ -f "$OUT" ] && grep -q '^<!-- ing100k-run -->$' "$OUT"; then
	results_section "$OUT" ing100k-run "$W/part.md.s"
else
	# A new file: the run's section, then room for notes by hand below it.
	cp "$W/part.md.s" "$OUT"
fi
echo "ing100k: wrote $OUT"
