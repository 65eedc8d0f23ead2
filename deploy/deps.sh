#!/bin/sh
# Installs the Debian packages listed in deploy/deps.txt that are not yet
# installed. A no-op (and silent but for one line) when everything is present.
# Uses sudo when not root. Set STATECAST_NO_APT=1 to only report what is missing.
set -eu
here=$(dirname "$0")
wanted=$(grep -v '^#' "$here/deps.txt" | tr -s ' \n' ' ')
# One dpkg-query for all: a query per package costs seconds on a busy machine.
have=$(dpkg-query -W -f='${Package} ${Status}\n' $wanted 2>/dev/null |
	awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }')
missing=""
for p in $wanted; do
	case " $(echo $have) " in
	*" $p "*) ;;
	*) missing="$missing $p" ;;
	esac
done
if [ -z "$missing" ]; then
	echo "deps: all $(grep -vc '^#' "$here/deps.txt") packages present"
	exit 0
fi
echo "deps: missing:$missing"
if [ "${STATECAST_NO_APT:-0}" = 1 ]; then
	echo "deps: STATECAST_NO_APT=1, not installing" >&2
	exit 1
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
# On a shared machine another apt-get may hold dpkg's lock: wait for it
# (up to 10 minutes) instead of failing at once.
lock="-o DPkg::Lock::Timeout=600"
echo "deps: running: $SUDO apt-get update && $SUDO apt-get install -y$missing"
$SUDO apt-get $lock update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get $lock install -y -qq $missing
