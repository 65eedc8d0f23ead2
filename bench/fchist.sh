#!/bin/bash
# bench/fchist.sh: what a long stored forecast history costs a crash
# recovery. Recovery through the database reads, per series, the origin of
# its latest stored forecast (one key seek into `forecasts`, so that
# store.forecast_every_s keeps its spacing across a restart): with a few
# forecasts per series their leaf pages are shared and cached, with a long
# history each seek reads a leaf of its own.
#
#   bench/fchist.sh [--series N] [--history K] [--runs R] [--out FILE]
#
# One crashed database (N series x 5 samples, a forecast stored at each,
# then kill -9) is restored as it is (A) and with K older forecasts per
# series added before the latest (B: the same latest forecast, the same
# samples and snapshots; only `forecasts` is longer), by this tree's
# statecastd, R times each, interleaved, each from a fresh copy. Writes
# its section of FILE (bench/results/tidy2.md) between the markers
# <!-- fchist --> and <!-- /fchist -->.
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
S=20000
K=30
RUNS=3
OUT=bench/results/tidy2.md
. bench/lib.sh
parse_args "usage: bench/fchist.sh [--series N] [--history K] [--runs R] [--out FILE]" \
	--series=S --history=K --runs=RUNS --out=OUT -- "$@"
bench_workdir fchist KILL
make -s -j2 all build/bench/loadgen
rev=$(head_rev)

# 1. The crashed database.
daemon_start build/statecastd "$W/A.db" "$W/ingest.log" -o store.forecast_every_s=60
build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" --count $((S * 5)) \
	--rate 40000 --until-rpc 127.0.0.1:$R >"$W/loadgen" || true
drained build/statecast "$R" 240 || true
kill -9 "$PID"; wait "$PID" 2>/dev/null || true; PID=""

# 2. B: K older forecasts per series, each a copy of its oldest stored one
#    at 60 s steps before it, inserted series by series.
for suf in "" -wal -shm; do [ -f "$W/A.db$suf" ] && cp "$W/A.db$suf" "$W/B.db$suf"; done
/usr/bin/python3 - "$W/B.db" "$K" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
k = int(sys.argv[2])
rows = db.execute("SELECT series_id, min(t) FROM forecasts GROUP BY series_id").fetchall()
for sid, t0 in rows:
    r = db.execute("SELECT horizon, nq, levels, q, mean FROM forecasts "
                   "WHERE series_id=? AND t=?", (sid, t0)).fetchone()
    db.executemany("INSERT INTO forecasts VALUES(?,?,?,?,?,?,?)",
                   ((sid, t0 - 60 * j, *r) for j in range(1, k + 1)))
db.commit()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
EOF
count() { /usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM forecasts").fetchone()[0])' "$1"; }
FA=$(count "$W/A.db"); FB=$(count "$W/B.db")
size() { du -cb "$1"* | tail -n 1 | cut -f1; }
ZA=$(size "$W/A.db"); ZB=$(size "$W/B.db")

# 3. Interleaved restarts, each from a fresh copy; kill -9 once restored.
: >"$W/times"
# restart WHO I: restart I from database WHO's copy; A then B at every rep.
restart() {
	local who=$1 i=$2
	rm -f "$W/run.db"*
	for suf in "" -wal -shm; do [ -f "$W/$who.db$suf" ] && cp "$W/$who.db$suf" "$W/run.db$suf"; done
	log="$W/$who.$i.log"
	daemon_start build/statecastd "$W/run.db" "$log" || true
	cpu=$(awk -v hz="$(getconf CLK_TCK)" -v t="$(cpu_ticks "$PID")" 'BEGIN { printf "%.2f", t / hz }')
	kill -9 "$PID"; wait "$PID" 2>/dev/null || true; PID=""
	sec=$(sed -n 's/.*restored [0-9]* series from [^ ]* in \([0-9.]*\) s.*/\1/p' "$log" | tail -n 1)
	echo "$who $i ${sec:-nan} $cpu" | tee -a "$W/times"
}
ab_loop --fixed "$RUNS" restart
col() { awk -v w="$1" -v c="$2" '$1 == w { print $c }' "$W/times" | median; }
ra=$(col A 3); rb=$(col B 3); ca=$(col A 4); cb=$(col B 4)
us() { awk -v a="$1" -v b="$2" -v s="$S" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", (b - a) / s * 1e6; else print "n/a" }'; }

section=$W/section
{
	echo "<!-- fchist -->"
	echo "## Crash recovery with a long forecast history"
	echo
	echo "Written by \`bench/fchist.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC'), tree $rev."
	echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem/ {print $2}') GiB, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared: read ratios and medians)."
	echo
	echo "One crashed database ($S series x 5 samples, a forecast stored with each:"
	echo "\`store.forecast_every_s=60\`), restored as it is (A) and with $K older forecasts"
	echo "per series before the latest (B), by the same statecastd, $RUNS times each,"
	echo "interleaved, each from a fresh copy. Both recoveries read the same latest"
	echo "forecast per series; B's seek lands in a leaf of its own per series."
	echo
	echo "| quantity | A: short history | B: long history | B / A | B - A per series |"
	echo "|---|---|---|---|---|"
	echo "| stored forecasts | $FA | $FB | | |"
	echo "| database bytes | $ZA | $ZB | | |"
	echo "| restore, median (s, daemon's log) | $ra | $rb | $(ratio "$rb" "$ra") | $(us "$ra" "$rb") us |"
	echo "| CPU until listening, median (s, every thread) | $ca | $cb | $(ratio "$cb" "$ca") | $(us "$ca" "$cb") us |"
	echo
	echo "Every restart (database, run, restore s, CPU s):"
	echo
	echo '```'
	cat "$W/times"
	echo '```'
	echo
	echo "The last restore's log line of each:"
	echo
	echo '```'
	for who in A B; do grep -o 'restored [0-9]* series.*' "$W/$who.$RUNS.log" | tail -n 1; done
	echo '```'
	echo "<!-- /fchist -->"
} >"$section"
results_section "$OUT" fchist "$section"
cat "$section"
