-- SPDX-License-Identifier: GPL-2.0-or-later
-- Bounds: a message with more than 1000 recipients has the rest pass
-- unexamined (logged once), and the milter keeps serving.
-- expect-log: has more than 1000 recipients; the rest pass unexamined
dofile(srcdir .. "/tests/milter/lib.lua")
local conn = open_conn()
mail(conn)
for i = 1, 1000 do
    check(mt.rcptto(conn, "<u" .. i .. "@direct.test>") == nil, "RCPT " .. i)
end
rcpt(conn, "<x@reject.test>", SMFIR_CONTINUE)
eom(conn)
mail(conn)
rcpt(conn, "<y@reject.test>", SMFIR_REPLYCODE)
eom(conn)
mt.disconnect(conn)
