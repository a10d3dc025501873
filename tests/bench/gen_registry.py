#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""gen_registry - a deterministic registry-format dump for bench_feed.

usage: gen_registry.py [LINES [SEED]] > dump.csv      (default 1000000 lines)

Writes what the national block registry's republished dump looks like:
"Updated: ..." then IPS;domain;url;org;decision;date lines, cp1251, CRLF.
The mix (per line): 20% empty IPS (blocked by name or URL only), 53% one
IPv4 address, 10% two to six IPv4 addresses joined by " | ", 6% an IPv4
prefix (/16../30), 5% one IPv6 address, 3% an IPv6 prefix (/32../64),
3% IPv4 and IPv6 together; 12% of addresses repeat an earlier one (shared
hosting).  URLs are empty, plain, or quoted with ';' and "" inside.
Decisions are Cyrillic and repeat (70% of lines cite an earlier one), each
with its own date and issuing body, as in the real dump.
"""
import random
import sys

ORGS = ["Генпрокуратура", "Роскомнадзор", "Мосгорсуд", "МВД", "ФНС",
        "Роспотребнадзор", "ФСКН", "суд", "Минюст", "ФАС"]
TLDS = ["ru", "com", "net", "org", "info", "su", "рф", "me", "io"]
SYL = ["ka", "zo", "ri", "mo", "na", "te", "lu", "vi", "pro", "net", "bet", "kaz", "ino"]


def main():
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 8)
    seen = []
    out = sys.stdout.buffer

    def v4():
        if seen and rnd.random() < 0.12:
            return rnd.choice(seen)
        a = "%d.%d.%d.%d" % (rnd.randint(1, 223), rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        if len(seen) < 200000:
            seen.append(a)
        return a

    def v4net():
        n = rnd.randint(16, 30)
        x = rnd.getrandbits(32) & ((0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF)
        return "%d.%d.%d.%d/%d" % (x >> 24, x >> 16 & 255, x >> 8 & 255, x & 255, n)

    def v6(prefix=False):
        words = [0x2a00 + rnd.randrange(0x100), rnd.randrange(0x10000)] + [rnd.randrange(0x10000) for _ in range(6)]
        if prefix:
            n = rnd.choice([32, 36, 40, 44, 48, 56, 64])
            return "%x:%x:%x:%x::/%d" % (words[0], words[1], words[2] if n > 32 else 0,
                                         words[3] if n > 48 else 0, n)
        return "%x:%x:%x:%x::%x" % (words[0], words[1], words[2], words[3], words[7])

    decisions = []
    buf = []
    out.write(b"Updated: 2026-11-20 06:00:00 +0000\r\n")
    for i in range(lines):
        r = rnd.random()
        if r < 0.20:
            ips = []
        elif r < 0.73:
            ips = [v4()]
        elif r < 0.83:
            ips = [v4() for _ in range(rnd.randint(2, 6))]
        elif r < 0.89:
            ips = [v4net()]
        elif r < 0.94:
            ips = [v6()]
        elif r < 0.97:
            ips = [v6(True)]
        else:
            ips = [v4(), v6()]
        dom = "".join(rnd.choice(SYL) for _ in range(rnd.randint(2, 5))) + "." + rnd.choice(TLDS)
        u = rnd.random()
        if u < 0.4:
            url = ""
        elif u < 0.9:
            url = "http%s://%s/%s" % (rnd.choice(["", "s"]), dom, "".join(rnd.choice(SYL) for _ in range(3)))
        else:
            url = '"https://%s/?a=%d;b=""%d"""' % (dom, rnd.randrange(1000), rnd.randrange(1000))
        if decisions and rnd.random() < 0.7:
            org, dec, date = rnd.choice(decisions)
        else:
            y = rnd.randint(2012, 2026)
            dec = rnd.choice(["27-31-%d/Ид%d-%02d" % (y, rnd.randrange(9000), y % 100),
                              "%d-%d/%d" % (rnd.randint(1, 9), rnd.randrange(20000), y),
                              "решение № %d" % rnd.randrange(100000)])
            org = rnd.choice(ORGS)
            date = "%d-%02d-%02d" % (y, rnd.randint(1, 12), rnd.randint(1, 28))
            if len(decisions) < 150000:
                decisions.append((org, dec, date))
        line = "%s;%s;%s;%s;%s;%s\r\n" % (" | ".join(ips), dom, url, org, dec, date)
        buf.append(line.encode("cp1251"))
        if len(buf) >= 10000:
            out.write(b"".join(buf))
            buf = []
    out.write(b"".join(buf))


if __name__ == "__main__":
    main()
