#!/usr/bin/env bash
# Podman for the lab's container backend, configured with project-local files (never
# /etc), a Debian base image made locally with debootstrap (no registry needed), and
# the lab server image built from environments/container/Containerfile.
#
#   scripts/podman-setup.sh [all]   install (as root), configure, base image, lab image
#   scripts/podman-setup.sh env     print the exports (eval "$(scripts/podman-setup.sh env)")
#   scripts/podman-setup.sh service run the Docker-compatible API service (foreground)
#   scripts/podman-setup.sh base|image|config|install   one step
#
# Everything slow is cached under ${LABKIT_CACHE:-~/.cache/labkit} (outside the clone):
# the debootstrap tarball, podman's storage with the images. A fresh machine builds it
# all (about 1-2 minutes); a warm cache takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${LABKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/labkit}"
PODMAN_DIR="$CACHE/podman"
# Storage driver: vfs works everywhere but copies the whole image (about 460 MB) into
# every new container (13 s per lab start here); overlay shares it (under 5 s). "auto"
# (the default) takes overlay when this kernel lets root mount one, else vfs.
probe_overlay() {
  [ "$(id -u)" = 0 ] || return 1
  local d; d="$(mktemp -d "${TMPDIR:-/tmp}/labkit-ovl.XXXXXX")" || return 1
  mkdir -p "$d/l" "$d/u" "$d/w" "$d/m"
  if mount -t overlay overlay -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" "$d/m" 2>/dev/null; then
    umount "$d/m"; rm -rf "$d"; return 0
  fi
  rm -rf "$d"; return 1
}
DRIVER="${LABKIT_PODMAN_DRIVER:-auto}"
if [ "$DRIVER" = auto ]; then
  if probe_overlay; then DRIVER=overlay; else DRIVER=vfs; fi
fi
STORAGE="$PODMAN_DIR/storage"
[ "$DRIVER" = vfs ] || STORAGE="$PODMAN_DIR/storage-$DRIVER"
SOCKET="${LABKIT_PODMAN_SOCKET:-$PODMAN_DIR/podman.sock}"
BASE_IMAGE="localhost/debian:bookworm-lab"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3

export CONTAINERS_CONF="$PODMAN_DIR/containers.conf"
export CONTAINERS_STORAGE_CONF="$PODMAN_DIR/storage-$DRIVER.conf"
export CONTAINERS_REGISTRIES_CONF="$PODMAN_DIR/registries.conf"

say() { echo "[podman-setup] $*" >&2; }

install() {
  local missing=()
  for tool in podman runc debootstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "missing: ${missing[*]}; install them with: sudo apt-get install -y podman runc debootstrap"
    exit 1
  fi
  say "installing podman runc debootstrap from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap >/dev/null
}

config() {
  mkdir -p "$STORAGE" "$PODMAN_DIR/run-$DRIVER" "$PODMAN_DIR/tmp"
  # runc (crun fails on cgroups hybrid mode), cgroupfs (no systemd), explicit
  # ulimits (else "setrlimit RLIMIT_NOFILE: Operation not permitted"), host network.
  cat > "$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
netns = "host"
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PODMAN_DIR/events.log"
tmp_dir = "$PODMAN_DIR/tmp"
CONF
  cat > "$CONTAINERS_STORAGE_CONF" <<CONF
[storage]
driver = "$DRIVER"
graphroot = "$STORAGE"
runroot = "$PODMAN_DIR/run-$DRIVER"
CONF
  cat > "$CONTAINERS_REGISTRIES_CONF" <<CONF
unqualified-search-registries = ["docker.io"]
CONF
}

base() {
  if podman image exists "$BASE_IMAGE"; then say "base image $BASE_IMAGE cached"; return 0; fi
  local tarball="$CACHE/debian-bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    local rootfs="$CACHE/build/rootfs"
    rm -rf "$rootfs"; mkdir -p "$rootfs"
    say "debootstrap minbase bookworm (about 30 s)"
    debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$CACHE/build/debootstrap.log" 2>&1 \
      || { tail -20 "$CACHE/build/debootstrap.log" >&2; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
    rm -rf "$rootfs"
  fi
  say "podman import $BASE_IMAGE"
  podman import "$tarball" "$BASE_IMAGE" >/dev/null
}

image() {
  local ctx="$CACHE/image-context" tag name fp
  read -r _ tag name fp < <("$PY" -m labkit.containers context "$ctx")
  if [ "$(podman image inspect --format '{{index .Labels "labkit.fingerprint"}}' "$tag" 2>/dev/null)" = "$fp" ]; then
    say "lab image $tag cached"; return 0
  fi
  say "podman build $tag (layers cached while the binary and Containerfile are unchanged)"
  podman build --network=host --layers --build-arg "BASE=$BASE_IMAGE" --build-arg "SERVER_NAME=$name" \
    --label "labkit.fingerprint=$fp" \
    -t "$tag" -f "$ctx/Containerfile" "$ctx" >"$CACHE/build-image.log" 2>&1 \
    || { tail -30 "$CACHE/build-image.log" >&2; exit 1; }
  say "built $tag"
}

env_lines() {
  echo "export CONTAINERS_CONF='$CONTAINERS_CONF'"
  echo "export CONTAINERS_STORAGE_CONF='$CONTAINERS_STORAGE_CONF'"
  echo "export CONTAINERS_REGISTRIES_CONF='$CONTAINERS_REGISTRIES_CONF'"
  echo "export DOCKER_HOST='unix://$SOCKET'"
}

service() {
  rm -f "$SOCKET"
  exec podman system service --time=0 "unix://$SOCKET"
}

case "${1:-all}" in
  all) install; config; base; image; env_lines ;;
  install) install ;;
  config) config ;;
  base) config; base ;;
  image) config; image ;;
  env) env_lines ;;
  service) config; service ;;
  *) echo "usage: $0 [all|install|config|base|image|env|service]" >&2; exit 2 ;;
esac
