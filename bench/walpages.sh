#!/bin/bash
# bench/walpages.sh: where the store writer's bytes go, by b-tree. One
# statecastd run (default model) on a database, its store writer's pwrite,
# pread and fdatasync calls logged by an LD_PRELOAD shim
# (bench/shim/iotrace.c), then bench/wal_account.py: WAL frames, checkpoint
# copies and reads per sample for each b-tree (the pages mapped through
# dbstat after the run), and what other checkpoint spacings would have
# copied. Byte counts do not depend on the machine's load.
#
#   bench/walpages.sh [--build DIR] [--db DIR] [--series S] [--per P]
#                     [--t0 T] [-o KEY=VALUE]... [--label TEXT] [--out FILE]
#
# --db DIR: run on DIR/db in place (it ages by P samples a series: use a
# copy of a seeded database, e.g. bench/steady.sh's; T must continue its
# samples' times, and is required with it); without it, a new database.
# S x P samples (20000 x 60 by default) go flat out from loadgen at a 60 s
# step from T; by default the last of them a step before the wall clock
# (bench/lib.sh t0_before_now), inside the store's retention as a live
# feed's (until session 15 T was 1.7e9, and retention deleted what the
# run stored: bench/results/wal15.md; --t0 1700000000 gives those runs).
# -o options go to statecastd. Appends a
# section named by --label to FILE (bench/results/walpages.md), with
# stats' store_retention_deleted and the forecasts table's rows before
# and after (a run's retention work is part of its bytes).
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
B=build
DB=""
S=20000
PER=60
T0=""
LABEL=run
OUT=bench/results/walpages.md
OPTS=()
. bench/lib.sh
parse_args "usage: bench/walpages.sh [--build DIR] [--db DIR] [--series S] [--per P] [--t0 T] [-o KEY=VALUE]... [--label TEXT] [--out FILE]" \
	--build=B --db=DB --series=S --per=PER --t0=T0 -o+=OPTS --label=LABEL --out=OUT -- "$@"
need_tools sqlite3 cc
bench_workdir walpages
[ "$B" = build ] && make -s -j2 all build/bench/loadgen
MODEL=$B/../models/default.model
[ -x "$B/bench/loadgen" ] && [ -f "$MODEL" ] || { echo "walpages: $B needs bench/loadgen and ../models/default.model" >&2; exit 1; }
cc -O2 -shared -fPIC -o "$W/iotrace.so" bench/shim/iotrace.c -ldl
if [ -z "$T0" ]; then
	[ -z "$DB" ] || { echo "walpages: --db needs --t0, the time that continues its samples" >&2; exit 2; }
	T0=$(t0_before_now "$PER" 60)
fi
[ -n "$DB" ] || { DB=$W/new; mkdir -p "$DB"; }
rows() { sqlite3 -readonly "$DB/db" "SELECT count(*) FROM forecasts" 2>/dev/null || echo 0; }
before=$(rows)
dopts=()
for o in "${OPTS[@]}"; do dopts+=(-o "$o"); done
PIN="env LD_PRELOAD=$W/iotrace.so STATECAST_IOTRACE=$W/trace"
daemon_start "$B/statecastd" "$DB/db" "$W/log" -o model.path="$MODEL" "${dopts[@]}" ||
	{ echo "walpages: statecastd did not start (see $W/log)" >&2; exit 1; }
PIDS="$PIDS $PID"
out=$("$B/bench/loadgen" --graphite 127.0.0.1:$G --series "$S" --count $((S * PER)) --t0 "$T0" --step 60 \
	--until-rpc 127.0.0.1:$R --drain || true)
st=$("$B/statecast" stats --json --rpc 127.0.0.1:$R 2>/dev/null || echo '{}')
kill -TERM "$PID"; wait "$PID" 2>/dev/null || true
after=$(rows)
sqlite3 -readonly "$DB/db" "SELECT pageno, name FROM dbstat" >"$W/pages"
get() { echo "$st" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 'n/a'))"; }
{
	echo "<!-- $LABEL -->"
	/usr/bin/python3 bench/wal_account.py "$W/trace" "$W/pages" "$(get stepped)" "$LABEL"
	echo "\`bench/walpages.sh $ARGS\` ($(date -u '+%Y-%m-%d %H:%M UTC'), build $B at" \
		"$(git -C "$B/.." rev-parse --short HEAD 2>/dev/null || echo "?")):" \
		"loadgen \`$out\`; stepped $(get stepped), out of order $(get out_of_order)," \
		"rows committed $(get store_rows_committed), commits $(get store_commits)," \
		"compacted $(get store_compacted), retention deleted $(get store_retention_deleted);" \
		"forecasts table rows $before before, $after after."
	echo "<!-- /$LABEL -->"
} >"$W/section"
results_section "$OUT" "$LABEL" "$W/section"
cat "$W/section"
