# SPDX-License-Identifier: GPL-2.0-or-later
# relay/net: asynchronous network clients on the event loop: MX and address
# resolution with c-ares (mxresolve, dnsquery) and SMTP probes that connect
# and read a greeting (prober, prober_conn), and the SOCKS5 client their
# control probes go through (socks5), and the race of a direct against a
# control probe (race).
INC_relay_net = -I$(top_srcdir)/relay/net $(INC_lib_config) $(INC_lib_evidence) $(INC_lib_base)
noinst_LIBRARIES += relay/net/libmxd.a
relay_net_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_net)
relay_net_libmxd_a_SOURCES = relay/net/dnsquery.c relay/net/dnsquery.h relay/net/mxresolve.c \
	relay/net/mxresolve.h relay/net/prober.c relay/net/prober.h relay/net/prober_int.h \
	relay/net/prober_conn.c relay/net/socks5.c relay/net/socks5.h relay/net/race.c \
	relay/net/race.h
