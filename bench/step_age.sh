#!/bin/bash
# bench/step_age.sh: the model step's instructions by a series' age and by
# function (callgrind, bench/step_age.c), in this tree and optionally in a
# base revision built in the same run: what a step costs at samples 1-6,
# 7-30, 31-80, 81-200, 201-400 of a series, without a season (period 1,
# bench/loadgen.c's values: what the daemons of perf.sh and ing100k.sh
# step) and with one (period 24).
#
#   bench/step_age.sh [--base REV] [--out FILE] [--steps fc|pruned|both]
#
# --steps picks which step is counted: fc, the step that makes the
# forecast (out != NULL: a watched series, or one whose forecast is read);
# pruned, the step that makes none (out == NULL, STEP_AGE_NOFC=1: what the
# daemon runs for an unwatched series since lazy1); both (the default).
#
# Each cell is instructions per series step counted inside the window only
# (--toggle-collect), 16 series. Columns: the whole ssm_model_step_batch;
# the smoothing front's update (ssm__front_update; since step5 the static
# smooth_update inside ssm__front_update_forecast) and forecast
# (ssm__front_forecast; since step5 smooth_forecast, the rest of
# ssm__front_update_forecast); inside the front, the combination's weights
# (weights_all, both calls; ssm__smooth_weights_all since tidy11 moved it
# to ssm/smooth_weights.c: either name, so a base before it counts), the
# members' forecasts (ssm__smooth_member_at, and
# ssm__smooth_member_raw: record's, whose clamp runs apart)
# and their combination (ssm__smooth_comb_member); the network's layers
# (ssm__layer_step_batch); the rest (features, encoder, head, serving).
# A count the machine's load does not move.
set -eu
cd "$(dirname "$0")/.."
BASE=
OUT=bench/results/step4-age.md
STEPS=both
ARGS="$*"
. bench/lib.sh
parse_args "usage: bench/step_age.sh [--base REV] [--out FILE] [--steps fc|pruned|both]" \
	--base=BASE --out=OUT --steps=STEPS -- "$@"
case "$STEPS" in
fc | pruned) MODES=$STEPS ;;
both) MODES="fc pruned" ;;
*) echo "step_age: --steps is fc, pruned or both, not '$STEPS'" >&2; exit 2 ;;
esac
bench_workdir stepage
need_tools valgrind


make -s -j2 build/bench/step_age
if [ -n "$BASE" ]; then
	echo "step_age: building the base $BASE in $W/base"
	build_tree "$BASE" "$W/base" build/libssm.a build/libscio.a
	base_prog "$W/base" bench/step_age.c "$W/step_age.base"
fi

WINDOWS="0:6 6:30 30:80 80:200 200:400"

# cells MODE BIN MODEL KIND FROM TO: "total update forecast weights
# member_at comb layers" per series step of the window; MODE fc or pruned.
cells() {
	local f="$W/cg.$RANDOM$RANDOM" nofc=0
	[ "$1" = pruned ] && nofc=1
	shift
	STEP_AGE_NOFC=$nofc valgrind --tool=callgrind --toggle-collect=aged_steps \
		--callgrind-out-file="$f" "$1" "$2" "$3" "$4" "$5" >/dev/null 2>&1
	# A function can be listed twice (its debug file named two ways, the
	# same count): the largest count per function name.
	callgrind_annotate --inclusive=yes --auto=no "$f" 2>/dev/null | awk -v n=$((($5 - $4) * 16)) '
		/=>/ || !/:/ { next }
		{ v = $1; gsub(",", "", v); fn = $0; sub(/ \[.*$/, "", fn)
		  sub(/^.*:/, "", fn); sub(/\.arch_x86_64_v3$/, "", fn)
		  if (v + 0 > c[fn]) c[fn] = v + 0 }
		END { u = c["ssm__front_update"]; f = c["ssm__front_forecast"]
		  # One call since step5: the update is smooth_update, the
		  # forecast the rest of it (the fallback, the gaps).
		  if (c["ssm__front_update_forecast"] > 0) {
			u = c["smooth_update"]; f = c["ssm__front_update_forecast"] - u }
		  printf "%.0f %.0f %.0f %.0f %.0f %.0f %.0f\n", c["ssm_model_step_batch"] / n,
			u / n, f / n, (c["weights_all"] + c["ssm__smooth_weights_all"]) / n,
			(c["ssm__smooth_member_at"] + c["ssm__smooth_member_raw"]) / n,
			c["ssm__smooth_comb_member"] / n,
			c["ssm__layer_step_batch"] / n }'
	rm -f "$f"
}

{
	echo "# The model step by a series' age: instructions by function"
	echo
	echo "Written by \`bench/step_age.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo); load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "(instruction counts: the load does not move them)."
	echo "This tree: \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- ssm bench || echo " with uncommitted ssm/ or bench/ changes")${BASE:+; base: \`$BASE\` = \`$(git rev-parse --short "$BASE")\`, built from \`git archive\` in the same run}."
	echo
	echo "    valgrind --tool=callgrind --toggle-collect=aged_steps build/bench/step_age models/default.model KIND FROM TO"
	echo
	echo "16 series stepped together (ssm_model_step_batch, blocks of 8); samples FROM+1..TO of each"
	echo "counted (ages as the sample's number in its series). KIND loadgen: period 1, bench/loadgen.c's"
	echo "values (the daemons of perf.sh and ing100k.sh); seasonal: period 24, a daily cycle with trend"
	echo "and noise. Instructions per series step: whole = ssm_model_step_batch; update, forecast = the"
	echo "smoothing front's (ssm__front_update, ssm__front_forecast; in one call since step5, split as"
	echo "its smooth_update and the rest); weights = weights_all (both calls; ssm__smooth_weights_all since tidy11),"
	echo "members = ssm__smooth_member_at + ssm__smooth_member_raw (record's, clamped apart since step9),"
	echo "comb = ssm__smooth_comb_member, all three inside the front;"
	echo "layers = ssm__layer_step_batch (S4D + Mamba); rest = whole - front - layers (features,"
	echo "encoder, head, composition, gate, serving, checks). step: fc = the step that makes the"
	echo "forecast (out != NULL); pruned = the one that makes none (out == NULL, STEP_AGE_NOFC=1:"
	echo "an unwatched series in the daemon since lazy1; the warm-up steps before FROM make it)."
	echo
	echo "| step | tree | kind | samples | whole | front update | front forecast | weights | members | comb | layers | rest |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	for mode in $MODES; do
		for kind in loadgen seasonal; do
			for win in $WINDOWS; do
				a=${win%:*}; b=${win#*:}
				for tree in base now; do
					if [ "$tree" = base ]; then
						[ -n "$BASE" ] || continue
						bin="$W/step_age.base"; model="$W/base/models/default.model"
					else
						bin=build/bench/step_age; model=models/default.model
					fi
					read -r t u fc w m c l < <(cells "$mode" "$bin" "$model" "$kind" "$a" "$b")
					echo "| $mode | $tree | $kind | $((a + 1))-$b | $t | $u | $fc | $w | $m | $c | $l | $((t - u - fc - l)) |"
				done
			done
		done
	done
} >"$OUT"
echo "step_age: wrote $OUT"
cat "$OUT"
