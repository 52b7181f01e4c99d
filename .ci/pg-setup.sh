#!/usr/bin/env bash
# Bring up a local PostgreSQL for the storage tests and export TEST_DATABASE_URL.
#
# Meant to be *sourced* (as root, on Debian) so the export reaches the caller:
#
#     . .ci/pg-setup.sh && cargo test --test store
#
# Idempotent: installs the `postgresql` package only when no server binaries are
# present, creates the newest installed version's `main` cluster if it is
# missing, starts it if it is down, and (re)creates the test role and database.
# The role may create databases: each test makes its own `signpost_test_*`
# database and drops it afterwards. Connections use password auth over TCP on
# 127.0.0.1, like a real deployment.
#
# Overridable: SIGNPOST_PG_USER, SIGNPOST_PG_PASSWORD, SIGNPOST_PG_DB.
# It never calls `exit` and never turns on `set -e`, so sourcing it cannot kill
# or change the caller's shell; on failure it prints why and returns non-zero.

signpost_pg_setup() {
    local user="${SIGNPOST_PG_USER:-signpost_test}"
    local password="${SIGNPOST_PG_PASSWORD:-signpost_test}"
    local db="${SIGNPOST_PG_DB:-signpost_test}"
    local version port status i

    if ! command -v pg_ctlcluster >/dev/null 2>&1 \
        || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        echo "pg-setup: installing postgresql" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || { echo "pg-setup: apt-get update failed" >&2; return 1; }
        apt-get install -y -qq postgresql >/dev/null \
            || { echo "pg-setup: apt-get install postgresql failed" >&2; return 1; }
    fi

    # The newest installed server version, e.g. 15 or 16.
    version="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$version" ]; then
        echo "pg-setup: no PostgreSQL server found under /usr/lib/postgresql" >&2
        return 1
    fi

    if ! pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1 == v && $2 == "main" { found = 1 } END { exit !found }'; then
        echo "pg-setup: creating cluster $version/main" >&2
        pg_createcluster "$version" main >/dev/null \
            || { echo "pg-setup: pg_createcluster failed" >&2; return 1; }
    fi

    # The socket directory is normally made by systemd-tmpfiles, which
    # containers often lack.
    install -d -o postgres -g postgres -m 2775 /var/run/postgresql

    status="$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { print $4 }')"
    if [ "$status" != "online" ]; then
        echo "pg-setup: starting cluster $version/main" >&2
        pg_ctlcluster "$version" main start \
            || { echo "pg-setup: pg_ctlcluster start failed; see /var/log/postgresql/" >&2; return 1; }
    fi
    port="$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { print $3 }')"

    for i in $(seq 1 30); do
        if pg_isready -q -h 127.0.0.1 -p "$port"; then break; fi
        sleep 1
    done
    if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
        echo "pg-setup: server on 127.0.0.1:$port is not accepting connections" >&2
        return 1
    fi

    # Role and database; passwords and names are plain identifiers, so the
    # literal quoting below is safe for the defaults and for sane overrides.
    runuser -u postgres -- psql -v ON_ERROR_STOP=1 -q -p "$port" -d postgres <<SQL || { echo "pg-setup: creating role failed" >&2; return 1; }
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$user') THEN
        CREATE ROLE "$user" LOGIN CREATEDB PASSWORD '$password';
    ELSE
        ALTER ROLE "$user" LOGIN CREATEDB PASSWORD '$password';
    END IF;
END
\$\$;
SQL
    if ! runuser -u postgres -- psql -tA -p "$port" -d postgres \
        -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
        runuser -u postgres -- createdb -p "$port" -O "$user" "$db" \
            || { echo "pg-setup: createdb failed" >&2; return 1; }
    fi

    export TEST_DATABASE_URL="postgres://$user:$password@127.0.0.1:$port/$db"
    echo "pg-setup: PostgreSQL $version ready; TEST_DATABASE_URL points at 127.0.0.1:$port/$db" >&2
}

signpost_pg_setup
