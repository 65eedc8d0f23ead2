#!/bin/sh
# bench/limits.sh: the limits figures of docs/RELIABILITY.md (10k idle
# connections, recovery from descriptor exhaustion, a 100k-series burst
# against limits.max_series, slow senders), each beside a peer measured in
# the same run. Writes bench/results/limits.md. About a minute.
#
#   bench/limits.sh [--out FILE]
set -eu
cd "$(dirname "$0")/.."
OUT=bench/results/limits.md
[ "${1:-}" = "--out" ] && OUT=$2
make -s -j2 all
MACHINE="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -sr)"
exec /usr/bin/python3 bench/limits.py "$OUT" "bench/limits.sh${*:+ $*}" "$MACHINE"
