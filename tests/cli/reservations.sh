#!/usr/bin/env bash
# Reservations through the CLI: a request that does not fit next to an approved one is an error at
# its window, `validate --base` blames the request and not what was merged before, and the
# calendar shows both. Works on a private git copy of examples/site.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=$work/site
cp -r "$VCM_SOURCE_DIR/examples/site" "$repo"
git_() { git -C "$repo" -c user.name=ci -c user.email=ci@example.org "$@"; }
git_ init -q -b main
git_ add -A && git_ commit -qm "site"
at=2026-11-26T00:00:00Z

note "the approved site fits"
"$VCM" validate --source "$repo" --at "$at"
"$VCM" validate --source "$repo" --at "$at" --base main

note "a request overlapping bio-farm with more than the vm-servers hold"
git_ checkout -q -b request
sed -e 's/^  name: bio-farm$/  name: big-run/' -e 's/count: 8$/count: 16/' \
    -e 's|subnet: 10.20.0.0/24|subnet: 10.29.0.0/24|' \
    "$repo/clusters/bio-farm.yaml" > "$repo/clusters/big-run.yaml"
git_ add -A && git_ commit -qm "big-run"
line=$(grep -n '^  window:' "$repo/clusters/big-run.yaml" | cut -d: -f1)

out=$("$VCM" validate --source "$repo" --at "$at" 2>&1) && fail "validate accepted an overbooking: $out"
grep -q "^$repo/clusters/big-run.yaml:$((line + 1)):[0-9]*: error: cluster big-run does not fit from 2026-12-07T08:00:00+01:00: .*overlaps with bio-farm" <<<"$out" ||
  fail "no located capacity error for big-run: $out"
! grep -q "clusters/bio-farm.yaml" <<<"$out" || fail "the approved reservation was blamed: $out"

out=$("$VCM" validate --source "$repo" --at "$at" --base main 2>&1) && fail "--base accepted the request: $out"
grep -q "cluster big-run does not fit" <<<"$out" || fail "--base did not blame the request: $out"

note "the spec repository's CI job (examples/site/ci/review.sh) blames the request, shows its window"
mkdir -p "$work/bin" && ln -sf "$VCM" "$work/bin/vcm"
rc=0; out=$(cd "$repo" && PATH="$work/bin:$PATH" VCM_AT=$at ci/review.sh --no-plan main 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "review.sh: exit $rc, want 1: $out"
grep -q "cluster big-run does not fit" <<<"$out" || fail "review.sh did not blame the request: $out"
grep -q "^Reservations on site lab, 2026-12-06T07:00:00Z .. 2026-12-29T07:00:00Z" <<<"$out" ||
  fail "review.sh did not show the calendar around big-run's window: $out"
grep -q "^big-run .*!" <<<"$out" || fail "the calendar excerpt does not mark big-run: $out"
rc=0; out=$(cd "$repo" && PATH="$work/bin:$PATH" ci/review.sh --no-plan no-such-ref 2>&1) || rc=$?
[ "$rc" = 64 ] || fail "review.sh with a bad base: exit $rc: $out"

note "--base with the request merged already reports nothing new"
out=$("$VCM" validate --source "$repo" --at "$at" --base request 2>&1) ||
  fail "--base of the same tree failed: $out"
! grep -q "error:" <<<"$out" || fail "--base of the same tree reported errors: $out"

note "the calendar shows both, and big-run as not fitting"
"$VCM" calendar --source "$repo" --from 2026-12-01T00:00:00Z --to 2027-01-01T00:00:00Z -o json > "$work/cal.json"
python3 - "$work/cal.json" <<'PY'
import json, sys
cal = json.load(open(sys.argv[1]))
text = json.dumps(cal)
assert "big-run" in text and "bio-farm" in text, text[:400]
PY
"$VCM" calendar --source "$repo" --from 2026-12-01T00:00:00Z --to 2027-01-01T00:00:00Z -o svg > "$work/cal.svg"
grep -q "<svg" "$work/cal.svg" || fail "no SVG"
"$VCM" calendar --source "$repo" --from 2026-12-01T00:00:00Z --to 2027-01-01T00:00:00Z -o svg > "$work/cal2.svg"
cmp -s "$work/cal.svg" "$work/cal2.svg" || fail "the SVG differs between two runs on the same input"
"$VCM" calendar --source "$repo" --from 2026-12-01T00:00:00Z --to 2027-01-01T00:00:00Z -o png > "$work/cal.png"
[ "$(head -c 8 "$work/cal.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "no PNG signature"
rc=0; "$VCM" calendar --source "$repo" -o gif > /dev/null 2> "$work/gif.err" || rc=$?
[ "$rc" = 64 ] && grep -q "'svg' or 'png'" "$work/gif.err" || fail "-o gif: exit $rc, $(cat "$work/gif.err")"
echo PASS
