"""PyTorch's time per operator for the int8 model of bench/torchref/infer.py
(the same QAT flow, convert()ed, onednn engine, batch 256), from its autograd
profiler, grouped by input shape: the PyTorch side of bench/infer -layers.

    /usr/bin/python3 bench/torchref/profile.py -model mobilenetv2 -threads 1
"""
import argparse
import os
import sys

# step pins OpenBLAS to -threads before it loads torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from infer import BATCH, int8_model, setup  # noqa: E402

import torch  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-model", default="mobilenetv2")
    ap.add_argument("-threads", type=int, default=1)
    ap.add_argument("-runs", type=int, default=10, help="profiled batches")
    a = ap.parse_args()
    x, y = setup(a.threads)
    net = int8_model(a.model, x, y)
    with torch.no_grad():
        for _ in range(3):
            net(x)
        with torch.autograd.profiler.profile(record_shapes=True) as prof:
            for _ in range(a.runs):
                net(x)
    print(f"model {a.model}, batch {BATCH}, torch {torch.__version__}, threads {a.threads}: "
          f"µs per image = self CPU total / {a.runs * BATCH}")
    print(prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=40))


if __name__ == "__main__":
    main()
