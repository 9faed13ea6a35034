#!/usr/bin/env bash
# `vcm agent`, the real binary, driven over stdin/stdout: the handshake and its version check,
# malformed input, an unknown provider, a request before hello, end of input. Stdout must carry
# nothing but protocol lines (each one JSON), whatever comes in.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d /tmp/vcm-agent-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# agent_run FILE: feed FILE to `vcm agent`; replies in $tmp/out, stderr in $tmp/err, rc in $rc.
agent_run() {
  rc=0
  "$VCM" agent <"$1" >"$tmp/out" 2>"$tmp/err" || rc=$?
}
# reply ID: the reply to request ID (replies may come in any order; they carry the id).
reply() { grep -F "\"id\":$1," "$tmp/out" || true; }
# has ID TEXT: that reply contains TEXT (the agent writes compact JSON: "key":"value", no spaces).
has() { reply "$1" | grep -qF -- "$2"; }

"$VCM" agent --help | grep -q "Usage: vcm agent" || fail "vcm agent --help"
"$VCM" --help | grep -q "agent" || fail "vcm --help lists agent"
expect_exit 64 "$VCM" agent extra-argument

note "handshake and version check"
cat >"$tmp/in" <<'IN'
{"v":1,"id":1,"op":"observe","session":1}
{"v":1,"id":2,"op":"hello","host":"gw1"}
{"v":2,"id":3,"op":"hello","host":"gw1"}
IN
agent_run "$tmp/in"
[ "$rc" -eq 0 ] || fail "agent exit $rc at end of input"
[ "$(wc -l <"$tmp/out")" -eq 3 ] || fail "three requests, $(wc -l <"$tmp/out") replies"
has 1 '"code":"EPROTO"' || fail "request before hello: $(reply 1)"
has 2 '"ok":true' || fail "hello: $(reply 2)"
has 2 '"protocol":1' || fail "hello protocol: $(reply 2)"
has 2 '"host":"gw1"' || fail "hello host: $(reply 2)"
version=$("$VCM" --version | awk '{print $2}')
has 2 "\"version\":\"$version\"" || fail "hello version: $(reply 2)"
has 3 '"code":"EPROTONOSUPPORT"' || fail "version 2: $(reply 3)"
has 3 "protocol version 2 not supported" || fail "version message: $(reply 3)"

note "malformed input and an unknown provider"
{
  echo '{"v":1,"id":1,"op":"hello","host":"st1"}'
  echo 'this is not json'
  printf '\x00\xff\xfe garbage\n'
  echo '{"v":1,"id":"x","op":"hello"}'
  echo '{"v":1,"id":4,"op":"open","provider":"no-such-provider","site":{"name":"lab","hosts":[{"name":"st1"}]},"host":"st1"}'
  echo '{"v":1,"id":5,"op":"observe","session":42}'
  head -c 300000 /dev/urandom | tr -d '\n' ; echo
  echo '{"v":1,"id":7,"op":"hello","host":"st1"}'
} >"$tmp/in"
agent_run "$tmp/in"
[ "$rc" -eq 0 ] || fail "agent exit $rc after garbage"
[ "$(wc -l <"$tmp/out")" -eq 8 ] || fail "eight requests, $(wc -l <"$tmp/out") replies"
python3 -c 'import json,sys
for l in open(sys.argv[1]): assert json.loads(l)["v"] == 1' "$tmp/out" || fail "stdout has a line that is not a reply"
# The four lines that could not be read are answered with id null, each an error naming the host.
[ "$(grep -c '"id":null,"ok":false' "$tmp/out")" -eq 4 ] || fail "four unreadable lines: $(cat "$tmp/out")"
[ "$(grep '"id":null' "$tmp/out" | grep -c '"host":"st1"')" -eq 4 ] || fail "errors without the host"
[ "$(grep '"id":null' "$tmp/out" | grep -c '"code":"EBADMSG"')" -eq 4 ] || fail "unreadable lines: EBADMSG"
grep -qF '"message":"agent on st1: not JSON:' "$tmp/out" || fail "not JSON message"
grep -qF "'id' must be an integer" "$tmp/out" || fail "bad id message"
has 1 '"ok":true' || fail "hello: $(reply 1)"
has 4 '"code":"ENOENT"' || fail "unknown provider: $(reply 4)"
has 4 '"provider":"no-such-provider"' || fail "unknown provider named: $(reply 4)"
has 4 '"host":"st1"' || fail "unknown provider host: $(reply 4)"
has 4 "agent on st1: unknown provider 'no-such-provider'" || fail "unknown provider message: $(reply 4)"
has 5 '"code":"EBADF"' || fail "no session: $(reply 5)"
has 7 '"ok":true' || fail "hello after garbage: $(reply 7)"

note "end of input: exit 0, nothing on stdout"
agent_run /dev/null
[ "$rc" -eq 0 ] || fail "empty input: exit $rc"
[ ! -s "$tmp/out" ] || fail "empty input wrote: $(cat "$tmp/out")"

note "a client that goes away: the agent exits (broken pipe), it does not hang"
rc=0
{ echo '{"v":1,"id":1,"op":"hello"}'; sleep 1; echo '{"v":1,"id":2,"op":"hello"}'; } |
  "$VCM" agent 2>"$tmp/err" | head -c 0 || rc=$?
grep -q "Broken pipe" "$tmp/err" || fail "agent without a reader: $(cat "$tmp/err")"
echo PASS
