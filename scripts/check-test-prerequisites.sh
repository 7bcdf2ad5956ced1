#!/usr/bin/env bash
# What `make test` needs beyond Python, checked before anything runs: on a machine that lacks any
# of it, one line says exactly what to install (or to run `bash .ci/run`, which installs and starts
# all of it on Debian, then runs the suite), instead of a failure twenty minutes in.
set -uo pipefail

missing=()
packages=()
command -v go >/dev/null 2>&1 || missing+=("Go (it builds the pinned helm, actionlint, k6 and Compose: https://go.dev/doc/install)")
command -v npm >/dev/null 2>&1 || missing+=("Node.js with npm (it installs the pinned Spectral: https://nodejs.org)")
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  missing+=("Chromium (the API page's browser test)")
  packages+=(chromium)
fi
if ! command -v wrk >/dev/null 2>&1; then
  missing+=("wrk (the benchmark runner's reference comparison)")
  packages+=(wrk)
fi
if ! command -v docker >/dev/null 2>&1; then
  missing+=("a Docker engine (the image, Compose and the container PostgreSQL)")
  packages+=(docker.io)
elif ! timeout 10 docker version >/dev/null 2>&1; then
  missing+=("a running Docker engine (docker is installed, but no engine answers: start dockerd)")
fi
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
install=""
if [[ ${#packages[@]} -gt 0 ]]; then
  install=" (Debian: apt-get install -y ${packages[*]} debootstrap)"
fi
joined=$(printf '%s; ' "${missing[@]}")
echo "make test needs ${joined%; }${install}; or run \`bash .ci/run\`, which installs and starts them, then runs the whole suite." >&2
exit 1
