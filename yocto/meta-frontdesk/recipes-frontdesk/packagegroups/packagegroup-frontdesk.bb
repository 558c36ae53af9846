SUMMARY = "Frontdesk and everything it runs with"
DESCRIPTION = "The Frontdesk daemon, its speech models, ONNX Runtime and the ALSA tools \
               an installer uses to find an analog line's sound card."
HOMEPAGE = "https://frontdesk.invalid/"
BUGTRACKER = "https://frontdesk.invalid/issues"
SECTION = "net"
LICENSE = "MIT"

inherit packagegroup

RDEPENDS:${PN} = "\
    alsa-utils-amixer \
    alsa-utils-aplay \
    frontdesk \
    frontdesk-models \
    onnxruntime-bin \
    "
