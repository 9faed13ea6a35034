# Shared by the service benches: a binary to run and a site on libvirt's test driver.

# bench_vcm: $VCM, or a Release build of vcm in BUILD_DIR (default /tmp/vcm-bench-service-build).
bench_vcm() {
  if [ -z "${VCM:-}" ]; then
    local build=${BUILD_DIR:-/tmp/vcm-bench-service-build}
    cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVCM_TESTS=OFF >/dev/null
    cmake --build "$build" -j2 --target vcm >/dev/null
    VCM=$build/cli/vcm
  fi
}

# bench_site REPO: site.yaml of one host on test:///default (inside the service's process),
# with room for any number of clusters.
bench_site() {
  mkdir -p "$1/clusters"
  cat > "$1/site.yaml" <<'YAML'
apiVersion: vcm/v1
kind: Site
metadata: {name: bench}
spec:
  network: {backend: bridge}
  storage: {backend: file}
  hosts:
    - name: h1
      roles: [gateway, vm-server]
      libvirt: test:///default
      capacity: {vcpus: 1000000, memory: 100000GiB}
      poolPath: /vcm-bench-pool
  images:
    frontend: {kernel: /boot/vmlinuz, initrd: /boot/initrd.img}
    compute: {kernel: /boot/vmlinuz, initrd: /boot/initrd.img}
YAML
}
