#!/bin/sh
# bench/lib.sh, what every benchmark script starts its processes and reads
# its figures with: every bench script parses and uses bench_workdir,
# need_tools and parse_args rather than blocks of its own; parse_args
# reads options from a table as the scripts' own loops did (repeatable
# ones into an array); bench_workdir stops what a script started and
# removes its directory at exit; ab_loop interleaves two
# builds; median and results_section
# give what they say; daemon_start's ports are the ones statecastd itself
# bound (port 0, read from its log), also on a second start appending to
# the same log; peer_start picks again when a peer's port was taken before
# the peer bound it (the race free_port alone has on a shared machine);
# drained waits until the store has committed every row.
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/../.."
W=$(mktemp -d /tmp/statecast-benchlib.XXXXXX)
HOLD=""
PID=""
PEER_PID=""
cleanup() {
	for p in $PID $PEER_PID $HOLD; do kill "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT
pass=0
fail=0
check() {
	if [ "$1" = 0 ]; then
		pass=$((pass + 1)); printf 'ok   %s\n' "$2"
	else
		fail=$((fail + 1)); printf 'FAIL %s\n' "$2"
	fi
}
# shellcheck source=bench/lib.sh
. bench/lib.sh

bad=""
for f in bench/*.sh; do bash -n "$f" 2>/dev/null || bad="$bad $f"; done
check "$([ -z "$bad" ]; echo $?)" "every bench/*.sh parses${bad:+:$bad}"

m="$(echo "3 1 2" | median) $(echo "4 1 3 2" | median) $(echo "1.5 n/a 2.25" | median) $(echo "n/a" | median)"
check "$([ "$m" = "2 2.50 1.88 n/a" ]; echo $?)" "median: middle, mean of the two middle, n/a left out ($m)"

# parse_args: values, a flag's code, a later option winning, GLOB@ARRAY
# and --@ARRAY words, and the usage line with status 2 for an unknown
# option or a missing value (in a subshell: it exits).
pa=$(S=1 OUT=o Q=0 V=() C=()
	parse_args "usage: x" --series=S --out=OUT '--quick:Q=1; S="9 10"' "*=*@V" --@C \
		-- --series 5 --quick a=b --out "a b" c=d -- ls -l "x y"
	echo "$S|$OUT|$Q|${V[*]}|${#C[@]}:${C[2]}")
check "$([ "$pa" = '9 10|a b|1|a=b c=d|3:x y' ]; echo $?)" "parse_args: options in order, flags, GLOB@ and --@ words ($pa)"
pa=$(S=1; parse_args "usage: x" --series=S -- --series 2 --series 3; echo "$S")
check "$([ "$pa" = 3 ]; echo $?)" "parse_args: a later option wins ($pa)"
bad=""
for a in "--nope" "--series" "word" "--"; do
	out=$(parse_args "usage: x [--series S]" --series=S -- $a 2>&1 >/dev/null)
	rc=$?
	[ $rc = 2 ] && [ "$out" = "usage: x [--series S]" ] || bad="$bad [$a: $rc $out]"
done
check "$([ -z "$bad" ]; echo $?)" "parse_args: unknown option, missing value, stray word, stray -- print the usage and exit 2$bad"
pa=$(A=(); B=(); parse_args "usage: x" --opt+=A --b+=B --series=S -- --opt "k=v w" --series 4 --opt x=1; echo "${#A[@]}:${A[0]}|${A[1]}|${#B[@]}|$S")
check "$([ "$pa" = '2:k=v w|x=1|0|4' ]; echo $?)" "parse_args: a repeatable option appends each value, spaces kept ($pa)"
out=$(A=(); parse_args "usage: x" --opt+=A -- --opt 2>&1 >/dev/null)
check "$([ $? = 2 ] && [ "$out" = "usage: x" ]; echo $?)" "parse_args: a repeatable option missing its value prints the usage"
ab=$(f() { printf '%s%s ' "$1" "$2"; }; ab_loop 3 f base head; echo; ab_loop --fixed 2 f)
check "$([ "$ab" = "$(printf 'base1 head1 head2 base2 base3 head3 \nA1 B1 A2 B2 ')" ]; echo $?)" \
	"ab_loop: both builds each rep, the first alternating; --fixed A then B ($ab)"

printf '# R\n\ntext\n' >"$W/r.md"
printf '<!-- a -->\none\n<!-- /a -->\n' >"$W/a1"
printf '<!-- b -->\nbee\n<!-- /b -->\n' >"$W/b"
printf '<!-- a -->\ntwo\n<!-- /a -->\n' >"$W/a2"
results_section "$W/r.md" a "$W/a1"
results_section "$W/r.md" b "$W/b"
results_section "$W/r.md" a "$W/a2"
want=$(printf '# R\n\ntext\n\n<!-- a -->\ntwo\n<!-- /a -->\n\n<!-- b -->\nbee\n<!-- /b -->')
check "$([ "$(cat "$W/r.md")" = "$want" ]; echo $?)" "results_section replaces its own section, appends a new one"

ok=1
for run in 1 2; do
	daemon_start build/statecastd "$W/db" "$W/log" || ok=0
	[ -n "$G" ] && [ -n "$R" ] && listens "$PID" "$G" && listens "$PID" "$R" || ok=0
	eval "G$run=\$G R$run=\$R"
	if [ $run = 1 ]; then
		awk -v t="$(date +%s)" 'BEGIN { for (k = 0; k < 4; k++) for (i = 0; i < 500; i++)
			printf "bl.s%d %d %d\n", i, (i + k) % 7, t - 3600 + 60 * k }' \
			>"/dev/tcp/127.0.0.1/$G" || ok=0
		stats_field() { build/statecast stats --json --rpc 127.0.0.1:$R 2>/dev/null |
			/usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"; }
		for _ in $(seq 300); do [ "$(stats_field samples)" = 2000 ] && break; sleep 0.1; done
		# The snapshot timer may queue rows again right after: what
		# drained returned on is checked, not the queue after it.
		drained build/statecast "$R" 60
		d=$?
		c=$(stats_field store_rows_committed)
		check "$([ $d = 0 ] && [ "$c" -ge 2000 ]; echo $?)" \
			"drained: returned once every sample taken was committed ($c rows)"
	fi
	kill "$PID"; wait "$PID" 2>/dev/null; PID=""
done
check "$([ $ok = 1 ]; echo $?)" "daemon_start: Graphite and RPC ports are statecastd's own, twice on one log ($G1 $R1, $G2 $R2)"

# A port taken between free_port and the peer's bind: a listener of our own
# holds it, the first start is pointed at it.
/usr/bin/python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)' >"$W/held" &
HOLD=$!
for _ in $(seq 100); do [ -s "$W/held" ] && break; sleep 0.1; done
HELD=$(cat "$W/held")
tries=0
taken_cmd() {
	tries=$((tries + 1))
	[ $tries = 1 ] && P[2]=$HELD
	relay_cmd
}
peer_start 2 taken_cmd 2>/dev/null
rc=$?
check "$([ $rc = 0 ] && [ $tries = 2 ] && [ "${P[2]}" != "$HELD" ] && listens "$PEER_PID" "${P[2]}"; echo $?)" \
	"peer_start: a taken port is seen (not the peer's socket) and the peer started again ($tries starts, port ${P[2]})"
listens "$PEER_PID" "$HELD"
check "$([ $? != 0 ]; echo $?)" "listens: the held port is not the peer's"
kill "$PEER_PID" 2>/dev/null; wait "$PEER_PID" 2>/dev/null; PEER_PID=""

# bench_workdir: the work directory and the processes a script started
# (PIDS, PID, $W/pids) are gone when it exits, normally or by failure;
# BENCH_KEEP runs before the directory goes; with KILL, a process that
# ignores TERM is stopped too.
# shellcheck disable=SC2016 # expanded by the inner bash
bw() {
	bash -c '. bench/lib.sh; bench_workdir benchlib-wd $2
		sleep 60 >/dev/null & PIDS="$PIDS $!"
		sleep 60 >/dev/null & PID=$!
		(sleep 60 >/dev/null & echo $! >>"$W/pids")
		echo "keep" >"$W/k"; BENCH_KEEP="cp \"\$W/k\" $1/kept"
		if [ -n "$2" ]; then trap "" TERM; sleep 60 >/dev/null & PIDS="$PIDS $!"; trap - TERM; fi
		echo "$W $PIDS $PID $(cat "$W/pids")"; set -e; false' _ "$1" "${2:-}"
}
# running PID: alive and not a zombie (an orphan init has not reaped yet).
running() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${st#Z}" = "$st" ]
}
out=$(bw "$W" 2>/dev/null)
rc=$?
wd=${out%% *}
alive=""
for p in ${out#* }; do running "$p" && alive="$alive $p"; done
check "$([ $rc = 1 ] && [ -n "$wd" ] && [ ! -e "$wd" ] && [ -z "$alive" ] && [ "$(cat "$W/kept" 2>/dev/null)" = keep ]; echo $?)" \
	"bench_workdir: W removed, PIDS, PID and \$W/pids stopped, BENCH_KEEP run, the exit status kept ($rc, $wd, alive:$alive)"
out=$(bw "$W" KILL 2>/dev/null)
alive=""
for p in ${out#* }; do running "$p" && alive="$alive $p"; done
check "$([ -z "$alive" ] && [ ! -e "${out%% *}" ]; echo $?)" "bench_workdir NAME KILL: a process that ignores TERM is stopped too (alive:$alive)"
for p in ${out#* }; do kill -9 "$p" 2>/dev/null; done

# need_tools: a tool on PATH is not installed again; one that no package
# provides ends the script with status 1, naming it.
out=$(need_tools sh awk 2>&1; echo "rc=$?")
check "$([ "$out" = rc=0 ]; echo $?)" "need_tools: tools present, nothing done ($out)"
out=$( (need_tools statecast-no-such-tool) 2>&1)
rc=$?
check "$([ $rc = 1 ] && echo "$out" | grep -q 'statecast-no-such-tool is needed'; echo $?)" "need_tools: a tool it cannot install exits 1 ($rc)"

# tasks: one line per thread of the process, seven fields, its own TID
# first for a single-threaded one.
tk=$(tasks $$)
check "$(echo "$tk" | awk -v p=$$ 'NF != 7 || $1 != p { bad = 1 } END { exit bad || NR != 1 }'; echo $?)" \
	"tasks: TID COMM UTIME STIME MINFLT VOLCSW NONVOLCSW of each thread ($tk)"

# loadgen --end now: the last timestamp sent is a moment before the wall
# clock (a throughput run's data inside the store's retention), and a run
# that would stamp samples after the clock is refused before it sends.
# loadgen is the harness: built here (a fresh clone's `make test` builds
# only the daemon and the CLI), as test_loadgen_stamps.py does.
make -s build/bench/loadgen
daemon_start build/statecastd "$W/dbe" "$W/loge" || true
now=$(date +%s)
out=$(build/bench/loadgen --graphite 127.0.0.1:$G --series 100 --count 1000 --end now --until-rpc 127.0.0.1:$R 2>&1)
rc=$?
tl=$(field t_last "$out") tf=$(field t_first "$out")
kill "$PID"; wait "$PID" 2>/dev/null; PID=""
check "$([ $rc = 0 ] && [ "$tl" -ge "$now" ] && [ "$tl" -le "$(date +%s)" ] && [ $((tl - tf)) = 540 ]; echo $?)" \
	"loadgen --end now: 10 rounds at 60 s ending at the clock ($tf to $tl, clock $now)"
out=$(build/bench/loadgen --graphite 127.0.0.1:1 --series 10 --count 100 --t0 "$(date +%s)" 2>&1)
rc=$?
check "$([ $rc = 2 ] && echo "$out" | grep -q 'after the wall clock'; echo $?)" "loadgen: samples stamped after the wall clock refused ($rc)"

# bench/steady.sh end to end at a tiny size: both seeded databases and the
# empty one measured, its summary line's figures numbers, the aged seed
# holding more rows than the plain one (its stored forecasts), the thread
# table's total; retention deleted nothing in the timed runs (their
# samples and the seed's are stamped near the clock: with loadgen's old
# 1.7e9 the aged runs deleted the seed's forecasts).
out=$(bench/steady.sh --series 1000 --aged 30 --per 10 --reps 1 --out "$W/steady.md" 2>&1)
rc=$?
sum=$(echo "$out" | tail -n 1)
num=1
for k in aged_rate aged_drained aged_cpu empty_rate empty_drained empty_cpu; do
	echo "$(field $k "$sum")" | grep -Eq '^[0-9]+(\.[0-9]+)?$' || num=0
done
rows=$(sed -n 's/.*rows committed (samples and forecasts) \([0-9]*\);.*/\1/p; s/.*rows committed \([0-9]*\)\.$/\1/p' "$W/steady.md" 2>/dev/null | tr '\n' ' ')
check "$([ $rc = 0 ] && [ $num = 1 ] && set -- $rows && [ $# = 2 ] && [ "$1" -gt "$2" ] &&
	grep -q '^| all | [0-9]' "$W/steady.md" && grep -q '^| plain | [0-9]' "$W/steady.md"; echo $?)" \
	"bench/steady.sh: aged, plain and empty runs measured ($sum; seed rows $rows)"
check "$([ $rc = 0 ] && [ "$(field aged_deleted "$sum")" = 0 ] && [ "$(field empty_deleted "$sum")" = 0 ]; echo $?)" \
	"bench/steady.sh: retention deleted no row in the timed runs ($sum)"

# bench/steady.sh --old: a copy of the aged seed whose runs' retention
# cutoffs stand in the seed's rows: retention deleted some of them (the
# seed's forecasts; its samples wait for snapshots a tiny seed is too short
# to write), and nothing in the young cases.
out=$(bench/steady.sh --series 500 --aged 40 --per 10 --reps 1 --old --no-plain --out "$W/old.md" 2>&1)
rc=$?
sum=$(echo "$out" | tail -n 1)
check "$([ $rc = 0 ] && [ "$(field old_deleted "$sum")" -gt 0 ] && [ "$(field aged_deleted "$sum")" = 0 ] &&
	grep -q '^| old | [0-9]' "$W/old.md"; echo $?)" \
	"bench/steady.sh --old: retention deleted the seed's old rows in the old case only ($sum)"

# bench/steady.sh --warm: the warm-up measured in rows of its own beside the
# timed window (both readings), the seed aged by the warm-up's samples too
# (the next --seeded run continues after them), --old refused with it.
out=$(BENCH_KEEP='cp "$W/aged/aged" "'"$W"'/warm.aged"' bench/steady.sh --series 500 --aged 30 --per 10 --reps 1 --warm 5 --no-plain --out "$W/warm.md" 2>&1)
rc=$?
check "$([ $rc = 0 ] && grep -q '^| aged (warm-up) | [0-9]' "$W/warm.md" && grep -q '^| aged | [0-9]' "$W/warm.md" &&
	grep -q '^### Warm-up: CPU per sample' "$W/warm.md" && [ "$(cat "$W/warm.aged")" = 45 ]; echo $?)" \
	"bench/steady.sh --warm: warm-up and timed window both reported, the seed aged by both ($(cat "$W/warm.aged" 2>/dev/null))"
out=$(bench/steady.sh --series 500 --aged 40 --per 10 --reps 1 --warm 5 --old --out "$W/warm-old.md" 2>&1)
check "$([ $? = 1 ] && echo "$out" | grep -q 'not for --old'; echo $?)" "bench/steady.sh: --warm with --old refused"

# The scripts use them rather than blocks of their own.
own=$(grep -l 'W=$(mktemp\|apt-get install\|case "$1" in' bench/*.sh | grep -v '^bench/lib.sh$' | tr '\n' ' ')
check "$([ -z "$own" ]; echo $?)" "bench scripts: no work-dir, install or option loop of their own${own:+: $own}"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
