#!/usr/bin/env bash
# Tier 2 (libvirt's test driver, inside the service's process): `vcm reconcile --watch` fed from
# remote git sources, which are polled at --interval: `git daemon` on 127.0.0.1 (git://) and
# sshd on 127.0.0.1 with generated keys (ssh://). For each, without restarting the service: a
# pushed commit that adds a cluster is applied, one that removes it releases it. Checked through
# STATE/status.json.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../git/lib.sh"
. "$(dirname "$0")/../git/specs.sh"

gf_init
svc_pid=
cleanup() {
  [ -n "$svc_pid" ] && kill "$svc_pid" 2>/dev/null && wait "$svc_pid" 2>/dev/null || true
  gf_cleanup
}
trap cleanup EXIT

wt=$(gf_repo specs)
gf_specs_testdriver "$wt" svcremote keep
gf_commit "$wt" "site and keep" > /dev/null
bare=$(gf_bare specs "$wt")
gf_push "$wt" main
gf_git_daemon
gf_sshd "$GF_DIR/state-ssh"

# applied STATUS_FILE COMMIT [CLUSTER STATE]...: the service applied COMMIT and says so.
applied() {
  python3 - "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["applied_commit"] == sys.argv[2], doc["applied_commit"]
by = {c["name"]: c for c in doc["clusters"]}
for i in range(3, len(sys.argv), 2):
    c = by.get(sys.argv[i])
    if sys.argv[i + 1] == "Released" and c is None:
        continue
    assert c and c["state"] == sys.argv[i + 1], c
PY
}
wait_for() {
  local what=$1; shift
  for _ in $(seq 160); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "--- service log" >&2; tail -n 40 "$GF_DIR/log" >&2 || true
  fail "timed out waiting for: $what"
}

# check URL STATE_DIR [vcm options...]
check() {
  local url=$1 state=$2; shift 2
  note "$url: the service applies what is pushed"
  mkdir -p "$state"
  "$VCM" reconcile --watch --source "$url" --state-dir "$state" --interval 1s --debounce 100ms \
    --resync 1h "$@" > "$GF_DIR/log" 2>&1 &
  svc_pid=$!
  local head
  head=$(git -C "$bare" rev-parse main)
  wait_for "keep Ready at $head" applied "$state/status.json" "$head" keep Ready

  sed -e 's/name: keep/name: extra/' -e 's|10.20.0.0/24|10.21.0.0/24|' \
    "$wt/clusters/keep.yaml" > "$wt/clusters/extra.yaml"
  head=$(gf_commit "$wt" "add extra")
  gf_push "$wt" main
  wait_for "extra Ready at $head" applied "$state/status.json" "$head" keep Ready extra Ready

  gf_git "$wt" rm -q clusters/extra.yaml
  head=$(gf_commit "$wt" "remove extra")
  gf_push "$wt" main
  wait_for "extra released at $head" applied "$state/status.json" "$head" keep Ready extra Released

  kill -TERM "$svc_pid"
  local rc=0
  wait "$svc_pid" || rc=$?
  svc_pid=
  [ "$rc" -eq 0 ] || { tail -n 60 "$GF_DIR/log" >&2; fail "$url: exit $rc on SIGTERM"; }
}

check "$GF_GIT_URL/specs.git" "$GF_DIR/state-git"
check "$GF_SSH_URL$bare" "$GF_DIR/state-ssh" --ssh-key "$GF_SSH_KEY"
note "ok"
