-- SPDX-License-Identifier: GPL-2.0-or-later
-- harness: -d 300 -w 3000
-- A domain with no answer yet is asked for, and the RCPT waits for the
-- answer (here 300 ms, within the 3 s route_wait): the decision is taken on
-- it, before the RCPT is answered.  The next lookup finds it in the view.
-- expect-log: request late-reject.test
-- expect-log: RCPT <a@late-reject.test>: 550 5.7.1
dofile(srcdir .. "/tests/milter/lib.lua")
local conn = open_conn()
mail(conn)
local took = rcpt(conn, "<a@late-reject.test>", SMFIR_REPLYCODE)
check(took >= 250 and took < 2500, "the RCPT waited for the answer (" .. took .. " ms)")
took = rcpt(conn, "<b@late-reject.test>", SMFIR_REPLYCODE)
check(took < 250, "the second lookup is answered from the view (" .. took .. " ms)")
took = rcpt(conn, "<c@late-detour.test>", SMFIR_CONTINUE)
check(took >= 250, "a detour answer is waited for too (" .. took .. " ms)")
eom(conn)
mt.disconnect(conn)
