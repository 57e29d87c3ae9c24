#!/bin/sh
# Start Apache in the foreground as PID 1 (so `docker stop` reaches it), with Debian's settings.
# (No `set -u`: Debian's envvars reads variables that may be unset.)
set -e
. /etc/apache2/envvars
mkdir -p "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR" "$APACHE_LOG_DIR"
exec apache2 -DFOREGROUND "$@"
