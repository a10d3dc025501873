# SPDX-License-Identifier: GPL-2.0-or-later
# man: mxdetourd(8), mxdetourctl(8), mxdetour.conf(5).
dist_man_MANS += man/mxdetourd.8 man/mxdetourctl.8 man/mxdetour.conf.5
