#!/usr/bin/env bash
# HEALTHCHECK of apl/mysql-compat: healthy only when a client reaches the server over TCP on
# 127.0.0.1:3306 and a query answers. A ping over the socket is not enough: while a new volume
# is initialised, a socket-only server answers pings but every TCP client is refused.
# The account (healthcheck@127.0.0.1, no privileges) and its password are made at
# initialisation; the password is read from a file only the server's user (and root) can read,
# never passed on a command line.
set -euo pipefail

readonly credentials=/run/mysqld/healthcheck.cnf

if [ ! -r "$credentials" ]; then
  echo "healthcheck: $credentials is missing: setup has not reached the accounts yet"
  exit 1
fi
# --defaults-file must come first; it also keeps other option files out of the probe.
if ! answer=$(mariadb --defaults-file="$credentials" --protocol=tcp --host=127.0.0.1 --port=3306 \
  --connect-timeout=3 --batch --skip-column-names --execute='SELECT 1' 2>&1); then
  echo "healthcheck: $answer"
  exit 1
fi
[ "$answer" = 1 ] || {
  echo "healthcheck: unexpected answer to SELECT 1: $answer"
  exit 1
}
