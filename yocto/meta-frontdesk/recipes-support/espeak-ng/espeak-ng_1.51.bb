SUMMARY = "eSpeak NG: the phonemizer of Frontdesk's Piper voice"
DESCRIPTION = "eSpeak NG text-to-phoneme library and its language data. Frontdesk links \
               libespeak-ng to turn text into the phonemes the Piper voice speaks (meta-oe \
               has only the old espeak 1.48). Built without audio output: phonemes are all \
               that is used."
HOMEPAGE = "https://github.com/espeak-ng/espeak-ng"
BUGTRACKER = "https://github.com/espeak-ng/espeak-ng/issues"
SECTION = "libs"
LICENSE = "GPL-3.0-or-later"
LIC_FILES_CHKSUM = "file://COPYING;md5=d32239bcb673463ab874e80d47fae504"

# The language data is compiled by running espeak-ng: on the build host, by espeak-ng-native.
DEPENDS:append:class-target = " espeak-ng-native"

# The 1.51 release tag.
SRC_URI = "git://github.com/espeak-ng/espeak-ng.git;protocol=https;branch=master;tag=${PV}"
SRCREV = "2e9a5fccbb0095e87b2769e9249ea1f821918ecd"

inherit autotools pkgconfig

CVE_PRODUCT = "espeak-ng"

EXTRA_OECONF = "--without-pcaudiolib --without-sonic --without-async --disable-rpath"

do_configure:prepend() {
    (cd ${S} && ./autogen.sh)
}

do_compile:class-target() {
    oe_runmake src/libespeak-ng.la src/espeak-ng
    # The data, compiled on the host by the native build, is the same for every target.
    install -d ${B}/espeak-ng-data
    cp -R ${STAGING_DATADIR_NATIVE}/espeak-ng-data/. ${B}/espeak-ng-data/
}

do_install:class-target() {
    oe_runmake DESTDIR=${D} install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA
    install -d ${D}${datadir}/espeak-ng-data
    cp -R --no-preserve=ownership ${B}/espeak-ng-data/. ${D}${datadir}/espeak-ng-data/
}

do_install:append:class-native() {
    install -d ${D}${datadir}/espeak-ng-data
    cp -R --no-preserve=ownership ${B}/espeak-ng-data/. ${D}${datadir}/espeak-ng-data/
}

PACKAGES =+ "${PN}-data"
FILES:${PN}-data += "${datadir}/espeak-ng-data"
RDEPENDS:${PN} = "${PN}-data"

BBCLASSEXTEND = "native"
