#!/bin/bash
# bench/restore.sh: restore time, RSS per series and shutdown time of this
# build against a base build (main's, by default), same machine, same run,
# same database. Writes bench/results/restore.md.
#
#   bench/restore.sh [--series S] [--rate R] [--runs N] [--base DIR]
#                    [--crash] [--perf] [--first] [--db FILE]
#                    [--cache warm|cold] [--replay N] [--ready-only]
#                    [--base-desc TEXT] [--out FILE] [--now]
#                    [--base-opt SETTING]... [--this-opt SETTING]...
#
# 1. For each build (base, then this one): a fresh database, S series x 5
#    samples from loadgen paced at R samples/s, RSS once the store's queue
#    has drained, then SIGTERM (snapshots of every series that moved since its
#    last one) and the time it took to exit.
# 2. N restarts of each build, interleaved (base, this, this, base...), on the
#    database the base build wrote: the restore time the daemon logs, and the
#    RSS once it listens, the time it was ready (serving: the log's
#    `restore: ready`, or the restore time where there is none), and the
#    loop thread's CPU and page faults (minor, major) until it listens,
#    its anonymous RSS and every thread's major faults.
#    Medians and the ratio.
# --crash: each build's database is instead left by kill -9 after its
#    ingest (no state dump, no final snapshots), once the store's queue has
#    drained and the build has settled (70 s: a snapshot cycle of main's
#    60 s store.snapshot_s; then, for a build that writes checkpoints
#    (docs/STATE_DUMP.md), until one more generation of all S series is
#    recorded, at most CKPT_WAIT_S, default 300 s). Every restart goes
#    through SQLite (and the build's checkpoint, if it writes one): each
#    series' last snapshot or checkpoint record, and the replay of the
#    samples after it. Each restart also ends by kill -9 (a clean stop would
#    write a dump or final snapshots that the next restart does not use) and
#    starts from a fresh copy of its build's crashed database (checkpoint
#    files hard-linked: a restart does not change them). With --db FILE,
#    FILE is the crashed database of both builds (no ingest), with its
#    checkpoint files FILE.ckpt0/1 if it has them (the format is the same
#    for both builds, or the restore says it rejected the file).
# --replay N (--crash): after the build settled (and its checkpoint is
#    recorded), kill -9, a restart with store.checkpoint_s=86400 (so that
#    no generation records what follows), N more samples (round robin over the S series, one step
#    after the ingest's, paced at R), committed, then kill -9 at once: the
#    samples after each series' record that a real crash leaves to replay
#    (docs/STATE_DUMP.md). Every restart then also reports when it caught
#    up: a build that serves before the replay ends (daemon/catchup.h) logs
#    `restore: caught up ... X s after the start`, which is waited for;
#    for one that does not, caught up = restored. Not with --first (its
#    samples would come before the replayed ones).
# --crash: each copy is fsynced before its restart (outside its timing).
# --ready-only: a restart that serves before its replay ends is not waited
#    for until it caught up (its caught-up columns are then its restore time
#    and CPU): the time until serving alone, without minutes of background
#    catch-up per restart at 1M on a loaded machine.
# --cache warm|cold (--crash): before every restart (outside its timing),
#    the checkpoint files are read into the page cache (warm: a kill -9
#    that left the page cache alone) or dropped from it (cold: after a
#    reboot or memory pressure, the restore reads them from the disk).
#    Without it, whatever the cache holds after the previous step.
# --perf: one more restart of this build under `perf record` (every thread);
#    the top symbols go into the report.
# --first: after each restart, one more sample for every series, flat out,
#    timed until all are stepped: what the first step of a restored series
#    costs (a state dump's pages are copied on that first write).
# --db FILE: no ingest; both builds start from copies of FILE (a database
#    that a clean stop of the base build left, with S series). A build that
#    writes a state dump restores its first restart from the database, the
#    next ones from the dump its previous stop wrote (see each restart's line).
# --base DIR: a tree whose build/statecastd is the base; without it main is
#    archived and built in a temporary directory.
# --base-desc TEXT: what the base is, for the report's column A and title
#    (default: "main at REV" when main is built here, else the base's
#    revision, or its path when it is no checkout).
# --base-opt / --this-opt KEY=VALUE (repeatable): a setting (-o) given to
#    every start of the base build / this build (ingest, replay, restarts):
#    e.g. --base . --base-opt store.log_max_samples=4000000, the same build
#    with another setting.
# --now: stamps end before the wall clock instead of at 1.7e9 (bench/lib.sh
#    t0_before_now: the ingest's 5 steps and the replay's, 60 s apart, end a
#    step before now), inside the store's retention, which then deletes
#    nothing: the database at the crash holds everything the run sent (with
#    1.7e9 stamps the writer's retention purges the log and chunks as the
#    run goes, so the log at the crash is not the one a live daemon keeps).
# --crash also reports the sample log at the crash (rows, samples: what a
#    restart reads and sorts, docs/STATE_DUMP.md).
# A run of 1M series holds ~10 GB per daemon: run it as
#    flock /tmp/statecast-1m.lock bench/restore.sh --series 1000000
# Timestamps: loadgen's 1.7e9 (the replay at t0 + 5 steps): what is timed
# is the restart (snapshots, checkpoint and log replay), which reads the
# series' states and the samples after them, which retention keeps; the
# store writer's purge of older rows may run beside a restart (whether it
# moves the time to serve was not measured). Kept for the earlier figures.
set -eu
cd "$(dirname "$0")/.."
# Quoted as typed (a --base-desc of several words), for the report.
ARGS=""
[ $# -gt 0 ] && ARGS=$(printf "%q " "$@") && ARGS=${ARGS% }
S=200000
RATE=40000
RUNS=3
BASE=main
BASE_DIR=""
CRASH=0
PERF=0
FIRST=0
DB=""
CACHE=""
REPLAY=0
READY_ONLY=0
BASE_DESC=""
OUT=bench/results/restore.md
NOW=0
BASE_OPT=()
THIS_OPT=()
. bench/lib.sh
parse_args "usage: bench/restore.sh [--series S] [--rate R] [--runs N] [--base DIR] [--crash] [--perf] [--first] [--db FILE] [--cache warm|cold] [--replay N] [--ready-only] [--base-desc TEXT] [--out FILE] [--now] [--base-opt SETTING]... [--this-opt SETTING]..." \
	--series=S --rate=RATE --runs=RUNS --base=BASE_DIR --crash:CRASH=1 \
	--perf:PERF=1 --first:FIRST=1 --db=DB --cache=CACHE --replay=REPLAY \
	--ready-only:READY_ONLY=1 --base-desc=BASE_DESC \
	--out=OUT --now:NOW=1 --base-opt+=BASE_OPT --this-opt+=THIS_OPT -- "$@"
make -s -j2 all build/bench/loadgen
bench_workdir restore KILL
base_tree restore
# Column A's label: "main" only when it is main.
if [ -z "$BASE_DESC" ]; then
	BASE_DESC=$BASE_REV
	[ "$BASE" = main ] && BASE_DESC="main at $BASE_REV"
fi
A="$BASE_DIR/build/statecastd"
B=build/statecastd
# Each build's -o settings (--base-opt, --this-opt), for every start.
OPTS_A=() OPTS_B=()
for o in ${BASE_OPT[@]+"${BASE_OPT[@]}"}; do OPTS_A+=(-o "$o"); done
for o in ${THIS_OPT[@]+"${THIS_OPT[@]}"}; do OPTS_B+=(-o "$o"); done
# opts WHO: sets OPTS to WHO's settings (an array: empty is allowed).
opts() { local v="OPTS_$1[@]"; OPTS=(${!v+"${!v}"}); }
# Stamps: loadgen's 1.7e9, or with --now a t0 whose ingest (5 steps) and
# replay (ceil(N / S) steps) end a step before the wall clock.
T0=1700000000
[ $NOW = 1 ] && T0=$(t0_before_now $((5 + (REPLAY + S - 1) / S + 1)) 60)

# stop: SIGTERM, waits for the exit; sets STOPPED to the seconds it took
# (not a command substitution: a subshell cannot wait for our child).
stop() {
	local t0
	t0=$(date +%s.%N)
	kill -TERM "$PID"; wait "$PID" 2>/dev/null || true
	PID=""
	STOPPED=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
}

# The registry alone, per started series (bench/series_bytes.c), in each
# tree: the same source compiled against the tree's daemon/registry.c.
sb_build() {
	# registry.c calls the slab-fill thread (daemon/slabfill.c) where
	# the tree has one.
	${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -I"$1" bench/series_bytes.c \
		"$1/daemon/registry.c" "$1/daemon/history.c" \
		$(ls "$1/daemon/slabfill.c" 2>/dev/null) "$1/build/libscio.a" \
		"$1/build/libssm.a" $(pkg-config --libs libuv sqlite3 lapacke openblas inih msgpack 2>/dev/null) \
		-lmsgpackc -lm -lpthread -o "$2"
}
SB_N=$((S < 200000 ? S : 200000))
sb_build "$BASE_DIR" "$W/sb.A" && SB_A=$("$W/sb.A" models/default.model "$SB_N") || SB_A="n/a"
sb_build . "$W/sb.B" && SB_B=$("$W/sb.B" models/default.model "$SB_N") || SB_B="n/a"

# Empty daemon's RSS (the same for both builds within noise), once.
daemon_start "$B" "$W/empty.db" "$W/empty.log"
rss0=$(rss_kb "$PID")
stop

# 1. Ingest into a fresh database per build.
declare -A RSS_ING STOP_S
for who in A B; do
	bin=${!who}
	db="$W/$who.db"
	if [ -n "$DB" ]; then
		# --crash --db: each restart copies FILE itself (below).
		[ $CRASH = 0 ] && for suf in "" -wal -shm; do [ -f "$DB$suf" ] && cp "$DB$suf" "$db$suf"; done
		RSS_ING[$who]=$rss0
		STOP_S[$who]="n/a (--db)"
		continue
	fi
	opts "$who"
	daemon_start "$bin" "$db" "$W/$who.ingest.log" ${OPTS[@]+"${OPTS[@]}"}
	build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" \
		--count $((S * 5)) --t0 "$T0" --rate "$RATE" --until-rpc 127.0.0.1:$R \
		>"$W/$who.loadgen" || true
	drained build/statecast "$R" 240 || true
	RSS_ING[$who]=$(rss_kb "$PID")
	if [ $CRASH = 1 ]; then
		log="$W/$who.ingest.log"
		sleep 70
		if grep -q 'checkpoint' "$log"; then
			# Until no generation is being written and one of every
			# series is recorded.
			for _ in $(seq $((${CKPT_WAIT_S:-300} * 5))); do
				nb=$(grep -c 'checkpoint [0-9a-f]*: writing' "$log" || true)
				ne=$(grep -c -E 'checkpoint [0-9a-f]* (of [0-9]* series recorded|abandoned|not recorded)' "$log" || true)
				nr=$(grep -c "checkpoint [0-9a-f]* of $S series recorded" "$log" || true)
				[ "$ne" -ge "$nb" ] && [ "$nr" -gt 0 ] && break
				sleep 0.2
			done
		fi
		if [ "$REPLAY" -gt 0 ]; then
			# The samples must stay after the records: a
			# generation written meanwhile (the replay takes
			# minutes at 1M on a loaded machine, the period is
			# 60 s) would record them. So kill -9 and restart
			# (from that checkpoint) with a period no generation
			# ends in; the crashed database still names it.
			kill -9 "$PID"; wait "$PID" 2>/dev/null || true; PID=""
			rm -f "$db".ckpt.tmp
			DAEMON_WAIT_S=900 daemon_start "$bin" "$db" "$log" \
				${OPTS[@]+"${OPTS[@]}"} -o store.checkpoint_s=86400
			build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" \
				--count "$REPLAY" --t0 $((T0 + 5 * 60)) \
				--rate "$RATE" --until-rpc 127.0.0.1:$R \
				>"$W/$who.replay" || true
			drained build/statecast "$R" 240 || true
		fi
		kill -9 "$PID"; wait "$PID" 2>/dev/null || true; PID=""
		STOP_S[$who]="n/a (kill -9)"
		mkdir "$W/crashed.$who"
		for f in "$db"*; do
			case "$f" in
			*.ckpt[01]) ln "$f" "$W/crashed.$who/" ;;
			*.tmp) rm -f "$f" ;;
			*) mv "$f" "$W/crashed.$who/" ;;
			esac
		done
		grep -o 'checkpoint [0-9a-f]* of [0-9]* series recorded in [0-9.]* s' "$log" | tail -n 2 |
			sed "s/^/$who ingest: /" >>"$W/ckpt.notes" || true
		# The log every restart reads (read-only, on a copy: opening
		# the crashed file itself would recover its WAL).
		mkdir "$W/peek"
		for f in "$W/crashed.$who/"*; do case "$f" in *.ckpt[01]) ;; *) cp "$f" "$W/peek/" ;; esac; done
		sqlite3 "$W/peek/$(basename "$db")" \
			'SELECT count(*), coalesce(sum(n), 0) FROM sample_log' |
			awk -F'|' -v w="$who" '{ printf "%s: %d rows, %d samples\n", w, $1, $2 }' >>"$W/log.notes" || true
		rm -rf "$W/peek"
	else
		stop
		STOP_S[$who]="$STOPPED s"
	fi
	echo "restore: $who ingested: RSS ${RSS_ING[$who]} KiB, stop ${STOP_S[$who]}"
done
# 2. Interleaved restarts, each build on the database (and, for a build
#    that writes one, the state dump: docs/STATE_DUMP.md) its own clean stop
#    left, as a deployed daemon restarts. In the crash case each build
#    restarts from a fresh copy of its own crashed database (with --db, of
#    FILE), because a restart changes it (retention, WAL recovery).
# The crashed database every restart of build $1 starts from a copy of.
crashed() {
	local suf f
	rm -f "$W/$1.db" "$W/$1.db"-* "$W/$1.db".*
	if [ -n "$DB" ]; then
		for suf in "" -wal -shm; do [ -f "$DB$suf" ] && cp "$DB$suf" "$W/$1.db$suf"; done
		for suf in .ckpt0 .ckpt1; do [ -f "$DB$suf" ] && ln "$DB$suf" "$W/$1.db$suf"; done
	else
		for f in "$W/crashed.$1/"*; do
			case "$f" in
			*.ckpt[01]) ln "$f" "$W/" ;;
			*) cp "$f" "$W/" ;;
			esac
		done
	fi
	# The copy's writeback before the start, not during it: 2-4 GB of
	# dirty pages being written while the restart runs held its page
	# reads behind them (30-60 s against 4.5-5.2 s at 1M, load 17,
	# bench/results/crash4.md); a crashed daemon's own database is not
	# a fresh copy.
	for suf in "" -wal -shm; do [ -f "$W/$1.db$suf" ] && sync "$W/$1.db$suf"; done
	case "$CACHE" in
	warm) for f in "$W/$1.db".ckpt[01]; do [ -f "$f" ] && cat "$f" >/dev/null; done ;;
	cold) for f in "$W/$1.db".ckpt[01]; do [ -f "$f" ] && /usr/bin/python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$f"; done ;;
	esac
	return 0
}
: >"$W/times"
# A B, then B A (ab_order): with A first in every pair, B served sooner in
# 8 of 11 pairs of three runs, 3 of 3 in one whose builds differ only
# after the timing (bench/results/crash15.md): a build that always runs
# second may gain from what the first left (page cache, the machine).
for i in $(seq "$RUNS"); do
	for who in $(ab_order "$i"); do
		bin=${!who}
		db="$W/$who.db"
		[ $CRASH = 1 ] && crashed "$who"

		log="$W/$who.restore.$i.log"
		# Listening means restored (daemon_start waits for the log's
		# listening lines, on ports the daemon picked itself).
		opts "$who"
		daemon_start "$bin" "$db" "$log" ${OPTS[@]+"${OPTS[@]}"}
		rss=$(rss_kb "$PID")
		# Of it, anonymous memory (the states, the map): the rest is the
		# checkpoint's file mapping, whose resident pages follow the page
		# cache (what else the machine read lately), not the build.
		anon=$(awk '/^RssAnon/ {print $2}' "/proc/$PID/status")
		# CPU seconds (user + system, every thread) until it listens: the
		# machine is shared, wall time is inflated by the others' load.
		cpu=$(awk -v hz="$(getconf CLK_TCK)" -v t="$(cpu_ticks "$PID")" 'BEGIN { printf "%.2f", t / hz }')
		# The loop thread's own (its tid is the PID): CPU seconds, minor
		# and major page faults until it listens. What it faults in
		# itself is what no helper thread did for it.
		loop=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f %d %d", ($14 + $15) / hz, $10, $12 }' "/proc/$PID/task/$PID/stat")
		# Every thread's major faults: pages read from the disk, the
		# database's and the checkpoint's among them (page cache they
		# were evicted from, e.g. by memory faulted in too early).
		major=$(awk '{ print $12 }' "/proc/$PID/stat")
		# Caught up (--replay): when the build's log says so, and the
		# CPU until then; a build that replays before it listens was
		# caught up when it listened.
		caught=""
		cpu_caught=$cpu
		if [ $READY_ONLY = 0 ] && grep -q 'restore: ready .* with [1-9][0-9]* series behind' "$log"; then
			for _ in $(seq 12000); do
				grep -q 'restore: caught up' "$log" && break
				sleep 0.05
			done
			cpu_caught=$(awk -v hz="$(getconf CLK_TCK)" -v t="$(cpu_ticks "$PID")" 'BEGIN { printf "%.2f", t / hz }')
			caught=$(sed -n 's/.*restore: caught up .* \([0-9.]*\) s after the start.*/\1/p' "$log" | tail -n 1)
		fi
		first=nan
		if [ $FIRST = 1 ]; then
			# Samples 0-4 were the ingest's (step 60 s); run i sends
			# sample 4 + i of every series, the same for both builds.
			build/bench/loadgen --graphite 127.0.0.1:$G --series "$S" \
				--count "$S" --t0 $((T0 + (4 + i) * 60)) \
				--until-rpc 127.0.0.1:$R >"$W/$who.first.$i" || true
			first=$(sed -n 's/.* done_s=\([0-9.na]*\).*/\1/p' "$W/$who.first.$i")
		fi
		if [ $CRASH = 1 ]; then
			kill -9 "$PID"; wait "$PID" 2>/dev/null || true
			PID=""
			STOPPED="n/a"
		else
			stop
		fi
		st=$STOPPED
		line=$(grep -o 'restored [0-9]* series from [^ ]* in [0-9.]* s.*' "$log" | tail -n 1)
		sec=$(echo "$line" | sed -n 's/.* in \([0-9.]*\) s.*/\1/p')
		# Serving: `restore: ready X s after the start` where the build
		# serves before the replay ends (daemon/catchup.h), else restored.
		ready=$(sed -n 's/.*restore: ready \([0-9.]*\) s after the start.*/\1/p' "$log" | tail -n 1)
		echo "$who $i ${sec:-nan} $rss $st $cpu ${first:-nan} ${caught:-${sec:-nan}} $cpu_caught ${ready:-${sec:-nan}} $loop $anon $major" | tee -a "$W/times"
	done
done
if [ $PERF = 1 ]; then
	[ $CRASH = 1 ] && crashed B
	: >"$W/perf.log"
	# Started under perf, which then samples every thread the daemon
	# creates (perf record -p misses the threads created after it attached:
	# the restore's readers and helpers).
	perf record -q -F 499 -g -o "$W/perf.data" -- "$B" -o listen.graphite= -o listen.influx= \
		-o listen.rpc=127.0.0.1:0 -o listen.socket= -o listen.http= \
		-o store.path="$W/B.db" \
		-o limits.max_series=2000000 ${OPTS_B[@]+"${OPTS_B[@]}"} >>"$W/perf.log" 2>&1 &
	PERF_PID=$!
	# The daemon is perf's child once it has exec'd (named statecastd).
	PID=""
	for _ in $(seq 600); do PID=$(pgrep -P "$PERF_PID" -x statecastd | head -n 1); [ -n "$PID" ] && break; sleep 0.05; done
	[ -n "$PID" ] && mem_guard "$PID" &
	for _ in $(seq 12000); do grep -q 'restored' "$W/perf.log" && break; sleep 0.05; done
	[ -n "$PID" ] && { kill "-$([ $CRASH = 1 ] && echo KILL || echo TERM)" "$PID" 2>/dev/null || true; }
	wait "$PERF_PID" 2>/dev/null || true
	PID=""
	perf report -i "$W/perf.data" --no-children --sort sym --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | head -n 25 >"$W/perf.top"
	perf report -i "$W/perf.data" -n --no-children --sort pid --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+%.*:statecastd' | head -n 8 >"$W/perf.threads"
	if [ -n "${PERF_DATA:-}" ]; then cp "$W/perf.data" "$PERF_DATA"; fi
fi

col() { awk -v w="$1" -v c="$2" '$1 == w { print $c }' "$W/times" | median; }
# Medians of each build, LETTERa and LETTERb: LETTER:COLUMN of times
# (restore, RSS, shutdown, CPU, first sample, caught up, CPU until then,
# ready, loop thread CPU, minor and major faults, RssAnon, major faults).
for spec in r:3 m:4 s:5 c:6 f:7 u:8 q:9 y:10 l:11 p:12 j:13 n:14 x:15; do
	printf -v "${spec%%:*}a" '%s' "$(col A "${spec#*:}")"
	printf -v "${spec%%:*}b" '%s' "$(col B "${spec#*:}")"
done
per() { awk -v a="$rss0" -v b="$1" -v s="$S" 'BEGIN { printf "%.2f", (b - a) / s }'; }
{
	echo "# Restore, memory per series and shutdown at $S series: this build against $BASE_DESC"
	echo
	echo "Written by \`bench/restore.sh $ARGS\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "This build: $HEAD_REV; base (A): $BASE_REV. Machine: $(nproc) cores, $(free -g | awk '/^Mem/ {print $2}') GiB,"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared)."
	echo
	echo "Default model and store. Each build ingests $S series x 5 samples paced at"
	echo "$RATE samples/s into its own fresh database, RSS read once the store's queue"
	if [ $CRASH = 1 ]; then
		echo "drained and the build settled (70 s, then until a checkpoint of every series"
		echo "is recorded, for a build that writes them), then kill -9. Restarts ($RUNS of"
		echo "each build, interleaved) restore a copy of the build's own crashed database"
		echo "(and checkpoint): snapshots or checkpoint records + replay of what followed."
	else
		echo "drained, then SIGTERM. Restarts ($RUNS of each build, interleaved) restore what"
		echo "the build's own last clean stop left (database, and state dump if it writes one)."
	fi
	if [ -n "$DB" ] && [ $CRASH = 1 ]; then
		echo && echo "**--crash --db: no ingest here (its rows below are empty): every restart started from a fresh copy of a database that kill -9 left with $S series (and its checkpoint files: $(cd "$(dirname "$DB")" && ls "$(basename "$DB")".ckpt[01] 2>/dev/null | tr '\n' ' ')), and ended by kill -9.**"
	elif [ -n "$DB" ]; then
		echo && echo "**--db: no ingest here (its rows below are empty): both builds started from copies of a database that a clean stop of the base build left with $S series; B's first restart has no state dump yet.**"
	fi
	[ $READY_ONLY = 1 ] && echo && echo "**--ready-only: a restart that served before its replay ended was not waited for until it caught up: its caught-up columns are its restore time and CPU until listening.**"
	case "$CACHE" in
	warm) echo && echo "**--cache warm: the checkpoint files were read into the page cache before every restart (a kill -9 that left the cache alone).**" ;;
	cold) echo && echo "**--cache cold: the checkpoint files were dropped from the page cache before every restart (the restore reads them from the disk).**" ;;
	esac
	[ ${#BASE_OPT[@]} -gt 0 ] && echo && echo "A ran with: ${BASE_OPT[*]}."
	[ ${#THIS_OPT[@]} -gt 0 ] && echo && echo "B ran with: ${THIS_OPT[*]}."
	if [ $NOW = 1 ]; then
		echo && echo "Timestamps (--now): t0 $T0, every sample a step before the wall clock, inside the retention (the writer deletes none)."
	else
		echo && echo "Timestamps: loadgen's 1.7e9 (the writer's retention purges what the run stores as it goes)."
	fi
	[ -s "$W/log.notes" ] && { echo; echo "The sample log at the crash (rows, samples; every restart reads it):"; echo; echo '```'; cat "$W/log.notes"; echo '```'; }
	[ -s "$W/ckpt.notes" ] && { echo; echo "Checkpoints recorded at the end of the ingest (daemon's log):"; echo; echo '```'; cat "$W/ckpt.notes"; echo '```'; }
	[ -s "$W/guard" ] && echo && echo "**The memory guard killed a daemon: $(cat "$W/guard") (PID, KiB RSS).**"
	echo
	echo "| quantity | A: $BASE_DESC | B: this build | B / A |"
	echo "|---|---|---|---|"
	echo "| restore, median of $RUNS (s, daemon's log) | $ra | $rb | $(awk -v a="$ra" -v b="$rb" 'BEGIN { printf "%.2f", b / a }') |"
	echo "| ready (serving; \`restore: ready\` where logged), median (s, daemon's log) | $ya | $yb | $(ratio "$yb" "$ya") |"
	echo "| CPU of the restore, median (s, user + system, every thread) | $ca | $cb | $(awk -v a="$ca" -v b="$cb" 'BEGIN { printf "%.2f", b / a }') |"
	echo "| loop thread CPU until listening, median (s) | $la | $lb | $(ratio "$lb" "$la") |"
	echo "| loop thread minor page faults until listening, median | $pa | $pb | $(ratio "$pb" "$pa") |"
	echo "| loop thread major page faults until listening, median | $ja | $jb | $(ratio "$jb" "$ja") |"
	echo "| major page faults until listening, every thread, median | $xa | $xb | $(ratio "$xb" "$xa") |"
	echo "| KiB per series after ingest (RSS - empty daemon's $rss0 KiB) | $(per "${RSS_ING[A]}") | $(per "${RSS_ING[B]}") | $(awk -v a="${RSS_ING[A]}" -v b="${RSS_ING[B]}" -v z="$rss0" 'BEGIN { printf "%.2f", (b - z) / (a - z) }') |"
	echo "| KiB per series after restore, median | $(per "$ma") | $(per "$mb") | $(awk -v a="$ma" -v b="$mb" -v z="$rss0" 'BEGIN { printf "%.2f", (b - z) / (a - z) }') |"
	echo "| of it anonymous (RssAnon), KiB per series, median | $(awk -v b="$na" -v s="$S" 'BEGIN { printf "%.2f", b / s }') | $(awk -v b="$nb" -v s="$S" 'BEGIN { printf "%.2f", b / s }') | $(ratio "$nb" "$na") |"
	echo "| shutdown after ingest | ${STOP_S[A]} | ${STOP_S[B]} | |"
	echo "| shutdown after restore, median (s) | $sa | $sb | |"
	if [ "$REPLAY" -gt 0 ]; then
		echo "| caught up (every stored sample stepped), median (s, daemon's log) | $ua | $ub | $(awk -v a="$ua" -v b="$ub" 'BEGIN { printf "%.2f", b / a }') |"
		echo "| CPU until caught up, median (s) | $qa | $qb | $(awk -v a="$qa" -v b="$qb" 'BEGIN { printf "%.2f", b / a }') |"
	fi
	[ $FIRST = 1 ] && echo "| first sample of every series after the restore, flat out until stepped, median (s) | $fa | $fb | $(awk -v a="$fa" -v b="$fb" 'BEGIN { printf "%.2f", b / a }') |"
	echo
	echo "The registry alone (\`bench/series_bytes models/default.model $SB_N\`, compiled"
	echo "in each tree: $SB_N series added and started, resident bytes per series):"
	echo
	echo "| build | state | forecast | sizeof(srv_series) | RSS per series | over the state |"
	echo "|---|---|---|---|---|---|"
	for who in A B; do
		v=SB_$who
		echo "${!v}" | awk -v w="$who" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); x[kv[1]] = kv[2] } }
			END { printf "| %s | %s | %s | %s | %s | %s |\n", w, x["state"], x["forecast"], x["struct"], x["rss"], x["overhead"] }'
	done
	echo
	echo "Every restart (build, run, restore s, RSS KiB, shutdown s, CPU s until listening, first sample of every series s, caught up s, CPU s until caught up, ready s, loop thread: CPU s, minor faults, major faults until listening, RssAnon KiB, every thread's major faults until listening):"
	echo
	echo '```'
	cat "$W/times"
	echo '```'
	echo
	echo "The last restore's log line of each build:"
	echo
	echo '```'
	grep -ho 'restored [0-9]* series .*' "$W/A.restore.$RUNS.log" | sed 's#/tmp/[^ ]*#DB#'
	grep -ho 'restored [0-9]* series .*' "$W/B.restore.$RUNS.log" | sed 's#/tmp/[^ ]*#DB#'
	grep -ho 'restore phases: .*' "$W/B.restore.$RUNS.log" || true
	grep -ho 'restore: \(ready\|caught up\) .*' "$W/B.restore.$RUNS.log" || true
	echo '```'
	if [ -s "$W/perf.top" ]; then
		echo
		echo "Profile of one more restart of this build (\`perf record -F 499 -g\`, every"
		echo "thread, self time by symbol, top 25; start-up until the restore is logged):"
		echo
		echo '```'
		cat "$W/perf.top"
		echo '```'
		echo
		echo "The same profile by thread (share, samples at 499 Hz, thread id; the lowest id"
		echo "is the loop thread; up to the restore it runs the callbacks):"
		echo
		echo '```'
		cat "$W/perf.threads"
		echo '```'
	fi
} >"$OUT"
echo "restore: wrote $OUT"
