#!/usr/bin/env bash
# Installs the Debian packages Frontdesk needs to build, test and run, skipping those present.
#
#   scripts/install-deps.sh [build|test]
#
# build: compilers and libraries for whisper.cpp (cmake, clang for bindgen), libespeak-ng, alsa-lib
#        (the analog line's audio), and
#        python3 with pip (used only to download model wheels, never to install them).
# test:  also the real peers the tests talk to: sox, minimodem (caller ID bursts), sipp, baresip
#        (core: no GUI), kamailio with its TLS module, openssl (test certificates), chromium and
#        chromium-driver (the web inbox in a real browser), systemd (systemd-analyze checks the unit; nothing is started),
#        dpkg-dev and lintian (the Debian packages are built and checked), python3-venv (oelint-adv
#        for the Yocto layer, from PyPI, in target/oelint).
set -euo pipefail

profile=${1:-build}
packages=(cmake clang libclang-dev pkg-config make gcc g++ libespeak-ng-dev espeak-ng-data libasound2-dev python3 ca-certificates)
if [ "$profile" = test ]; then
    packages+=(sox minimodem sip-tester baresip-core kamailio kamailio-tls-modules openssl chromium chromium-driver systemd dpkg-dev lintian python3-venv)
fi
python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "install-deps: no Rust toolchain: install Rust 1.88 or newer (rustup) and run again" >&2
    exit 1
fi
rustc_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
if [ "${rustc_minor:-0}" -lt 88 ]; then
    echo "install-deps: $(rustc --version) is too old: Frontdesk needs Rust 1.88 or newer (edition 2024)" >&2
    exit 1
fi
