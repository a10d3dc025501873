/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_postqueue_json - libFuzzer target for relay/routes/postqueue_json.
 *
 * Each input is parsed whole as one line, then split at newlines and parsed
 * line by line, each time from a heap copy of its exact size so that
 * AddressSanitizer sees any read past the end; then fed through a
 * postqueue_reader (as kick reads `postqueue -j`) in chunks whose size the
 * first byte picks, with small limits, which must hold.
 * Checked: an accepted line has a NUL-terminated queue_name of [a-z]+ and
 * queue_id of [0-9A-Za-z]+ within their limits; every address handed to the
 * callback is NUL-terminated at len, within POSTQUEUE_ADDR_MAX, and its
 * domain (postqueue_rcpt_domain) is NUL-terminated within DOMAIN_MAXLEN; a
 * refused line has an error text and an offset within the line.
 * Build and run: tests/fuzz/run-fuzz-postqueue.sh [SECONDS].
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"
#include "postqueue_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t naddr;

static void on_rcpt(const char *address, size_t len, void *arg)
{
    char domain[DOMAIN_MAXLEN + 1];

    (void)arg;
    if (len > POSTQUEUE_ADDR_MAX || address[len] != 0 || strlen(address) != len)
        abort();
    if (postqueue_rcpt_domain(address, len, domain, sizeof(domain)) == 0
        && (memchr(domain, 0, sizeof(domain)) == NULL || domain[0] == 0))
        abort();
    naddr++;
}

static int charset(const char *s, size_t max, int digits_upper)
{
    size_t n = strnlen(s, max + 1);

    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (digits_upper && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))))
            return 0;
    }
    return 1;
}

static void parse(const uint8_t *p, size_t n)
{
    char *copy = malloc(n ? n : 1);
    struct postqueue_msg m;

    if (copy == NULL)
        abort();
    memcpy(copy, p, n);
    naddr = 0;
    if (postqueue_json_parse(copy, n, &m, on_rcpt, NULL) == 0) {
        if (!charset(m.queue_name, POSTQUEUE_NAME_MAX, 0) || !charset(m.queue_id, POSTQUEUE_ID_MAX, 1)
            || m.nrecipients != naddr || m.error != NULL)
            abort();
    } else if (m.error == NULL || m.error_at > n) {
        abort();
    }
    free(copy);
}

static size_t nlines;

static void on_line(const struct postqueue_msg *m, int ok, void *arg)
{
    (void)arg;
    if ((ok && m->error != NULL) || (!ok && m->error == NULL))
        abort();
    nlines++;
}

static void read_in_chunks(const uint8_t *data, size_t size)
{
    struct postqueue_reader r;
    size_t step = size ? (size_t)data[0] % 64 + 1 : 1;

    nlines = 0;
    postqueue_reader_init(&r, 512, 4096, 20, on_line, on_rcpt, NULL);
    for (size_t i = 0; i < size; i += step) {
        size_t n = size - i < step ? size - i : step;
        char *piece = malloc(n);
        if (piece == NULL)
            abort();
        memcpy(piece, data + i, n);
        (void)postqueue_reader_feed(&r, piece, n);
        free(piece);
    }
    postqueue_reader_finish(&r);
    if (r.messages > 20 || r.bytes > 4096 || nlines != r.messages || r.malformed > r.messages)
        abort();
    postqueue_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size, *nl;

    parse(data, size);
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        parse(p, (size_t)((nl ? nl : end) - p));
        p = nl ? nl + 1 : end;
    }
    read_in_chunks(data, size);
    return 0;
}
