# SPDX-License-Identifier: GPL-2.0-or-later
# debian: the Debian package (docs/operations.md); tests/packaging tests it.
EXTRA_DIST += debian
