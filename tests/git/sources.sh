#!/usr/bin/env bash
# Specs from git, end to end through the vcm CLI against libvirt's test driver, over each
# transport: a bare repository over file://, `git daemon` on 127.0.0.1 (git://), sshd on
# 127.0.0.1 with a generated host key and user key (ssh://), and git http-backend behind TLS
# with a self-signed certificate (https://). For each: validate, plan, apply
# (the journal records the commit), a change merged from a branch, `vcm history`, and the
# failures that must keep the last good commit: missing ref, unreachable remote, auth failure,
# unknown host key, force-push.
set -euo pipefail
here=$(dirname "$0")
. "$VCM_SOURCE_DIR/tests/cli/lib.sh"
. "$here/lib.sh"
. "$here/specs.sh"

gf_init
trap gf_cleanup EXIT
state=$GF_DIR/state
mkdir -p "$state"

wt=$(gf_repo specs)
gf_specs_testdriver "$wt" gitsrc-td alpha
first=$(gf_commit "$wt" "alpha: first version")
bare=$(gf_bare specs "$wt")
gf_push "$wt" main

gf_git_daemon
gf_sshd "$state"
gf_https

# check_transport URL [vcm options...]
check_transport() {
  local url=$1; shift
  local extra=("$@") out head
  v() { local cmd=$1; shift; "$VCM" "$cmd" --state-dir "$state" --source "$url" "${extra[@]}" "$@"; }

  note "$url: validate, plan, apply"
  head=$(git -C "$bare" rev-parse main)
  v validate
  expect_exit 2 v plan >/dev/null
  : > "$state/journal.jsonl"
  v apply >/dev/null
  [ "$(grep -c . "$state/journal.jsonl")" -ge 7 ] || fail "$url: fewer than 7 steps journaled"
  ! grep -v "\"commit\":\"$head\"" "$state/journal.jsonl" ||
    fail "$url: the journal lines above do not record commit $head"

  note "$url: a change merged from a branch is applied and shows in history"
  gf_git "$wt" checkout -q -b "grow-$RANDOM"
  local n grow merge
  n=$(sed -n 's/.*count: \([0-9]*\),.*/\1/p' "$wt/clusters/alpha.yaml")
  sed -i "s/count: $n,/count: $((n + 1)),/" "$wt/clusters/alpha.yaml"
  grow=$(gf_commit "$wt" "alpha: $((n + 1)) nodes")
  gf_git "$wt" checkout -q main
  gf_git "$wt" merge -q --no-ff -m "Merge the request for alpha" "$grow"
  merge=$(gf_git "$wt" rev-parse HEAD)
  gf_push "$wt" main
  v apply >/dev/null
  grep -q "\"name\":\"alpha-compute-$n\".*\"commit\":\"$merge\"" "$state/journal.jsonl" ||
    fail "$url: alpha-compute-$n was not applied from the merge $merge"
  out=$(v history alpha)
  grep -q "^commit $grow (merged in ${merge:0:12})" <<<"$out" || fail "$url: history: $out"
  grep -q "^Author:    Alice Author <alice@example.org>" <<<"$out" || fail "$url: author: $out"
  grep -q "^Committer: Carol Committer <carol@example.org>" <<<"$out" || fail "$url: $out"
  grep -q "alpha: $((n + 1)) nodes" <<<"$out" || fail "$url: message missing: $out"
  grep -q "create  domain h1/alpha-compute-$n ok (spec ${merge:0:7})" <<<"$out" ||
    fail "$url: the applied step is not under its commit: $out"
  v history alpha -o json | python3 -c '
import json, sys
h = json.load(sys.stdin)
grow, merge, first = sys.argv[1:4]
c = h["commits"]
assert c[0]["commit"] == grow and c[0]["merge"] == merge, c[0]
assert any(a["name"] == "alpha-compute-" + sys.argv[4] and a["commit"] == merge
           for a in c[0]["applied"])
assert c[-1]["commit"] == first and c[-1]["merge"] is None, c[-1]
' "$grow" "$merge" "$first" "$n" || fail "$url: history -o json"

  note "$url: a missing ref is an error naming it"
  out=$(v plan --ref no-such-branch 2>&1) && fail "$url: missing ref accepted"
  grep -q "ref 'no-such-branch' is neither a branch nor a tag" <<<"$out" || fail "$url: $out"
}

check_transport "file://$bare"
check_transport "$GF_GIT_URL/specs.git"
check_transport "$GF_SSH_URL$bare" --ssh-key "$GF_SSH_KEY"
SSL_CERT_FILE=$GF_HTTPS_CA check_transport "$GF_HTTPS_URL/specs.git"

note "https: a certificate nobody vouches for is refused"
out=$("$VCM" plan --state-dir "$state" --source "$GF_HTTPS_URL/specs.git" 2>&1) &&
  fail "an untrusted certificate was accepted"
grep -q "the server's certificate is not trusted" <<<"$out" || fail "$out"

note "tags are refs too"
gf_git "$wt" tag v1 "$first"
gf_push "$wt" v1
out=$("$VCM" validate --state-dir "$state" --source "file://$bare" --ref v1 2>&1) ||
  fail "tag v1: $out"

note "ssh: a key the server does not know is an authentication failure"
ssh-keygen -q -t ed25519 -N '' -f "$GF_DIR/stranger"
out=$("$VCM" plan --state-dir "$state" --source "$GF_SSH_URL$bare" --ssh-key "$GF_DIR/stranger" 2>&1) &&
  fail "a stranger's key was accepted"
grep -q "authentication to .* failed (offered: $GF_DIR/stranger)" <<<"$out" || fail "$out"
grep -q "stays in force" <<<"$out" || fail "the last good commit is not named: $out"

note "ssh: the ssh agent is used when no key is given"
eval "$(ssh-agent -s)" >/dev/null
GF_PIDS+=("$SSH_AGENT_PID")
ssh-add -q "$GF_SSH_KEY" 2>/dev/null
HOME=$GF_DIR "$VCM" validate --state-dir "$state" --source "$GF_SSH_URL$bare" >/dev/null ||
  fail "the agent's key was not used"
kill "$SSH_AGENT_PID"; unset SSH_AUTH_SOCK

note "ssh: an unknown host key is refused"
mkdir -p "$GF_DIR/state2"
out=$("$VCM" plan --state-dir "$GF_DIR/state2" --source "$GF_SSH_URL$bare" --ssh-key "$GF_SSH_KEY" 2>&1) &&
  fail "an unknown host key was accepted"
grep -q "the host key of \[127.0.0.1\]:$GF_SSH_PORT is not known" <<<"$out" || fail "$out"

note "force-push: loaded, and reported as rewritten history"
"$VCM" validate --state-dir "$state" --source "$GF_GIT_URL/specs.git" >/dev/null
before=$(git -C "$bare" rev-parse main)
gf_git "$wt" commit -q --amend -m "the last merge, rewritten"
gf_git "$wt" push -q -f origin main
out=$("$VCM" validate --state-dir "$state" --source "$GF_GIT_URL/specs.git" 2>&1) || fail "$out"
grep -q "was rewritten (force-push): .* does not descend from ${before:0:12}" <<<"$out" ||
  fail "no rewrite warning: $out"

note "an unreachable remote is an error that keeps the last good commit"
kill "${GF_PIDS[0]}"  # the git daemon
for _ in $(seq 50); do kill -0 "${GF_PIDS[0]}" 2>/dev/null || break; sleep 0.1; done
out=$("$VCM" plan --state-dir "$state" --source "$GF_GIT_URL/specs.git" 2>&1) &&
  fail "plan succeeded without the remote"
grep -q "cannot fetch $GF_GIT_URL/specs.git: the remote is unreachable" <<<"$out" || fail "$out"
grep -q "the last commit loaded, .* stays in force" <<<"$out" || fail "$out"

note "validate --base on a git source: only what the change brings, located at the commit"
gf_git "$wt" checkout -q -b broken
echo "  bogus: 1" >> "$wt/clusters/alpha.yaml"
gf_commit "$wt" "a broken change" >/dev/null
gf_push "$wt" broken
out=$("$VCM" validate --state-dir "$state" --source "file://$bare" --ref broken --base main 2>&1) &&
  fail "a broken change passed validate --base"
grep -q "^file://$bare@[0-9a-f]\{7\}:clusters/alpha.yaml:[0-9]*:[0-9]*: error: " <<<"$out" ||
  fail "the error is not located at URL@commit:file:line:column: $out"
grep -q "1 error introduced since main" <<<"$out" || fail "$out"

note "history: usage"
"$VCM" history --help | grep -q "Usage: vcm history CLUSTER" || fail "history --help"
expect_exit 64 "$VCM" history

note "a directory has no history"
out=$("$VCM" history alpha --source "$wt" 2>&1) && fail "history of a directory"
grep -q "history is read from git" <<<"$out" || fail "$out"
echo PASS
