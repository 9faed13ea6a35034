# shellcheck shell=bash
# Sourced by the lab checks. A check talks to a session started with `lab.sh up`
# (VCM_LAB_STATE names it) and removes whatever it made, also when it fails.
set -euo pipefail
LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lab.sh
CHECK=$(basename "$0" .sh)

note() { echo "[$CHECK] $*"; }
fail() { echo "[$CHECK] FAIL: $*" >&2; exit 1; }
run() { "$LAB" run "$@"; }

# The session must exist; without QEMU it could not have been made (exit 77 = skip).
"$LAB" probe --hosts
"$LAB" status > /dev/null || fail "no lab session in ${VCM_LAB_STATE:-/tmp/vcm-lab}: run lab.sh up first"
