-- SPDX-License-Identifier: GPL-2.0-or-later
-- Policy reject: that recipient gets the milter's 5xx reply (550 5.7.1 and
-- the configured text, checked in the harness log by run.sh); another
-- recipient of the same message passes.  Policy pass lets it through.
-- expect-log: RCPT <a@reject.test>: 550 5.7.1 mail to reject.test is refused by site policy
dofile(srcdir .. "/tests/milter/lib.lua")
local conn = open_conn()
mail(conn)
rcpt(conn, "<a@reject.test>", SMFIR_REPLYCODE)
rcpt(conn, "<b@direct.test>", SMFIR_CONTINUE)
rcpt(conn, "<c@pass.test>", SMFIR_CONTINUE)
eom(conn)
not_held(conn)
mt.disconnect(conn)
