#!/bin/sh
# Installs statecast (called by `make install`; see the Makefile).
#
#   sh deploy/install.sh DESTDIR PREFIX SYSCONFDIR BUILD
#
# Layout (PREFIX=/usr, SYSCONFDIR=/etc, as the Debian package uses):
#   PREFIX/sbin/statecastd, PREFIX/bin/statecast
#   PREFIX/lib/systemd/system/statecastd.service and statecastd*.socket,
#       ExecStart and -c rewritten to the installed paths
#   SYSCONFDIR/statecast/statecast.conf     (kept if it already exists)
#   PREFIX/share/statecast/models/default.model
#   PREFIX/share/man/man8/statecastd.8.gz, man1/statecast.1.gz
#   PREFIX/share/doc/statecast/            README, docs, sharding examples
# Everything lands under DESTDIR (staging for packages), nothing outside it.
set -eu
DESTDIR=$1
PREFIX=$2
SYSCONFDIR=$3
BUILD=$4
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

need() {
	for f in "$@"; do
		if [ ! -f "$f" ]; then
			echo "install: missing $f (build it first: make)" >&2
			exit 1
		fi
	done
}
need "$BUILD/statecastd" "$BUILD/statecast" config/statecast.conf \
	deploy/man/man8/statecastd.8 deploy/man/man1/statecast.1

d() { install -d -m 0755 "$DESTDIR$1"; }
d "$PREFIX/sbin"
d "$PREFIX/bin"
d "$PREFIX/lib/systemd/system"
d "$SYSCONFDIR/statecast"
d "$PREFIX/share/statecast/models"
d "$PREFIX/share/man/man8"
d "$PREFIX/share/man/man1"
d "$PREFIX/share/doc/statecast/examples/sharding"

install -m 0755 "$BUILD/statecastd" "$DESTDIR$PREFIX/sbin/statecastd"
install -m 0755 "$BUILD/statecast" "$DESTDIR$PREFIX/bin/statecast"

for u in systemd/*.service systemd/*.socket; do
	sed -e "s|^ExecStart=/usr/sbin/statecastd|ExecStart=$PREFIX/sbin/statecastd|" \
		-e "s| -c /etc/statecast/| -c $SYSCONFDIR/statecast/|" \
		"$u" >"$DESTDIR$PREFIX/lib/systemd/system/$(basename "$u")"
	chmod 0644 "$DESTDIR$PREFIX/lib/systemd/system/$(basename "$u")"
done

# The shipped config with the installed paths set: the store under the
# service's StateDirectory, the unix socket under its RuntimeDirectory, the
# model under PREFIX/share. Each line must be found: a config that changed
# shape fails the install instead of shipping relative paths.
set_line() { # file old new
	grep -qxF "$2" "$1" || {
		echo "install: '$2' not in config/statecast.conf" >&2
		exit 1
	}
	sed -i "s|^$(printf '%s' "$2" | sed 's/[.[*^$]/\\&/g')\$|$3|" "$1"
}
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT
cp config/statecast.conf "$conf"
set_line "$conf" "#path = ./var/statecast.db" "path = /var/lib/statecast/statecast.db"
set_line "$conf" "#socket = ./var/statecast.sock" "socket = /run/statecast/statecastd.sock"
set_line "$conf" "#path = models/default.model" "path = $PREFIX/share/statecast/models/default.model"
# An operator's edited config survives a reinstall.
if [ ! -e "$DESTDIR$SYSCONFDIR/statecast/statecast.conf" ]; then
	install -m 0644 "$conf" "$DESTDIR$SYSCONFDIR/statecast/statecast.conf"
fi
if [ -f models/default.model ]; then
	install -m 0644 models/default.model \
		"$DESTDIR$PREFIX/share/statecast/models/default.model"
else
	echo "install: no models/default.model in the tree: statecastd will" \
		"use its untrained default model" >&2
fi

# Debian policy: man pages compressed with gzip -9n (no name, no timestamp).
gzip -9n -c deploy/man/man8/statecastd.8 \
	>"$DESTDIR$PREFIX/share/man/man8/statecastd.8.gz"
gzip -9n -c deploy/man/man1/statecast.1 \
	>"$DESTDIR$PREFIX/share/man/man1/statecast.1.gz"
chmod 0644 "$DESTDIR$PREFIX"/share/man/man*/statecast*.gz

install -m 0644 README.md "$DESTDIR$PREFIX/share/doc/statecast/README.md"
for f in docs/*.md; do
	[ -f "$f" ] && install -m 0644 "$f" "$DESTDIR$PREFIX/share/doc/statecast/"
done
install -m 0644 deploy/sharding/* \
	"$DESTDIR$PREFIX/share/doc/statecast/examples/sharding/"
echo "installed statecast under ${DESTDIR:-/}$PREFIX (config in $SYSCONFDIR/statecast)"
