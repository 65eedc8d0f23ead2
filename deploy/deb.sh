#!/bin/sh
# Builds a Debian binary package from the tree (called by `make deb`):
#
#   sh deploy/deb.sh BUILD OUTDIR
#
# Stages `make install` with PREFIX=/usr SYSCONFDIR=/etc into a scratch
# root, adds DEBIAN/ (control with Depends from dpkg-shlibdeps, conffiles,
# md5sums, maintainer scripts from deploy/debian/) and runs dpkg-deb with
# root ownership. Prints the path of the .deb as its last line.
set -eu
BUILD=$1
OUT=$2
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

version=$(sed -n 's/^#define STATECAST_VERSION "\(.*\)"/\1/p' tools/cmd.h)
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage="$work/root"

sh deploy/install.sh "$stage" /usr /etc "$BUILD" >/dev/null

# Shared-library dependencies, as dh_shlibdeps would compute them.
mkdir -p "$work/src/debian"
printf 'Source: statecast\n\nPackage: statecast\nArchitecture: any\n' \
	>"$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O \
	-e"$stage/usr/sbin/statecastd" -e"$stage/usr/bin/statecast" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
if [ -z "$depends" ]; then
	echo "deb: dpkg-shlibdeps found no dependencies" >&2
	exit 1
fi

mkdir -p "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: statecast
Version: $version
Architecture: $arch
Maintainer: statecast developers <statecast@localhost>
Installed-Size: $size
Depends: $depends
Suggests: carbon-c-relay
Section: net
Priority: optional
Description: streaming time-series forecasting daemon
 statecastd receives metric samples over Graphite plaintext, InfluxDB line
 protocol and msgpack-RPC, keeps a fixed-size state space model state per
 series updated in constant time per sample, and stores and pushes
 multi-horizon probabilistic forecasts. The statecast tool queries, feeds
 and trains it. Includes a hardened, socket-activatable systemd service.
CONTROL
echo /etc/statecast/statecast.conf >"$stage/DEBIAN/conffiles"
for s in postinst prerm postrm; do
	install -m 0755 "deploy/debian/$s" "$stage/DEBIAN/$s"
done
(cd "$stage" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o \
	-type f -print | sed 's|^\./||' | sort | xargs md5sum) \
	>"$stage/DEBIAN/md5sums"

mkdir -p "$OUT"
deb="$OUT/statecast_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
