#!/usr/bin/env bash
# PostgreSQL for the team-server tests (tests/server): one must answer on 127.0.0.1:5432 and
# let user postgres in without a password (trust, loopback only). When none answers, Debian's
# `postgresql` package is installed (as root, apt-get) and its cluster started and opened to
# trust on 127.0.0.1. Prints one line saying which PostgreSQL is used.
set -euo pipefail

answers() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
version() { psql -h 127.0.0.1 -U postgres -d postgres -tAc "show server_version" 2>/dev/null \
              | head -1; }

if answers; then
  echo "PostgreSQL: already running on 127.0.0.1:5432 (server $(version || echo '?'))"
  exit 0
fi
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql \
    >/dev/null || { echo "make test needs PostgreSQL (apt-get install postgresql)"; exit 1; }
fi
ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
  pg_createcluster "$ver" main >/dev/null
fi
cluster=$(pg_lsclusters -h | sort -V | tail -1 | awk '{print $1" "$2}')
hba=$(ls /etc/postgresql/${cluster% *}/${cluster#* }/pg_hba.conf)
if ! grep -q "cin-ml tests" "$hba"; then
  sed -i '1i host all postgres 127.0.0.1/32 trust  # cin-ml tests (loopback only)' "$hba"
fi
pg_ctlcluster ${cluster} start 2>/dev/null || pg_ctlcluster ${cluster} reload
for _ in $(seq 1 30); do answers && break; sleep 1; done
answers || { echo "PostgreSQL did not start on 127.0.0.1:5432"; exit 1; }
echo "PostgreSQL: Debian's postgresql $ver, started by make test on 127.0.0.1:5432 (server $(version || echo '?'))"
