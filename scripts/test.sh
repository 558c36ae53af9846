#!/usr/bin/env bash
# `make test` once its set-up is done: the x86 suite, the configuration checks, the Debian
# packages, the Yocto layer's checks, then the aarch64 cross build with its unit tests under
# qemu-aarch64.
#
# One thing at a time. Running the aarch64 build beside the x86 suite (even at idle priority,
# even beside only the tests that are calls in real time) was tried: it saved about 7 minutes,
# but it slowed the computing tests several times over, and in one of three CI runs the calls'
# speech was so late that a caller's recogniser misheard the agent (which then exposed two
# conversation bugs, since fixed). The aarch64 build has a target directory of its own
# (target/arm64).
set -euo pipefail
cd "$(dirname "$0")/.."
FRONTDESK=target/release/frontdesk
CONFIG=${CONFIG:-examples/frontdesk.toml}

# Each step's wall time, so a slow CI run says where its time went (BENCHMARKS.md, "`make
# test` itself").
timed() {
    local started=$SECONDS rc=0
    "$@" || rc=$?
    echo "make test: '$*' took $((SECONDS - started)) s (exit $rc)"
    return $rc
}

timed cargo test --release --locked
$FRONTDESK models check --config "$CONFIG"
$FRONTDESK check-config "$CONFIG"
timed make --no-print-directory deb-test
timed make --no-print-directory yocto-check

rc=0
timed scripts/arm64.sh deps || rc=$?
case $rc in
0)
    timed scripts/arm64.sh build
    timed scripts/arm64.sh unit
    echo "make test: the aarch64 build and its unit tests under qemu-aarch64 passed"
    ;;
3) echo "make test: the aarch64 build is NOT tested on this machine (above)" >&2 ;;
*) exit "$rc" ;;
esac
