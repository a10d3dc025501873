#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/tree/spdx.sh - every source file of the tree says its license in its
# first lines: C, headers, shell, Lua, Python, automake and autoconf, man
# pages, units and the package's scripts.  Configuration files (*.conf),
# fixtures (tests/data) and documentation are data, not source.  TAP.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 1
want='SPDX-License-Identifier: GPL-2.0-or-later'
if [ -d .git ] && command -v git >/dev/null 2>&1; then
    list=$(git ls-files)
else    # a tarball (make distcheck): what it holds, less what autotools and
        # the build made (build-aux is automake's, config.h configure's)
    list=$(find . -type f ! -path './_build/*' ! -path './build/*' ! -path './build-aux/*' \
        ! -name config.h | sed 's|^\./||')
fi
missing=$(echo "$list" | grep -E '\.(c|h|sh|lua|py|mk|am|ac|[58]|service|timer|postinst|postrm)$|^\.ci/run$|^debian/rules$|^conf/mxdetour-feed-download$' |
    grep -v '^tests/data/' | while read -r f; do
        [ -f "$f" ] || continue
        head -n 3 "$f" | grep -qF "$want" || echo "$f"
    done)
n=$(echo "$list" | grep -cE '\.(c|h)$')
if [ -z "$missing" ]; then
    echo "ok 1 - every source file names GPL-2.0-or-later ($n C files among them)"
else
    echo "not ok 1 - every source file names GPL-2.0-or-later"
    echo "$missing" | sed 's/^/# missing: /'
fi
[ -f LICENSE ] && grep -q 'GNU GENERAL PUBLIC LICENSE' LICENSE && grep -q 'Version 2, June 1991' LICENSE
[ $? -eq 0 ] && echo "ok 2 - LICENSE holds the GPL, version 2" || echo "not ok 2 - LICENSE holds the GPL, version 2"
echo "1..2"
[ -z "$missing" ] && [ -f LICENSE ]
