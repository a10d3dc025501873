-- SPDX-License-Identifier: GPL-2.0-or-later
-- harness: -T
-- With trace_header off, a detoured message carries no X-Mxdetour header.
dofile(srcdir .. "/tests/milter/lib.lua")
local conn = open_conn()
mail(conn)
rcpt(conn, "<a@detour.test>", SMFIR_CONTINUE)
rcpt(conn, "<b@detour2.test>", SMFIR_CONTINUE)
eom(conn)
no_header(conn)
mt.disconnect(conn)
