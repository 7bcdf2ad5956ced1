#!/usr/bin/env bash
# Build one pinned Go command into .tools/bin, unless the binary there is already that version.
#
#   scripts/install-go-tool.sh helm.sh/helm/v3/cmd/helm v3.22.0
#   scripts/install-go-tool.sh github.com/docker/compose/v2/cmd v2.32.4 docker-compose
#
# The optional NAME names the binary when the package's last element does not (Compose's is `cmd`).
# `go version -m` reads the module version the binary was built from, so a change of pin rebuilds
# it and an unchanged pin costs nothing (building helm takes minutes on two cores).
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 PACKAGE VERSION [NAME]   (for example helm.sh/helm/v3/cmd/helm v3.22.0)" >&2
  exit 2
fi
package=$1
version=$2
root=$(cd "$(dirname "$0")/.." && pwd)
bin_dir="$root/.tools/bin"
binary="$bin_dir/${3:-$(basename "$package")}"

if [[ -x "$binary" ]] && go version -m "$binary" 2>/dev/null \
    | awk -v want="$version" '$1 == "mod" && $3 == want { found = 1 } END { exit !found }'; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "$0: Go is needed to build $package@$version (https://go.dev/doc/install)" >&2
  exit 1
fi
echo "Building $package@$version into .tools/bin (a few minutes the first time)" >&2
mkdir -p "$bin_dir"
if [[ $# -eq 3 ]]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  GOBIN="$scratch" go install "$package@$version"
  mv "$scratch/$(basename "$package")" "$binary"
else
  GOBIN="$bin_dir" go install "$package@$version"
fi
