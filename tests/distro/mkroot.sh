#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Makes (once) and refreshes a Debian root for the distro stages:
#   sh tests/distro/mkroot.sh SUITE DIR
# The first run debootstraps SUITE (minbase) from the mirror this machine's
# apt uses into DIR.new and renames it to DIR when it is complete, so an
# interrupted run leaves no half root to reuse.  Every run then installs
# tests/deps.sh's packages inside the root (apt skips what is there), so a
# re-run costs seconds.  DIR is a cache under build/ and never committed.
# The chroot's /proc, /sys and /dev are mounted only while apt runs and
# unmounted in a trap.  Root only.
set -eu
suite=$1 dir=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "mkroot: root only" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "mkroot: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
mirror=${MXD_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -1)}
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(http[^ ]*\/debian\) .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -1)
[ -n "$mirror" ] || { echo "mkroot: no Debian mirror found in /etc/apt (set MXD_MIRROR)" >&2; exit 1; }

if [ ! -x "$dir/usr/bin/apt-get" ]; then
    rm -rf "$dir.new"
    mkdir -p "$(dirname "$dir")"
    echo "mkroot: debootstrap $suite from $mirror (first run: downloads a base system)"
    debootstrap --variant=minbase --include=ca-certificates "$suite" "$dir.new" "$mirror" >"$dir.new.log" 2>&1 \
        || { tail -20 "$dir.new.log" >&2; rm -rf "$dir.new"; exit 1; }
    # Services a package install would start belong to the boot test, not
    # to the chroot.
    printf '#!/bin/sh\nexit 101\n' >"$dir.new/usr/sbin/policy-rc.d"
    chmod 755 "$dir.new/usr/sbin/policy-rc.d"
    mv "$dir.new" "$dir"
fi

mounted=""
cleanup() {
    for m in $mounted; do umount -l "$m" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM
for m in proc sys dev dev/pts; do
    mountpoint -q "$dir/$m" && continue
    case $m in
    proc) mount -t proc proc "$dir/proc" ;;
    *) mount --rbind "/$m" "$dir/$m"; mount --make-rslave "$dir/$m" ;;
    esac
    mounted="$dir/$m $mounted"
done
cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
cp "$top/tests/deps.sh" "$dir/tmp/mxd-deps.sh"
chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    sh /tmp/mxd-deps.sh
rm -f "$dir/tmp/mxd-deps.sh"
