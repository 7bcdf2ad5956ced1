#!/bin/sh
# Builds the image's virtual environment, in two steps so that each is its own image layer:
#
#   venv.sh deps DIR     create the environment DIR and install requirements/server.lock into it,
#                        every file checked against the lock's hashes
#   venv.sh project DIR  build this project's wheel (its build backend pinned, with hashes, by
#                        requirements/build.lock) and install it into DIR without dependencies
#
# Run from the root of the build context. The Dockerfile runs it, and tests/ops runs the very same
# steps outside Docker. UV and PYTHON name the tools (default: uv and python3 from PATH).
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 deps|project DIR" >&2
    exit 2
fi
step=$1
venv=$2
uv=${UV:-uv}

case $step in
deps)
    "${PYTHON:-python3}" -m venv --without-pip "$venv"
    "$uv" pip sync --python "$venv/bin/python" --require-hashes requirements/server.lock
    ;;
project)
    dist=$(mktemp -d)
    trap 'rm -rf "$dist"' EXIT
    "$uv" build --quiet --wheel --python "$venv/bin/python" --out-dir "$dist" \
        --build-constraints requirements/build.lock --require-hashes .
    "$uv" pip install --python "$venv/bin/python" --no-deps "$dist"/*.whl
    ;;
*)
    echo "$0: unknown step '$step' (deps or project)" >&2
    exit 2
    ;;
esac
