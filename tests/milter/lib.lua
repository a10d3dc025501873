-- SPDX-License-Identifier: GPL-2.0-or-later
-- tests/milter/lib.lua - helpers for the miltertest scripts, loaded with
-- dofile(srcdir .. "/tests/milter/lib.lua").  run.sh defines the globals
-- sock (the harness's socket), srcdir, conf (the harness's configuration
-- file, a copy the script may change) and harness_pid.
--
-- Each check stops the script with a message on stderr when it fails
-- (miltertest itself prints nothing for a Lua error, only exits 1).

local names = {
    [SMFIR_CONTINUE] = "continue", [SMFIR_ACCEPT] = "accept",
    [SMFIR_REJECT] = "reject", [SMFIR_TEMPFAIL] = "tempfail",
    [SMFIR_REPLYCODE] = "replycode (a reply text)", [SMFIR_DISCARD] = "discard",
}

function fail(what)
    io.stderr:write("FAIL: " .. what .. "\n")
    error(what, 2)
end

function check(cond, what)
    if not cond then fail(what) end
end

function expect_reply(conn, want, what)
    local got = mt.getreply(conn)
    if got ~= want then
        fail(string.format("%s: reply %s, want %s", what, names[got] or tostring(got),
                           names[want] or tostring(want)))
    end
end

-- Milliseconds of wall-clock time (Lua's os.time counts whole seconds).
function now_ms()
    local f = io.popen("date +%s%3N")
    local t = tonumber(f:read("*l"))
    f:close()
    return t
end

-- A connection that has been through connect; macros: optional list of
-- connect macro names and values, {"j", "mta.test", ...}.
function open_conn(macros)
    local conn = mt.connect(sock, 50, 0.1)
    if conn == nil then fail("cannot connect to " .. sock) end
    if macros then mt.macro(conn, SMFIC_CONNECT, table.unpack(macros)) end
    check(mt.conninfo(conn, "client.test", "127.0.0.1") == nil, "conninfo")
    expect_reply(conn, SMFIR_CONTINUE, "connect")
    return conn
end

function mail(conn, from)
    check(mt.mailfrom(conn, from or "<sender@example.org>") == nil, "MAIL FROM")
    expect_reply(conn, SMFIR_CONTINUE, "MAIL FROM")
end

-- RCPT TO:<to>, expecting reply want; returns the milliseconds it took.
function rcpt(conn, to, want)
    local t0 = now_ms()
    check(mt.rcptto(conn, to) == nil, "RCPT TO " .. to)
    local took = now_ms() - t0
    expect_reply(conn, want, "RCPT TO " .. to)
    return took
end

-- End of message, which must be accepted (continue).
function eom(conn)
    check(mt.eom(conn) == nil, "end of message")
    expect_reply(conn, SMFIR_CONTINUE, "end of message")
end

function no_header(conn)
    check(not mt.eom_check(conn, MT_HDRADD, "X-Mxdetour"), "no X-Mxdetour header")
end

function not_held(conn)
    check(not mt.eom_check(conn, MT_QUARANTINE), "message not quarantined")
end
