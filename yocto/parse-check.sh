#!/usr/bin/env bash
# Parses meta-frontdesk with BitBake against an OE-core checkout, without building anything:
# `bitbake -p` (every recipe parses), a few of the recipe's values, and `bitbake -g
# frontdesk-image` (every dependency of the image resolves).
#
#   yocto/parse-check.sh OE_CORE_DIR BITBAKE_DIR [BUILD_DIR]
#
# Both checkouts at the same release tag (e.g. yocto-6.0.2 of openembedded-core and bitbake).
# BitBake refuses to run as root: run this as an ordinary user. Needs the host tools OE-core's
# sanity check asks for (Debian: chrpath cpio diffstat gawk lz4 zstd texinfo file) and the
# en_US.UTF-8 locale. No network is used (BB_NO_NETWORK).
set -euo pipefail
oe=$(cd "$1" && pwd)
bb=$(cd "$2" && pwd)
build=${3:-$(mktemp -d)}
layer=$(cd "$(dirname "$0")/meta-frontdesk" && pwd)
mkdir -p "$build/conf"
cat >"$build/conf/local.conf" <<CONF
MACHINE = "qemuarm64"
DISTRO = ""
INIT_MANAGER = "systemd"
BB_NO_NETWORK = "1"
CONNECTIVITY_CHECK_URIS = ""
PACKAGE_CLASSES = "package_ipk"
CONF
cat >"$build/conf/bblayers.conf" <<CONF
BBPATH = "\${TOPDIR}"
BBFILES ?= ""
BBLAYERS = "$oe/meta $layer"
CONF
export LANG=en_US.UTF-8
# shellcheck disable=SC1091
source "$oe/oe-init-build-env" "$build" "$bb" >/dev/null
bitbake -p
for v in SYSTEMD_SERVICE:frontdesk CONFFILES:frontdesk CARGO_BUILD_FLAGS; do
    echo "$v = $(bitbake-getvar -r frontdesk --value "$v" 2>/dev/null | tail -1)"
done
bitbake -g frontdesk-image >/dev/null
echo "bitbake -g frontdesk-image: $(wc -l <pn-buildlist) recipes, among them:"
grep -E '^(frontdesk|espeak-ng|onnxruntime|clang-native|packagegroup-frontdesk)' pn-buildlist | sort | tr '\n' ' '
echo
