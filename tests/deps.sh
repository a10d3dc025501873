#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what mxdetour needs to build, test and run its demo on Debian 12
# and 13 (libclang-rt-dev is the release's own clang runtime):
# also redis-sentinel (HA tests), prometheus (promtool checks a scrape) and
# the Debian packaging tools (the package is built and installed in CI),
# curl and systemd-analyze (the feed download and the units are tested),
# microsocks (a real SOCKS5 proxy for the control probes' tests).
# Run as root.  Safe to run again: apt-get skips what is installed.
set -eu
export DEBIAN_FRONTEND=noninteractive
PKGS="autoconf automake libtool pkg-config make gcc clang libclang-rt-dev
 libmilter-dev libconfig-dev libhiredis-dev libevent-dev libc-ares-dev
 libnftables-dev libmnl-dev libspf2-dev check
 redis-server postfix miltertest swaks dnsmasq-base nftables iproute2 procps
 python3 groff-base man-db
 redis-sentinel prometheus debhelper dpkg-dev fakeroot lintian
 curl systemd microsocks"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    # Postfix asks a question at install time; answer it ahead.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# A distribution install of postfix/redis may start services where an init
# system runs; the tests start private instances of their own.
echo "deps: all present"
