#!/usr/bin/env python3
"""Smart Turn v3.2 (pipecat-ai's end-of-turn model) on our callers' voice, as measured for
issue 13 point 5 (BENCHMARKS.md, "An end-of-turn model"). A development probe, not part of
the product or its tests.

For each line: the turn as the box hears it (our voice, 8 kHz mu-law, back to 16 kHz, a second
of quiet before it), cut at its real end and at every pause of 150 ms or more inside it, each
cut followed by SILENCE ms of quiet, as the engine would ask at that point. Prints the model's
probability that the turn is complete, and the time of one inference.

Needs: a venv with onnxruntime numpy soundfile soxr; the pipecat-ai 1.14.0 wheel unpacked in
PIPECAT (its smart-turn-v3.2-cpu.onnx and feature code; BSD-2-Clause; wheel sha256
0352f504b44e78bdf524e45af4bc759601c835b9b7dc195efe5e03384b974a44); `frontdesk say` built.
Usage: smart-turn-probe.py PIPECAT_DIR [SILENCE_MS]
"""
import subprocess, sys, tempfile, time

import numpy as np, onnxruntime as ort, soundfile as sf, soxr

PIPECAT = sys.argv[1]
SILENCE = int(sys.argv[2]) if len(sys.argv) > 2 else 200
sys.path.insert(0, PIPECAT)
from pipecat.audio.turn.smart_turn._whisper_features import compute_whisper_log_mel_features  # noqa: E402

LINES = [
    "I'd like to make an appointment.", "My name is John Smith.", "S. M. I. T. H.", "Yes.",
    "March fifth, nineteen eighty.", "Six one seven, five five five, zero one nine nine.",
    "I have a sore throat.", "Monday morning.", "Yes, that's right.", "No, thank you.",
    "What are your hours on Saturday?", "No, that's wrong, it's six one seven.",
    "I need a refill of my, um, lisinopril.", "It's about my test results from last week.",
]

so = ort.SessionOptions()
so.intra_op_num_threads = 1
so.inter_op_num_threads = 1
model = ort.InferenceSession(f"{PIPECAT}/pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx", so)


def mulaw(x):
    y = np.sign(x) * np.log1p(255 * np.abs(x)) / np.log1p(255)
    y = np.round(y * 127) / 127
    return np.sign(y) * (np.power(256, np.abs(y)) - 1) / 255


def complete(a16):
    a = a16[-128000:]
    a = np.pad(a, (128000 - len(a), 0)) if len(a) < 128000 else a
    f = compute_whisper_log_mel_features(a)[None]
    t = time.perf_counter()
    p = model.run(None, {"input_features": f})[0][0].item()
    return p, (time.perf_counter() - t) * 1000


times = []
for text in LINES:
    with tempfile.NamedTemporaryFile(suffix=".wav") as w:
        subprocess.run(["target/release/frontdesk", "--config", "examples/frontdesk.toml", "say", "--out", w.name, text],
                       check=True, capture_output=True)
        a, sr = sf.read(w.name)
    a16 = soxr.resample(mulaw(soxr.resample(a, sr, 8000)), 8000, 16000).astype(np.float32)
    a16 = np.concatenate([np.zeros(16000, np.float32), a16])
    fr = 160  # 10 ms
    e = np.array([np.sqrt(np.mean(a16[k:k + fr] ** 2)) for k in range(0, len(a16) - fr, fr)])
    voiced = e > 0.02 * e.max()
    idx = np.nonzero(voiced)[0]
    first, last = idx[0], idx[-1]
    cuts, k = [], first
    while k < last:
        if not voiced[k]:
            j = k
            while j < last and not voiced[j]:
                j += 1
            if (j - k) * 10 >= 150:
                cuts.append((k, (j - k) * 10))
            k = j
        else:
            k += 1
    inner = []
    for k, gap in cuts:
        p, ms = complete(np.concatenate([a16[:k * fr], np.zeros(SILENCE * 16, np.float32)]))
        times.append(ms)
        inner.append(f"pause of {gap} ms at {(k - first) * 10} ms: {p:.2f}")
    p, ms = complete(np.concatenate([a16[:(last + 1) * fr], np.zeros(SILENCE * 16, np.float32)]))
    times.append(ms)
    print(f"{text!r}: end {p:.2f}" + ("; " + "; ".join(inner) if inner else ""))
print(f"inference: median {np.median(times):.0f} ms, max {max(times):.0f} ms (1 thread)")
