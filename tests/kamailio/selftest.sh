#!/usr/bin/env bash
# Checks the fixture itself, without the daemon: kamailio + sipp + python3, all on 127.0.0.1.
#
#   tests/kamailio/selftest.sh [BASE_PORT]     (default 25060; uses BASE_PORT .. BASE_PORT+199)
#
# 1. REGISTER frontdesk with MD5 digest (register_auth.xml): 401, then 200 with the Contact.
# 2. A call to sip:frontdesk@127.0.0.1:PORT reaches the registered contact (sipp -sn uas),
#    ACK and BYE included.
# 3. A call to staff goes to STAFF_PORT (nobody registered as staff).
# 4. Record-Route/loose-route: a caller and a stand-in for the daemon do INVITE, ACK, an
#    in-dialog REFER and NOTIFY, and a BYE from the callee, all through the proxy.
# 5. A wrong password gets a new 401; a user registering someone else's AoR gets 403.
# 6. A second instance with AUTH_ALGORITHM=SHA-256 takes a SHA-256 digest REGISTER.
# 7. A third with NO_RECORD_ROUTE=1 still carries the dialog of 4 (requests sent to the proxy
#    without Route are forwarded to their Request-URI).
# Ends with "N passed, N failed"; exit status 0 only when nothing failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
base=${1:-25060}
kport=$base staff=$((base + 30)) contact=$((base + 11)) kport256=$((base + 100)) kport_norr=$((base + 150))
work=$(mktemp -d /tmp/frontdesk-kamailio-selftest.XXXXXX)
pids=()
passed=0 failed=0

cleanup() {
    # Only what this script started, by PID. kamailio stops its workers on SIGTERM.
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done
}
trap cleanup EXIT

check() { # NAME COMMAND...
    local name=$1; shift
    if "$@" >"$work/$name.out" 2>&1; then
        echo "ok      $name"; passed=$((passed + 1))
    else
        echo "FAILED  $name (output in $work/$name.out)"; failed=$((failed + 1))
    fi
}

start_kamailio() { # NAME PORT STAFF_PORT [ENV=VALUE...]
    local name=$1 port=$2 staff_port=$3; shift 3
    env "$@" "$here/start.sh" "$port" "$staff_port" "$work/$name" >"$work/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        grep -q "FIXTURE READY" "$work/$name.log" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "kamailio $name did not start:"; cat "$work/$name.log"; exit 1
}

sipp_() { timeout 30 sipp -i 127.0.0.1 -m 1 -nostdin -timeout 20s "$@"; }

# A sipp in the background whose exit status is checked later.
bg_sipp() { # NAME ARGS...
    local name=$1; shift
    (sipp_ "$@" >"$work/$name.out" 2>&1; echo $? >"$work/$name.rc") &
    pids+=($!)
    sleep 0.5
}
bg_ok() { # NAME
    for _ in $(seq 100); do [ -f "$work/$1.rc" ] && break; sleep 0.1; done
    [ "$(cat "$work/$1.rc" 2>/dev/null)" = 0 ]
}

start_kamailio md5 "$kport" "$staff"

check register_md5 sipp_ "127.0.0.1:$kport" -sf "$here/register_auth.xml" -p "$contact"

bg_sipp uas_frontdesk -sn uas -p "$contact"
check call_frontdesk sipp_ "127.0.0.1:$kport" -sn uac -s frontdesk -p $((base + 21))
check call_frontdesk_reached bg_ok uas_frontdesk

bg_sipp uas_staff -sn uas -p "$staff"
check call_staff sipp_ "127.0.0.1:$kport" -sn uac -s staff -p $((base + 22))
check call_staff_reached bg_ok uas_staff

bg_sipp standin -sf "$here/daemon_standin.xml" -p "$contact"
check transfer_in_dialog sipp_ "127.0.0.1:$kport" -sf "$here/transferee.xml" -s frontdesk -p $((base + 23))
check transfer_in_dialog_callee bg_ok standin
for m in ACK REFER NOTIFY BYE; do
    check "loose_routed_$m" grep -q "IN-DIALOG $m loose-routed" "$work/md5.log"
done

check wrong_password_401 python3 "$here/register_digest.py" "$kport" $((base + 40)) frontdesk wrong 401
check other_aor_403 python3 "$here/register_digest.py" "$kport" $((base + 40)) staff s3cret-test 403 frontdesk

start_kamailio sha256 "$kport256" "$staff" AUTH_ALGORITHM=SHA-256
check register_sha256 python3 "$here/register_digest.py" "$kport256" $((base + 41))
check sha256_challenge grep -q "algorithm SHA-256" "$work/sha256.log"

start_kamailio norr "$kport_norr" "$staff" NO_RECORD_ROUTE=1
check norr_register sipp_ "127.0.0.1:$kport_norr" -sf "$here/register_auth.xml" -p "$contact"
bg_sipp standin_norr -sf "$here/daemon_standin.xml" -p "$contact"
check norr_transfer_in_dialog sipp_ "127.0.0.1:$kport_norr" -sf "$here/transferee.xml" -s frontdesk -p $((base + 24))
check norr_transfer_in_dialog_callee bg_ok standin_norr
check norr_no_record_route bash -c "! grep -q loose-routed '$work/norr.log' && grep -q 'RELAY REFER' '$work/norr.log'"

echo "$passed passed, $failed failed"
if [ "$failed" = 0 ]; then
    cleanup; trap - EXIT; rm -rf "$work"
    exit 0
fi
exit 1
