#!/bin/bash
# bench/steady.sh: statecastd's throughput at steady state: on a database
# that already holds AGED stored forecasts and AGED samples of each of its S
# series (a daemon that has run a while), against the same build on an
# empty database, in the same run. Writes bench/results/steady.md (--out).
#
#   bench/steady.sh [--build DIR] [--series S] [--aged N] [--per P]
#                   [--reps R] [--step SEC] [--perf] [--no-plain] [--quick]
#                   [--seeded DIR] [--t0 T] [--old] [--old-base DIR]
#                   [--warm N] [--out FILE]
#
# Defaults: --build build (this tree's, made first), 100000 series, 300
# aged samples a series, 30 timed samples a series, 3 reps, a 60 s step.
#
# Every figure that bench/ingest.sh and bench/perf.sh give starts from an
# empty database; a daemon that has run a week at the defaults
# (store.forecast_every_s 5m, store.forecast_retention_s 7d) holds up to
# 2016 forecasts a series, and each new forecast row then lands in an index
# leaf of its own (bench/results/store10-split.md section 6).
#
# Seeding, once per run, by the daemon under test itself (so each database
# is one its own code wrote, whatever its schema): statecastd (default
# model) takes loadgen's S series x N samples at a STEP s step (60 by
# default) from T0 until its store drained, and stops cleanly;
# for the "aged" database with -o store.forecast_every_s=1s, so that every
# refresh is stored (fewer than N forecasts a series: a new series
# forecasts once it has learnt its step and warmed up), and for the
# "plain" one (--no-plain leaves it out) with store.forecast_every_s=0:
# the same samples and states, no forecast history, which separates the
# forecast index's cost from that of restarted, older states.
#
# Then R reps, every case once a rep, in an order rotated each rep: the
# same statecastd with its default settings restarted on its seeded
# database (from its clean-stop dump), or on an "empty" one (new each
# run), taking S x P samples flat out (loadgen --drain) whose times
# continue where the seeding stopped (a seeded database ages by P samples
# and, at a 60 s step, P / 5 stored forecasts a series each rep).
# Reported: medians of samples/s (stepped, and until the store committed
# every row) and of CPU per sample (utime + stime from the first sample
# until the store drained, /proc), of the whole daemon and of each thread
# by name. --perf adds one more aged run under `perf record -g` of every
# thread: the store writer's top functions, self and with callees.
#
# --quick: 20k series x 200 aged, 2 reps (bench/perf.sh --quick's row).
# The seeded database takes about 500 bytes a forecast row (S x N rows;
# 700 are counted): the script refuses to seed unless that much stays
# free on /tmp's disk and 20 GiB more (1 GiB for a seed under 1 GiB): the
# machine is shared. It removes its databases at the end.
#
# --seeded DIR: the aged database is DIR/db, seeded earlier by this script
# (kept from its work directory) with the same build, --series, --aged and
# --step: it is used in place (and aged further), not seeded nor removed.
# --aged counts every sample a series holds (a seed aged by R reps of P
# more holds AGED + R x P): the timed samples continue from there, and a
# run whose samples are rejected as out of order stops the script. The
# script keeps that count in DIR/aged beside DIR/db (written by the
# seeding, rewritten after each aged run): without --aged, --seeded DIR
# reads it from there. To keep a seed for later, move it out of the work
# directory at exit: BENCH_KEEP='mv "$W/aged" /tmp/seed' bench/steady.sh ...
# (bench/perf.sh --steady-seeded takes such a seed).
#
# Timestamps: T0 (--t0) is by default placed so that the last timed sample
# (of the seed's AGED, then R x P, and P more with --perf) is a step before
# the wall clock (bench/lib.sh t0_before_now): the samples and stored
# forecasts are those of a daemon fed live data, hours old, inside the
# store's retention (7 d for forecasts). Until session 15 T0 was 1.7e9
# (three years back), and every run measured the store writer deleting the
# whole history as out of retention (bench/results/wal15.md section 0);
# `--t0 1700000000` reproduces those runs. The seeding writes T0 to
# DIR/t0 beside DIR/db; --seeded DIR reads it from there (a seed without
# one, e.g. /tmp/seed15-20k, was seeded from 1700000000: give --t0). A
# timed run that would end after the wall clock stops the script before
# it starts. Each timed run's stats store_retention_deleted (rows retention
# deleted; n/a for a build without that stat) is reported: 0 is what a
# young daemon deletes.
#
# --old: a week-old daemon's store, where retention deletes about as much
# as the daemon stores. One more case, "old": a copy of the aged seed whose
# timed runs set store.retention_s and store.forecast_retention_s so that
# the cutoffs (wall clock minus the retention) stand, at rep K, at the
# seed's K x P-th sample (T0 + K x P x STEP, less half a step) and K x P / 5
# steps past its first stored forecast: each rep's cutoffs move through a
# share of the seed's old rows as large as what the run stores, P samples
# a series and (at the default store.forecast_every_s 5m and a 60 s step)
# P / 5 forecasts a series (the seed holds one a step). The wall clock
# moves a few seconds in a run; the series' time a run adds, P steps, took
# a real daemon P minutes: no clock is faked, and a run's share is old
# rows when it starts (a backlog, as retention meets it whenever a live
# feed's deletions exceed retention_batch a second: samples at 250k/s;
# forecasts at one a refresh). Needs --aged >= (R + 1) x P (the --perf run
# is rep R + 1). Scales with S: the seed, the rows a rep deletes (S x P
# samples, S x P / 5 forecasts); not with S: the retention's pacing
# (store.retention_batch rows a step, a full step's next after the next
# ingest commit). --old-base DIR: one more case, "oldbase": the same, on
# a copy of the same seed, by DIR's build (DIR/statecastd; a build whose
# store reads the seed's schema): the same-run A/B of a retention change.
# The figures' rows (old, oldbase) list what retention deleted in each
# run against the rows the rep made old.
#
# --warm N: each timed run starts, after the restart, with N untimed
# samples a series (loadgen --drain, the same flat-out shape), and the
# timed window comes after them: a restarted daemon's first write to each
# series' slot (a copy-on-write fault per page of the dump's mapping,
# docs/STATE_DUMP.md) lands in the warm-up, and the timed window is the
# steady state of a daemon that has run a while, as a week-old daemon's
# is. The warm-up is measured too and reported beside the timed window
# (its own rows): the reading without warm-up is kept, not replaced. Every
# case is warmed (the empty one's series learn their step in it). Each
# rep then moves the series' time by N + P steps. Not with --old (its
# cutoffs follow P a rep).
#
# Each thread's minor page faults per sample are reported beside its CPU,
# and the daemon's resident memory at the end of each run
# (/proc/PID/smaps_rollup: Rss, of it anonymous, and AnonHugePages) with
# its major page faults in the timed window.
#
# Prints, last, one line of key=value medians (bench/perf.sh reads it):
# aged_rate aged_drained aged_cpu empty_rate empty_drained empty_cpu, then
# aged_deleted empty_deleted (retention's rows, summed over the reps).
set -eu
cd "$(dirname "$0")/.."
ARGS="$*"
B=build
S=100000
AGED=""
PER=30
REPS=3
STEP=60
PERF=""
NOPLAIN=""
OLD=""
OLDBASE=""
WARM=0
SEEDED=""
T0=""
OUT=bench/results/steady.md
. bench/lib.sh
parse_args "usage: bench/steady.sh [--build DIR] [--series S] [--aged N] [--per P] [--reps R] [--step SEC] [--perf] [--no-plain] [--quick] [--seeded DIR] [--t0 T] [--old] [--old-base DIR] [--warm N] [--out FILE]" \
	--build=B --series=S --aged=AGED --per=PER --reps=REPS --step=STEP --perf:PERF=1 --no-plain:NOPLAIN=1 --seeded=SEEDED --t0=T0 \
	--old:OLD=1 --old-base=OLDBASE --warm=WARM \
	'--quick:S=20000; AGED=200; REPS=2' --out=OUT -- "$@"
[ -z "$PERF" ] || need_tools perf
[ -z "$OLDBASE" ] || OLD=1
[ -z "$OLD" ] || need_tools sqlite3
[ -z "$OLDBASE" ] || [ -x "$OLDBASE/statecastd" ] || { echo "steady: --old-base $OLDBASE has no statecastd" >&2; exit 1; }
case $WARM in '' | *[!0-9]*) echo "steady: --warm takes a count of samples a series" >&2; exit 1 ;; esac
[ "$WARM" = 0 ] || [ -z "$OLD" ] || { echo "steady: --warm is not for --old (its cutoffs move by P a rep)" >&2; exit 1; }
# Steps a rep moves the series' time: the warm-up's and the timed window's.
RS=$((WARM + PER))
[ -z "$OLD" ] || [ "$AGED" -ge $(((REPS + ${PERF:-0}) * PER)) ] ||
	{ echo "steady: --old needs --aged >= reps x per ($(((REPS + ${PERF:-0}) * PER)) here, with --perf's run): each rep's cutoffs move through P more of the seed's samples" >&2; exit 1; }
bench_workdir steady
[ "$B" = build ] && make -s -j2 all build/bench/loadgen
LG=$B/bench/loadgen
MODEL=$B/../models/default.model
[ -x "$LG" ] && [ -f "$MODEL" ] || { echo "steady: $B needs bench/loadgen and ../models/default.model" >&2; exit 1; }
if [ -z "$AGED" ] && [ -n "$SEEDED" ]; then
	AGED=$(cat "$SEEDED/aged" 2>/dev/null) ||
		{ echo "steady: $SEEDED/aged is missing: give --aged, every sample a series of the seed holds" >&2; exit 1; }
fi
[ -n "$AGED" ] || AGED=300
if [ -z "$T0" ] && [ -n "$SEEDED" ]; then
	T0=$(cat "$SEEDED/t0" 2>/dev/null) ||
		{ echo "steady: $SEEDED/t0 is missing: give the seed's first timestamp, --t0 (1700000000 for a seed made before session 15)" >&2; exit 1; }
fi
[ -n "$T0" ] || T0=$(t0_before_now $((AGED + (REPS + ${PERF:-0}) * RS)) "$STEP")

need=$((S * AGED * 700 / 1024))
[ -z "$SEEDED" ] || need=0
copies=0 # --old's copies of the aged seed
[ -z "$OLD" ] || copies=1
[ -z "$OLDBASE" ] || copies=2
need=$((need + copies * S * AGED * 700 / 1024))
need=$((need + (need > 1048576 ? 20 : 1) * 1048576))
avail=$(df --output=avail -k "$W" | tail -n 1)
[ "$avail" -gt "$need" ] ||
	{ echo "steady: seeding $S x $AGED needs ~$((need / 1048576)) GiB free with the margin, $((avail / 1048576)) GiB are" >&2; exit 1; }

# tstart DIR [-o ...]: statecastd on DIR/db (default model; BIN's, $B's
# unless set); PIDS keeps it.
tstart() {
	local dir=$1
	shift
	mkdir -p "$dir"
	daemon_start "${BIN:-$B/statecastd}" "$dir/db" "$dir/log" -o model.path="$MODEL" "$@" ||
		{ echo "steady: statecastd did not start (see $dir/log)" >&2; exit 1; }
	PIDS="$PIDS $PID"
}
stop() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null || true; }

# seed CASE EVERY: the database of CASE ($W/CASE), S x AGED samples from
# T0 taken by statecastd with -o store.forecast_every_s=EVERY until its
# store drained, then a clean stop; sets SEED (loadgen's line), SEED_ROWS
# (rows the store committed) and SEED_MB. SEED_OPTS: more -o options.
SEED_OPTS=""
seed() {
	echo "steady: seeding $1: $S series x $AGED samples, store.forecast_every_s=$2 $SEED_OPTS ($(date -u +%H:%M:%S))"
	# loadgen's stats connection stays silent while it sends: at 100k x 300
	# with every forecast stored, the store's back-pressure makes that
	# longer than limits.idle_timeout_s (5m), and the daemon closed it
	# before the seeding's end (session 16); the seeding daemon keeps it.
	# shellcheck disable=SC2086
	tstart "$W/$1" -o store.forecast_every_s="$2" -o limits.idle_timeout_s=0 $SEED_OPTS
	SEED=$($LG --graphite 127.0.0.1:$G --series "$S" --count $((S * AGED)) --t0 $T0 --step "$STEP" \
		--until-rpc 127.0.0.1:$R --drain || true)
	[ "$(field complete "$SEED")" = 1 ] || { echo "steady: seeding $1 did not complete: $SEED" >&2; exit 1; }
	echo "$T0" >"$W/$1/t0"
	echo "$AGED" >"$W/$1/aged"
	SEED_ROWS=$("$B/statecast" stats --json --rpc 127.0.0.1:$R 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("store_rows_committed", "n/a"))' 2>/dev/null || echo n/a)
	stop "$PID"
	SEED_MB=$(du -sm "$W/$1" | cut -f1)
	echo "steady: seeded $1 ($(date -u +%H:%M:%S)): $SEED_MB MiB; $SEED"
}
CASES="aged empty"
if [ -n "$SEEDED" ]; then
	[ -f "$SEEDED/db" ] || { echo "steady: no database $SEEDED/db" >&2; exit 1; }
	ln -s "$(cd "$SEEDED" && pwd)" "$W/aged"
	seed_aged="none: $SEEDED, seeded earlier" rows_aged=n/a mb_aged=$(du -smL "$W/aged" | cut -f1)
else
	# --old: every series' snapshot within a second of the seed's end.
	# Retention keeps what a snapshot has not seen (replay), and at the
	# default store.snapshot_s (10m of wall clock) a minute's seeding
	# snapshots a tenth of the series: the others' samples would all be
	# kept. A week-old daemon's snapshots are minutes old, its 30-day-old
	# samples long seen.
	SEED_OPTS=${OLD:+-o store.snapshot_s=1s}
	seed aged 1s
	SEED_OPTS=""
	seed_aged="$SEED" rows_aged=$SEED_ROWS mb_aged=$SEED_MB
fi
if [ -z "$NOPLAIN" ]; then
	CASES="aged plain empty"
	seed plain 0
	seed_plain="$SEED" rows_plain=$SEED_ROWS mb_plain=$SEED_MB
fi
# --old: copies of the aged seed (before any timed run ages it), and the
# time of its first stored forecast, where the forecast cutoffs start.
if [ -n "$OLD" ]; then
	cp -r "$W/aged/." "$W/old"
	CASES="old $CASES"
	if [ -n "$OLDBASE" ]; then
		cp -r "$W/aged/." "$W/oldbase"
		CASES="oldbase $CASES"
	fi
	SNAPS=$(sqlite3 -readonly "$W/aged/db" "SELECT count(*) FROM snapshots")
	# FC[K]: the forecast cutoff at rep K, just after the time of the
	# seed's (K x S x P / 5)-th oldest forecast (a flat-out seeding
	# stores one a tick, not one a sample: counted, not computed), and
	# FCN[K] the seed's forecasts older than it.
	declare -A FC FCN
	for k in $(seq $((REPS + 1))); do
		FC[$k]=$(sqlite3 -readonly "$W/aged/db" "SELECT CAST(t AS INTEGER) + 1 FROM forecasts ORDER BY t LIMIT 1 OFFSET $((k * S * (PER / 5) - 1))")
		[ -n "${FC[$k]}" ] || { echo "steady: --old: the aged seed holds fewer than $((k * S * (PER / 5))) forecasts" >&2; exit 1; }
		FCN[$k]=$(sqlite3 -readonly "$W/aged/db" "SELECT count(*) FROM forecasts WHERE t < ${FC[$k]}")
	done
fi

# thread_cpu T0 T1 N: CPU per sample (us) and minor page faults per sample
# by thread name between two `tasks` snapshots N samples apart, one "NAME
# US FAULTS" line each, and "all US FAULTS".
thread_cpu() {
	join -a 2 -e 0 -o auto <(sort "$1") <(sort "$2") | awk -v hz="$(getconf CLK_TCK)" -v n="$3" '
		{ c = ($9 + $10 - $3 - $4) / hz / n * 1e6; f = ($11 - $5) / n; name = $8
		  u[name] += c; fl[name] += f; all += c; fall += f }
		END { for (k in u) if (u[k] > 0 || fl[k] > 0) printf "%s %.3f %.4f\n", k, u[k], fl[k]
		      printf "all %.3f %.4f\n", all, fall }'
}
# majflt PID: the daemon's major page faults so far (all its threads).
majflt() { sed -e 's/^.*) //' "/proc/$1/stat" | awk '{ print $10 }'; }
# mem PID: the daemon's resident memory, "RSS_MIB ANON_MIB ANONHUGE_MIB".
mem() {
	awk '/^Rss:/ { r = $2 } /^Anonymous:/ { a = $2 } /^AnonHugePages:/ { h = $2 }
		END { printf "%d %d %d\n", r / 1024, a / 1024, h / 1024 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo "n/a n/a n/a"
}

N=$((S * PER))
declare -A rate drained cpu wrate wcpu rss pre
t=$((T0 + AGED * STEP))
last=$((t + ((REPS + ${PERF:-0}) * RS - 1) * STEP))
# A seed kept from a run that ended at the clock needs the clock to move
# on by the samples to come: --seeded waits for that, at most as long as
# those samples span (a longer wait means a wrong --aged or --t0).
wait_s=$((last - $(date +%s)))
if [ -n "$SEEDED" ] && [ "$wait_s" -gt 0 ] && [ "$wait_s" -le $(((REPS + ${PERF:-0}) * RS * STEP)) ]; then
	echo "steady: waiting $wait_s s for the wall clock to pass the last timed sample (t=$last)"
	sleep "$wait_s"
fi
[ "$last" -le "$(date +%s)" ] ||
	{ echo "steady: the timed samples would end at t=$last, after the wall clock ($(date +%s)): a --seeded database's --aged or --t0 leaves too few steps before now" >&2; exit 1; }
declare -A deleted
# old_opts REP: --old's retention options at rep REP (perf: the one after
# the last).
old_opts() {
	local k=$1 cs cf now
	[ "$k" = perf ] && k=$((REPS + 1))
	now=$(date +%s)
	cs=$((T0 + k * PER * STEP - STEP / 2))
	cf=${FC[$k]}
	echo "-o store.retention_s=$((now - cs)) -o store.forecast_retention_s=$((now - cf))"
}
run() { # run aged|plain|empty|old|oldbase REP [PERF_OUT]
	local c=$1 pf=${3:-} pid pp out wout BIN="" opts="" tt=$((t + WARM * STEP))
	if [ "$c" = empty ]; then rm -rf "$W/empty"; fi
	[ "$c" = oldbase ] && BIN=$OLDBASE/statecastd
	[ "$c" = old ] || [ "$c" = oldbase ] && opts=$(old_opts "$2")
	# shellcheck disable=SC2086
	tstart "$W/$c" $opts
	pid=$PID
	if [ "$WARM" -gt 0 ]; then
		tasks "$pid" >"$W/w0"
		wout=$($LG --graphite 127.0.0.1:$G --series "$S" --count $((S * WARM)) --t0 "$t" --step "$STEP" \
			--until-rpc 127.0.0.1:$R --drain || true)
		tasks "$pid" >"$W/w1"
		[ "$(field complete "$wout")" = 1 ] || { stop "$pid"; echo "steady: rep $2 $c: the warm-up did not complete: $wout" >&2; exit 1; }
	fi
	if [ -n "$pf" ]; then
		perf record -q -F 499 -g -e cpu-clock -p "$pid" -o "$pf" >/dev/null 2>&1 &
		pp=$!; sleep 0.5
	fi
	tasks "$pid" >"$W/t0"
	maj0=$(majflt "$pid")
	out=$($LG --graphite 127.0.0.1:$G --series "$S" --count "$N" --t0 "$tt" --step "$STEP" \
		--until-rpc 127.0.0.1:$R --drain || true)
	tasks "$pid" >"$W/t1"
	m=$(mem "$pid")
	m="$m $(($(majflt "$pid") - maj0))"
	[ -z "$pf" ] || { kill -INT "$pp" 2>/dev/null; wait "$pp" 2>/dev/null || true; }
	# Samples at or before a series' last one are rejected unstepped
	# (loadgen still counts them sent and processed): a --seeded database
	# aged past --aged x --step would be measured doing nothing.
	st=$("$B/statecast" stats --json --rpc 127.0.0.1:$R 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; j = json.load(sys.stdin); print(j.get("out_of_order", 0), j.get("store_retention_deleted", "n/a"))' 2>/dev/null || echo "0 n/a")
	ooo=${st% *}
	[ "$ooo" = 0 ] || {
		stop "$pid"
		echo "steady: rep $2 $c: $ooo samples out of order, not stepped (a --seeded database whose series hold samples past T0 + AGED x STEP: give --aged every sample it holds)" >&2
		exit 1
	}
	stop "$pid"
	# What the aged database now holds a series, for a later --seeded run.
	[ "$c" != aged ] || echo $(((t - T0) / STEP + RS)) >"$W/aged/aged"
	[ -n "$pf" ] && return
	if [ "$WARM" -gt 0 ]; then
		echo "steady: rep $2 $c warm-up: $wout"
		thread_cpu "$W/w0" "$W/w1" $((S * WARM)) >"$W/wcpu.$c.$2"
		wrate[$c]="${wrate[$c]:-} $(field rate "$wout")"
		wcpu[$c]="${wcpu[$c]:-} $(awk '$1 == "all" { print $2 }' "$W/wcpu.$c.$2")"
	fi
	echo "steady: rep $2 $c: $out"
	thread_cpu "$W/t0" "$W/t1" "$N" >"$W/cpu.$c.$2"
	rss[$c]="${rss[$c]:-} ${m// //}"
	# The daemon's CPU before its first sample (the restore, and what
	# runs after it in the background until then: outside every window).
	pre[$c]="${pre[$c]:-} $(awk -v hz="$(getconf CLK_TCK)" '{ c += $3 + $4 } END { printf "%.2f", c / hz }' "$W/$([ "$WARM" -gt 0 ] && echo w0 || echo t0)")"
	rate[$c]="${rate[$c]:-} $(field rate "$out")"
	# A run that gave up waiting (complete=0) has no drained figure.
	d=$(field drained_rate "$out")
	[ "$(field complete "$out")" = 1 ] || d=n/a
	drained[$c]="${drained[$c]:-} ${d:-n/a}"
	deleted[$c]="${deleted[$c]:-} ${st#* }"
	cpu[$c]="${cpu[$c]:-} $(awk '$1 == "all" { print $2 }' "$W/cpu.$c.$2")"
}
# rep_all REP: every case once, CASES rotated by REP - 1 (with two cases,
# ab_order's order); then the series' time moves on.
rep_all() {
	local -a c=($CASES)
	local i
	for i in $(seq 0 $((${#c[@]} - 1))); do run "${c[$(((i + $1 - 1) % ${#c[@]}))]}" "$1"; done
	t=$((t + RS * STEP))
}
for rep in $(seq "$REPS"); do rep_all "$rep"; done

perf_top=""
if [ -n "$PERF" ]; then
	pc=aged
	[ -z "$OLD" ] || pc=old
	echo "steady: one more $pc run under perf record"
	run $pc perf "$W/perf.data"
	t=$((t + RS * STEP))
	perf_top=$(
		echo '### store-writer, self (% of the thread'"'"'s samples)'
		echo; echo '```'
		perf report -i "$W/perf.data" --comm store-writer --no-children --percentage relative \
			--sort sym -g none --percent-limit 0.7 --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 30
		echo '```'; echo
		echo '### store-writer, with callees (% of the thread'"'"'s samples)'
		echo; echo '```'
		perf report -i "$W/perf.data" --comm store-writer --children --percentage relative \
			--sort sym -g none --percent-limit 3 --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 40
		echo '```'
	)
fi

med() { echo "$1" | median; }
# sumd "N N ...": their sum, n/a if any is (a build without the stat).
sumd() { echo "$1" | tr ' ' '\n' | awk 'NF { if ($1 !~ /^[0-9]+$/) na = 1; s += $1 } END { print na ? "n/a" : s }'; }
threads=$(cat "$W"/cpu.* "$W"/wcpu.* 2>/dev/null | awk '$1 != "all" { print $1 }' | sort -u)
# thread_table PREFIX COLUMN TITLE: a table of COLUMN of the PREFIX.CASE.REP
# files (thread_cpu's), medians of the reps, and aged's difference to each.
thread_table() {
	local th c v line
	echo "### $3, medians of the reps; runs in brackets)"
	echo
	echo "| thread |$(for c in $CASES; do printf ' %s |' "$c"; done)$(for c in $CASES; do [ $c = aged ] || printf ' aged - %s |' "$c"; done)"
	echo "|---|$(for c in $CASES; do printf -- '---|'; [ $c = aged ] || printf -- '---|'; done)"
	for th in $threads all; do
		declare -A m=()
		line="| $th |"
		for c in $CASES; do
			v=$(cat "$W"/$1.$c.* 2>/dev/null | awk -v k="$th" -v col="$2" '$1 == k { print $col }')
			m[$c]=$(echo "$v" | median)
			line="$line ${m[$c]} ($(echo $v)) |"
		done
		for c in $CASES; do
			[ $c = aged ] && continue
			line="$line $(awk -v a="${m[aged]}" -v e="${m[$c]}" 'BEGIN { if (a != "n/a" && e != "n/a") printf "%.3f", a - e; else print "n/a" }') |"
		done
		echo "$line"
	done
	echo
}
{
	echo "# Throughput at steady state: an aged database against an empty one"
	echo
	echo "Written by \`bench/steady.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "Build: $B ($(git -C "$B/.." rev-parse --short HEAD 2>/dev/null || echo "not a checkout"))."
	echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared: read ratios and medians)."
	echo
	echo "Seeded by the build itself, $S series x $AGED samples at a ${STEP} s step from"
	echo "t = $T0 ($(date -u -d "@$T0" '+%Y-%m-%d %H:%M UTC'); the timed runs end at t = $last), then a clean stop:"
	echo
	echo "- aged: a forecast stored at every refresh (-o store.forecast_every_s=1s${OLD:+, and -o store.snapshot_s=1s for --old}):"
	echo "  $mb_aged MiB, rows committed (samples and forecasts) $rows_aged; $(du -smL "$W/aged" | cut -f1) MiB at the end."
	echo "  Seeding: \`$seed_aged\`"
	if [ -z "$NOPLAIN" ]; then
		echo "- plain: the same samples and states, no stored forecast"
		echo "  (-o store.forecast_every_s=0): $mb_plain MiB, rows committed $rows_plain."
		echo "  Seeding: \`$seed_plain\`"
	fi
	if [ -n "$OLD" ]; then
		echo "- old: a copy of the aged seed (snapshots of $SNAPS series), its timed runs with the retention"
		echo "  options that make each rep's share of the seed's rows old: at rep K"
		echo "  (set at each start) the sample cutoff stands at t = $T0 + K x $((PER * STEP)) - $((STEP / 2))"
		echo "  ($((S * PER)) samples a rep) and the forecast cutoff at$(for k in $(seq $((REPS + 1))); do printf ' %s' "${FC[$k]}"; done)"
		echo "  (the seed's forecasts older:$(for k in $(seq $((REPS + 1))); do printf ' %s' "${FCN[$k]}"; done); a run stores about $((S * (PER / 5)))."
		[ -z "$OLDBASE" ] || echo "- oldbase: the same on another copy, by $OLDBASE/statecastd ($(git -C "$OLDBASE/.." rev-parse --short HEAD 2>/dev/null || echo "not a checkout"))."
	fi
	echo "- empty: a new database every run."
	echo
	echo "Timed runs: default settings, $S series x $PER samples ($N) flat out,"
	echo "$REPS reps interleaved (the case order rotates), each restarted on its database"
	echo "(from its clean-stop dump). samples/s = stepped; until drained = until the"
	echo "store committed every row; CPU = utime + stime of the daemon's threads"
	echo "from the first sample until the store drained, per sample."
	if [ "$WARM" -gt 0 ]; then
		echo
		echo "Warm-up (--warm $WARM): each run, after the restart and before the timed window,"
		echo "takes $S series x $WARM untimed samples ($((S * WARM)), the same flat-out shape,"
		echo "until drained): a restarted series' first write lands there. The timed window"
		echo "comes after it; the warm-up's own figures are the \"(warm-up)\" rows."
	fi
	echo
	echo "| database | samples/s (median) | runs | until drained (median) | runs | CPU us/sample (median) | runs |"
	echo "|---|---|---|---|---|---|---|"
	for c in $CASES; do
		echo "| $c | $(med "${rate[$c]}") | ${rate[$c]} | $(med "${drained[$c]}") | ${drained[$c]} | $(med "${cpu[$c]}") | ${cpu[$c]} |"
	done
	if [ "$WARM" -gt 0 ]; then
		for c in $CASES; do
			echo "| $c (warm-up) | $(med "${wrate[$c]}") | ${wrate[$c]} | | | $(med "${wcpu[$c]}") | ${wcpu[$c]} |"
		done
	fi
	echo
	echo "Resident memory at the end of each timed run (/proc/PID/smaps_rollup,"
	echo "MiB: Rss/of it anonymous/AnonHugePages), and the daemon's major page faults"
	echo "in the timed window (/proc/PID/stat), each run:"
	for c in $CASES; do printf -- '- %s:%s\n' "$c" "${rss[$c]}"; done
	echo
	echo "CPU of the daemon before its first sample, s (the restore, and what ran"
	echo "after it until then, e.g. the slab-fill thread's warm-up of the restored slots;"
	echo "counted in no window): $(for c in $CASES; do printf '%s:%s; ' "$c" "${pre[$c]}"; done)"
	echo
	echo "Rows deleted by retention in each timed run (stats store_retention_deleted):"
	for c in $CASES; do printf -- '- %s:%s\n' "$c" "${deleted[$c]}"; done
	[ -z "$OLD" ] || echo "(each old rep makes $((S * PER)) samples and about $((S * (PER / 5))) forecasts old: see above)"
	echo
	for c in $CASES; do
		[ $c = aged ] && continue
		echo "Aged / $c: samples/s $(ratio "$(med "${rate[aged]}")" "$(med "${rate[$c]}")"),"
		echo "until drained $(ratio "$(med "${drained[aged]}")" "$(med "${drained[$c]}")"),"
		echo "CPU per sample $(ratio "$(med "${cpu[aged]}")" "$(med "${cpu[$c]}")")."
		echo
	done
	thread_table cpu 2 "CPU per sample by thread (us"
	thread_table cpu 3 "Minor page faults per sample by thread (faults"
	if [ "$WARM" -gt 0 ]; then
		thread_table wcpu 2 "Warm-up: CPU per sample by thread (us"
		thread_table wcpu 3 "Warm-up: minor page faults per sample by thread (faults"
	fi
	if [ -n "$perf_top" ]; then
		echo
		echo "## Where the $pc run's store writer spends its CPU"
		echo
		echo "One more $pc run (same shape), \`perf record -F 499 -g -e cpu-clock\` of every thread."
		echo
		echo "$perf_top"
	fi
} >"$OUT"
echo "steady: wrote $OUT"
echo "aged_rate=$(med "${rate[aged]}") aged_drained=$(med "${drained[aged]}") aged_cpu=$(med "${cpu[aged]}")" \
	"empty_rate=$(med "${rate[empty]}") empty_drained=$(med "${drained[empty]}") empty_cpu=$(med "${cpu[empty]}")" \
	"aged_deleted=$(sumd "${deleted[aged]}") empty_deleted=$(sumd "${deleted[empty]}")" \
	${OLD:+"old_rate=$(med "${rate[old]}") old_drained=$(med "${drained[old]}") old_cpu=$(med "${cpu[old]}") old_deleted=$(sumd "${deleted[old]}")"}
