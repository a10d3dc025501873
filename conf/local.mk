# SPDX-License-Identifier: GPL-2.0-or-later
# conf: the annotated example configuration, the short one a site edits
# (mxdetour-site.conf), the Postfix snippets, the systemd units and the feed
# download script with its defaults.
dist_example_DATA += conf/mxdetour.conf conf/mxdetour-site.conf conf/main.cf.mxdetour conf/master.cf.mxdetour
EXTRA_DIST += conf/mxdetourd.service conf/mxdetour-feed.service conf/mxdetour-feed.timer \
	conf/mxdetour-feed.default conf/mxdetour-feed-download
