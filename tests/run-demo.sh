#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's first command: install what is needed (Debian 12, as root),
# build in build/demo, and run the demo (make demo).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/tests/deps.sh"
cd "$top" && autoreconf -fi >/dev/null 2>&1
mkdir -p "$top/build/demo" && cd "$top/build/demo"
[ -f Makefile ] || "$top/configure" -q
make -s -j2 >/dev/null
exec make -s demo
