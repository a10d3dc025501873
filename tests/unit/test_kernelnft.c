/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for the kernel side of the kernel-mode detour: relay/helper/kernelnft
 * (real nftables and rtnetlink, in a private network namespace of the test
 * process, so the host is never touched) and the checks of
 * relay/helper/helper_kernel.c, called in-process with hand-made requests: every
 * malformed field is refused, and nothing staged survives a refusal.
 * The namespace needs root; without it those cases say SKIP_CASE.
 */
#include "config.h"

#include <check.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "helper.h"
#include "kernelnft.h"
#include "privsep.h"

static struct cfg_relay relays[2];
static struct cfg cfg;

static void make_cfg(void)
{
    memset(relays, 0, sizeof(relays));
    memset(&cfg, 0, sizeof(cfg));
    relays[0].name = (char *)"relay-out";
    relays[0].type = RELAY_SMARTHOST;
    relays[1].name = (char *)"wg-out.1";
    relays[1].type = RELAY_TUNNEL;
    relays[1].mode = RELAY_MODE_KERNEL;
    relays[1].interface = (char *)"lo";
    relays[1].kernel.route_table = 125;
    relays[1].kernel.fwmark = 0x25;
    relays[1].kernel.rule_priority = 1000;
    relays[1].kernel.mta_user = (char *)"root";
    cfg.relays = relays;
    cfg.nrelays = 2;
}

START_TEST(tunnels_from_configuration)
{
    struct kernel_tunnel t[KERNELNFT_MAX_TUNNELS];

    make_cfg();
    ck_assert_uint_eq(privsep_tunnels(&cfg, t, KERNELNFT_MAX_TUNNELS), 1);
    ck_assert_str_eq(t[0].name, "wg-out.1");
    ck_assert_str_eq(t[0].ident, "wg_out_1");     /* only [A-Za-z0-9_] reach nft */
    ck_assert_str_eq(t[0].ifname, "lo");
    ck_assert_uint_eq(t[0].mark, 0x25);
    ck_assert_int_eq(t[0].uid, 0);
    relays[1].kernel.mta_user = (char *)"no-such-user-here";
    privsep_tunnels(&cfg, t, KERNELNFT_MAX_TUNNELS);
    ck_assert_int_eq(t[0].uid, -1);
}
END_TEST

/* The tunnels' text form: what mxdetourd writes, the helper reads back
 * exactly; anything else is refused with a reason. */
START_TEST(tunnel_text_round_trip_and_refusals)
{
    struct kernel_tunnel t[KERNELNFT_MAX_TUNNELS], back;
    char text[KERNELNFT_TUNNEL_TEXT_MAX], err[160];
    static const char *const bad[][2] = {
        {"name=a,if=lo,table=1,mark=1,prio=1", "key uid missing"},
        {"name=a,if=lo,table=1,mark=1,prio=1,uid=0,uid=0", "key uid given twice"},
        {"name=a,if=lo,table=1,mark=1,prio=1,uid=0,color=red", "unknown key \"color\""},
        {"name=a b,if=lo,table=1,mark=1,prio=1,uid=0", "bad value \"a b\" for name"},
        {"name=a,if=lo;rm,table=1,mark=1,prio=1,uid=0", "bad value \"lo;rm\" for if"},
        {"name=a,if=averyveryverylongifname,table=1,mark=1,prio=1,uid=0", "for if"},
        {"name=a,if=lo,table=0,mark=1,prio=1,uid=0", "bad value \"0\" for table"},
        {"name=a,if=lo,table=1,mark=4294967296,prio=1,uid=0", "for mark"},
        {"name=a,if=lo,table=1,mark=1,prio=1x,uid=0", "for prio"},
        {"name=a,if=lo,table=1,mark=1,prio=1,uid=-2", "for uid"},
        {"name=a,if=lo,table=1,mark=1,prio=1,uid=0,gw4=2001:db8::1", "for gw4"},
        {"name=a,if=lo,table=1,mark=1,prio=1,uid=0,gw6=10.0.0.1", "for gw6"},
        {"name=a,if=lo,table=1,mark=1,prio=1,uid=0,src=10.0.0.300", "for src"},
        {"name=a,if=lo,table=1,mark=1,prio=1,uid", "is not KEY=VALUE"},
    };

    make_cfg();
    relays[1].kernel.gateway = (char *)"10.9.0.1";
    relays[1].kernel.gateway6 = (char *)"fd00::1";
    relays[1].source_address = (char *)"10.9.0.2";
    ck_assert_uint_eq(privsep_tunnels(&cfg, t, KERNELNFT_MAX_TUNNELS), 1);
    ck_assert_int_eq(kernelnft_tunnel_format(&t[0], text, sizeof(text)), 0);
    ck_assert_str_eq(text, "name=wg-out.1,if=lo,table=125,mark=37,prio=1000,uid=0,"
                     "gw4=10.9.0.1,gw6=fd00::1,src=10.9.0.2");
    ck_assert_msg(kernelnft_tunnel_parse(text, &back, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(back.name, t[0].name);
    ck_assert_str_eq(back.ident, "wg_out_1");
    ck_assert_str_eq(back.ifname, t[0].ifname);
    ck_assert_uint_eq(back.table, t[0].table);
    ck_assert_uint_eq(back.mark, t[0].mark);
    ck_assert_uint_eq(back.priority, t[0].priority);
    ck_assert_int_eq(back.uid, t[0].uid);
    ck_assert_int_eq(back.has_source, 1);
    for (int g = 0; g < 2; g++)
        ck_assert(netaddr_equal(&back.gateway[g], &t[0].gateway[g]));
    ck_assert(netaddr_equal(&back.source, &t[0].source));
    ck_assert_int_eq(kernelnft_tunnel_format(&t[0], text, 20), -1);     /* too small */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(kernelnft_tunnel_parse(bad[i][0], &back, err, sizeof(err)), -1);
        ck_assert_msg(strstr(err, bad[i][1]) != NULL, "%s: \"%s\", wanted \"%s\"", bad[i][0], err, bad[i][1]);
    }
    char big[KERNELNFT_TUNNEL_TEXT_MAX + 10];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    ck_assert_int_eq(kernelnft_tunnel_parse(big, &back, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "longer than"));
}
END_TEST

/* ---- the helper's checks of kernel requests (relay/helper/helper_kernel.c) ---- */

/* The helper serves the tunnels of cfg, as mxdetourd hands them over. */
static void configure_helper(void)
{
    struct kernel_tunnel t[KERNELNFT_MAX_TUNNELS];

    make_cfg();
    ck_assert_uint_eq(helper_kernel_configure(t, privsep_tunnels(&cfg, t, KERNELNFT_MAX_TUNNELS)), 1);
}

static int handle(uint32_t type, const struct privsep_kernel *k, char *text)
{
    struct privsep_msg m;

    memset(&m, 0, sizeof(m));
    m.magic = PRIVSEP_MAGIC;
    m.type = type;
    m.kernel = *k;
    return helper_kernel_handle(&m, text, PRIVSEP_TEXT_MAX);
}

static struct privsep_kernel stage4(uint8_t op, uint8_t count)
{
    struct privsep_kernel k;

    memset(&k, 0, sizeof(k));
    k.op = op;
    k.family = 4;
    k.count = count;
    for (uint8_t i = 0; i < count; i++) {
        k.addr[i * 4] = 198;
        k.addr[i * 4 + 1] = 18;
        k.addr[i * 4 + 3] = (uint8_t)(i + 1);
    }
    return k;
}

#define REFUSED(type, k, why) do { \
        char text_[PRIVSEP_TEXT_MAX]; \
        ck_assert_int_eq(handle(type, &(k), text_), -1); \
        ck_assert_msg(strstr(text_, why) != NULL, "answer \"%s\", wanted \"%s\"", text_, why); \
    } while (0)

START_TEST(malformed_requests_refused)
{
    struct privsep_kernel k, c;
    char text[PRIVSEP_TEXT_MAX];

    make_cfg();
    configure_helper();
    k = stage4(PRIVSEP_KOP_ADD, 2);
    k.tunnel = 1;
    REFUSED(PRIVSEP_KERNEL_STAGE, k, "refused: no kernel-mode tunnel 1");
    k = stage4(9, 2);
    REFUSED(PRIVSEP_KERNEL_STAGE, k, "refused: stage op 9");
    k = stage4(PRIVSEP_KOP_ADD, 0);
    REFUSED(PRIVSEP_KERNEL_STAGE, k, "refused: 0 addresses");
    k = stage4(PRIVSEP_KOP_ADD, PRIVSEP_KERNEL_V4);
    k.family = 6;                       /* 56 IPv6 addresses do not fit */
    REFUSED(PRIVSEP_KERNEL_STAGE, k, "refused: 56 addresses of family 6");
    k = stage4(PRIVSEP_KOP_ADD, 2);
    k.addr[9] = 1;                      /* a byte after the second address */
    REFUSED(PRIVSEP_KERNEL_STAGE, k, "refused: bytes after the last address");
    k = stage4(PRIVSEP_KOP_ADD, 2);
    k.staged = 2;
    REFUSED(PRIVSEP_KERNEL_STAGE, k, "refused: stage op");
    memset(&c, 0, sizeof(c));
    c.op = 1;
    REFUSED(PRIVSEP_KERNEL_ENSURE, c, "refused: an ensure request carries only the tunnel");
    /* Staged, then a commit announcing another count: refused, and the
     * staged addresses are dropped, so an honest commit finds none. */
    k = stage4(PRIVSEP_KOP_ADD, 3);
    ck_assert_int_eq(handle(PRIVSEP_KERNEL_STAGE, &k, text), 0);
    memset(&c, 0, sizeof(c));
    c.staged = 2;
    REFUSED(PRIVSEP_KERNEL_COMMIT, c, "refused: 2 addresses announced, 3 staged");
    c.staged = 3;
    REFUSED(PRIVSEP_KERNEL_COMMIT, c, "refused: 3 addresses announced, 0 staged");
    /* A sync commit with additions staged is refused too. */
    ck_assert_int_eq(handle(PRIVSEP_KERNEL_STAGE, &k, text), 0);
    c.sync = 1;
    REFUSED(PRIVSEP_KERNEL_COMMIT, c, "refused: a sync commit with additions or removals staged");
    c.sync = 2;
    c.staged = 0;
    REFUSED(PRIVSEP_KERNEL_COMMIT, c, "refused: a commit carries only the tunnel and sync");
    /* Bytes past the payload, in the text area. */
    struct privsep_msg m;
    memset(&m, 0, sizeof(m));
    m.magic = PRIVSEP_MAGIC;
    m.type = PRIVSEP_KERNEL_ENSURE;
    m.text[PRIVSEP_TEXT_MAX - 1] = 'x';
    ck_assert_int_eq(helper_kernel_handle(&m, text, sizeof(text)), -1);
    ck_assert_msg(strstr(text, "refused: bytes after the kernel payload"), "%s", text);
}
END_TEST

/* ---- kernelnft against the real kernel, in a namespace of our own ---- */

static int private_netns(void)
{
    struct ifreq ifr;
    int fd;

    if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0)
        return 0;
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    ioctl(fd, SIOCGIFFLAGS, &ifr);
    ifr.ifr_flags |= IFF_UP;
    ck_assert_int_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
    close(fd);
    return 1;
}

static struct netaddr a4(int last)
{
    struct netaddr a;
    char text[32];

    snprintf(text, sizeof(text), "198.18.0.%d", last);
    ck_assert_int_eq(netaddr_parse(text, &a), 0);
    return a;
}

START_TEST(sets_change_in_transactions)
{
    struct kernel_tunnel t;
    struct netaddr add[3], del[2], want[2], *got;
    size_t added, removed, n;
    char err[256];

    if (!private_netns())
        SKIP_CASE("needs root and a network namespace of its own");
    make_cfg();
    privsep_tunnels(&cfg, &t, 1);
    ck_assert_int_eq(kernelnft_list(&t, &got, &n, err, sizeof(err)), 0);   /* no table yet */
    ck_assert_uint_eq(n, 0);
    ck_assert_msg(kernelnft_ensure(&t, err, sizeof(err)) >= 0, "%s", err);
    ck_assert_msg(kernelnft_ensure(&t, err, sizeof(err)) >= 0, "%s", err);   /* again: no harm */
    add[0] = a4(2), add[1] = a4(3), add[2] = a4(4);
    ck_assert_int_eq(kernelnft_apply(&t, add, 3, NULL, 0, 0, NULL, 0, &added, &removed, err, sizeof(err)), 0);
    ck_assert_uint_eq(added, 3);
    /* Removing one present and one absent address: only the present one. */
    del[0] = a4(3), del[1] = a4(99);
    ck_assert_int_eq(kernelnft_apply(&t, NULL, 0, del, 2, 0, NULL, 0, &added, &removed, err, sizeof(err)), 0);
    ck_assert_uint_eq(removed, 1);
    ck_assert_int_eq(kernelnft_list(&t, &got, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 2);
    free(got);
    /* A sync: 4 stays (never removed), 2 goes, 5 comes. */
    want[0] = a4(4), want[1] = a4(5);
    ck_assert_int_eq(kernelnft_apply(&t, NULL, 0, NULL, 0, 1, want, 2, &added, &removed, err, sizeof(err)), 0);
    ck_assert_uint_eq(added, 1);
    ck_assert_uint_eq(removed, 1);
    ck_assert_int_eq(kernelnft_list(&t, &got, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert(netaddr_equal(&got[0], &want[0]) || netaddr_equal(&got[1], &want[0]));
    free(got);
    /* A sync to nothing empties the set. */
    ck_assert_int_eq(kernelnft_apply(&t, NULL, 0, NULL, 0, 1, NULL, 0, &added, &removed, err, sizeof(err)), 0);
    ck_assert_uint_eq(removed, 2);
    /* The ensure of a restart keeps the elements (they outlive mxdetourd). */
    ck_assert_int_eq(kernelnft_apply(&t, add, 1, NULL, 0, 0, NULL, 0, &added, &removed, err, sizeof(err)), 0);
    ck_assert_msg(kernelnft_ensure(&t, err, sizeof(err)) >= 0, "%s", err);
    ck_assert_int_eq(kernelnft_list(&t, &got, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 1);
    free(got);
}
END_TEST

/* A sync of 20000 addresses, then one shifted by half: one transaction
 * each, with the exact numbers added and removed. */
START_TEST(large_sync)
{
    enum { N = 20000 };
    struct kernel_tunnel t;
    struct netaddr *v = calloc(N + N / 2, sizeof(*v)), *got;
    size_t added, removed, n;
    char err[256];

    if (!private_netns()) {
        free(v);
        SKIP_CASE("needs root and a network namespace of its own");
    }
    make_cfg();
    privsep_tunnels(&cfg, &t, 1);
    ck_assert_msg(kernelnft_ensure(&t, err, sizeof(err)) >= 0, "%s", err);
    for (size_t i = 0; i < N + N / 2; i++) {
        v[i].family = AF_INET;
        v[i].bytes[0] = 10;
        v[i].bytes[1] = (uint8_t)(i >> 16);
        v[i].bytes[2] = (uint8_t)(i >> 8);
        v[i].bytes[3] = (uint8_t)i;
    }
    ck_assert_msg(kernelnft_apply(&t, NULL, 0, NULL, 0, 1, v, N, &added, &removed, err, sizeof(err)) == 0,
                  "%s", err);
    ck_assert_uint_eq(added, N);
    ck_assert_msg(kernelnft_apply(&t, NULL, 0, NULL, 0, 1, v + N / 2, N, &added, &removed, err,
                                  sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(added, N / 2);
    ck_assert_uint_eq(removed, N / 2);
    ck_assert_int_eq(kernelnft_list(&t, &got, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, N);
    free(got);
    free(v);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("kernelnft");
    TCase *tc = tcase_create("kernelnft");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, tunnels_from_configuration);
    tcase_add_test(tc, tunnel_text_round_trip_and_refusals);
    tcase_add_test(tc, malformed_requests_refused);
    tcase_add_test(tc, sets_change_in_transactions);
    tcase_add_test(tc, large_sync);
    suite_add_tcase(s, tc);
    return s;
}
