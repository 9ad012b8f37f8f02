# shellcheck shell=bash
# Sourced by test.sh and run-demo.sh: finds or provisions a MySQL-compatible
# server and exports TITULAR_TEST_DSN (a server DSN, no database name).
#   1. $TITULAR_TEST_DSN when set;
#   2. else MariaDB/MySQL answering on 127.0.0.1:3306 as root without password
#      (starting the machine's own mariadbd first if it is installed but down);
#   3. else a throwaway MariaDB in a temp directory on 127.0.0.1:3307,
#      installed with apt-get when missing, removed on exit.
# It fails loudly when none of that works: the tests never skip the database.

db_log() { echo "db: $*" >&2; }

db_answers() { # host port
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

db_client() {
  command -v mariadb || command -v mysql || true
}

db_root_ok() { # port
  local c; c=$(db_client)
  [[ -z $c ]] && return 0 # no client to check with; the tests will say
  "$c" --protocol=TCP -h127.0.0.1 -P"$1" -uroot -e 'SELECT 1' >/dev/null 2>&1
}

db_install_mariadb() {
  if command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]]; then return 0; fi
  db_log "MariaDB is not installed; installing it with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if [[ $(id -u) -ne 0 ]]; then
    db_log "need root to apt-get install mariadb-server; install it, or set TITULAR_TEST_DSN"; return 1
  fi
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null
}

db_throwaway() {
  db_install_mariadb || return 1
  local dir port=3307 bin=/usr/sbin/mariadbd
  command -v mariadbd >/dev/null && bin=$(command -v mariadbd)
  dir=$(mktemp -d -t titular-mariadb.XXXXXX)
  db_log "starting a throwaway MariaDB in $dir on 127.0.0.1:$port"
  local install; install=$(command -v mariadb-install-db || command -v mysql_install_db)
  "$install" --no-defaults --datadir="$dir/data" --auth-root-authentication-method=normal \
    --user="$(id -un)" --skip-test-db >"$dir/install.log" 2>&1 || { db_log "mariadb-install-db failed: see $dir/install.log"; return 1; }
  "$bin" --no-defaults --datadir="$dir/data" --socket="$dir/sock" --port=$port --bind-address=127.0.0.1 \
    --user="$(id -un)" --pid-file="$dir/pid" --log-error="$dir/error.log" --innodb-buffer-pool-size=512M \
    --max-connections=500 &
  TITULAR_THROWAWAY_PID=$!
  TITULAR_THROWAWAY_DIR=$dir
  trap 'kill "$TITULAR_THROWAWAY_PID" 2>/dev/null; wait "$TITULAR_THROWAWAY_PID" 2>/dev/null; rm -rf "$TITULAR_THROWAWAY_DIR"' EXIT
  for _ in $(seq 1 60); do
    if db_answers 127.0.0.1 $port; then
      export TITULAR_TEST_DSN="root@tcp(127.0.0.1:$port)/"
      return 0
    fi
    sleep 0.5
  done
  db_log "the throwaway MariaDB did not start; see $dir/error.log"; return 1
}

db_provision() {
  if [[ -n ${TITULAR_TEST_DSN:-} ]]; then
    db_log "using TITULAR_TEST_DSN"; return 0
  fi
  if ! db_answers 127.0.0.1 3306 && [[ -x /usr/sbin/mariadbd ]] && [[ $(id -u) -eq 0 ]]; then
    db_log "starting the local MariaDB service"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >/dev/null 2>&1 || true
    for _ in $(seq 1 40); do db_answers 127.0.0.1 3306 && break; sleep 0.5; done
  fi
  if db_answers 127.0.0.1 3306 && db_root_ok 3306; then
    export TITULAR_TEST_DSN="root@tcp(127.0.0.1:3306)/"
    db_log "using the server on 127.0.0.1:3306"; return 0
  fi
  db_throwaway && return 0
  db_log "FAILED: no MySQL-compatible server could be found or started."
  db_log "Set TITULAR_TEST_DSN='user:pass@tcp(host:port)/' to a server where the user may create databases."
  return 1
}
