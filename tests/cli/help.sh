#!/usr/bin/env bash
# The CLI's surface: --help for the binary and each command, exit codes for usage errors.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
"$VCM" --help | grep -q "Usage: vcm COMMAND" || fail "vcm --help"
for c in validate plan apply status calendar history seed reconcile agent; do
  "$VCM" "$c" --help | grep -q "Usage: vcm $c" || fail "vcm $c --help"
done
expect_exit 64 "$VCM"
expect_exit 64 "$VCM" no-such-command
expect_exit 64 "$VCM" plan --no-such-option
expect_exit 64 "$VCM" plan -o yaml
expect_exit 64 "$VCM" plan --at yesterday
expect_exit 64 "$VCM" apply --parallel 0
expect_exit 1 "$VCM" validate --source /nonexistent/specs
msg=$("$VCM" validate --source /nonexistent/specs 2>&1 || true)
echo "$msg" | grep -q "cannot read the spec source '/nonexistent/specs'" || fail "unreadable source message: $msg"
echo PASS
