# Shared by deploy/kind/scripts/*.sh: the pins, the cache folder, logging, low-priority builds.
# shellcheck shell=bash
set -euo pipefail

KIND_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_ROOT=$(cd "$KIND_DIR/../.." && pwd)
# shellcheck source=../versions.env
source "$KIND_DIR/versions.env"
# KIND_IMAGE_PREFIX names the local images otherwise: a second cache (another XDG_CACHE_HOME)
# built beside the first without retagging its images, as when a cold build is measured.
LOCAL_IMAGE_PREFIX=${KIND_IMAGE_PREFIX:-$LOCAL_IMAGE_PREFIX}

# Builds are cached outside the clone: CI runs in a fresh clone on the same machine, and a cache
# in the clone (.tools/) would be rebuilt every run (about an hour on two busy cores). Each
# component lives in <cache>/<name>-<version>/ and is complete once its `.done` file exists.
KIND_CACHE=${KIND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/user-service/kind}
# Runtime state of one cluster (kernel settings recorded, logs, PIDs): in the clone, git-ignored.
KIND_STATE=${KIND_STATE:-$REPO_ROOT/.cache/kind}
mkdir -p "$KIND_CACHE" "$KIND_STATE"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Run a build command at the lowest CPU and I/O priority (the machine is shared).
low() { nice -n 19 ionice -c 2 -n 7 "$@"; }

# cached NAME VERSION: the component's cache folder; `is_built` tells whether it is complete.
cached() { printf '%s/%s-%s' "$KIND_CACHE" "$1" "$2"; }
is_built() { [[ -f "$1/.done" ]]; }
mark_built() { date -u +%FT%TZ >"$1/.done"; }

# The Dir of a module in the module cache (downloads it if needed).
module_dir() {
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'
}

# Time a step and append "name seconds" to the cache's timing log.
timed() {
  local name=$1 start end
  shift
  start=$(date +%s)
  "$@"
  end=$(date +%s)
  log "$name: $((end - start)) s"
  printf '%s %s %d\n' "$(date -u +%FT%TZ)" "$name" "$((end - start))" >>"$KIND_CACHE/timings.log"
}

local_image() { printf '%s/%s:%s' "$LOCAL_IMAGE_PREFIX" "$1" "$2"; }
