/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_logparse - libFuzzer target for lib/evidence/logparse.
 *
 * Each input is split at newlines and fed, line by line, to one fresh parser
 * (so the per-process state is exercised), each line from a heap copy of its
 * exact size so that AddressSanitizer sees any read past len; then the whole
 * input once more as a single line (overlong and embedded-newline cases).
 * Every event is checked: strings terminated within their arrays, counts
 * within bounds, text inside the line it came from, kinds in range.
 * Build and run: tests/fuzz/run-fuzz.sh [SECONDS].
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logparse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *line_start;
static size_t line_len;

#define TERMINATED(a) (memchr((a), 0, sizeof(a)) != NULL)

static void check(const struct logparse_event *ev, void *arg)
{
    (void)arg;
    if (ev->type < LOGPARSE_CONNECT_FAIL || ev->type >= LOGPARSE_TYPE_COUNT
        || !TERMINATED(ev->service) || !TERMINATED(ev->queue_id) || !TERMINATED(ev->host)
        || !TERMINATED(ev->rcpt_domain) || !TERMINATED(ev->dsn)
        || ev->nattempts > LOGPARSE_MAX_ATTEMPTS || (unsigned)ev->kind >= FAIL_KIND_COUNT
        || ev->text < line_start || ev->text + ev->text_len > line_start + line_len)
        abort();
    if (ev->type == LOGPARSE_CONNECT_FAIL && (ev->kind == FAIL_NONE || !ev->have_addr))
        abort();
    for (unsigned i = 0; i < ev->nattempts; i++)
        if (ev->attempts[i].kind == FAIL_NONE || (unsigned)ev->attempts[i].kind >= FAIL_KIND_COUNT)
            abort();
}

static void feed(struct logparse *lp, const uint8_t *p, size_t n)
{
    char *copy = malloc(n ? n : 1);

    if (copy == NULL)
        abort();
    memcpy(copy, p, n);
    line_start = copy;
    line_len = n;
    if (logparse_line(lp, copy, n) < -1)
        abort();
    free(copy);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct logparse *lp = logparse_create("postfix, postfix-out", check, NULL);
    const uint8_t *p = data, *end = data + size, *nl;

    if (lp == NULL)
        abort();
    logparse_set_now(lp, 1795435200000ULL);     /* 2026-11-23T12:00:00Z */
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        feed(lp, p, (size_t)((nl ? nl : end) - p));
        p = nl ? nl + 1 : end;
    }
    feed(lp, data, size);
    logparse_free(lp);
    return 0;
}
