# Spec trees for the git tests. Source after lib.sh.

# gf_specs_testdriver WORKTREE SITE CLUSTER: a site on libvirt's test driver (test:///default,
# in-process: nothing outlives the vcm command) and one cluster of a frontend and two nodes.
gf_specs_testdriver() {
  local wt=$1 site=$2 cluster=$3
  mkdir -p "$wt/clusters"
  cat > "$wt/site.yaml" <<YAML
apiVersion: vcm/v1
kind: Site
metadata: {name: $site}
spec:
  network: {backend: bridge}
  storage: {backend: file}
  hosts:
    - name: h1
      roles: [gateway, vm-server]
      libvirt: test:///default
      capacity: {vcpus: 16, memory: 8GiB}
      poolPath: /vcm-pool
  images:
    frontend: {kernel: /boot/vmlinuz, initrd: /boot/initrd.img}
    compute: {kernel: /boot/vmlinuz, initrd: /boot/initrd.img}
YAML
  cat > "$wt/clusters/$cluster.yaml" <<YAML
apiVersion: vcm/v1
kind: VirtualCluster
metadata: {name: $cluster, owner: ops@example.org}
spec:
  window: {start: 2026-11-01T00:00:00Z, end: 2030-01-01T00:00:00Z}
  network: {subnet: 10.20.0.0/24}
  frontend: {vcpus: 1, memory: 256MiB, disk: 64MiB}
  nodes:
    - {name: compute, count: 2, vcpus: 1, memory: 256MiB, disk: 64MiB}
YAML
}
