SUMMARY = "An example appliance image: Frontdesk on systemd"
DESCRIPTION = "A minimal image that boots into systemd and starts Frontdesk. Set \
               INIT_MANAGER = \"systemd\" in local.conf; edit /etc/frontdesk/frontdesk.toml \
               on the box."
HOMEPAGE = "https://frontdesk.invalid/"
BUGTRACKER = "https://frontdesk.invalid/issues"
SECTION = "images"
LICENSE = "MIT"

REQUIRED_DISTRO_FEATURES = "systemd"

inherit core-image features_check

IMAGE_FEATURES += "ssh-server-dropbear"
IMAGE_INSTALL:append = " packagegroup-frontdesk"
