# SPDX-License-Identifier: GPL-2.0-or-later
# docs: the administrator's and the developer's documentation (README.md
# lists it).
EXTRA_DIST += docs
