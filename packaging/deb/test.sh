#!/usr/bin/env bash
# The Debian packages on this machine, end to end: install (with their Debian dependencies),
# run the service as its unit does (ExecStartPre as root, then the daemon as user frontdesk),
# answer a sipp call on the packaged config, stop it, purge, and check nothing is left.
#
# No systemd runs as PID 1 here, so the unit's commands are run by hand, in its order; the unit
# itself is checked by tests/unit_file.rs. Must run as root on a machine without frontdesk
# installed (it refuses to touch an installation it did not make).
#
#   packaging/deb/test.sh        (after packaging/deb/build.sh; `make test` runs both)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
debs=("$repo"/target/deb/frontdesk_*.deb "$repo"/target/deb/frontdesk-models_*.deb "$repo"/target/deb/frontdesk-onnxruntime_*.deb)
config=/etc/frontdesk/frontdesk.toml
work=$(mktemp -d)
fail() { echo "package test: FAILED: $*" >&2; [ -f "$work/daemon.log" ] && tail -40 "$work/daemon.log" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "must run as root (it installs packages)"
for d in "${debs[@]}"; do [ -f "$d" ] || fail "$d is missing: run packaging/deb/build.sh"; done
if dpkg-query -W -f='${Status}' frontdesk 2>/dev/null | grep -q installed; then
    fail "frontdesk is already installed on this machine; this test installs and purges its own copy only"
fi

daemon=
cleanup() {
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null || true
    DEBIAN_FRONTEND=noninteractive dpkg --purge frontdesk frontdesk-models frontdesk-onnxruntime >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "package test: installing ${debs[*]##*/}"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debs[@]}" >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log" >&2; fail "apt-get install"; }

# What the packages promise.
getent passwd frontdesk >/dev/null || fail "no frontdesk user"
[ "$(stat -c '%U %a' /var/lib/frontdesk)" = "frontdesk 700" ] || fail "/var/lib/frontdesk is $(stat -c '%U %a' /var/lib/frontdesk)"
grep -qx /etc/frontdesk/frontdesk.toml /var/lib/dpkg/info/frontdesk.conffiles || fail "the config is not a conffile"
frontdesk check-config "$config" >/dev/null || fail "the packaged config does not load"
frontdesk --config "$config" models check >"$work/models.txt" || { cat "$work/models.txt" >&2; fail "packaged models do not verify"; }
size_kb=$(dpkg-query -W -f='${Installed-Size}\n' frontdesk frontdesk-models frontdesk-onnxruntime | awk '{s += $1} END {print s}')
echo "package test: installed size of the three packages: $((size_kb / 1024)) MiB"
[ "$size_kb" -le $((400 * 1024)) ] || fail "installed size $((size_kb / 1024)) MiB is over 400 MiB"

# The unit's start, by hand: ExecStartPre (check, key as root), then ExecStart as the user.
frontdesk check-config "$config" >/dev/null
frontdesk --config "$config" key init --owner frontdesk >/dev/null
[ "$(stat -c '%U %a' /etc/frontdesk/master.key)" = "frontdesk 600" ] || fail "master.key is $(stat -c '%U %a' /etc/frontdesk/master.key)"
started=$(date +%s%N)
# setpriv execs the daemon itself (no session process between), so SIGTERM reaches it as from systemd.
# The environment is systemd's for User=frontdesk: a clean one, HOME the user's.
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/var/lib/frontdesk LANG=C.UTF-8 \
    setpriv --reuid=frontdesk --regid=frontdesk --init-groups -- frontdesk --config "$config" run 2>"$work/daemon.log" &
daemon=$!
for _ in $(seq 1 2400); do
    grep -q "SIP user agent listening" "$work/daemon.log" && break
    kill -0 "$daemon" 2>/dev/null || fail "the daemon exited at start"
    sleep 0.1
done
grep -q "SIP user agent listening" "$work/daemon.log" || fail "the daemon did not start within 240 s"
echo "package test: the daemon started as user frontdesk in $(( ($(date +%s%N) - started) / 1000000 )) ms"

# A call to the packaged config's SIP address (127.0.0.1:5060).
(cd "$work" && sipp -sf "$repo/packaging/deb/call.xml" -m 1 -i 127.0.0.1 -p 15099 -mp 15101 -nostdin \
    -timeout 60 -timeout_error 127.0.0.1:5060 >"$work/sipp.log" 2>&1) || { cat "$work/sipp.log" >&2; fail "sipp call"; }
for _ in $(seq 1 600); do
    grep -q "conversation ended" "$work/daemon.log" && break
    sleep 0.1
done
grep -q "conversation ended" "$work/daemon.log" || fail "the call did not end in the daemon's log"
kill -TERM "$daemon"
wait "$daemon" || fail "the daemon did not exit cleanly at SIGTERM"
daemon=
grep -q "+12125550147\|2125550147" "$work/daemon.log" && fail "the caller's number is in the log"
frontdesk --config "$config" calls list >"$work/calls.txt"
grep -q "^1 calls" "$work/calls.txt" || { cat "$work/calls.txt" >&2; fail "expected one call in the records"; }
frontdesk --config "$config" calls show 1 | grep -q "2125550147" || fail "the record does not hold the caller's number"
echo "package test: the call was answered and its record sealed"

# Purge: the packages' files, the config, the key and the records all go.
DEBIAN_FRONTEND=noninteractive dpkg --purge frontdesk frontdesk-models frontdesk-onnxruntime >"$work/purge.log" 2>&1 ||
    { cat "$work/purge.log" >&2; fail "dpkg --purge"; }
for p in /usr/bin/frontdesk /etc/frontdesk /var/lib/frontdesk /usr/share/frontdesk /usr/lib/frontdesk \
    /lib/systemd/system/frontdesk.service /usr/share/doc/frontdesk; do
    [ ! -e "$p" ] || fail "$p is left after purge"
done
echo "package test: installed, started, answered a sipp call, purged cleanly"
