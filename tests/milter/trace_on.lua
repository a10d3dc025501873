-- SPDX-License-Identifier: GPL-2.0-or-later
-- harness: -t
-- With trace_header on, the detoured recipients' domains are listed in one
-- X-Mxdetour header per (relay, reason), each domain once; direct and
-- policy recipients are not listed.
dofile(srcdir .. "/tests/milter/lib.lua")
local conn = open_conn()
mail(conn)
rcpt(conn, "<a@detour.test>", SMFIR_CONTINUE)
rcpt(conn, "<b@direct.test>", SMFIR_CONTINUE)
rcpt(conn, "<c@detour2.test>", SMFIR_CONTINUE)
rcpt(conn, "<d@Detour.Test>", SMFIR_CONTINUE)
rcpt(conn, "<e@manual.test>", SMFIR_CONTINUE)
rcpt(conn, "<f@reject.test>", SMFIR_REPLYCODE)
eom(conn)
local h0 = mt.getheader(conn, "X-Mxdetour", 0)
local h1 = mt.getheader(conn, "X-Mxdetour", 1)
local want0 = "detoured via relay-fi (every MX address blocked): detour.test, detour2.test"
local want1 = "detoured via wg-out (manual block by ops: registry entry): manual.test"
-- libmilter sends them in order; miltertest may list them either way round.
check((h0 == want0 and h1 == want1) or (h0 == want1 and h1 == want0),
      "two headers: [" .. tostring(h0) .. "] [" .. tostring(h1) .. "]")
check(mt.getheader(conn, "X-Mxdetour", 2) == nil, "no third header")
-- A message with no detoured recipient gets none.
mail(conn)
rcpt(conn, "<g@direct.test>", SMFIR_CONTINUE)
eom(conn)
no_header(conn)
mt.disconnect(conn)
