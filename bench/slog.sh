#!/bin/bash
# bench/slog.sh: the store's sample path (schema 4: an append-only sample log
# compacted into per-series chunks, io/store_log.c) against a base revision
# (main by default, a row per sample) in the same run. Writes
# bench/results/slog.md.
#
#   bench/slog.sh [--base REV] [--reps N] [--series S] [--per P]
#                 [--fc-every K] [--out FILE]
#
# --fc-every K: every K-th sample of a series comes with a forecast of the
# default model's shape (store_bench.c's --fc-every: the stored forecast
# history, one per 5 samples at a 60 s step), and the reads time a
# store_forecasts of the same 200 series too.
#
# Both trees run the same program: this tree's bench/store_bench.c, whose
# --log-bench mode uses only the store's public API, is copied into the
# base's `git archive` and built there. Per rep, interleaved (the tree that
# goes first alternates): S series x P samples each ingested through the
# writer thread (batches of 1000, interleaved as live ingest is, defaults),
# timed until the store is closed; then a full-range history read of 200
# series, and a recovery that replays every sample. P = 144 at 100k series
# makes four compactions of this tree (at 32 samples per series) with the
# log half full at the end: the cost of compaction is in the CPU figure, and
# the history reads scan an average log.
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
BASE=main
REPS=3
S=100000
P=144
OUT=bench/results/slog.md
FC=0
. bench/lib.sh
parse_args "usage: bench/slog.sh [--base REV] [--reps N] [--series S] [--per P] [--fc-every K] [--out FILE]" \
	--base=BASE --reps=REPS --series=S --per=P --fc-every=FC --out=OUT -- "$@"
bench_workdir slog

make -s -j2 build/bench/store_bench
echo "slog: building $BASE in $W/base"
mkdir -p "$W/base"
git archive "$BASE" | tar -x -C "$W/base"
cp bench/store_bench.c "$W/base/bench/store_bench.c"
make -s -C "$W/base" -j2 build/bench/store_bench >/dev/null
BASE_REV=$(git rev-parse --short "$BASE" 2>/dev/null || echo "$BASE")
HEAD_REV=$(git rev-parse --short HEAD)
git diff --quiet HEAD || HEAD_REV="$HEAD_REV (with uncommitted changes)"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

KEYS="rate cpu_us bytes_per_sample hist_ms hist_samples fc_ms fc_rows replay_rate lat_p99_ms lat_max_ms queue_max_ms rss_ingest_mb rss_recover_mb anon_mb"

# run BIN: one --log-bench run, its line and anon_mb = the peak of its
# RssAnon (allocated memory, not the database's mapped pages), sampled
# every 20 ms from /proc over the whole run.
run() {
	local pid peak=0 a
	"$1" --log-bench "$S" "$P" --fc-every "$FC" --dir "$W" >"$W/out" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		a=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
		if [ -n "$a" ] && [ "$a" -gt "$peak" ]; then peak=$a; fi
		sleep 0.02
	done
	wait "$pid"
	echo "$(cat "$W/out") anon_mb=$((peak / 1024))"
}
declare -A v
for t in base head; do for k in $KEYS; do v[$t:$k]=""; done; done
for rep in $(seq "$REPS"); do
	order=$(ab_order "$rep" base head)
	for t in $order; do
		b=build/bench/store_bench
		[ $t = base ] && b=$W/base/build/bench/store_bench
		echo "slog: rep $rep of $REPS, $t"
		out=$(run "$b")
		echo "  $out"
		if [ "$(field failed "$out")" != 0 ]; then
			echo "slog: $t: failed batches" >&2
			exit 1
		fi
		for k in $KEYS; do v[$t:$k]="${v[$t:$k]} $(field "$k" "$out")"; done
	done
done

med() { echo "${v[$1:$2]}" | median; }
row() { # row LABEL KEY
	echo "| $1 | $(med base "$2") | ${v[base:$2]} | $(med head "$2") | ${v[head:$2]} | $(ratio "$(med head "$2")" "$(med base "$2")") |"
}
{
	echo "# The sample log: this tree against $BASE"
	echo
	echo "Written by \`bench/slog.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "This tree: $HEAD_REV; base: $BASE ($BASE_REV), built from \`git archive\` with this"
	echo "tree's bench/store_bench.c (its --log-bench mode uses the public store API only)."
	echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1);"
	echo "load average at the start $LOAD0, at the end $(cut -d' ' -f1-3 /proc/loadavg) (shared: read ratios and medians)."
	echo
	[ "$FC" -gt 0 ] && echo "With a forecast (48 horizons x 3 quantiles) every $FC samples of a series." && echo
	echo "$S series x $P samples = $((S * P)) samples, interleaved (one sample"
	echo "per series per round), batches of 1000, 64 in flight, store defaults but the"
	echo "writer at SCHED_BATCH (at SCHED_IDLE the neighbours' load would set the pace); a fresh"
	echo "database per run. $REPS reps, interleaved. Ingest is timed until the store is"
	echo "closed (every compaction and the final checkpoint included). CPU = the"
	echo "process' user + system time (the writer thread, and the thread building the"
	echo "batches) per sample. Bytes = database + WAL after close. History = one"
	echo "full-range store_history of each of 200 series spread over the ids, mean"
	echo "time per read. Replay = store_recover without snapshots (every sample"
	echo "replayed), samples per second. Batch wait = submit -> COMMIT of each batch"
	echo "(p99, max) and the longest submit -> BEGIN: with 64 batches in flight a"
	echo "batch waits for those before it, and a compaction that holds the writer adds"
	echo "its whole length. Peak RSS = the process' maximum resident size after the"
	echo "ingest (the writer's compaction buffers included), and after the recovery:"
	echo "RSS counts the database pages recovery's readers map (SQLite mmap), once per"
	echo "reader; peak RssAnon (allocated memory only, sampled every 20 ms from /proc)"
	echo "is over the whole run."
	echo
	echo "| figure | $BASE (median) | runs | this tree (median) | runs | this / $BASE |"
	echo "|---|---|---|---|---|---|"
	row "samples/s, until closed" rate
	row "CPU us per sample" cpu_us
	row "database bytes per sample" bytes_per_sample
	row "history read, ms per series" hist_ms
	row "history read, samples per series" hist_samples
	if [ "$FC" -gt 0 ]; then
		row "stored forecasts read, ms per series" fc_ms
		row "stored forecasts read, rows per series" fc_rows
	fi
	row "recovery replay, samples/s" replay_rate
	row "batch wait p99, ms" lat_p99_ms
	row "batch wait max, ms" lat_max_ms
	row "longest submit -> BEGIN, ms" queue_max_ms
	row "peak RSS after ingest, MiB" rss_ingest_mb
	row "peak RSS after recovery, MiB" rss_recover_mb
	row "peak RssAnon over the run, MiB" anon_mb
} >"$OUT"
echo "slog: wrote $OUT"
