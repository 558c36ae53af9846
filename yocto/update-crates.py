#!/usr/bin/env python3
"""Writes meta-frontdesk's frontdesk-crates.inc from Cargo.lock: one crate:// entry per crate
with the sha256 Cargo.lock records for it, as OE-core's `bitbake -c update_crates frontdesk`
(cargo-update-recipe-crates.bbclass) would. Run it after Cargo.lock changes;
`make yocto-check` fails when the file is out of date.

    yocto/update-crates.py [--check]
"""
import pathlib
import sys
import tomllib

repo = pathlib.Path(__file__).resolve().parent.parent
lock = tomllib.loads((repo / "Cargo.lock").read_text())
out = repo / "yocto/meta-frontdesk/recipes-frontdesk/frontdesk/frontdesk-crates.inc"

crates = []
for p in lock["package"]:
    source = p.get("source", "")
    if source.startswith("registry+https://github.com/rust-lang/crates.io-index"):
        crates.append((p["name"], p["version"], p["checksum"]))
    elif source:
        sys.exit(f"update-crates: {p['name']} comes from {source}: only crates.io sources are handled")
crates.sort()

lines = ["# Generated from Cargo.lock by yocto/update-crates.py: do not edit.", "", 'SRC_URI += "\\']
lines += [f"    crate://crates.io/{n}/{v} \\" for n, v, _ in crates]
lines += ['"', ""]
lines += [f'SRC_URI[{n}-{v}.sha256sum] = "{c}"' for n, v, c in crates]
text = "\n".join(lines) + "\n"

if "--check" in sys.argv:
    if not out.exists() or out.read_text() != text:
        sys.exit(f"update-crates: {out.relative_to(repo)} does not match Cargo.lock: run yocto/update-crates.py")
    print(f"update-crates: {len(crates)} crates, in step with Cargo.lock")
else:
    out.write_text(text)
    print(f"update-crates: wrote {len(crates)} crates to {out.relative_to(repo)}")
