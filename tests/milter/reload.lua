-- SPDX-License-Identifier: GPL-2.0-or-later
-- The trace header follows the configuration across a reload (SIGHUP):
-- off as configured, then on after the file says so.  The reload also
-- replaces the reply texts.
-- expect-log: reloaded
-- expect-log: RCPT <b@reject.test>: 550 5.7.1 changed by a reload
dofile(srcdir .. "/tests/milter/lib.lua")
local conn = open_conn()
mail(conn)
rcpt(conn, "<a@detour.test>", SMFIR_CONTINUE)
eom(conn)
no_header(conn)
local f = io.open(conf, "r")
local text = f:read("*a")
f:close()
text = text:gsub("trace_header = false", "trace_header = true")
text = text:gsub("mail to reject.test is refused by site policy", "changed by a reload")
f = io.open(conf, "w")
f:write(text)
f:close()
os.execute("kill -HUP " .. harness_pid)
mt.sleep(0.5)
mail(conn)
rcpt(conn, "<a@detour.test>", SMFIR_CONTINUE)
rcpt(conn, "<b@reject.test>", SMFIR_REPLYCODE)
eom(conn)
check(mt.getheader(conn, "X-Mxdetour", 0) ==
      "detoured via relay-fi (every MX address blocked): detour.test", "header after the reload")
mt.disconnect(conn)
