#!/bin/bash
# bench/front_split.sh: where the model step's smoothing front spends its
# instructions, function by function, at one age of a series (callgrind on
# bench/step_age.c, this tree only): for each of the front's functions
# (the update, its advance, the weights, the forecast, the model's call
# around both) what it calls, inclusive instructions per series step, and
# what it executes itself (inclusive minus its callees). With --base, the
# same for a base revision built in the same run (git archive), first.
#
#   bench/front_split.sh [--base REV] [--kind loadgen|seasonal] [--from N]
#                        [--to M] [--out FILE]
#
# Defaults: loadgen (period 1, bench/loadgen.c's values), samples 201-400
# (the steady state: bench/results/step4.md), bench/results/front-split.md.
# A count the machine's load does not move. Static functions inlined into
# their caller count as the caller's own instructions.
set -eu
cd "$(dirname "$0")/.."
BASE=
KIND=loadgen
FROM=200
TO=400
OUT=bench/results/front-split.md
ARGS="$*"
. bench/lib.sh
parse_args "usage: bench/front_split.sh [--base REV] [--kind loadgen|seasonal] [--from N] [--to M] [--out FILE]" \
	--base=BASE --kind=KIND --from=FROM --to=TO --out=OUT -- "$@"
bench_workdir fsplit
need_tools valgrind

make -s -j2 build/bench/step_age
if [ -n "$BASE" ]; then
	echo "front_split: building the base $BASE in $W/base"
	build_tree "$BASE" "$W/base" build/libssm.a build/libscio.a
	base_prog "$W/base" bench/step_age.c "$W/step_age.base"
fi

# tree BIN MODEL NAME: the calling tree of BIN's window into $W/tree.NAME.
tree() {
	valgrind --tool=callgrind --toggle-collect=aged_steps \
		--callgrind-out-file="$W/cg.$3" "$1" "$2" "$KIND" "$FROM" "$TO" \
		>/dev/null 2>&1
	callgrind_annotate --tree=calling --inclusive=yes --auto=no \
		--threshold=100 "$W/cg.$3" >"$W/tree.$3" 2>/dev/null
}
[ -z "$BASE" ] || tree "$W/step_age.base" "$W/base/models/default.model" base
tree build/bench/step_age models/default.model now

# split_tables TREE: the tables of the functions below from a calling tree.
split_tables() {
	/usr/bin/python3 - "$1" $(((TO - FROM) * 16)) <<'EOF'
import re, sys
path, n = sys.argv[1], int(sys.argv[2])
want = ["ssm__front_update_forecast", "ssm__front_update", "ssm__front_forecast",
        "ssm_smooth_update_forecast", "ssm_smooth_update", "ssm_smooth_forecast",
        "smooth_update", "advance", "weights_all", "smooth_forecast",
        "ssm__smooth_member_at", "member_at"]
line_re = re.compile(r"^\s*([\d,]+)\s+\([^)]*\)\s+([*>])\s+(\S+)")
blocks, cur = {}, None
for line in open(path):
    m = line_re.match(line)
    if not m:
        if not line.strip():
            cur = None
        continue
    v = int(m.group(1).replace(",", ""))
    fn = re.sub(r"\.arch_x86_64_v3$", "", m.group(3).split(":")[-1])
    if m.group(2) == "*":
        cur = blocks.setdefault(fn, {"incl": 0, "callees": {}})
        cur["incl"] = max(cur["incl"], v)
    elif cur is not None:
        c = cur["callees"]
        c[fn] = max(c.get(fn, 0), v)
for fn in want:
    b = blocks.get(fn)
    if not b or b["incl"] == 0:
        continue
    print("| %s | per step | share |" % fn)
    print("|---|---|---|")
    tot = b["incl"]
    print("| (inclusive) | %.0f | 100%% |" % (tot / n))
    rest = tot
    for c, v in sorted(b["callees"].items(), key=lambda kv: -kv[1]):
        if v / n < 5:
            continue
        rest -= v
        print("| %s | %.0f | %.1f%% |" % (c, v / n, 100.0 * v / tot))
    print("| itself | %.0f | %.1f%% |" % (rest / n, 100.0 * rest / tot))
    print()
EOF
}

{
	echo "# The smoothing front's instructions by function ($KIND, samples $((FROM + 1))-$TO)"
	echo
	echo "Written by \`bench/front_split.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo); load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "(instruction counts: the load does not move them)."
	echo "This tree: \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- ssm bench || echo " with uncommitted ssm/ or bench/ changes")${BASE:+; base: \`$BASE\` = \`$(git rev-parse --short "$BASE")\`, built from \`git archive\` in the same run}."
	echo
	echo "    valgrind --tool=callgrind --toggle-collect=aged_steps build/bench/step_age models/default.model $KIND $FROM $TO"
	echo "    callgrind_annotate --tree=calling --inclusive=yes"
	echo
	echo "16 series x $((TO - FROM)) steps; instructions per series step. For each function: its"
	echo "inclusive count, then each callee's inclusive count, then \"itself\" (the function's own"
	echo "instructions, with whatever the compiler inlined into it)."
	echo
	for t in base now; do
		[ -f "$W/tree.$t" ] || continue
		echo "## $t"
		echo
		split_tables "$W/tree.$t"
	done
} >"$OUT"
echo "front_split: wrote $OUT"
cat "$OUT"
