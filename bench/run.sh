#!/bin/sh
# Run every benchmark and print its figures with the machine and date (docs/benchmarks.md).
#   bench/run.sh            loader, engine (fake provider), engine on libvirt's test driver,
#                           the service's pass, `vcm plan` answered by the service, reservation
#                           admission
#   bench/run.sh --apply    also apply of 50 domains on the real libvirtd (starts it; slow)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
echo "### load: 1,000 cluster files, load + validate"
"$here/load/run.sh"
echo
echo "### engine: no-op pass and plan, fake provider"
"$here/engine/run.sh"
if [ -x "$here/testdriver/run.sh" ]; then
        echo
        echo "### engine + libvirt provider on libvirt's test driver"
        "$here/testdriver/run.sh"
fi
echo
echo "### the service's pass from its cache (informer), 1,000 clusters"
"$here/informer/run.sh" 1000 9
echo
echo "### vcm plan answered by the service, 1,000 clusters"
"$here/service/plan.sh" 1000 15
echo
echo "### admission: 1,000 reservations over a year with weekly slots"
"$here/admission/run.sh"
if [ "${1:-}" = "--apply" ]; then
        echo
        echo "### apply of 50 domains on the real libvirtd, vcm against a minimal program"
        "$here/apply/run.sh" 50 8 3
fi
