-- SPDX-License-Identifier: GPL-2.0-or-later
-- harness: -n
-- The route view does not answer at all (not running): every recipient,
-- even one whose destination would be rejected, passes unchanged at once.
-- expect-log: no route for reject.test within
dofile(srcdir .. "/tests/milter/lib.lua")
local conn = open_conn()
mail(conn)
local took = rcpt(conn, "<a@reject.test>", SMFIR_CONTINUE)
check(took < 1000, "no wait without a route view (" .. took .. " ms)")
rcpt(conn, "<b@hold.test>", SMFIR_CONTINUE)
rcpt(conn, "<c@tempfail.test>", SMFIR_CONTINUE)
eom(conn)
not_held(conn)
no_header(conn)
mt.disconnect(conn)
