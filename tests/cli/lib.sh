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
  sed -i "s/^  name: demo$/  name: $cluster/" "$dir/clusters/demo.yaml"
  mv "$dir/clusters/demo.yaml" "$dir/clusters/$cluster.yaml"
}

# Everything libvirt holds whose name starts with PREFIX: "kind name" lines, sorted.
libvirt_inventory() {
  local prefix=$1
  { virsh -q list --all --name | sed -n "s/^\($prefix.*\)/domain \1/p"
    virsh -q net-list --all --name | sed -n "s/^\($prefix.*\)/network \1/p"
    virsh -q vol-list vcm 2>/dev/null | awk '{print $1}' | sed -n "s/^\($prefix.*\)/volume \1/p"
  } | sort
}

# Remove every libvirt object whose name starts with PREFIX (the test's unique cluster name).
libvirt_cleanup() {
  local prefix=$1 d n v
  for d in $(virsh -q list --all --name | grep "^$prefix" || true); do
    virsh -q destroy "$d" >/dev/null 2>&1 || true
    virsh -q undefine "$d" --nvram >/dev/null 2>&1 || virsh -q undefine "$d" >/dev/null 2>&1 || true
  done
  for n in $(virsh -q net-list --all --name | grep "^$prefix" || true); do
    virsh -q net-destroy "$n" >/dev/null 2>&1 || true
    virsh -q net-undefine "$n" >/dev/null 2>&1 || true
  done
  for v in $(virsh -q vol-list vcm 2>/dev/null | awk '{print $1}' | grep "^$prefix" || true); do
    virsh -q vol-delete "$v" --pool vcm >/dev/null 2>&1 || true
  done
}
