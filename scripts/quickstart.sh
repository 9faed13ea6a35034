#!/usr/bin/env bash
# Set everything up and bring the quickstart virtual cluster up for real on this host:
# libvirtd, a tiny guest image, then vcm validate, plan, apply and status on examples/quickstart.
# Safe to run twice: the second apply finds nothing to do.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${VCM_BUILD_DIR:-$here/build}
src=$here/examples/quickstart

"$here/scripts/setup.sh" "$build"
"$here/scripts/build-tiny-guest.sh"
vcm=$build/cli/vcm

echo "== vcm validate"
"$vcm" validate --source "$src"
echo "== vcm plan"
rc=0; "$vcm" plan --source "$src" || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || exit "$rc"
echo "== vcm apply"
"$vcm" apply --source "$src" --state-dir /var/lib/vcm
echo "== vcm status"
"$vcm" status --source "$src"
cat <<EOT

The quickstart cluster 'demo' is up: 'virsh list' shows its domains, their serial consoles are
logged under /var/log/vcm/ (each guest prints what its seed says: VCM-SEED lines; the seed
itself: $vcm seed demo compute-0 --source $src). To release it, apply as of a time after its reservation window:
  $vcm apply --source $src --at 2030-01-01T00:00:01Z
EOT
