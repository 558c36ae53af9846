#!/usr/bin/env bash
# The aarch64 build of Frontdesk, cross-compiled here and run under qemu-user:
#
#   scripts/arm64.sh deps    Debian's aarch64 cross compilers, arm64 libraries (multiarch), qemu-user,
#                            and the Rust standard library for aarch64 (rustup)
#   scripts/arm64.sh build   target/arm64/aarch64-unknown-linux-gnu/release/frontdesk (portable:
#                            .cargo/config.toml sets ggml's Armv8.2-A baseline, never -march=native)
#   scripts/arm64.sh unit    (built by build) the unit tests as aarch64 code under qemu-aarch64 (but the engine's,
#                            which hold whole calls with both models: half an hour emulated;
#                            they run natively in `make test`)
#   scripts/arm64.sh roundtrip  the speech round trip: our voice says the clinic sentences and
#                            our Whisper transcribes them, under qemu, with ONNX Runtime for
#                            aarch64; the same WER bound as on x86
#
# `make arm64` runs deps, build, unit and roundtrip; `make test` runs deps, build and unit
# (scripts/test.sh, after the x86 suite).
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-unknown-linux-gnu
# A target directory of its own (its cargo lock and its build apart from the x86 one's).
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/arm64}

# The C and C++ parts (whisper.cpp, speexdsp) for aarch64, bindgen looking at aarch64 headers,
# pkg-config at the arm64 libraries.
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export CXX_aarch64_unknown_linux_gnu=aarch64-linux-gnu-g++
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
export BINDGEN_EXTRA_CLANG_ARGS_aarch64_unknown_linux_gnu="--target=aarch64-linux-gnu"
export PKG_CONFIG_ALLOW_CROSS=1
export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
export CMAKE_SYSTEM_PROCESSOR_aarch64_unknown_linux_gnu=aarch64

ort_arm64=models/onnxruntime-aarch64/libonnxruntime.so.1.31.1

case "${1:-}" in
deps)
    packages=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev:arm64 libstdc++6:arm64 libespeak-ng-dev:arm64 libasound2-dev:arm64 qemu-user)
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        dpkg --add-architecture arm64
        apt-get update -qq
    fi
    missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "arm64: installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    # qemu before 8 crashes in ONNX Runtime's start-up (its CPU detection): bookworm's 7.2 does;
    # bookworm-backports has 10.
    qemu_major=$(qemu-aarch64 --version | sed -n 's/^qemu-aarch64 version \([0-9]*\).*/\1/p')
    if [ "${qemu_major:-0}" -lt 8 ]; then
        . /etc/os-release
        echo "deb http://deb.debian.org/debian ${VERSION_CODENAME}-backports main" >/etc/apt/sources.list.d/frontdesk-backports.list
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t "${VERSION_CODENAME}-backports" qemu-user >/dev/null
        echo "arm64: $(qemu-aarch64 --version | head -1) from ${VERSION_CODENAME}-backports"
    fi
    # Rust's aarch64 standard library comes from static.rust-lang.org, not a package registry: a
    # machine that cannot reach it cannot cross-build, which is said (exit 3), not hidden.
    if ! rustup target list --installed | grep -qx $target && ! rustup target add $target; then
        echo "arm64: rustup could not fetch the aarch64 standard library (static.rust-lang.org): no cross build here" >&2
        exit 3
    fi
    # ONNX Runtime for aarch64, from the pinned wheel (its sha256 checked, then the library's
    # against models/SHA256SUMS, as models/fetch.sh does for this machine's).
    if [ ! -f "$ort_arm64" ]; then
        wheel=onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_aarch64.whl
        [ -f "models/downloads/$wheel" ] || python3 -m pip download --quiet --no-deps -d models/downloads \
            --only-binary=:all: --platform manylinux_2_28_aarch64 --python-version 3.11 onnxruntime==1.31.1
        echo "da05378364c44d4407e463982d2bf8d5e4cfea873283757e48beeb41df97b7f3  models/downloads/$wheel" | sha256sum -c --quiet -
        mkdir -p "$(dirname "$ort_arm64")"
        python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("onnxruntime/capi/libonnxruntime.so.1.31.1"))' \
            "models/downloads/$wheel" "$ort_arm64"
    fi
    grep -q "^$(sha256sum "$ort_arm64" | cut -d' ' -f1)  onnxruntime/libonnxruntime.so.1.31.1" models/SHA256SUMS ||
        { echo "arm64: $ort_arm64 does not match models/SHA256SUMS" >&2; exit 1; }
    ;;
build)
    cargo build --release --locked --target $target
    # And the unit tests' binary, so `unit` only runs it.
    cargo test --release --locked --target $target --lib --no-run
    file "$CARGO_TARGET_DIR/$target/release/frontdesk" | grep -q "ARM aarch64" || { echo "arm64: not an aarch64 binary" >&2; exit 1; }
    echo "arm64: built $CARGO_TARGET_DIR/$target/release/frontdesk"
    ;;
unit | roundtrip)
    # Under qemu the models load from the same files; only ONNX Runtime differs by architecture.
    config=target/arm64-test.toml
    sed -e "s|^onnxruntime = .*|onnxruntime = \"$PWD/$ort_arm64\"|" -e "s|\"\.\./models/|\"$PWD/models/|g" \
        examples/frontdesk.toml >"$config"
    export FRONTDESK_TEST_CONFIG=$PWD/$config
    if [ "$1" = unit ]; then
        cargo test --release --locked --target $target --lib -- --skip call::engine::tests
    else
        # The sized context only (the one calls use): each full 30 s context takes minutes emulated.
        FRONTDESK_ROUNDTRIP=sized cargo test --release --locked --target $target --test speech_roundtrip -- --nocapture 2>&1 |
            tee target/arm64-roundtrip.log
    fi
    ;;
*)
    echo "usage: scripts/arm64.sh deps|build|unit|roundtrip" >&2
    exit 2
    ;;
esac
