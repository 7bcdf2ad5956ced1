#!/bin/bash
# Entry point of the locally built PostgreSQL image (scripts/base-images.sh), doing what the
# official image's does for this project: on an empty PGDATA it runs initdb with POSTGRES_USER and
# POSTGRES_PASSWORD, creates POSTGRES_DB in a temporary server reachable only on its socket, stops
# it and starts the real one on every interface. Both servers log "database system is ready to
# accept connections", like the official image; clients get in by password over TCP
# (scram-sha-256) and without one on the socket, so `pg_isready` and `psql` inside work unchanged.
set -euo pipefail

PGDATA=${PGDATA:-/var/lib/postgresql/data}
export PGDATA

if [[ ${1:-} == postgres ]]; then
  shift  # `postgres -c name=value`, as the official image takes it
fi

if [[ $(id -u) == 0 ]]; then
  install --directory --owner=postgres --group=postgres --mode=700 "$PGDATA"
  install --directory --owner=postgres --group=postgres --mode=2775 /var/run/postgresql
  chown -R postgres:postgres "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set (this image has no passwordless TCP access)}"
  user=${POSTGRES_USER:-postgres}
  database=${POSTGRES_DB:-$user}
  password_file=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$password_file"
  initdb --username="$user" --pwfile="$password_file" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$password_file"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  pg_ctl --wait --options="-c listen_addresses='' -k /var/run/postgresql" start
  if [[ $database != postgres ]]; then
    psql --no-psqlrc --set=ON_ERROR_STOP=1 --username="$user" --dbname=postgres \
      --set=database="$database" <<<'CREATE DATABASE :"database"' >/dev/null
  fi
  pg_ctl --wait --mode=fast stop
  echo "PostgreSQL init process complete; ready for start up."
fi

exec postgres -c listen_addresses='*' "$@"
