#!/bin/sh
# Runs test programs and adds up their results into one final line
# "N passed, N failed". Every test program prints its own "N passed, N failed"
# as its last line and exits non-zero on failure; a program that crashes,
# times out or prints no summary counts as one failure.
#
#   tests/run.sh all               plain units, sanitized units, integration
#   tests/run.sh unit BUILD BIN... the given unit binaries only
set -u
TIMEOUT=${TEST_TIMEOUT:-600}
total_pass=0
total_fail=0
failed_progs=""
out=$(mktemp)
trap 'rm -f "$out"' EXIT

run_one() {
	label=$1; shift
	printf '== %s\n' "$label"
	timeout -k 10 "$TIMEOUT" "$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*passed, }; f=${f%% failed*}
	else
		p=0; f=0
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		printf '%s: exited with status %s\n' "$label" "$rc"
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	[ "$f" -ne 0 ] && failed_progs="$failed_progs $label"
}

run_units() {
	for t in "$@"; do
		[ -x "$t" ] && run_one "$t" "$t"
	done
}

case "${1:-all}" in
unit)
	shift; shift
	run_units "$@"
	;;
all)
	run_units $(find build/tests -type f -perm -u+x 2>/dev/null | sort)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		run_units $(find build/san/tests -type f -perm -u+x 2>/dev/null | sort)
	for t in $(ls tests/integration/test_*.py tests/integration/test_*.sh 2>/dev/null | sort); do
		case "$t" in
		*.py) run_one "$t" /usr/bin/python3 "$t" ;;
		*.sh) run_one "$t" sh "$t" ;;
		esac
	done
	;;
esac
[ -n "$failed_progs" ] && printf 'failing:%s\n' "$failed_progs"
printf '%d passed, %d failed\n' "$total_pass" "$total_fail"
[ "$total_fail" -eq 0 ]
