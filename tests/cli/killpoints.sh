#!/usr/bin/env bash
# Safety rule 5 on a real libvirtd: kill -9 of `vcm apply` at many points of a cluster's
# creation, then another apply converges with no duplicate and no orphan.
# Kill point i: after the k-th step has started (k = 1..steps, round robin) plus a jitter, so
# kills land before, inside and between steps.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$VCM_SOURCE_DIR/scripts/libvirtd-start.sh" >/dev/null
"$VCM_SOURCE_DIR/scripts/build-tiny-guest.sh" >/dev/null

points=${VCM_KILL_POINTS:-20}
run=$$
cluster=kp$run
site=test-kp$run
work=$(mktemp -d)
repo=$work/repo
cleanup() {
  [ -n "${apply_pid:-}" ] && kill -9 "$apply_pid" 2>/dev/null || true
  libvirt_cleanup "$cluster" "$site"
  rm -rf "$work"
}
trap cleanup EXIT
make_repo "$repo" "$cluster" "$site"
v() { "$VCM" "$@" --source "$repo" --state-dir "$work/state"; }
after=2030-01-01T00:00:01Z

steps=$(v plan -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["changes"]))' || true)
[ "${steps:-0}" -gt 0 ] || fail "plan shows no steps"
expected=$(printf 'domain %s\n' "$cluster-frontend" "$cluster-compute-0" "$cluster-compute-1" | sort)

for i in $(seq 1 "$points"); do
  k=$(( (i - 1) % steps + 1 ))
  jitter_ms=$(( (i * 37) % 250 ))
  out=$work/apply.$i.log
  # vcm itself in the background (not the shell function v): $! must be vcm's own pid.
  "$VCM" apply --parallel 2 --source "$repo" --state-dir "$work/state" > "$out" 2>&1 &
  apply_pid=$!
  # wait until the k-th step has started (or apply ended on its own)
  while kill -0 "$apply_pid" 2>/dev/null && [ "$(grep -c ': start\.\.\.$' "$out" || true)" -lt "$k" ]; do
    sleep 0.01
  done
  sleep "$(printf '0.%03d' "$jitter_ms")"
  kill -9 "$apply_pid" 2>/dev/null || true
  wait "$apply_pid" 2>/dev/null || true
  apply_pid=
  note "kill point $i: after step $k started + ${jitter_ms} ms ($(grep -c 'done$' "$out" || true) steps had finished)"

  v apply > "$work/finish.$i.log" 2>&1 || { cat "$work/finish.$i.log"; fail "kill point $i: the next apply failed"; }
  expect_exit 0 v plan
  domains=$(libvirt_inventory "$cluster" "$site" | grep '^domain' || true)
  [ "$domains" = "$expected" ] || fail "kill point $i: domains are: $domains"
  inv=$(libvirt_inventory "$cluster" "$site")
  # volumes: 3 disks and 3 seed images, each with its marker
  for kind_count in volume:6 marker:6 network:1; do
    n=$(grep -c "^${kind_count%%:*} " <<<"$inv" || true)
    [ "$n" -eq "${kind_count#*:}" ] || fail "kill point $i: $n ${kind_count%%:*}s, expected ${kind_count#*:}: $inv"
  done

  v apply --at "$after" > "$work/release.$i.log" 2>&1 || { cat "$work/release.$i.log"; fail "kill point $i: release failed"; }
  [ -z "$(libvirt_inventory "$cluster" "$site")" ] || fail "kill point $i: left after release: $(libvirt_inventory "$cluster" "$site")"
done
echo "PASS: $points kill points"
