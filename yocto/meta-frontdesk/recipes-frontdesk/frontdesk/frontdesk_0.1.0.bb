SUMMARY = "Frontdesk: answers a medical clinic's phone on the box itself"
DESCRIPTION = "Answers calls on a SIP trunk or PBX, or an analog line through an FXO \
               interface, with local speech recognition (whisper.cpp) and synthesis (Piper \
               on ONNX Runtime); call records are encrypted on the box."
HOMEPAGE = "https://frontdesk.invalid/"
BUGTRACKER = "https://frontdesk.invalid/issues"
SECTION = "net"
LICENSE = "GPL-3.0-or-later"
LIC_FILES_CHKSUM = "file://COPYING;md5=1ebbd3e34237af26da5dc08a4e440464"

# ONNX Runtime is loaded at run time (ort's load-dynamic), so it is only an RDEPENDS. clang:
# aec-rs-sys (the analog line's echo canceller, speexdsp) generates its bindings with bindgen.
DEPENDS = "alsa-lib clang-native cmake-native espeak-ng"

PV .= "+git"

# The vendor points FRONTDESK_GIT at its copy of the Frontdesk repository; SRCREV pins the
# commit this layer was last checked against (bump both together with the crates list).
FRONTDESK_GIT ?= "git://git.frontdesk.invalid/frontdesk.git;protocol=https;branch=main"
SRC_URI = "${FRONTDESK_GIT}"
SRCREV = "539356cc0ede79f64258661fafd99906671b9081"

inherit cargo cargo-update-recipe-crates pkgconfig systemd useradd

# Every crate of Cargo.lock, as crate:// entries with their checksums: regenerate with
# yocto/update-crates.py (or `bitbake -c update_crates frontdesk`) after Cargo.lock changes.
require ${BPN}-crates.inc

# Portable code for the target CPU family: no -march=native in whisper.cpp (ggml).
export GGML_NATIVE = "OFF"
# whisper-rs-sys uses its bundled bindings; aec-rs-sys's bindgen gets the target's headers.
export WHISPER_DONT_GENERATE_BINDINGS = "1"
export LIBCLANG_PATH = "${STAGING_LIBDIR_NATIVE}"
export BINDGEN_EXTRA_CLANG_ARGS = "--sysroot=${STAGING_DIR_HOST}"

CVE_PRODUCT = "frontdesk"

SYSTEMD_SERVICE:${PN} = "frontdesk.service"

USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = "--system frontdesk"
USERADD_PARAM:${PN} = "--system --no-create-home --home-dir ${localstatedir}/lib/frontdesk \
                       --shell /sbin/nologin --gid frontdesk --groups audio frontdesk"

do_install:append:class-target() {
    install -d ${D}${systemd_system_unitdir}
    install -m 0644 ${S}/systemd/frontdesk.service ${D}${systemd_system_unitdir}/
    sed -i -e 's|/usr/bin/frontdesk|${bindir}/frontdesk|g' ${D}${systemd_system_unitdir}/frontdesk.service
    # CM108-style interfaces' hidraw nodes to group audio (fxo.control = "hid").
    install -d ${D}${nonarch_base_libdir}/udev/rules.d
    install -m 0644 ${S}/systemd/60-frontdesk-hidraw.rules ${D}${nonarch_base_libdir}/udev/rules.d/
    # The example config with the image's paths: models, ONNX Runtime, their checksums.
    install -d ${D}${sysconfdir}/frontdesk
    sed -e 's|^onnxruntime = .*|onnxruntime = "${libdir}/frontdesk/libonnxruntime.so.1.31.1"|' \
        -e 's|"\.\./models/|"${datadir}/frontdesk/models/|' \
        ${S}/examples/frontdesk.toml > ${D}${sysconfdir}/frontdesk/frontdesk.toml
    chmod 0644 ${D}${sysconfdir}/frontdesk/frontdesk.toml
}

CONFFILES:${PN} = "${sysconfdir}/frontdesk/frontdesk.toml"

FILES:${PN} += "${nonarch_base_libdir}/udev/rules.d"

RDEPENDS:${PN}:class-target = "espeak-ng-data frontdesk-models onnxruntime-bin"

# frontdesk-native converts and quantises Whisper for frontdesk-models at build time.
BBCLASSEXTEND = "native"
