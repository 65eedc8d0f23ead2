# bench/lib.sh: helpers shared by the benchmark scripts (sourced; they set
# W to their work directory first).

# Link flags for a bench program built against libssm.a (LAPACKE and
# OpenBLAS: the Makefile's BLAS_LIBS, with libm).
BLAS="-llapacke -L/usr/lib/x86_64-linux-gnu/openblas-pthread/ -lopenblas -lm"

# A loopback TCP port free now.
free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# field NAME LINE: the value of NAME=... in a key=value line (loadgen's).
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# Median of the numbers on stdin (spaces or newlines); what is not a number
# (n/a: a run that failed) is left out; "n/a" when nothing is left.
median() { tr ' ' '\n' | grep -E '^[0-9.eE+-]+$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }
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

# min_model BUILD OUT: the minimal model (one tiny layer, horizon 1) that
# separates statecastd's ingest cost from its model's, written by BUILD's
# statecast to OUT.
min_model() {
	"$1/statecast" train --init-only --d-model 4 --layers 1 --n-state 4 \
		--horizon 1 --out "$2" >/dev/null 2>&1
}

# Resident set of a process, KiB.
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# stat_ticks FILE: CPU time (utime + stime, in CLK_TCK ticks) of a
# /proc/PID/stat or /proc/PID/task/TID/stat file: all threads or one.
stat_ticks() { awk '{ print $14 + $15 }' "$1"; }
# cpu_ticks PID: the same for a whole process (all its threads).
cpu_ticks() { stat_ticks "/proc/$1/stat"; }

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

# daemon_start BIN DB LOG [-o ...]: statecastd with the store at DB on fresh
# loopback ports (Graphite $G, RPC $R; no Influx, unix socket or HTTP) under
# the memory guard, logging to LOG; sets PID. Returns once RPC answers, i.e.
# after the restore (listeners open after it), or 1 if the daemon died.
# $PIN, if set, is a command that execs BIN on its terms ("taskset -c 0",
# "nice -n 5"), so PID is still the daemon's.
daemon_start() {
	local bin=$1 db=$2 log=$3
	shift 3
	G=$(free_port); R=$(free_port)
	${PIN:-} "$bin" -o listen.graphite=127.0.0.1:$G -o listen.influx= \
		-o listen.rpc=127.0.0.1:$R -o listen.socket= -o listen.http= \
		-o store.path="$db" -o limits.max_series=2000000 "$@" >>"$log" 2>&1 &
	PID=$!
	mem_guard "$PID" &
	# 5 minutes, or DAEMON_WAIT_S (a 1M-series restore on a loaded machine).
	for _ in $(seq $((${DAEMON_WAIT_S:-300} * 20))); do
		(exec 3<>"/dev/tcp/127.0.0.1/$R") 2>/dev/null && return 0
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# wait_port PORT: until something listens on 127.0.0.1:PORT (30 s at most).
wait_port() {
	for _ in $(seq 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench: nothing listens on $1" >&2; return 1
}
