-- SPDX-License-Identifier: GPL-2.0-or-later
-- A detoured recipient passes unchanged (the route table does the detour);
-- with the trace header off (the default) the message is not marked.
dofile(srcdir .. "/tests/milter/lib.lua")
local conn = open_conn()
mail(conn)
rcpt(conn, "<user@detour.test>", SMFIR_CONTINUE)
rcpt(conn, "<user@manual.test>", SMFIR_CONTINUE)
eom(conn)
no_header(conn)
not_held(conn)
mt.disconnect(conn)
