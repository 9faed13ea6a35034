#!/usr/bin/env bash
# Tier 2 (libvirt's test driver, inside the service's own process): `vcm plan` answered by a
# running `vcm reconcile --watch` from its cache. The test driver's state lives only in the
# process that opened it, so a plan that observed by itself would see nothing of the service's
# domains and plan to create them all: "No changes" can only have come from the service.
# Checked: no-op, JSON, a relative path to the same specs, an edit not yet reconciled (long
# debounce), --at after the window, a spec error, --refresh, other specs (declined: planned
# alone), and a stopped or killed service (planned alone, silently).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../git/specs.sh"

work=$(mktemp -d)
repo=$work/repo
state=$work/state
svc_pid=
cleanup() {
  [ -n "$svc_pid" ] && kill "$svc_pid" 2>/dev/null && wait "$svc_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# Site on the test driver; cluster `keep` (frontend + 2 nodes, window 2026-11-01 .. 2030-01-01).
gf_specs_testdriver "$repo" svcplan keep

wait_for() {
  local secs=$1 what=$2; shift 2
  for _ in $(seq $((secs * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "--- service log" >&2; tail -n 40 "$work/log" >&2 || true
  fail "timed out after ${secs}s waiting for: $what"
}
ready() {
  python3 - "$state/status.json" "$1" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["condition"]["state"] == "Ready", doc["condition"]
c = [c for c in doc["clusters"] if c["name"] == "keep"]
assert c and c[0]["state"] == "Ready" and len(c[0]["nodes"]) == int(sys.argv[2]), c
PY
}
# plan EXPECTED_EXIT ARGS...: run `vcm plan` on the service's state dir; output in $out, $err.
plan() {
  local want=$1 rc=0; shift
  "$VCM" plan --state-dir "$state" "$@" > "$work/out" 2> "$work/err" || rc=$?
  out=$(cat "$work/out"); err=$(cat "$work/err")
  [ "$rc" -eq "$want" ] || { echo "$out"; echo "$err" >&2; fail "vcm plan $* exited $rc, not $want"; }
}
served() { grep -q "planned by the service (pid $svc_pid)" <<<"$err" || fail "not from the service: $err"; }

# A long debounce: an edit is not reconciled for 30 s, so a plan right after it shows the edit
# only if the service reads the source for the plan.
"$VCM" reconcile --watch --source "$repo" --state-dir "$state" --debounce 30s --resync 1h \
  > "$work/log" 2>&1 &
svc_pid=$!
wait_for 60 "keep Ready" ready 3
[ -S "$state/vcm.sock" ] || fail "no control socket"
[ "$(stat -c %a "$state/vcm.sock")" = 600 ] || fail "socket mode $(stat -c %a "$state/vcm.sock")"

note "no changes, from the service's cache"
plan 0 --source "$repo"
served
grep -q "No changes" <<<"$out" || fail "no-op plan says: $out"

note "--refresh observes here: this process's test driver is empty, so everything is to create"
plan 2 --source "$repo" --refresh
grep -q "planned by the service" <<<"$err" && fail "--refresh was answered by the service"
grep -q "keep-frontend" <<<"$out" || fail "--refresh plan lacks the frontend: $out"

note "JSON, and the same specs named by a relative path"
(cd "$repo" && "$VCM" plan --state-dir "$state" -o json > "$work/out" 2> "$work/err") ||
  fail "JSON plan from a relative path exited $?"
err=$(cat "$work/err"); served
python3 - "$work/out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["format_version"] == 1 and doc["changes"] == [], doc
PY

note "an edit not yet reconciled is in the plan"
sed -i 's/count: 2,/count: 3,/' "$repo/clusters/keep.yaml"
plan 2 --source "$repo"
served
grep -q "keep-compute-2" <<<"$out" || fail "plan after the edit lacks compute-2: $out"
grep -q "keep-compute-2.*create\|+.*keep-compute-2" <<<"$out" || fail "compute-2 not created: $out"
grep -q "pass (source change" "$work/log" && fail "the edit was reconciled already (debounce)"

note "--at after the window: everything released"
plan 2 --source "$repo" --at 2030-01-02T00:00:00Z
served
grep -q -- "- .*keep-frontend\|keep-frontend.*destroy" <<<"$out" || fail "no release at --at: $out"
grep -q "window" <<<"$out" || fail "the release gives no reason: $out"

note "spec errors: reported with their file, and pruning stopped (exit 1), as a plan of its own"
printf 'apiVersion: vcm/v1\nkind: VirtualCluster\nmetadata: {name: bad}\nspec: {bogus: 1}\n' \
  > "$repo/clusters/bad.yaml"
plan 1 --source "$repo"
served
grep -q "$repo/clusters/bad.yaml:[0-9]*:[0-9]*: error: .*bogus" <<<"$err" ||
  fail "the spec error is not reported with its file: $err"
grep -q "4 spec errors" <<<"$err" || fail "no spec error summary: $err"
grep -q "error: pruning stopped" <<<"$err" || fail "pruning not stopped: $err"
rm "$repo/clusters/bad.yaml"

note "other specs: the service declines, the plan observes by itself"
cp -r "$repo" "$work/other"
plan 2 --source "$work/other"
grep -q "did not plan this (it reconciles dir:$repo, not dir:$work/other)" <<<"$err" ||
  fail "no reason given for planning alone: $err"
grep -q "keep-frontend" <<<"$out" || fail "the plan of its own lacks the frontend: $out"
grep -q "plan asked: declined" "$work/log" || fail "the service did not log the request"

note "SIGTERM: the socket is removed, and plan observes by itself without a word"
kill -TERM "$svc_pid"; wait "$svc_pid" || fail "the service exited $? on SIGTERM"; svc_pid=
[ ! -e "$state/vcm.sock" ] || fail "the socket file is left behind"
plan 2 --source "$repo"
[ -z "$err" ] || fail "unexpected stderr without a service: $err"

note "kill -9 leaves the socket file: plan still observes by itself, a new service takes over"
"$VCM" reconcile --watch --source "$repo" --state-dir "$state" --resync 1h > "$work/log" 2>&1 &
svc_pid=$!
wait_for 60 "keep Ready with 3 nodes" ready 4
kill -9 "$svc_pid"; wait "$svc_pid" 2>/dev/null || true; svc_pid=
[ -S "$state/vcm.sock" ] || fail "expected the dead service's socket file"
plan 2 --source "$repo"
[ -z "$err" ] || fail "unexpected stderr with a dead service's socket: $err"
"$VCM" reconcile --watch --source "$repo" --state-dir "$state" --resync 1h > "$work/log" 2>&1 &
svc_pid=$!
wait_for 60 "keep Ready again" ready 4
plan 0 --source "$repo"
served
note "ok"
