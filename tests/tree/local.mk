# SPDX-License-Identifier: GPL-2.0-or-later
# tests/tree: checks of the tree itself: the folders' include edges
# (layers.sh), the license lines (spdx.sh) and the helper's link (helper_link.sh).
# Listed by name: a directory would bring the build's logs and objects too.
EXTRA_DIST += tests/tree/helper_link.sh tests/tree/layers.sh tests/tree/spdx.sh
TESTS += tests/tree/layers.sh tests/tree/spdx.sh tests/tree/helper_link.sh
