# bench/lib.sh: helpers shared by the benchmark scripts (sourced; they set
# W to their work directory first).

# Link flags for a bench program built against libssm.a (LAPACKE and
# OpenBLAS: the Makefile's BLAS_LIBS, with libm).
BLAS="-llapacke -L/usr/lib/x86_64-linux-gnu/openblas-pthread/ -lopenblas -lm"

# base_prog TREE SRC OUT: the bench program SRC built as TREE's (a tree
# built by build_tree or --base-dir: its headers, build/libssm.a and
# build/libscio.a) into OUT, for a same-run A/B against this tree's build.
base_prog() {
	cc -O2 -g -I"$1" -o "$3" "$2" "$1/build/libscio.a" "$1/build/libssm.a" \
		$(pkg-config --libs msgpack sqlite3 libuv 2>/dev/null || pkg-config --libs msgpack-c sqlite3 libuv) $BLAS
}

# parse_args USAGE SPEC... -- ARG...: a script's options, read from a table
# instead of a case statement of its own. Each SPEC is one of
#   --name=VAR   an option with a value: VAR=value
#   --name+=ARR  a repeatable option with a value: appended to array ARR
#   --name:CODE  a flag: CODE runs when it comes ("QUICK=1", or several
#                assignments)
#   GLOB@ARRAY   a word matching GLOB (no option's name) is appended to ARRAY
#   --@ARRAY     "--" ends the options: the words after it go to ARRAY
# Options apply in the order given, so a later one wins. An unknown word,
# or an option missing its value, prints USAGE (the script's "usage: ..."
# line) to stderr and exits 2. Variables are set in the caller's scope:
# the script sets its defaults, then calls parse_args.
parse_args() {
	local _pa_usage=$1 _pa_s _pa_hit
	local -a _pa_specs=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		_pa_specs+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	while [ $# -gt 0 ]; do
		_pa_hit=""
		for _pa_s in "${_pa_specs[@]}"; do
			case "$_pa_s" in
			--@*)
				[ "$1" = -- ] || continue
				shift
				eval "${_pa_s#--@}+=(\"\$@\")"
				return 0
				;;
			"$1+="*)
				[ $# -ge 2 ] || break
				eval "${_pa_s#*+=}+=(\"\$2\")"
				shift
				_pa_hit=1
				break
				;;
			"$1="*)
				[ $# -ge 2 ] || break
				printf -v "${_pa_s#*=}" '%s' "$2"
				shift
				_pa_hit=1
				break
				;;
			"$1:"*)
				eval "${_pa_s#*:}"
				_pa_hit=1
				break
				;;
			*@*)
				# shellcheck disable=SC2254
				case "$1" in
				${_pa_s%@*})
					eval "${_pa_s##*@}+=(\"\$1\")"
					_pa_hit=1
					break
					;;
				esac
				;;
			esac
		done
		[ -n "$_pa_hit" ] || { echo "$_pa_usage" >&2; exit 2; }
		shift
	done
}

# bench_workdir NAME [SIGNAL]: the script's work directory, W
# (/tmp/statecast-NAME.XXXXXX), removed when the script exits, after the
# processes it started get SIGNAL (TERM by default; KILL where a daemon may
# be restoring or its stop's dump is not wanted) and half a second to go:
# those in PIDS (the script appends each one it starts), PID (the last
# daemon_start's) and those listed in $W/pids (one a line: processes
# started in a subshell, whose PIDS does not reach the script); then
# BENCH_KEEP, if set, is run (a command that copies files out of W).
# Sets W, and PIDS and PID empty.
bench_workdir() {
	W=$(mktemp -d "/tmp/statecast-$1.XXXXXX")
	PIDS="" PID="" _BW_SIG=${2:-TERM}
	trap bench_cleanup EXIT
}
bench_cleanup() {
	local p sent=""
	for p in $PIDS $PID $(cat "$W/pids" 2>/dev/null); do kill -"$_BW_SIG" "$p" 2>/dev/null && sent=1; done
	[ -z "$sent" ] || sleep 0.5
	[ -z "${BENCH_KEEP:-}" ] || eval "$BENCH_KEEP" || true
	rm -rf "$W"
}

# need_tools TOOL...: each TOOL a command on PATH, else its Debian package
# installed (apt-get; the package is the tool's name but for perf:
# linux-perf). Exits 1 naming the tool when it is still missing.
need_tools() {
	local t pkg
	for t in "$@"; do
		command -v "$t" >/dev/null && continue
		pkg=$t
		[ "$t" = perf ] && pkg=linux-perf
		echo "bench: installing $pkg (apt-get)" >&2
		apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$pkg" >/dev/null || true
		command -v "$t" >/dev/null || { echo "bench: $t is needed (Debian package $pkg)" >&2; exit 1; }
	done
}

# ab_order REP [A B]: the order two builds run in at rep REP of an
# interleaved A/B: "A B" at odd reps, "B A" at even ones, so that neither
# build always runs first (a machine that warms up or grows busier over
# the run would favour one). A and B default to A and B.
ab_order() {
	if [ $(($1 % 2)) = 1 ]; then echo "${2:-A} ${3:-B}"; else echo "${3:-B} ${2:-A}"; fi
}

# ab_loop [--fixed] REPS FN [A B]: the same-run A/B of every comparing
# script: REPS reps, each running FN WHO REP for both builds (WHO is A or
# B, or the names given), in ab_order's alternating order, or A then B at
# every rep with --fixed (a script whose runs depend on that order). FN
# runs in the script's shell (its assignments stay); under set -e its
# failure ends the script as a loop of the script's own would.
ab_loop() {
	local fixed="" reps fn rep who order
	[ "$1" = --fixed ] && { fixed=1; shift; }
	reps=$1 fn=$2
	for rep in $(seq "$reps"); do
		order=$(ab_order "$rep" "${3:-A}" "${4:-B}")
		[ -n "$fixed" ] && order="${3:-A} ${4:-B}"
		for who in $order; do
			"$fn" "$who" "$rep"
		done
	done
}

# A port free now on every address, TCP and UDP, drawn below the kernel's
# ephemeral range: tests/integration/opslib.py's free_port, which says why
# (on this shared machine a port bind(0) handed out was taken by another
# process's connect() before carbon-c-relay bound it about one time in
# three). Still not reserved: statecastd binds port 0 instead
# (daemon_start), and a peer is started by peer_start, which checks that
# the port is the peer's and picks again.
free_port() {
	/usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests/integration"); import opslib; print(opslib.free_port())'
}

# listens PID PORT: PID itself listens on TCP port PORT (127.0.0.1, any
# address, or IPv6's :: which takes IPv4 too, as carbon-c-relay's may): a
# listening socket's inode (/proc/net/tcp or tcp6, state 0A) is one of
# PID's descriptors. Not merely "something answers on PORT".
listens() {
	local hex inode
	hex=$(printf '%04X' "$2")
	for inode in $(awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' /proc/net/tcp /proc/net/tcp6); do
		find "/proc/$1/fd" -lname "socket:\[$inode\]" 2>/dev/null | grep -q . && return 0
	done
	return 1
}

# peer_start N FN: a peer program (carbon-c-relay, VictoriaMetrics) on N
# fresh loopback ports. FN reads them from P[1..N], starts the peer in the
# background, sets PEER_PID and lists in PEER_PORTS the ports the peer
# itself binds. Waits (30 s at most) until it listens on each; one whose
# port was taken meanwhile (it exits, or another process holds the port)
# is killed and started again on new ports, 10 times at most. Returns 1
# when it never listened.
peer_start() {
	local n=$1 fn=$2 try k p ok
	for try in $(seq 10); do
		P=()
		for k in $(seq "$n"); do P[$k]=$(free_port); done
		"$fn"
		ok=0
		for _ in $(seq 300); do
			kill -0 "$PEER_PID" 2>/dev/null || break
			ok=1
			for p in $PEER_PORTS; do listens "$PEER_PID" "$p" || ok=0; done
			[ $ok = 1 ] && return 0
			sleep 0.1
		done
		echo "bench: $fn: ports $PEER_PORTS not the peer's (try $try)" >&2
		kill "$PEER_PID" 2>/dev/null; wait "$PEER_PID" 2>/dev/null || true
	done
	return 1
}

# relay_start: carbon-c-relay (parse + route, no model, no storage) into
# loadgen's discarding sink, with a queue big enough that it never drops
# under load. Sets RELAY_PID, RELAY_PORT (Graphite in) and RELAY_SINK (for
# loadgen --until-sink, which binds it: a port taken by then fails that run,
# reported n/a).
relay_cmd() {
	printf 'cluster sink forward 127.0.0.1:%s;\nmatch * send to sink stop;\n' "${P[1]}" >"$W/relay.conf"
	carbon-c-relay -f "$W/relay.conf" -p "${P[2]}" -w 2 -q 2000000 >"$W/relay.log" 2>&1 &
	PEER_PID=$! PEER_PORTS=${P[2]}
}
# It listens before its workers and servers exist: a connection that comes
# in before it logs "startup sequence complete" made carbon-c-relay 3.7.3
# segfault in about half the runs here (the n/a relay figures of earlier
# results), so wait for that line too (30 s at most).
relay_start() {
	peer_start 2 relay_cmd || true
	RELAY_PID=$PEER_PID RELAY_SINK=${P[1]} RELAY_PORT=${P[2]}
	for _ in $(seq 300); do
		grep -q 'startup sequence complete' "$W/relay.log" 2>/dev/null && return 0
		kill -0 "$RELAY_PID" 2>/dev/null || return 0
		sleep 0.1
	done
}

# t0_before_now ROUNDS STEP: the t0 whose ROUNDS rounds at STEP s end a
# step before the wall clock (rounded down to STEP): for a script whose
# runs continue one database (a seed, then timed runs) and that may drive
# another build's loadgen, which has no --end. Benchmarks of throughput
# stamp samples near now: retention (store.forecast_retention_s, 7 d) cuts
# at the wall clock, and older samples make the store writer delete what
# a run stores (bench/results/wal15.md section 0).
t0_before_now() {
	local now
	now=$(date +%s)
	echo $((now - now % $2 - $1 * $2))
}

# field NAME LINE: the value of NAME=... in a key=value line (loadgen's).
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# Median of the numbers on stdin (spaces or newlines): the middle one, or
# the mean of the two middle ones (to 2 decimals unless whole); what is
# not a number (n/a: a run that failed) is left out; "n/a" when nothing is.
median() {
	tr ' ' '\n' | grep -E '^[0-9.eE+-]+$' | sort -g | awk '{ v[NR] = $1 }
		END {
			if (!NR) { print "n/a"; exit }
			if (NR % 2) { print v[(NR + 1) / 2]; exit }
			m = (v[NR / 2] + v[NR / 2 + 1]) / 2
			if (m == int(m)) print m; else printf "%.2f\n", m
		}'
}
# ratio A B: A / B to 3 decimals, "n/a" unless both are positive.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.3f", a/b; else print "n/a" }'; }

# build_tree REV DIR [TARGET...]: REV exported with `git archive` into DIR
# and built there (`make all` unless targets are named): the base a script
# measures this tree against, in the same run.
build_tree() {
	local rev=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	git archive "$rev" | tar -x -C "$dir"
	make -s -C "$dir" -j2 "${@:-all}" >/dev/null
}

# head_rev: this tree's short commit, "(with uncommitted changes)" after it
# when the work tree differs from it.
head_rev() {
	echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (with uncommitted changes)')"
}

# base_tree NAME: the base an A/B script (NAME) measures this tree against,
# in the same run: BASE_DIR if set (a tree built already), else BASE (a
# revision) built into $W/base by build_tree. Sets BASE_DIR, BASE_REV (a
# given tree's own HEAD when it is a checkout, else its path) and HEAD_REV.
base_tree() {
	if [ -z "${BASE_DIR:-}" ]; then
		BASE_DIR=$W/base
		echo "$1: building $BASE in $BASE_DIR"
		build_tree "$BASE" "$BASE_DIR"
		BASE_REV=$(git rev-parse --short "$BASE" 2>/dev/null || echo "$BASE")
	else
		# --base-dir names the tree: a --base default ("main") would
		# mislabel it in the reports.
		BASE=$BASE_DIR
		BASE_REV=$(git -C "$BASE_DIR" rev-parse --short HEAD 2>/dev/null || echo "$BASE_DIR")
	fi
	HEAD_REV=$(head_rev)
}

# step_ir BIN MODEL PREFIX: "TOTAL FRONT", the instructions per step inside
# ssm_model_step_batch and those of its smoothing front (ssm__front_update
# + ssm__front_forecast, or ssm__front_update_forecast), callgrind on BIN (a build of bench/model_diff.c)
# stepping MODEL over its first 16 series x 600 samples; PREFIX.cg and
# PREFIX.md are its files.
step_ir() {
	valgrind --tool=callgrind --toggle-collect=ssm_model_step_batch \
		--callgrind-out-file="$3.cg" "$1" "$2" "$3.md" 16 >/dev/null 2>&1
	callgrind_annotate --inclusive=yes --auto=no "$3.cg" 2>/dev/null | awk '
		/=>/ { next }
		{ v = $1; gsub(",", "", v) }
		/:ssm_model_step_batch / { t = v }
		/:ssm__front_update / { f += v }
		/:ssm__front_forecast / { f += v }
		/:ssm__front_update_forecast / { f += v }
		END { printf "%.0f %.0f\n", t / 9600, f / 9600 }'
}

# min_model BUILD OUT: the minimal model (one tiny layer, horizon 1) that
# separates statecastd's ingest cost from its model's, written by BUILD's
# statecast to OUT.
min_model() {
	"$1/statecast" train --init-only --d-model 4 --layers 1 --n-state 4 \
		--horizon 1 --out "$2" >/dev/null 2>&1
}

# queued_rows CLI PORT: rows the statecastd whose RPC is 127.0.0.1:PORT
# has handed its store and not committed yet (stats store_queued_rows),
# asked through CLI (a build's statecast); 0 when it does not answer.
queued_rows() {
	"$1" stats --json --rpc 127.0.0.1:$2 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("store_queued_rows", 0))' 2>/dev/null || echo 0
}
# drained CLI PORT [SECONDS]: waits (120 s at most, or SECONDS) until
# queued_rows is 0, so that what is read next (RSS, a kill -9's database)
# holds no rows still waiting for SQLite.
drained() {
	local q
	for _ in $(seq $((${3:-120} * 5))); do
		q=$(queued_rows "$1" "$2")
		[ "${q:-0}" = 0 ] && return 0
		sleep 0.2
	done
	return 1
}

# Resident set of a process, KiB.
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# stat_ticks FILE: CPU time (utime + stime, in CLK_TCK ticks) of a
# /proc/PID/stat or /proc/PID/task/TID/stat file: all threads or one.
stat_ticks() { awk '{ print $14 + $15 }' "$1"; }
# cpu_ticks PID: the same for a whole process (all its threads).
cpu_ticks() { stat_ticks "/proc/$1/stat"; }

# tasks PID: a snapshot of PID's threads, "TID COMM UTIME STIME MINFLT
# VOLCSW NONVOLCSW" per thread (comm without spaces): CPU, minor page
# faults, and context switches (voluntary: the thread slept, a futex or
# poll wait; involuntary: it was preempted). bench/thread_split.sh and
# bench/steady.sh difference two of them.
tasks() {
	local t
	for t in /proc/"$1"/task/*; do
		# comm is in parentheses and may hold spaces: cut at the last ')'.
		{ sed -e 's/^\([0-9]*\) (\(.*\)) /\1 \2 /' "$t/stat" 2>/dev/null |
			awk '{ printf "%s %s %s %s %s", $1, $2, $14, $15, $10 }'
		  awk '/^voluntary_ctxt_switches/ { v = $2 }
		       /^nonvoluntary_ctxt_switches/ { n = $2 }
		       END { print " " v + 0, n + 0 }' "$t/status" 2>/dev/null; } || true
	done
}

# mem_guard PID: kills PID if the machine's available memory falls under
# 1.5 GiB: the machine is shared, and nobody else's work may be OOM-killed
# because a run here outgrew it. A killed PID is listed in $W/guard as
# "PID RSS_KIB".
mem_guard() {
	while kill -0 "$1" 2>/dev/null; do
		if [ "$(awk '/^MemAvailable/ {print $2}' /proc/meminfo)" -lt 1572864 ]; then
			echo "bench: memory guard: killing $1 ($(rss_kb "$1") KiB RSS)" >&2
			echo "$1 $(rss_kb "$1")" >>"$W/guard"
			kill -9 "$1"
			return
		fi
		sleep 0.2
	done
}
guarded() { grep -q "^$1 " "$W/guard" 2>/dev/null; }

# daemon_start BIN DB LOG [-o ...]: statecastd with the store at DB on
# loopback ports it picks itself (port 0; no Influx, unix socket or HTTP)
# under the memory guard, logging to LOG; sets PID, and G and R to the
# Graphite and RPC ports its log reports ("listening rpc on ADDR", as
# tests/integration read them). Returns once it listens, i.e. after the
# restore (listeners open after it), or 1 if the daemon died. $PIN, if
# set, is a command that execs BIN on its terms ("taskset -c 0", "nice -n
# 5"), so PID is still the daemon's.
daemon_start() {
	local bin=$1 db=$2 log=$3 off
	shift 3
	off=$(stat -c %s "$log" 2>/dev/null || echo 0)
	G=""; R=""
	${PIN:-} "$bin" -o listen.graphite=127.0.0.1:0 -o listen.influx= \
		-o listen.rpc=127.0.0.1:0 -o listen.socket= -o listen.http= \
		-o store.path="$db" -o limits.max_series=2000000 "$@" >>"$log" 2>&1 &
	PID=$!
	mem_guard "$PID" &
	# 5 minutes, or DAEMON_WAIT_S (a 1M-series restore on a loaded machine).
	for _ in $(seq $((${DAEMON_WAIT_S:-300} * 20))); do
		R=$(listen_port "$log" "$off" rpc)
		if [ -n "$R" ]; then
			G=$(listen_port "$log" "$off" graphite)
			return 0
		fi
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# listen_port LOG OFFSET PROTO: the port of "listening PROTO on HOST:PORT"
# in LOG after byte OFFSET (this start's lines, LOG may be appended to).
listen_port() {
	tail -c +$(($2 + 1)) "$1" 2>/dev/null |
		sed -n "s/.*listening $3 on [^ ]*:\([0-9][0-9]*\).*/\1/p" | head -n 1
}

# results_section FILE NAME PART: PART (a file that starts with the line
# <!-- NAME --> and ends with <!-- /NAME -->) replaces that section of
# FILE, or is appended to it: a results file that several commands write,
# each its own section.
results_section() {
	local tmp
	[ -f "$1" ] || printf '# Results\n' >"$1"
	tmp=$(mktemp)
	awk -v b="<!-- $2 -->" -v e="<!-- /$2 -->" -v part="$3" '
		$0 == b { skip = 1; while ((getline l < part) > 0) print l; done = 1; next }
		$0 == e { skip = 0; next }
		!skip { print }
		END { if (!done) { print ""; while ((getline l < part) > 0) print l } }' "$1" >"$tmp"
	mv "$tmp" "$1"
}
