#!/bin/bash
# bench/reliability.sh: the figures of docs/RELIABILITY.md that come from
# running things rather than reading code. Writes bench/results/reliability.md.
#
#   bench/reliability.sh [--quick] [--fuzz-seconds N] [--cycles N]
#                        [--fiu-seconds N] [--out FILE]
#
#  1. fuzzing: each libFuzzer target for N seconds (`make fuzz
#     FUZZ_SECONDS=N FUZZ_TARGETS=build/fuzz/fuzz_NAME`, what `make fuzz`
#     runs for all of them), CPU time, executions, coverage, crashes;
#  2. memory while msgpack bombs arrive (bench/reliability_bombs.py), the
#     same daemon idle and under well-formed pushes as the peer;
#  3. kill -9 cycles under acknowledged load
#     (tests/integration/test_store_crash.py, STATECAST_CRASH_CYCLES);
#  4. random write failures injected with libfiu
#     (tests/integration/test_store_fiu.py, STATECAST_FIU_SECONDS).
#
# Defaults: 90 s per fuzz target, 200 kill -9 cycles, a 30 s fault window;
# --quick: 10 s, 50 cycles, 4 s. A crash found by the fuzzer is left in
# build/fuzz/NAME-crash-* and counted (copy it into tests/fuzz/corpus/NAME
# and fix it). Any failing step is reported in the file and makes the
# script exit non-zero.
set -u
cd "$(dirname "$0")/.."
ARGS="$*"
OUT=bench/results/reliability.md
FUZZ_S=90
CYCLES=200
FIU_S=30
. bench/lib.sh
parse_args "usage: bench/reliability.sh [--quick] [--fuzz-seconds N] [--cycles N] [--fiu-seconds N] [--out FILE]" \
	"--quick:FUZZ_S=10; CYCLES=50; FIU_S=4" --fuzz-seconds=FUZZ_S --cycles=CYCLES --fiu-seconds=FIU_S --out=OUT -- "$@"
make -s -j2 all fuzz-build >/dev/null || exit 1
bench_workdir rel
FAILED=0
R="$W/out.md"
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
{
	echo "# Reliability figures"
	echo
	echo "Written by \`bench/reliability.sh $ARGS\`, started $(date -u +%Y-%m-%dT%H:%MZ)," \
		"commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with local changes)')."
	echo "Machine: $(nproc) CPUs ($cpu_model), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)," \
		"$(uname -sr), shared with other work: CPU seconds are the measure, not wall time."
	echo
} >"$R"

# ---- 1. fuzzing ----
{
	echo "## 1. Fuzzing, $FUZZ_S s wall per target"
	echo
	echo "Per target: \`/usr/bin/time -f '%U %S' make fuzz FUZZ_SECONDS=$FUZZ_S FUZZ_TARGETS=build/fuzz/fuzz_NAME\`"
	echo "(libFuzzer, ASan + UBSan, corpus build/fuzz/corpus/NAME seeded from"
	echo "tests/fuzz/corpus/NAME). Executions are libFuzzer's"
	echo "\`stat::number_of_executed_units\`, coverage its final \`cov:\` (edges) and"
	echo "\`ft:\` (features)."
	echo
	echo "| target | CPU time | executions | exec/s (CPU) | cov | ft | corpus | crashes |"
	echo "|---|---|---|---|---|---|---|---|"
} >>"$R"
for t in build/fuzz/fuzz_*; do
	n=${t##*/fuzz_}
	before=$(ls build/fuzz/"$n"-crash-* 2>/dev/null | wc -l)
	log="$W/fuzz_$n.log"
	/usr/bin/time -o "$W/time_$n" -f '%U %S' \
		make -s fuzz FUZZ_SECONDS="$FUZZ_S" FUZZ_TARGETS="$t" >"$log" 2>&1
	rc=$?
	after=$(ls build/fuzz/"$n"-crash-* 2>/dev/null | wc -l)
	cpu=$(awk '{printf "%.0f", $1 + $2}' "$W/time_$n")
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p')
	crashes=$((after - before))
	[ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes="run failed ($rc)"
	[ "$rc" -ne 0 ] && FAILED=1
	eps=$(awk -v e="${execs:-0}" -v c="$cpu" 'BEGIN { if (c > 0) printf "%.0f", e / c; else print "-" }')
	echo "| $n | $cpu s | ${execs:-?} | $eps | ${cov:-?} | ${ft:-?} | ${corp:-?} | $crashes |" >>"$R"
	echo "reliability: fuzz $n: $cpu s CPU, ${execs:-?} execs, crashes $crashes" >&2
done
echo >>"$R"

# ---- 2. msgpack bombs ----
{
	echo "## 2. Memory while msgpack bombs arrive"
	echo
	echo "\`/usr/bin/python3 bench/reliability_bombs.py 50\`: one daemon (plain build,"
	echo "store on, default limits), each input sent on 50 connections at once,"
	echo "peak RSS reset before each input (\`/proc/PID/clear_refs\`), RSS read"
	echo "again 1 s after the connections closed."
	echo
} >>"$R"
if ! /usr/bin/python3 bench/reliability_bombs.py 50 >>"$R" 2>"$W/bombs.err"; then
	FAILED=1
	{ echo; echo "**failed:**"; tail -n 5 "$W/bombs.err" | sed 's/^/    /'; } >>"$R"
fi
echo >>"$R"

# test_section TITLE VAR=VALUE SCRIPT WHAT: runs an integration test with
# one setting and copies its result lines (and PATTERN's) into the file.
test_section() {
	{
		echo "## $1"
		echo
		echo "\`$2 /usr/bin/python3 $3\`"
		echo "$4"
		echo
	} >>"$R"
	env "$2" /usr/bin/python3 "$3" >"$W/test.log" 2>&1 || FAILED=1
	grep -E "$5|^(ok|FAIL) |passed, " "$W/test.log" | sed 's/^/    /' >>"$R"
	echo >>"$R"
}
test_section "3. kill -9 under acknowledged load" \
	"STATECAST_CRASH_CYCLES=$CYCLES" tests/integration/test_store_crash.py \
	"(every tenth kill during start-up or restore; after each: integrity_check,
every acknowledged sample stored, states bit-for-bit equal to a daemon
that never stopped; then SIGTERM under load):" "cycles in"
test_section "4. Random write failures (libfiu)" \
	"STATECAST_FIU_SECONDS=$FIU_S" tests/integration/test_store_fiu.py \
	"(fiu-run -x; failure points posix/io/rw/pwrite and posix/io/sync/fdatasync
in SQLite's pwrite64/fdatasync; see the test's docstring):" "^figures:"

[ "$FAILED" -ne 0 ] && echo "**Some step failed: see above.**" >>"$R"
mkdir -p "$(dirname "$OUT")"
cp "$R" "$OUT"
echo "reliability: wrote $OUT" >&2
exit "$FAILED"
