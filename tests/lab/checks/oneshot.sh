#!/bin/bash
# One-shot mode: a command's output and exit status come back from the guest; the
# guest has the lab's modules; a hanging guest is killed and reported (124).
set -euo pipefail
LAB=$(cd "$(dirname "$0")/.." && pwd)/lab.sh
"$LAB" probe
out=$("$LAB" oneshot 'uname -r; modprobe -a 8021q dm-mod target_core_mod iscsi_target_mod bridge &&
    grep -c -E "^(8021q|dm_mod|target_core_mod|iscsi_target_mod|bridge) " /proc/modules; exit 7') && rc=0 || rc=$?
echo "$out"
[ $rc = 7 ] || { echo "FAIL: exit status $rc, want 7" >&2; exit 1; }
[ "$(sed -n 1p <<< "$out")" != "$(uname -r)" ] || { echo "FAIL: ran on the host kernel?" >&2; exit 1; }
[ "$(sed -n 2p <<< "$out")" = 5 ] || { echo "FAIL: modules missing in the guest" >&2; exit 1; }

t0=$SECONDS
"$LAB" oneshot --timeout "${VCM_LAB_HANG_TIMEOUT:-40}" 'sleep 100000' && rc=0 || rc=$?
[ $rc = 124 ] || { echo "FAIL: a hanging guest gave $rc, want 124" >&2; exit 1; }
if pgrep -f 'vcm-lab-oneshot\.' > /dev/null; then echo "FAIL: QEMU left running" >&2; exit 1; fi
echo "hanging guest killed after $((SECONDS - t0)) s; ok"
