#!/usr/bin/env bash
# `make test` once its set-up is done: the x86 suite, the configuration checks, the Debian
# packages, the Yocto layer's checks, and the aarch64 cross build with its unit tests under
# qemu-aarch64.
#
# The aarch64 cross build (about 7 minutes of both cores from cold) runs while the x86 suite
# runs its calls in real time, the tests named in REALTIME below: a caller listening while the
# daemon speaks at the pace of speech, sipp, baresip and kamailio with their timers. Those wait
# far more than they compute (conversation_sip: a quarter of one core over its run), and the
# build runs at idle priority (SCHED_IDLE, nice 19), so it takes what they leave. The tests that
# compute flat out run after the build is done, alone as before: measured here, an idle-priority
# job beside them still made them several times slower. The build has a target directory of its
# own (target/arm64), so the two cargos never wait for each other's lock; its output goes to
# target/arm64-test.log. The aarch64 unit tests run last, in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
FRONTDESK=target/release/frontdesk
CONFIG=${CONFIG:-examples/frontdesk.toml}
arm64_log=target/arm64-test.log

REALTIME=(conversation_sip metrics assist_call sip_sipp sip_tls_trunk sip_kamailio sip_baresip sip_srtp sip_tls)

# Every test binary built first, with both cores.
cargo test --release --locked --no-run

# Installing packages in the foreground: the package test below uses dpkg too.
rc=0
scripts/arm64.sh deps || rc=$?
arm64=""
arm64_built=""
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

realtime=()
for t in "${REALTIME[@]}"; do realtime+=(--test "$t"); done
cargo test --release --locked "${realtime[@]}"

if [ -n "$arm64" ]; then
    echo "make test: waiting for the aarch64 cross build (target/arm64-test.log)"
    rc=0
    wait "$arm64" || rc=$?
    arm64=""
    tail -n 3 "$arm64_log"
    [ "$rc" = 0 ] || { cat "$arm64_log"; echo "make test: the aarch64 cross build failed (above)" >&2; exit "$rc"; }
    arm64_built=yes
fi

# The rest of the suite: unit tests, doc tests, and every file in tests/ not run above.
rest=()
for f in tests/*.rs; do
    t=$(basename "$f" .rs)
    [[ " ${REALTIME[*]} " == *" $t "* ]] || rest+=(--test "$t")
done
cargo test --release --locked --lib --bins "${rest[@]}"
cargo test --release --locked --doc
$FRONTDESK models check --config "$CONFIG"
$FRONTDESK check-config "$CONFIG"
make --no-print-directory deb-test
make --no-print-directory yocto-check
if [ -n "$arm64_built" ]; then
    scripts/arm64.sh unit
    echo "make test: the aarch64 build and its unit tests under qemu-aarch64 passed"
fi
