#!/usr/bin/env bash
# Runs the test registrar/proxy (kamailio.cfg beside this script) in the foreground.
#
#   tests/kamailio/start.sh PORT STAFF_PORT RUNDIR
#
# PORT        UDP port on 127.0.0.1 to listen on
# STAFF_PORT  port on 127.0.0.1 that requests for user "staff" go to when nobody
#             registered as staff (run a sipp UAS there)
# RUNDIR      a scratch directory of the test's own (created if missing): pid file,
#             runtime dir, working dir
#
# Optional environment:
# AUTH_ALGORITHM   MD5 (default) or SHA-256: the one digest algorithm this instance offers
# AUTH_REALM       realm of the challenges (default clinic.test)
# AUTH_PASSWORD    password of every user (default s3cret-test)
# AUTH_QOP         1 (default): challenge with qop="auth"; 0: no qop
# NO_RECORD_ROUTE  1: do not Record-Route (in-dialog requests then go end to end)
# KAMAILIO_DEBUG   log level, 2 (info, default) .. 3 (debug)
# TLS_PORT         also listen for SIP over TLS on 127.0.0.1:TLS_PORT, showing the
#                  certificate TLS_CERT (PEM, chain) with the key TLS_KEY
#
# It execs kamailio, so the PID of this script is kamailio's main process: SIGTERM it and
# it stops its workers and exits (about 2 s). SIGKILL would leave the workers running:
# start it in a process group of its own and kill the group if you must (README.md).
# It logs to stderr; "FIXTURE READY" means the port is bound and workers are up, and
# every routing decision is one line ("REGISTERED frontdesk -> ...", "LOOKUP INVITE for
# frontdesk -> ...", "RELAY ...").
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 PORT STAFF_PORT RUNDIR" >&2
    exit 2
fi
port=$1
staff_port=$2
rundir=$3
for n in "$port" "$staff_port"; do
    case $n in
        '' | *[!0-9]*) echo "start.sh: not a port: $n" >&2; exit 2 ;;
    esac
done

kamailio=$(command -v kamailio || true)
[ -n "$kamailio" ] || [ ! -x /usr/sbin/kamailio ] || kamailio=/usr/sbin/kamailio
if [ -z "$kamailio" ]; then
    echo "start.sh: kamailio is not installed (scripts/install-deps.sh test installs it)" >&2
    exit 127
fi

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$rundir"
rundir=$(cd "$rundir" && pwd)

args=(
    -f "$here/kamailio.cfg"
    -DD -E                        # foreground, log to stderr
    -Y "$rundir"                  # runtime dir (default /run/kamailio): nothing outside RUNDIR
    -P "$rundir/kamailio.pid"
    -w "$rundir"                  # working dir (core files, if any)
    -m 32 -M 4                    # 32 MB shared, 4 MB per process: plenty for a test
    -A "PORT=$port"
    -A "STAFF_URI=\"sip:127.0.0.1:$staff_port\""
    -A "AUTH_ALGORITHM=\"${AUTH_ALGORITHM:-MD5}\""
    -A "AUTH_REALM=\"${AUTH_REALM:-clinic.test}\""
    -A "AUTH_PASSWORD=\"${AUTH_PASSWORD:-s3cret-test}\""
    -A "AUTH_QOP_FLAGS=\"${AUTH_QOP:-1}\""
)
if [ "${NO_RECORD_ROUTE:-0}" = 1 ]; then
    args+=(-A NO_RECORD_ROUTE)
fi
if [ -n "${TLS_PORT:-}" ]; then
    : "${TLS_CERT:?TLS_PORT needs TLS_CERT}" "${TLS_KEY:?TLS_PORT needs TLS_KEY}"
    cat > "$rundir/tls.cfg" <<EOF
[server:default]
method = TLSv1.2+
certificate = $TLS_CERT
private_key = $TLS_KEY
verify_certificate = no
require_certificate = no

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
EOF
    args+=(-A "TLS_PORT=$TLS_PORT" -A "TLS_CONFIG=\"$rundir/tls.cfg\"")
fi
if [ -n "${KAMAILIO_DEBUG:-}" ]; then
    args+=(--debug="$KAMAILIO_DEBUG")
fi

exec "$kamailio" "${args[@]}"
