#!/usr/bin/env python3
"""Runs llama.cpp's own HTTP server (OpenAI-compatible /v1/chat/completions, /health) from the
pinned xllamacpp wheel that `models/fetch.sh assist` installs into models/llm-server:

    models/llm-server/bin/python scripts/llm-server.py --model models/SmolLM2-135M-Instruct.Q4_1.gguf --port 8081

Listens on 127.0.0.1 only. Any other OpenAI-compatible server (llama.cpp's llama-server built
for the box, for one) does the same job; `[assist] endpoint` names it.
"""
import argparse
import signal
import sys
import threading

import xllamacpp

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--port", type=int, default=8081)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--ctx", type=int, default=2048)
a = p.parse_args()

params = xllamacpp.CommonParams()
params.model.path = a.model
params.hostnames = ["127.0.0.1"]
params.port = a.port
params.n_ctx = a.ctx
params.n_parallel = 1
params.cpuparams.n_threads = a.threads
params.cpuparams_batch.n_threads = a.threads
server = xllamacpp.Server(params)
print(f"llm-server: listening on {server.listening_address}", flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
stop.wait()
sys.exit(0)
