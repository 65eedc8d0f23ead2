#!/bin/sh
# Replays every fuzz target over its committed corpus (tests/fuzz/corpus/NAME),
# including every crash ever found, built with clang + libFuzzer + ASan/UBSan.
# Fast: each input runs once (-runs=0), no fuzzing. `make fuzz` fuzzes.
# Prints "N passed, N failed" (one per target) as its last line.
set -u
cd "$(dirname "$0")/../.."
pass=0
fail=0
if ! make -s -j2 fuzz-build >/tmp/statecast-fuzz-build.$$ 2>&1; then
	cat /tmp/statecast-fuzz-build.$$
	rm -f /tmp/statecast-fuzz-build.$$
	echo "fuzz-build failed (clang and libfuzzer-14-dev are in deploy/deps.txt)"
	echo "0 passed, 1 failed"
	exit 1
fi
rm -f /tmp/statecast-fuzz-build.$$
for src in tests/fuzz/fuzz_*.c; do
	name=${src#tests/fuzz/fuzz_}
	name=${name%.c}
	corpus=tests/fuzz/corpus/$name
	n=$(ls "$corpus" 2>/dev/null | wc -l)
	if [ "$n" -eq 0 ]; then
		echo "FAIL $name: empty corpus $corpus"
		fail=$((fail + 1))
		continue
	fi
	if out=$(ASAN_OPTIONS=detect_leaks=1 build/fuzz/fuzz_$name -runs=0 \
		-rss_limit_mb=1024 "$corpus" 2>&1); then
		echo "ok   $name: $n inputs"
		pass=$((pass + 1))
	else
		echo "$out" | tail -30
		echo "FAIL $name"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
