-- SPDX-License-Identifier: GPL-2.0-or-later
-- A local submission (Postfix's cleanup runs non_smtpd_milters for sendmail
-- and pickup mail with the macro j but no {daemon_addr}) cannot have one
-- recipient refused: Postfix would call that a configuration error and
-- retry the message from the maildrop forever.  So tempfail and reject
-- recipients pass there, while hold still holds the message.  SMTP mail
-- (smtpd sends {daemon_addr}) is refused as usual.
-- expect-log: RCPT <a@reject.test>: policy reject, but a local submission: passes
dofile(srcdir .. "/tests/milter/lib.lua")
local conn = open_conn({"j", "mta.test", "{daemon_name}", "mta.test"})
mail(conn)
rcpt(conn, "<a@reject.test>", SMFIR_CONTINUE)
rcpt(conn, "<b@tempfail.test>", SMFIR_CONTINUE)
rcpt(conn, "<c@hold.test>", SMFIR_CONTINUE)
eom(conn)
check(mt.eom_check(conn, MT_QUARANTINE), "the local submission is held")
mt.disconnect(conn)

conn = open_conn({"j", "mta.test", "{daemon_addr}", "127.0.0.1"})
mail(conn)
rcpt(conn, "<d@reject.test>", SMFIR_REPLYCODE)
rcpt(conn, "<e@tempfail.test>", SMFIR_REPLYCODE)
eom(conn)
mt.disconnect(conn)
