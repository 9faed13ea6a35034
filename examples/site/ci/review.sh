#!/bin/sh
# Review a pull request to a vcm spec repository, as CI runs it:
#   1. vcm validate --base BASE   problems the change introduces (syntax, semantics, and
#                                 reservations that do not fit next to the approved ones)
#   2. vcm plan                   what merging would do to the site right now
#   3. vcm calendar CLUSTER...    the calendar around each added or changed reservation
# Usage: ci/review.sh [--no-plan] [BASE]     (BASE: the target branch, default origin/main)
# Run at the root of the spec repository with vcm on PATH. `vcm plan` observes the site's hosts,
# so the runner needs read access to their libvirt URIs; --no-plan skips it where it has none.
# VCM_AT=TIME evaluates everything at another instant (vcm's --at), for rehearsals and tests.
# Exit: 0 fine, 1 the change introduces errors or plan failed, 64 usage.
set -u
plan=1
if [ "${1:-}" = --no-plan ]; then plan=0; shift; fi
base=${1:-origin/main}
git rev-parse --verify -q "$base^{commit}" > /dev/null ||
        { echo "review: '$base' is not a commit here (fetch the target branch first)" >&2; exit 64; }
rc=0

echo "== vcm validate --base $base"
vcm validate --source . ${VCM_AT:+--at "$VCM_AT"} --base "$base" || rc=1

if [ "$plan" = 1 ]; then
        echo "== vcm plan"
        vcm plan --source . ${VCM_AT:+--at "$VCM_AT"}
        case $? in
        0 | 2) ;;          # 2: there are changes, which is what a pull request is for
        *) rc=1 ;;
        esac
fi

# Cluster files the change adds or modifies (deleted ones have no window left to show).
changed=$(git diff --name-only --diff-filter=AM "$base"...HEAD -- 'clusters/*.yaml' 'clusters/*.yml')
if [ -n "$changed" ]; then
        echo "== vcm calendar around" $changed
        # shellcheck disable=SC2086 # one argument per file; spec file names have no spaces
        vcm calendar --source . ${VCM_AT:+--at "$VCM_AT"} $changed || rc=1
fi
exit "$rc"
