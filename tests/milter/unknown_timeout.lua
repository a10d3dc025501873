-- SPDX-License-Identifier: GPL-2.0-or-later
-- harness: -d 1500 -w 400
-- No answer within route_wait: the recipient passes unchanged (fail open)
-- after at most about route_wait, and the wait is logged.  A domain that is
-- never answered behaves the same.  Once the late answer has arrived, the
-- next message gets it.
-- expect-log: no route for late-reject.test within 400 ms; its mail passes unchanged
dofile(srcdir .. "/tests/milter/lib.lua")
local conn = open_conn()
mail(conn)
local took = rcpt(conn, "<a@late-reject.test>", SMFIR_CONTINUE)
check(took >= 350 and took < 1400, "the RCPT waited about route_wait (" .. took .. " ms)")
took = rcpt(conn, "<b@never.test>", SMFIR_CONTINUE)
check(took < 1400, "an unknown domain waits no longer (" .. took .. " ms)")
eom(conn)
not_held(conn)
mt.sleep(1.5)
mail(conn)
rcpt(conn, "<c@late-reject.test>", SMFIR_REPLYCODE)
eom(conn)
mt.disconnect(conn)
