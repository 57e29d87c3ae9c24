#!/usr/bin/env bash
# Entrypoint of apl/mysql-compat: Debian's MariaDB 10.11 behind the container API of the
# official mysql image, so that `docker run -e MYSQL_ROOT_PASSWORD=... IMAGE` behaves as the
# lesson expects of mysql:5.7. Written for this project from that image's documented behaviour:
#   - a new data dir needs exactly one of MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD,
#     MYSQL_RANDOM_ROOT_PASSWORD; MYSQL_DATABASE, MYSQL_USER + MYSQL_PASSWORD and
#     MYSQL_ROOT_HOST (default %) shape the accounts;
#   - X_FILE reads X from a file (Docker secrets); MARIADB_X is accepted for MYSQL_X;
#   - /docker-entrypoint-initdb.d/*.sh, *.sql, *.sql.{gz,bz2,xz,zst} run once, on a new data dir;
#   - all of that happens on a temporary server with networking off, so no TCP client can get
#     in before the accounts and the schema exist; then the real server replaces this script.
# Options alone (`IMAGE --sql-mode=...`) go to the server; any other command runs unchanged.
set -euo pipefail
shopt -s nullglob

readonly INITDB_DIR=/docker-entrypoint-initdb.d
# Present only while a new data dir is being set up: finding it at start means a setup died.
readonly INIT_MARKER=.mysql-compat-initialising
# Kept in the data dir because the account lives there too; copied at every start to the
# fixed place healthcheck.sh reads, whatever --datadir says.
readonly HEALTHCHECK_STORED=.mysql-compat-healthcheck.cnf
readonly HEALTHCHECK_PUBLISHED=/run/mysqld/healthcheck.cnf

log() { printf 'mysql-compat: %s\n' "$*"; }
warn() { printf 'mysql-compat: warning: %s\n' "$*" >&2; }
die() {
  printf 'mysql-compat: error: %s\n' "$*" >&2
  exit 1
}

# "A", "A and B", "A, B and C": for messages that name several variables.
and_list() {
  local out=$1
  shift
  while [ "$#" -gt 1 ]; do
    out+=", $1"
    shift
  done
  [ "$#" -eq 0 ] || out+=" and $1"
  printf '%s' "$out"
}

is_server() { [[ ${1##*/} == mariadbd || ${1##*/} == mysqld ]]; }

# `--help` and `--version` only print; there is nothing to set up for them.
only_prints() {
  local arg
  for arg; do
    case $arg in --help | --version | -V | -\?) return 0 ;; esac
  done
  return 1
}

# DATADIR and SOCKET as the server will see them, config files and options included. Running
# the server with --help also proves that it accepts its configuration before anything changes.
read_server_paths() {
  local settings
  settings=$("$@" --verbose --help 2>&1) || {
    printf '%s\n' "$settings" >&2
    die "$1 refuses its configuration (see above)"
  }
  # The table of values starts each row at column 0; wrapped help text is indented.
  DATADIR=$(awk '/^datadir[ \t]/ { print $2 }' <<<"$settings")
  DATADIR=${DATADIR%/}
  SOCKET=$(awk '/^socket[ \t]/ { print $2 }' <<<"$settings")
  if [ -z "$DATADIR" ] || [ -z "$SOCKET" ]; then
    die "cannot read datadir and socket from $1 --verbose --help"
  fi
}

# Settle MYSQL_<name> from the ways of giving it (MYSQL_, MARIADB_, and their _FILE forms when
# file_ok). Two of them at once is refused rather than guessed. Afterwards only MYSQL_<name> is
# left, exported, so init scripts (and this script run again as mysql) see one plain value.
resolve_setting() {
  local name=$1 file_ok=$2 var value=
  local forms=("MYSQL_$name" "MARIADB_$name") given=()
  [ "$file_ok" = file_ok ] && forms+=("MYSQL_${name}_FILE" "MARIADB_${name}_FILE")
  for var in "${forms[@]}"; do
    [ -z "${!var:-}" ] || given+=("$var")
  done
  if [ "${#given[@]}" -gt 1 ]; then
    die "$(and_list "${given[@]}") are set together; they give the same setting, so set only one"
  fi
  if [ "${#given[@]}" -eq 1 ]; then
    var=${given[0]}
    if [[ $var == *_FILE ]]; then
      [ -r "${!var}" ] || die "$var: cannot read ${!var}"
      value=$(<"${!var}")
    else
      value=${!var}
    fi
  fi
  unset "${forms[@]}"
  export "MYSQL_$name=$value"
}

resolve_settings() {
  local name
  for name in ROOT_PASSWORD DATABASE USER PASSWORD ROOT_HOST; do
    resolve_setting "$name" file_ok
  done
  for name in ALLOW_EMPTY_PASSWORD RANDOM_ROOT_PASSWORD; do
    resolve_setting "$name" no_file
  done
}

# Refuse a new data dir whose settings the official image would refuse (or that are ambiguous).
check_new_instance_settings() {
  local root_choices=() var
  for var in MYSQL_ROOT_PASSWORD MYSQL_ALLOW_EMPTY_PASSWORD MYSQL_RANDOM_ROOT_PASSWORD; do
    [ -z "${!var}" ] || root_choices+=("$var")
  done
  if [ "${#root_choices[@]}" -eq 0 ]; then
    die "Database is uninitialized and password option is not specified
    You need to specify one of the following as an environment variable:
    - MYSQL_ROOT_PASSWORD
    - MYSQL_ALLOW_EMPTY_PASSWORD
    - MYSQL_RANDOM_ROOT_PASSWORD"
  fi
  if [ "${#root_choices[@]}" -gt 1 ]; then
    die "$(and_list "${root_choices[@]}") are set together; a new database takes exactly one way to set root's password"
  fi
  if [ "$MYSQL_USER" = root ]; then
    die 'MYSQL_USER="root": MYSQL_USER and MYSQL_PASSWORD create a regular user; give root its' \
      'password with MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD or MYSQL_RANDOM_ROOT_PASSWORD'
  fi
  if [ -n "$MYSQL_USER" ] && [ -z "$MYSQL_PASSWORD" ]; then
    warn "MYSQL_USER is set without MYSQL_PASSWORD: no user will be created"
  elif [ -z "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
    warn "MYSQL_PASSWORD is set without MYSQL_USER: no user will be created"
  fi
}

# As root, only the dirs the server needs and its user does not own yet are touched: on a
# large existing data dir that is one walk and no writes.
prepare_dirs_as_root() {
  mkdir -p "$DATADIR"
  find "$DATADIR" \! -user mysql -exec chown mysql:mysql '{}' +
  local socket_dir=${SOCKET%/*}
  if [ ! -d "$socket_dir" ]; then
    mkdir -p "$socket_dir"
    chown mysql:mysql "$socket_dir"
  fi
}

# Backslash and quote escaped for a '...' literal in the server's default sql_mode.
sql_string() {
  local s=${1//\\/\\\\}
  printf "'%s'" "${s//\'/\'\'}"
}

# shellcheck disable=SC2016  # the backticks are SQL quotes, not a shell expansion
sql_identifier() { printf '`%s`' "${1//\`/\`\`}"; }

random_password() { head -c 24 /dev/urandom | base64; }

# SQL from stdin, as root over the socket, in MYSQL_DATABASE when set, so a schema file without
# USE lands there. The official image's name for it, so sourced init scripts can call it too,
# with extra client options if they need them.
# shellcheck disable=SC2120
docker_process_sql() {
  local args=(--protocol=socket --socket="$SOCKET" --user=root)
  [ -z "$MYSQL_DATABASE" ] || args+=(--database="$MYSQL_DATABASE")
  # MYSQL_PWD keeps the password off every command line.
  MYSQL_PWD=$MYSQL_ROOT_PASSWORD mariadb "${args[@]}" "$@"
}

start_temporary_server() {
  TEMP_LOG=$(mktemp)
  # Networking off: until this server stops, only the socket inside the container reaches it.
  "$@" --skip-networking --socket="$SOCKET" >"$TEMP_LOG" 2>&1 &
  TEMP_PID=$!
  local deadline=$((SECONDS + ${MYSQL_COMPAT_START_TIMEOUT:-60}))
  # Fresh from mariadb-install-db, root@localhost has no password yet.
  until MYSQL_PWD='' mariadb --protocol=socket --socket="$SOCKET" --user=root \
    --execute='SELECT 1' >/dev/null 2>&1; do
    if ! kill -0 "$TEMP_PID" 2>/dev/null; then
      cat "$TEMP_LOG" >&2
      die "the temporary server exited while starting (its log is above)"
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "the temporary server did not answer within ${MYSQL_COMPAT_START_TIMEOUT:-60}s"
    sleep 0.1
  done
}

stop_temporary_server() {
  [ -n "${TEMP_PID:-}" ] || return 0
  kill -TERM "$TEMP_PID" 2>/dev/null || true
  local status=0
  wait "$TEMP_PID" || status=$?
  TEMP_PID=
  if [ "$status" -ne 0 ]; then
    cat "$TEMP_LOG" >&2
    die "the temporary server stopped with status $status (its log is above)"
  fi
  rm -f "$TEMP_LOG"
}

# Root as the official image leaves it: root@localhost and root@MYSQL_ROOT_HOST with one
# password; the users MYSQL_* ask for; and a privilege-less account for the healthcheck.
create_accounts() {
  if [ -n "$MYSQL_RANDOM_ROOT_PASSWORD" ]; then
    MYSQL_ROOT_PASSWORD=$(random_password)
    # Printed once, as the official image does: the log is the only place it is ever shown.
    log "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
  fi
  local root_password root_host healthcheck_password
  root_password=$(sql_string "$MYSQL_ROOT_PASSWORD")
  root_host=$(sql_string "${MYSQL_ROOT_HOST:-%}")
  healthcheck_password=$(random_password)

  # No binary log for setup statements: a replica of this server must not replay them.
  # mariadb-install-db also made root@127.0.0.1, root@::1 and root@<hostname> without a
  # password; dropped, or a TCP client from inside the container would get in as root.
  local sql="SET @@SESSION.SQL_LOG_BIN = 0;
DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1';
EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@', QUOTE(@@hostname));
ALTER USER 'root'@'localhost' IDENTIFIED BY $root_password;
CREATE USER 'healthcheck'@'127.0.0.1' IDENTIFIED BY '$healthcheck_password';
"
  if [ "${MYSQL_ROOT_HOST:-%}" != localhost ]; then
    sql+="CREATE USER 'root'@$root_host IDENTIFIED BY $root_password;
GRANT ALL ON *.* TO 'root'@$root_host WITH GRANT OPTION;
"
  fi
  if [ -n "$MYSQL_DATABASE" ]; then
    sql+="CREATE DATABASE IF NOT EXISTS $(sql_identifier "$MYSQL_DATABASE");
"
  fi
  if [ -n "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
    local user
    user="$(sql_string "$MYSQL_USER")@'%'"
    sql+="CREATE USER $user IDENTIFIED BY $(sql_string "$MYSQL_PASSWORD");
"
    if [ -n "$MYSQL_DATABASE" ]; then
      # In GRANT, _ and % in a database name are wildcards; escaped, the grant covers this one
      # database and not, say, `app_db` also matching `appXdb`.
      local pattern=${MYSQL_DATABASE//_/\\_}
      sql+="GRANT ALL ON $(sql_identifier "${pattern//%/\\%}").* TO $user;
"
    fi
  fi
  printf '%s' "$sql" | MYSQL_PWD='' mariadb --protocol=socket --socket="$SOCKET" --user=root

  (
    umask 077
    printf '[client]\nuser=healthcheck\npassword=%s\n' "$healthcheck_password" >"$DATADIR/$HEALTHCHECK_STORED"
  )
  # Published now, not after the init scripts, so that health probes during the scripts already
  # try TCP and fail for the right reason: the server is not listening yet.
  publish_healthcheck_credentials
}

# Bash runs a trap only once the foreground command has ended, so a long init script would hold
# off `docker stop` until SIGKILL. Run as a background job, the step's `wait` is cut short by
# SIGTERM and the trap runs at once.
interruptible() {
  "$@" &
  wait "$!"
}

# sql_from FILE DECOMPRESSOR...: the file's SQL, decompressed, through docker_process_sql.
sql_from() {
  local file=$1
  shift
  "$@" "$file" | docker_process_sql
}

run_sql_file() {
  log "running $1"
  interruptible sql_from "$@" || die "$1 failed"
}

run_init_files() {
  local file
  for file in "$INITDB_DIR"/*; do
    case $file in
      *.sh)
        if [ -x "$file" ]; then
          log "running $file"
          interruptible "$file" || die "$file failed with status $?"
        else
          # Sourced, as the official image does, so it can use docker_process_sql and friends.
          log "sourcing $file"
          # shellcheck disable=SC1090
          . "$file"
        fi
        ;;
      *.sql) run_sql_file "$file" cat ;;
      *.sql.gz) run_sql_file "$file" gzip -dc ;;
      *.sql.bz2) run_sql_file "$file" bzip2 -dc ;;
      *.sql.xz) run_sql_file "$file" xz -dc ;;
      *.sql.zst) run_sql_file "$file" zstd -dcq ;;
      *) warn "ignoring $file: not .sh, .sql, .sql.gz, .sql.bz2, .sql.xz or .sql.zst" ;;
    esac
  done
}

on_initialise_exit() {
  local status=$?
  trap - EXIT
  if [ "$status" -ne 0 ]; then
    # Best effort: the container is going down either way.
    [ -z "${TEMP_PID:-}" ] || kill -TERM "$TEMP_PID" 2>/dev/null || true
    printf 'mysql-compat: error: initialisation did not complete; %s is incomplete: remove it (or the volume) and start again\n' \
      "$DATADIR" >&2
  fi
  exit "$status"
}

initialise() {
  [ -w "$DATADIR" ] || die "uid $(id -u) cannot write to $DATADIR; give it a writable volume"
  log "initialising a new database in $DATADIR"
  trap on_initialise_exit EXIT
  # Bash as PID 1 ignores SIGTERM unless it traps it: a `docker stop` during setup should not
  # have to wait for SIGKILL.
  trap 'exit 143' TERM INT
  : >"$DATADIR/$INIT_MARKER"

  local output
  # The server's own options (as in `IMAGE --character-set-server=...`) apply here too.
  output=$(mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal \
    --skip-test-db "${@:2}" 2>&1) || {
    printf '%s\n' "$output" >&2
    die "mariadb-install-db failed (its output is above)"
  }
  start_temporary_server "$@"
  create_accounts
  run_init_files
  stop_temporary_server
  rm -f "$DATADIR/$INIT_MARKER"
  trap - EXIT TERM INT
  log "initialisation done"
}

publish_healthcheck_credentials() {
  if [ -r "$DATADIR/$HEALTHCHECK_STORED" ]; then
    install -m 0600 "$DATADIR/$HEALTHCHECK_STORED" "$HEALTHCHECK_PUBLISHED"
  else
    warn "$DATADIR was not set up by this image: no healthcheck account, so the container will never report healthy"
  fi
}

main() {
  if [ "$#" -eq 0 ] || [[ $1 == -* ]]; then
    set -- mariadbd "$@"
  fi
  if ! is_server "$1" || only_prints "$@"; then
    exec "$@"
  fi

  read_server_paths "$@"
  resolve_settings
  if [ -e "$DATADIR/$INIT_MARKER" ]; then
    die "an earlier initialisation of $DATADIR did not finish; remove it (or the volume) and start again"
  fi
  local is_new=no
  [ -d "$DATADIR/mysql" ] || is_new=yes
  # Checked before anything is written, so a wrong setting costs nothing to fix.
  [ "$is_new" = no ] || check_new_instance_settings

  if [ "$(id -u)" = 0 ]; then
    prepare_dirs_as_root
    # The rest, init scripts and the server included, runs as mysql, the settings resolved
    # above travelling in the environment.
    exec setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" "$@"
  fi

  if [ "$is_new" = yes ]; then
    initialise "$@"
  else
    log "$DATADIR is already initialised: skipping setup and init scripts"
    publish_healthcheck_credentials
  fi
  # The server never needs them, so they do not outlive setup in its environment.
  unset MYSQL_ROOT_PASSWORD MYSQL_PASSWORD
  log "starting $*"
  exec "$@"
}

main "$@"
