#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/tree/layers.sh - the folders' include edges, read from the code.
#
# Each folder's local.mk says what it may include:
#     INC_<name> = -I$(top_srcdir)/<folder> $(INC_<dependency>) ...
# The build compiles the folder with exactly that include path, so an
# #include of any other folder does not compile.  This test checks what the
# compiler cannot: that every #include "x.h" across folders names one of the
# folder's DIRECT dependencies (not one it reaches only through another),
# that a private header (*_int.h) is included from its own folder only, that
# every header name is unique in the tree, and that the edges have no cycle.
# TAP: one line per folder, then one for the cycle check.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 1

# "folder dep dep ..." per folder, from the INC_ lines (with continuations).
edges=$(find lib relay milter -name local.mk | sort | xargs cat | awk '
    { line = line $0 }
    /\\$/ { sub(/\\$/, "", line); next }
    {
        if (line ~ /^INC_[a-z_]+ *=/) {
            name = line; sub(/ *=.*/, "", name); sub(/^INC_/, "", name)
            rest = line; sub(/^[^=]*= */, "", rest)
            n = split(rest, w, /[ \t]+/); folder = ""; deps = ""
            for (i = 1; i <= n; i++) {
                if (w[i] ~ /^-I\$\(top_srcdir\)\//) { folder = w[i]; sub(/^-I\$\(top_srcdir\)\//, "", folder) }
                else if (w[i] ~ /^\$\(INC_[a-z_]+\)$/) { d = w[i]; gsub(/^\$\(INC_|\)$/, "", d); deps = deps " " d }
            }
            print name, folder, deps
        }
        line = ""
    }')

# "file folder include" for every quoted include of the code.
includes=$(find lib relay milter -name '*.[ch]' | sort | while read -r f; do
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
        while read -r h; do echo "$f $(dirname "$f") $h"; done
done)
headers=$(find lib relay milter -name '*.h' | sort)

printf '%s\n@@\n%s\n@@\n%s\n' "$edges" "$headers" "$includes" | awk '
    BEGIN { part = 1; failures = 0; t = 0 }
    /^@@$/ { part++; next }
    part == 1 {                 # name folder deps...
        name = $1; folder = $2; folder_of[name] = folder; name_of[folder] = name
        folders[++nfolders] = folder
        for (i = 3; i <= NF; i++) { dep[name, $i] = 1; deps[name] = deps[name] " " $i }
        next
    }
    part == 2 {                 # a header path
        h = $0; base = h; sub(/.*\//, "", base); dir = h; sub(/\/[^\/]*$/, "", dir)
        if (base in home) dup[base] = home[base] " and " dir
        home[base] = dir
        next
    }
    part == 3 {                 # file folder header
        file = $1; from = $2; h = $3
        if (h == "config.h") next
        if (!(from in name_of)) { bad[from] = bad[from] "\n# " file ": folder has no INC_ line"; next }
        if (!(h in home)) { bad[from] = bad[from] "\n# " file ": \"" h "\" is no header of the tree"; next }
        to = home[h]
        if (to == from) next
        if (h ~ /_int\.h$/) { bad[from] = bad[from] "\n# " file ": private header " to "/" h; next }
        if (!((name_of[from], name_of[to]) in dep))
            bad[from] = bad[from] "\n# " file ": includes " to "/" h ", but " to " is not among INC_" name_of[from] "'\''s direct dependencies"
        used[from, to] = 1
        next
    }
    function visit(n,    i, k, list) {   # 1: a cycle through n
        if (state[n] == 1) { cycle = n; return 1 }
        if (state[n] == 2) return 0
        state[n] = 1
        k = split(deps[n], list, " ")
        for (i = 1; i <= k; i++) {
            if (!(list[i] in folder_of)) { missing = missing " " n "->" list[i]; continue }
            if (visit(list[i])) { path = n " -> " path; return 1 }
        }
        state[n] = 2
        return 0
    }
    END {
        for (b in dup) { bad["(tree)"] = bad["(tree)"] "\n# header " b " is in " dup[b]; extra = 1 }
        for (i = 1; i <= nfolders; i++) {
            f = folders[i]
            if (f in bad) { printf "not ok %d - %s includes only its direct dependencies%s\n", ++t, f, bad[f]; failures++ }
            else printf "ok %d - %s includes only its direct dependencies\n", ++t, f
        }
        if (extra) { printf "not ok %d - header names are unique%s\n", ++t, bad["(tree)"]; failures++ }
        else printf "ok %d - header names are unique\n", ++t
        for (i = 1; i <= nfolders && !cycle; i++) visit(name_of[folders[i]])
        if (cycle != "") { printf "not ok %d - no cycle between folders\n# %s%s\n", ++t, path, cycle; failures++ }
        else if (missing != "") { printf "not ok %d - no cycle between folders\n# unknown INC_:%s\n", ++t, missing; failures++ }
        else printf "ok %d - no cycle between folders (%d folders)\n", ++t, nfolders
        printf "1..%d\n", t
        exit failures > 0
    }'
