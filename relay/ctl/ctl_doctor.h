/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_doctor - the parts of `mxdetourctl doctor` (ctl_doctor.c: findings,
 * output, the host's side; ctl_doctor_postfix.c: Postfix's side;
 * ctl_doctor_parse.c: pure parsers of postconf's output and of Postfix
 * lists, and the permission test, with unit tests in
 * tests/unit/test_ctl_doctor.c).
 *
 * Ownership: struct doctor and what it holds live for one run;
 * doctor_postfix_free() releases the postconf output.
 */
#ifndef MXD_CTL_DOCTOR_H
#define MXD_CTL_DOCTOR_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "ctl.h"
#include "setupcheck.h"

/* --- pure parsers (ctl_doctor_parse.c) --- */

#define DOCTOR_FIELD_MAX 256

/* One master.cf service as `postconf -M` prints it, one line each:
 * "smtp inet n - y - - smtpd -o x=y". */
struct master_entry {
    char service[DOCTOR_FIELD_MAX];
    char type[16];
    int chroot;                 /* column 5: y 1, n 0; "-" is n (Postfix >= 3.0) */
    char command[DOCTOR_FIELD_MAX];
};

/* 0, or -1 when line is not a master.cf entry (too few fields, a field
 * too long, a chroot column other than y, n or -). */
int doctor_parse_master(const char *line, struct master_entry *e);

/* "name = value" of `postconf NAME...`: name and value point into line
 * (modified).  0, or -1 when it is not such a line. */
int doctor_parse_param(char *line, char **name, char **value);

/* The next member of a Postfix list ("a, b c", with "{ ... }" groups as
 * in smtpd_milters): the member into buf (braces and surrounding space
 * removed), and the rest.  NULL at the end, or when a member does not fit
 * in size or a brace is not closed (*bad set then). */
const char *doctor_list_next(const char *list, char *buf, size_t size, int *bad);

/* A milter member, bare or "{ unix:/x, default_action=accept }": its
 * address and its default_action (empty when not given). */
void doctor_milter_member(const char *member, char *addr, size_t asize, char *action, size_t bsize);


/* --- one run --- */

enum doctor_sev { DOC_OK = 0, DOC_WARNING = 1, DOC_CRITICAL = 2, DOC_UNKNOWN = 3 };

#define DOCTOR_MAX_FINDINGS 96
#define DOCTOR_TEXT_MAX 600
#define DOCTOR_MAX_MASTER 256
struct doctor {
    struct ctl *c;
    const char *postfix_dir;
    struct {
        enum doctor_sev sev;
        char check[24];
        char text[DOCTOR_TEXT_MAX];
    } f[DOCTOR_MAX_FINDINGS];
    size_t n;
    size_t dropped;             /* findings past DOCTOR_MAX_FINDINGS */
    /* From postconf; NULL when unknown. */
    char *queue_directory, *mail_owner, *transport_maps, *smtpd_milters, *non_smtpd_milters,
         *milter_default_action;
    int postconf_ok;
    struct master_entry master[DOCTOR_MAX_MASTER];
    size_t nmaster;
    struct setupcheck_user daemon;  /* cfg user, or root */
    struct setupcheck_user postfix; /* mail_owner */
};

void doctor_add(struct doctor *d, enum doctor_sev sev, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ctl_doctor_postfix.c */
void doctor_postfix_read(struct doctor *d);
void doctor_postfix_check(struct doctor *d);
void doctor_postfix_free(struct doctor *d);

#endif
