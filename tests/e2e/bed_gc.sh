#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/bed_gc.sh -- removes what test-bed runs killed with SIGKILL left
# behind (namespaces, processes in them, /etc/netns entries, temp dirs,
# alternate_config_directories entries).  Runs whose owner process still lives
# are left alone, so it is safe to run while other beds are up.
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/bed.sh
. "$HERE/lib/bed.sh"
bed_gc
