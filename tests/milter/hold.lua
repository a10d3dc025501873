-- SPDX-License-Identifier: GPL-2.0-or-later
-- Policy hold: the RCPT is accepted and the whole message is quarantined at
-- end of message, with the destination's reply text as the reason; the next
-- message of the same connection starts afresh.
dofile(srcdir .. "/tests/milter/lib.lua")
local conn = open_conn()
mail(conn)
rcpt(conn, "<a@direct.test>", SMFIR_CONTINUE)
rcpt(conn, "<b@hold.test>", SMFIR_CONTINUE)
eom(conn)
check(mt.eom_check(conn, MT_QUARANTINE,
                   "mxdetour: hold.test: held for review by the postmaster"),
      "quarantined with the configured reason")
no_header(conn)
-- Second message, same connection: nothing carried over.
mail(conn)
rcpt(conn, "<c@direct.test>", SMFIR_CONTINUE)
eom(conn)
not_held(conn)
-- A held recipient in an aborted message leaves no trace either.
mail(conn)
rcpt(conn, "<d@hold.test>", SMFIR_CONTINUE)
check(mt.abort(conn) == nil, "abort")
mail(conn)
rcpt(conn, "<e@direct.test>", SMFIR_CONTINUE)
eom(conn)
not_held(conn)
mt.disconnect(conn)
