-- SPDX-License-Identifier: GPL-2.0-or-later
-- A recipient whose destination is routed directly passes unchanged: no
-- reply of its own, no header, no quarantine.
dofile(srcdir .. "/tests/milter/lib.lua")
local conn = open_conn()
mail(conn)
rcpt(conn, "<user@direct.test>", SMFIR_CONTINUE)
rcpt(conn, "<User@Direct.Test.>", SMFIR_CONTINUE)
eom(conn)
no_header(conn)
not_held(conn)
mt.disconnect(conn)
