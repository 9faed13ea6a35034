# Shared helpers for the CLI-level tests: a private copy of the quickstart repository with names
# unique to this run, and cleanup of exactly what this run made.
# Needs: VCM (the vcm binary), VCM_SOURCE_DIR.

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }

# expect_exit CODE CMD...: run CMD, fail unless it exits CODE.
expect_exit() {
  local want=$1; shift
  local rc=0
  "$@" || rc=$?
  [ "$rc" -eq "$want" ] || fail "expected exit $want, got $rc: $*"
}

# make_repo DIR CLUSTER SITE: the quickstart example with its cluster and site renamed, so that a
# test touches only objects it made (vcm's marks carry the site and cluster).
make_repo() {
  local dir=$1 cluster=$2 site=$3
  mkdir -p "$dir"
  cp -r "$VCM_SOURCE_DIR/examples/quickstart/." "$dir/"
  sed -i "s/^  name: quickstart$/  name: $site/" "$dir/site.yaml"
  # Bridges are named by network id: a range of the run's own keeps them apart from the
  # quickstart's (ids from 1) and from other runs.
  local from=$((1000 + $$ % 3000))
  sed -i "s/^    backend: bridge$/    backend: bridge\n    vlanRange: {from: $from, to: $((from + 8))}/" "$dir/site.yaml"
  sed -i "s/^  name: demo$/  name: $cluster/" "$dir/clusters/demo.yaml"
  mv "$dir/clusters/demo.yaml" "$dir/clusters/$cluster.yaml"
}

# Networks whose vcm mark names SITE (their names carry a network id, not the cluster).
site_networks() {
  local site=$1 n xml
  for n in $(virsh -q net-list --all --name); do
    # read the whole XML first: grep -q closing the pipe early would fail it under pipefail
    xml=$(virsh net-dumpxml "$n" 2>/dev/null || true)
    grep -q "site=\"$site\"" <<<"$xml" && echo "$n"
  done
  return 0
}

# Everything libvirt holds of the test: domains and volumes whose names start with PREFIX (the
# test's unique cluster name), volume markers of those volumes, networks marked with SITE.
libvirt_inventory() {
  local prefix=$1 site=$2
  { virsh -q list --all --name | sed -n "s/^\($prefix.*\)/domain \1/p"
    site_networks "$site" | sed 's/^/network /'
    virsh -q vol-list vcm 2>/dev/null | awk '{print $1}' | sed -n "s/^\($prefix.*\)/volume \1/p"
    virsh -q vol-list vcm 2>/dev/null | awk '{print $1}' |
      sed -n "s/^\(\.vcm\.[0-9a-f]\{8\}\.$prefix.*\)/marker \1/p"
    virsh -q vol-list vcm 2>/dev/null | awk '{print $1}' |
      sed -n "s/^\(\.vcm-seed\.[0-9a-f]\{8\}\.$prefix.*\)/marker \1/p"
  } | sort
}

# Remove every libvirt object of the test (as libvirt_inventory finds them).
libvirt_cleanup() {
  local prefix=$1 site=$2 d n v
  for d in $(virsh -q list --all --name | grep "^$prefix" || true); do
    virsh -q destroy "$d" >/dev/null 2>&1 || true
    virsh -q undefine "$d" --nvram >/dev/null 2>&1 || virsh -q undefine "$d" >/dev/null 2>&1 || true
  done
  for n in $(site_networks "$site"); do
    virsh -q net-destroy "$n" >/dev/null 2>&1 || true
    virsh -q net-undefine "$n" >/dev/null 2>&1 || true
  done
  for v in $(virsh -q vol-list vcm 2>/dev/null | awk '{print $1}' |
             grep -e "^$prefix" -e "^\.vcm\.[0-9a-f]\{8\}\.$prefix" \
                  -e "^\.vcm-seed\.[0-9a-f]\{8\}\.$prefix" || true); do
    virsh -q vol-delete "$v" --pool vcm >/dev/null 2>&1 || true
  done
}

# Everything libvirt holds that is not the test's (domains, networks, pool volumes), sorted; a
# test compares it before and after to show it touched nothing else.
libvirt_others() {
  local prefix=$1 site=$2
  { virsh -q list --all --name | sed '/^$/d; s/^/domain /'
    virsh -q net-list --all --name | sed '/^$/d; s/^/network /'
    virsh -q vol-list vcm 2>/dev/null | awk 'NF {print "volume " $1}'
  } | sort | comm -23 - <(libvirt_inventory "$prefix" "$site")
}
