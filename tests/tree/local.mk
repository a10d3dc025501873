# SPDX-License-Identifier: GPL-2.0-or-later
# tests/tree: checks of the tree itself: the folders' include edges
# (layers.sh), the license lines (spdx.sh) and the helper's link (helper_link.sh).
EXTRA_DIST += tests/tree
TESTS += tests/tree/layers.sh tests/tree/spdx.sh tests/tree/helper_link.sh
