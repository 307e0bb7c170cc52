#!/usr/bin/env bash
# The one entrypoint of the gateway's containers (compose/compose.yaml, compose/Dockerfile), and what the
# process-level twin of that deployment runs (tests/deploy/test_compose_twin.py):
#
#   entrypoint.sh migrate [ARGS]   check, then `gateway db upgrade`: the one-shot migration job
#   entrypoint.sh serve [ARGS]     check, then `gateway serve ARGS`: one gateway instance
#   entrypoint.sh health           the healthcheck: GET /readyz on the gateway's ops port
#   entrypoint.sh COMMAND [ARGS]   any other gateway command (`ledger verify`, `participants list` ...)
#
# Inputs, all from the environment: GATEWAY_CONFIG (the mounted TOML), GATEWAY_<SECTION>__<KEY> overrides of it (see
# gateway/config.py), DATABASE_PASSWORD_FILE (a secret file holding the database password, exported as PGPASSWORD,
# which the PostgreSQL driver reads: the password is in no URL and no compose file), DATABASE_WAIT_SECONDS (how long
# to wait for the database, default in gateway/bounds.py). The checks are in preflight.py beside this script.
#
# Exit status: the gateway's once it runs (exec: it gets the signals); before that 2 when the deployment is wrong
# (the message says what), 3 when the database did not accept a connection in time.
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")

refuse() {
    echo "entrypoint: $*" >&2
    exit 2
}

read_secret_files() {
    # The *_FILE convention of the postgres image itself: a secret is a file, never a value in the environment
    # that `docker inspect` shows. One secret is needed: the database password.
    local file=${DATABASE_PASSWORD_FILE:-}
    [[ -n $file ]] || return 0
    [[ -z ${PGPASSWORD:-} ]] || refuse "both PGPASSWORD and DATABASE_PASSWORD_FILE are set: keep the secret file only"
    [[ -e $file ]] || refuse "DATABASE_PASSWORD_FILE=$file does not exist (is the postgres_password secret defined and mounted?)"
    [[ -r $file ]] || refuse "DATABASE_PASSWORD_FILE=$file is not readable by uid $(id -u) (Compose mounts a secret file with its mode on the host: see docs/deploy.md)"
    PGPASSWORD=$(<"$file")  # without its trailing newline
    [[ -n $PGPASSWORD ]] || refuse "DATABASE_PASSWORD_FILE=$file is empty"
    export PGPASSWORD
}

preflight() {
    local status=0
    python3 "$here/preflight.py" "$1" || status=$?
    [[ $status -eq 0 ]] || exit "$status"
}

[[ $# -gt 0 ]] || refuse "usage: entrypoint.sh migrate|serve|health|COMMAND [ARGS]"
mode=$1
shift
case $mode in
    migrate)
        read_secret_files
        preflight migrate
        exec gateway db upgrade "$@"
        ;;
    serve)
        read_secret_files
        preflight serve
        exec gateway serve "$@"
        ;;
    health)
        exec python3 "$here/preflight.py" health
        ;;
    *)
        read_secret_files
        exec gateway "$mode" "$@"
        ;;
esac
