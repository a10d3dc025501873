# mk/kernel.mk: see Makefile.am
# The per-address detour below Postfix for tunnel relays in mode "kernel"
# (issue 9, docs/kernel.md): relay/kernelnft (nftables through libnftables,
# policy routing through rtnetlink with libmnl; privileged), the helper's
# side of its requests (relay/helper/privsep_kernel.c), the publisher module
# (relay/kernelpub*), the configuration keys (lib/cfg_kernel), the command
# "mxdetourctl kernel", the end-to-end tests on the netns bed and the
# benchmark.
AM_CFLAGS += $(LIBNFTABLES_CFLAGS) $(LIBMNL_CFLAGS)
DEP_LIBS += $(LIBNFTABLES_LIBS) $(LIBMNL_LIBS)

libmxd_a_SOURCES += lib/config/cfg_kernel.c lib/config/cfg_kernel.h \
	relay/helper/kernelnft.c relay/helper/kernelnft.h relay/helper/privsep_kernel.c \
	relay/kernel/kernelpub.c relay/kernel/kernelpub.h relay/kernel/kernelpub_check.c relay/kernel/kernelconfirm.c relay/kernel/kernelconfirm.h \
	relay/kernel/kernelstate.c relay/kernel/kernelstate.h
mxdetourctl_SOURCES += relay/ctl/ctl_kernel.c

# Root and network namespaces (the netns bed); they skip themselves otherwise.
TESTS += tests/e2e/kernel.sh

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_kernelnft
tests_unit_test_kernelnft_SOURCES = tests/unit/test_kernelnft.c tests/unit/check_main.h
tests_unit_test_kernelnft_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_kernelnft_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_kernelnft
endif
TESTS += tests/e2e/kernel_ipv6.sh
