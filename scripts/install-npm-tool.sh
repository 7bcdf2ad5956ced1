#!/usr/bin/env bash
# Install pinned npm packages into .tools/NAME (their commands in .tools/NAME/node_modules/.bin),
# unless that folder already holds exactly those versions.
#
#   scripts/install-npm-tool.sh spectral @stoplight/spectral-cli@6.16.3 @stoplight/spectral-owasp-ruleset@2.0.1
#
# No package-lock.json is written: it would record the registry's address. The pins are the
# packages named here; what they depend on is resolved by npm within their own ranges.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 NAME PACKAGE@VERSION..." >&2
  exit 2
fi
name=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
prefix="$root/.tools/$name"
stamp="$prefix/.installed"
wanted="$*"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "$0: Node.js and npm are needed to install $wanted (https://nodejs.org)" >&2
  exit 1
fi
echo "Installing $wanted into .tools/$name" >&2
rm -rf "$prefix"
mkdir -p "$prefix"
echo '{"private": true}' >"$prefix/package.json"
npm install --prefix "$prefix" --no-package-lock --no-audit --no-fund --loglevel=error "$@"
echo "$wanted" >"$stamp"
