#!/bin/bash
# bench/timeit.sh: how long a command takes on this machine (wall time, and
# the CPU of it and its children), written as a section of a results file.
#
#   bench/timeit.sh [--out FILE] [--section NAME] [--limit SECONDS] -- CMD...
#
# FILE defaults to bench/results/tidy2.md, NAME to "timeit"; with --limit
# the section says whether the wall time was within it. The command's own
# output goes to stderr. Exits with the command's status.
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
OUT=bench/results/tidy2.md
NAME=timeit
LIMIT=""
CMD=()
# shellcheck source=bench/lib.sh
. bench/lib.sh
parse_args "usage: bench/timeit.sh [--out FILE] [--section NAME] [--limit SECONDS] -- CMD..." \
	--out=OUT --section=NAME --limit=LIMIT --@CMD -- "$@"
set -- "${CMD[@]}"
[ $# -gt 0 ] || { echo "timeit: no command" >&2; exit 2; }
bench_workdir timeit
load0=$(cut -d' ' -f1-3 /proc/loadavg)
rc=0
/usr/bin/time -o "$W/time" -f "%e %U %S" "$@" >&2 || rc=$?
read -r wall user sys <"$W/time" || true
{
	echo "<!-- $NAME -->"
	echo "## \`$*\`: time on this machine"
	echo
	echo "Written by \`bench/timeit.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC'), tree $(head_rev)."
	echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); load average before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg) (shared)."
	echo
	echo "| wall (s) | user CPU (s) | system CPU (s) | exit status |$([ -n "$LIMIT" ] && echo " within $LIMIT s |")"
	echo "|---|---|---|---|$([ -n "$LIMIT" ] && echo "---|")"
	echo "| ${wall:-n/a} | ${user:-n/a} | ${sys:-n/a} | $rc |$([ -n "$LIMIT" ] && awk -v w="${wall:-0}" -v l="$LIMIT" 'BEGIN { printf " %s |", (w + 0 > 0 && w + 0 <= l + 0) ? "yes" : "no" }')"
	echo "<!-- /$NAME -->"
} >"$W/section"
results_section "$OUT" "$NAME" "$W/section"
cat "$W/section"
exit "$rc"
