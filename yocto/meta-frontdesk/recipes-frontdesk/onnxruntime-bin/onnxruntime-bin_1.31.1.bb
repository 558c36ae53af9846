SUMMARY = "ONNX Runtime shared library for Frontdesk's voice (prebuilt)"
DESCRIPTION = "libonnxruntime as upstream builds it, from the pinned onnxruntime wheel on \
               PyPI for the target architecture, in a private directory. Frontdesk checks its \
               sha256 at every start, so it is installed unchanged (not stripped)."
HOMEPAGE = "https://onnxruntime.ai"
BUGTRACKER = "https://github.com/microsoft/onnxruntime/issues"
SECTION = "libs"
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://onnxruntime/LICENSE;md5=0f7e3b1308cb5c00b372a6e78835732d"

PYPI_FILES = "https://files.pythonhosted.org/packages"
SRC_URI:aarch64 = "${PYPI_FILES}/02/ee/b173a49293b146b54bd057bf8681a015aef764d8f56d999ad8c6e53ab18d/onnxruntime-${PV}-cp311-cp311-manylinux_2_28_aarch64.whl;name=aarch64;downloadfilename=onnxruntime-${PV}-aarch64.zip"
SRC_URI:x86-64 = "${PYPI_FILES}/b4/1d/0f85ee31a3d93f2243a5cc29252becf858f53ac5cfa6c9c15d9ffe107eea/onnxruntime-${PV}-cp311-cp311-manylinux_2_28_x86_64.whl;name=x86_64;downloadfilename=onnxruntime-${PV}-x86_64.zip"
SRC_URI[aarch64.sha256sum] = "da05378364c44d4407e463982d2bf8d5e4cfea873283757e48beeb41df97b7f3"
SRC_URI[x86_64.sha256sum] = "5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f"

S = "${UNPACKDIR}"

COMPATIBLE_HOST = "(aarch64|x86_64).*-linux"

CVE_PRODUCT = "onnxruntime"

# Upstream's build is installed as it is: its checksum is what Frontdesk verifies.
INHIBIT_PACKAGE_STRIP = "1"
INHIBIT_PACKAGE_DEBUG_SPLIT = "1"

do_configure[noexec] = "1"
do_compile[noexec] = "1"

do_install() {
    install -d ${D}${libdir}/frontdesk
    install -m 0755 ${S}/onnxruntime/capi/libonnxruntime.so.${PV} ${D}${libdir}/frontdesk/
    ln -sf libonnxruntime.so.${PV} ${D}${libdir}/frontdesk/libonnxruntime.so
}

FILES:${PN} += "${libdir}/frontdesk/libonnxruntime.so.${PV}"
FILES:${PN}-dev += "${libdir}/frontdesk/libonnxruntime.so"
