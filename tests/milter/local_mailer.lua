-- SPDX-License-Identifier: GPL-2.0-or-later
-- Recipients that Postfix delivers itself ({rcpt_mailer} local, virtual,
-- lmtp, error, discard) are not looked up; a remote transport is.  Mail
-- without the macro (non-Postfix MTAs, miltertest) is looked up.  Addresses
-- without a domain pass.
dofile(srcdir .. "/tests/milter/lib.lua")
local conn = open_conn()
mail(conn)
mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", "local")
rcpt(conn, "<a@reject.test>", SMFIR_CONTINUE)
mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", "virtual")
rcpt(conn, "<b@reject.test>", SMFIR_CONTINUE)
mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", "smtp")
rcpt(conn, "<c@reject.test>", SMFIR_REPLYCODE)
mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", "smtp")
rcpt(conn, "<postmaster>", SMFIR_CONTINUE)
rcpt(conn, "<weird@@>", SMFIR_CONTINUE)
eom(conn)
mt.disconnect(conn)
