-- SPDX-License-Identifier: GPL-2.0-or-later
-- Policy tempfail: that recipient alone gets a 4xx reply of the milter's
-- (replycode: 451 4.4.1 and the configured text, checked in the harness log
-- by run.sh); the other recipients of the same message pass and the message
-- is accepted for them.  A destination with no reply text gets the default.
-- expect-log: RCPT <a@tempfail.test>: 451 4.4.1 tempfail.test cannot be reached from here at the moment
-- expect-log: RCPT <c@plain-tempfail.test>: 451 4.4.1 destination temporarily unreachable from this network; try again later
dofile(srcdir .. "/tests/milter/lib.lua")
local conn = open_conn()
mail(conn)
rcpt(conn, "<a@tempfail.test>", SMFIR_REPLYCODE)
rcpt(conn, "<b@direct.test>", SMFIR_CONTINUE)
rcpt(conn, "<c@plain-tempfail.test>", SMFIR_REPLYCODE)
rcpt(conn, "<d@detour.test>", SMFIR_CONTINUE)
eom(conn)
not_held(conn)
no_header(conn)
mt.disconnect(conn)
