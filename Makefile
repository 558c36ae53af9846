# Frontdesk: the two commands a newcomer needs are `make run` and `make test`.
# Both install what is missing (Debian packages, models), build, then run the daemon / every test.

SHELL := /bin/bash
CARGO ?= cargo
FRONTDESK := target/release/frontdesk
CONFIG ?= examples/frontdesk.toml

.PHONY: fmt-check run test deps deps-test build models models-base bench deb deb-test yocto-check arm64 clean help

help:
	@echo "make run    install what is missing, fetch models, build, start the daemon on $(CONFIG)"
	@echo "make test   the same set-up, then every test"
	@echo "make bench  speech benchmarks on this machine (see BENCHMARKS.md)"
	@echo "make deb    the Debian packages, into target/deb (checked by lintian)"

run: deps build models
	$(FRONTDESK) run --config $(CONFIG)

# The x86 suite, the config checks, the packages, the Yocto checks, then the aarch64 cross
# build with its unit tests under qemu (scripts/test.sh).
test: deps-test build models-base fmt-check
	CONFIG=$(CONFIG) scripts/test.sh

# The packages: built, lintian-clean (each override explained in its file), then installed on
# this machine, started, called with sipp and purged (packaging/deb/test.sh).
deb: build models
	packaging/deb/build.sh
	lintian --pedantic --fail-on error,warning,info,pedantic target/deb/*.deb

deb-test: deb
	packaging/deb/test.sh

# aarch64: cross-built here, its tests and the speech round trip run under qemu-aarch64.
arm64: models
	scripts/arm64.sh deps
	scripts/arm64.sh build
	scripts/arm64.sh unit
	scripts/arm64.sh roundtrip

# The Yocto layer: the crate list in step with Cargo.lock, and oelint-adv (pinned, from PyPI,
# in a virtual environment under target/) clean for both supported releases; see yocto/README.md.
OELINT := target/oelint/bin/oelint-adv
OELINT_SUPPRESS := --suppress oelint.vars.homepageping --suppress oelint.var.bbclassextend --suppress oelint.var.suggestedvar.CVE_PRODUCT
yocto-check:
	python3 yocto/update-crates.py --check
	@# A venv made in another checkout (target/ moved or shared) names an interpreter that is gone: made again.
	@$(OELINT) --version >/dev/null 2>&1 || { rm -rf target/oelint && python3 -m venv target/oelint && target/oelint/bin/pip install --quiet oelint-adv==9.11.2; }
	cd yocto && for r in whinlatter wrynose; do \
		../$(OELINT) --quiet --release $$r --relpaths $(OELINT_SUPPRESS) meta-frontdesk/recipes-*/*/*.bb || exit 1; \
	done
	@echo "yocto-check: meta-frontdesk is lint-clean for whinlatter and wrynose"

deps:
	scripts/install-deps.sh build

deps-test:
	scripts/install-deps.sh test

build:
	$(CARGO) build --release --locked

models: build
	FRONTDESK=$(FRONTDESK) models/fetch.sh default

models-base: build
	FRONTDESK=$(FRONTDESK) models/fetch.sh base
	models/fetch.sh assist

bench: deps build models
	$(FRONTDESK) bench speech --config $(CONFIG)

clean:
	$(CARGO) clean
	rm -rf models/downloads models/*.bin models/*.onnx models/*.onnx.json models/onnxruntime

# The tree is formatted with rustfmt.toml; a toolchain without rustfmt says so and goes on.
fmt-check:
	@if $(CARGO) fmt --version >/dev/null 2>&1; then \
		$(CARGO) fmt --check || { echo "make test: run 'cargo fmt' (rustfmt.toml) and commit" >&2; exit 1; }; \
	else echo "make test: no rustfmt in this toolchain (rustup component add rustfmt); formatting not checked" >&2; fi
