#!/usr/bin/env bash
# `make test` once its set-up is done: the x86 suite, the configuration checks, the Debian
# packages, the Yocto layer's checks, and the aarch64 cross build with its unit tests under
# qemu-aarch64.
#
# The aarch64 cross build runs beside the rest, at idle priority (SCHED_IDLE, nice 19): most of
# the x86 suite is calls in real time that leave the cores idle more than half the time, and a
# process of the idle class only ever gets what nothing else wants, so the tests run as if it
# were not there while the cross compile fills their gaps. It has a target directory of its
# own (target/arm64), so the two cargos never wait for each other's lock. Its output goes to
# target/arm64-test.log and is printed when it ends; its result counts like any test's. The
# aarch64 unit tests run after the x86 suite, in the foreground: starved of CPU at idle
# priority, a test that waits for an event with a time limit could fail for no fault of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
FRONTDESK=target/release/frontdesk
CONFIG=${CONFIG:-examples/frontdesk.toml}
arm64_log=target/arm64-test.log

# Installing packages first, and in the foreground: the package test below uses dpkg too.
rc=0
scripts/arm64.sh deps || rc=$?
arm64=""
case $rc in
0)
    # A process group of its own (setsid), so a failing x86 step ends all of it (trap).
    setsid chrt --idle 0 nice -n 19 scripts/arm64.sh build >"$arm64_log" 2>&1 &
    arm64=$!
    trap '[ -z "$arm64" ] || kill -- "-$arm64" 2>/dev/null || true' EXIT
    ;;
3) echo "make test: the aarch64 build is NOT tested on this machine (above)" >&2 ;;
*) exit "$rc" ;;
esac

cargo test --release --locked
$FRONTDESK models check --config "$CONFIG"
$FRONTDESK check-config "$CONFIG"
make --no-print-directory deb-test
make --no-print-directory yocto-check

if [ -n "$arm64" ]; then
    echo "make test: waiting for the aarch64 cross build (target/arm64-test.log)"
    rc=0
    wait "$arm64" || rc=$?
    arm64=""
    tail -n 5 "$arm64_log"
    [ "$rc" = 0 ] || { cat "$arm64_log"; echo "make test: the aarch64 cross build failed (above)" >&2; exit "$rc"; }
    scripts/arm64.sh unit
    echo "make test: the aarch64 build and its unit tests under qemu-aarch64 passed"
fi
