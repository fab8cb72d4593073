"""PyTorch reference of bench/infer: the zoo's models (step.py's definitions)
at batch 256 on synthetic MNIST-shaped images, FP32 eval() and the int8 model
of torch.ao's eager-mode QAT flow (fuse, prepare_qat with the default qconfig
of the onednn engine, three training steps at batch 64 so that observers and
BatchNorm statistics are set, eval(), convert()), in images per CPU-second and
per wall-clock second,
one line per variant and round in bench/infer's format:

    /usr/bin/python3 bench/torchref/infer.py -model resnet20 -threads 1 -rounds 3
"""
import argparse
import os
import sys
import time

# step pins OpenBLAS to -threads before it loads torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from step import build, cpu_seconds  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.ao.quantization as tq  # noqa: E402

BATCH = 256


def int8_model(name, x, y):
    """The convert()ed int8 model of torch.ao's eager QAT flow (fuse,
    prepare_qat with the engine's default qconfig, three training steps at
    batch 64 on x and y so that observers and BatchNorm statistics are set,
    eval(), convert())."""
    q = build(name, True)
    opt = torch.optim.SGD(q.parameters(), lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        nn.CrossEntropyLoss()(q(x[:64]), y).backward()
        opt.step()
    return tq.convert(q.eval(), inplace=False)


def setup(threads):
    """Sets torch's threads and the onednn engine; returns the seeded batch
    of inputs and the 64 labels int8_model's QAT steps train on."""
    torch.set_num_threads(threads)
    torch.backends.quantized.engine = "onednn"
    g = torch.Generator().manual_seed(2)
    x = torch.rand(BATCH, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (64,), generator=g)
    return x, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-model", default="lenet5")
    ap.add_argument("-threads", type=int, default=1)
    ap.add_argument("-rounds", type=int, default=3)
    ap.add_argument("-only", default="", help="fp32 or int8")
    a = ap.parse_args()
    x, y = setup(a.threads)
    variants = {}
    if a.only in ("", "fp32"):
        variants["fp32"] = build(a.model, False).eval()
    if a.only in ("", "int8"):
        variants["int8"] = int8_model(a.model, x, y)
    print(f"model {a.model}, batch {BATCH}, torch {torch.__version__}, threads {a.threads}, "
          f"engine {torch.backends.quantized.engine}")
    rates = {v: [] for v in variants}
    with torch.no_grad():
        for net in variants.values():
            net(x)  # warm-up
        for r in range(a.rounds):
            for v, net in variants.items():
                c0 = cpu_seconds()
                net(x)
                n = max(1, int(1.0 / max(cpu_seconds() - c0, 1e-3)))
                c0, t0 = cpu_seconds(), time.perf_counter()
                for _ in range(n):
                    net(x)
                rate = n * BATCH / (cpu_seconds() - c0)
                wall = n * BATCH / (time.perf_counter() - t0)
                rates[v].append((rate, wall))
                print(f"round {r + 1} {v:<5} {rate:9.0f} img/cpu-s {wall:9.0f} img/s")
    for v, rs in rates.items():
        m = len(rs) // 2
        print(f"median {v:<5} {sorted(r[0] for r in rs)[m]:9.0f} img/cpu-s {sorted(r[1] for r in rs)[m]:9.0f} img/s")


if __name__ == "__main__":
    main()
