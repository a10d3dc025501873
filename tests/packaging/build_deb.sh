# SPDX-License-Identifier: GPL-2.0-or-later
# build_deb.sh - sourced by the packaging tests: build_deb TOP DIR copies the
# source tree at TOP (what git tracks and new files it does not ignore; no
# build trees) to DIR/src and runs dpkg-buildpackage there, its output in
# DIR/build.log; the .deb lands in DIR.  Returns dpkg-buildpackage's status.
build_deb() {
    mkdir "$2/src" || return 1
    if git -C "$1" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$1" && git ls-files -co --exclude-standard -z | xargs -0 tar cf - --) \
            | tar xf - -C "$2/src"
    else
        (cd "$1" && tar cf - --exclude=./build --exclude='./build*' .) | tar xf - -C "$2/src"
    fi
    (cd "$2/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
        dpkg-buildpackage -us -uc -b >"$2/build.log" 2>&1)
}
