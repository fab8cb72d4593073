"""Runs bench/qatstep (qatgo) and bench/torchref/step.py (PyTorch) alternately
on one machine and prints, per model and thread count, the median time per
training step of each side in FP32 and QAT W8A8 and the speed ratio
(PyTorch time / qatgo time: above 1 means qatgo is faster), on both
process CPU time and wall-clock time. On a shared machine the CPU-time ratio
is the steadier one; on an idle one compare wall clock.

    GOEXPERIMENT=simd go build -o /tmp/qatstep ./bench/qatstep
    /usr/bin/python3 bench/torchref/compare.py -qatstep /tmp/qatstep \\
        -models lenet5,vgg-small,resnet20,mobilenetv2 -threads 1,2 -rounds 3 -steps 20

With -infer it runs bench/infer and bench/torchref/infer.py instead: inference
at batch 256, images per CPU-second of qatgo's float model against PyTorch's
eval() and of qatgo's integer runtime against PyTorch's convert()ed int8
model (ratio: qatgo rate / PyTorch rate; on a calm machine read the wall-clock
one, since PyTorch's idle OpenMP threads spin and count as CPU time):

    go build -o /tmp/infer ./bench/infer
    /usr/bin/python3 bench/torchref/compare.py -infer /tmp/infer -threads 1 -rounds 3

Training rows also give each side's achieved GFLOP/s per CPU-second (3 × 2
FLOPs per multiply-add of the forward, as bench/qatstep counts them with
`qatgo inspect`'s rule: forward, input gradient, weight gradient; batch norms
and the rest not counted; Winograd layers direct-equivalent) and its share of
one core's FP32 FMA peak (-peak, GFLOP/s: `go run ./bench/peak` measures it,
270 on the Zen 5 VM of BENCHMARKS.md), and a second table the QAT / FP32 step
time of each side.

Both sides get the thread count: GOMAXPROCS for qatgo; torch.set_num_threads
and OPENBLAS_NUM_THREADS (set by step.py and infer.py themselves) for PyTorch,
whose OpenBLAS otherwise runs every GEMM on all cores — before session 8 the
"1-thread" PyTorch runs of LeNet-5 and vgg-small used both cores.

Not part of CI: it needs python3-torch and libopenblas0-pthread (Debian).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

LINE = re.compile(r"^round \d+ (\S+)\s+\d+ img/s\s+wall\s+([\d.]+) ms/step\s+cpu\s+([\d.]+) ms/step")
MACS = re.compile(r"([\d.]+) M multiply-adds per image")
INFER = re.compile(r"^round \d+ (\S+)\s+(\d+) img/cpu-s\s+(\d+) img/s")
HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    out = p.stdout + p.stderr
    res = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            res.setdefault(m.group(1), []).append((float(m.group(2)), float(m.group(3))))
        m = MACS.search(line)
        if m:
            res["macs"] = float(m.group(1)) * 1e6
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-qatstep", default="/tmp/qatstep", help="built bench/qatstep binary")
    ap.add_argument("-python", default="/usr/bin/python3")
    ap.add_argument("-models", default="lenet5,vgg-small,resnet20,mobilenetv2")
    ap.add_argument("-threads", default="1,2")
    ap.add_argument("-rounds", type=int, default=3)
    ap.add_argument("-steps", type=int, default=20)
    ap.add_argument("-peak", type=float, default=270, help="one core's FP32 FMA peak, GFLOP/s (bench/peak)")
    ap.add_argument("-infer", default="", help="built bench/infer binary: compare inference instead of training")
    a = ap.parse_args()
    if a.infer:
        infer(a)
        return
    rows, qat = [], []
    for model in a.models.split(","):
        for t in [int(s) for s in a.threads.split(",")]:
            acc = {}  # (side, variant) -> [(wall, cpu)]
            macs = 0.0
            for r in range(a.rounds):
                env = dict(os.environ, GOMAXPROCS=str(t))
                go = run([a.qatstep, "-model", model, "-rounds", "1", "-steps", str(a.steps)], env)
                pt = run([a.python, os.path.join(HERE, "step.py"), "-model", model, "-threads", str(t),
                          "-rounds", "1", "-steps", str(a.steps)])
                macs = go.pop("macs", macs)
                pt.pop("macs", None)
                for side, res in (("qatgo", go), ("torch", pt)):
                    for v, ms in res.items():
                        acc.setdefault((side, v), []).extend(ms)
                print(f"# {model} threads {t} round {r + 1} done", file=sys.stderr)
            med = {}
            for k, ms in acc.items():
                med[k] = (statistics.median(x[0] for x in ms), statistics.median(x[1] for x in ms))
            # GFLOP/s per CPU-second: 3 passes × 2 FLOPs per multiply-add
            # of a batch of 64 (ms per step in, so GFLOP/ms → ×1e-6).
            gf = lambda cpu_ms: 6 * macs * 64 / cpu_ms * 1e-6 if macs and cpu_ms else 0.0
            for v in ("fp32", "w8a8"):
                if ("qatgo", v) not in med or ("torch", v) not in med:
                    continue
                (gw, gc), (pw, pc) = med[("qatgo", v)], med[("torch", v)]
                rows.append((model, t, v, 64e3 / gw, 64e3 / pw, gc, pc, gf(gc), gf(pc), pc / gc, pw / gw))
            if all((s, v) in med for s in ("qatgo", "torch") for v in ("fp32", "w8a8")):
                qat.append((model, t) + tuple(med[(s, "w8a8")][i] / med[(s, "fp32")][i]
                                              for s in ("qatgo", "torch") for i in (1, 0)))
    print(f"| model | threads | variant | qatgo img/s | torch img/s | qatgo cpu ms/step | torch cpu ms/step "
          f"| qatgo GFLOP/s (share of {a.peak:.0f}) | torch GFLOP/s (share) | ratio (cpu) | ratio (wall) |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.0f} | {r[4]:.0f} | {r[5]:.1f} | {r[6]:.1f} "
              f"| {r[7]:.0f} ({100 * r[7] / a.peak:.0f}%) | {r[8]:.0f} ({100 * r[8] / a.peak:.0f}%) | {r[9]:.2f}x | {r[10]:.2f}x |")
    if qat:
        print()
        print("| model | threads | qatgo QAT / FP32 (cpu) | (wall) | torch QAT / FP32 (cpu) | (wall) |")
        print("|---|---|---:|---:|---:|---:|")
        for q in qat:
            print(f"| {q[0]} | {q[1]} | {q[2]:.2f} | {q[3]:.2f} | {q[4]:.2f} | {q[5]:.2f} |")


def rates(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    res = {}
    for line in (p.stdout + p.stderr).splitlines():
        m = INFER.match(line)
        if m:
            res.setdefault(m.group(1), []).append((float(m.group(2)), float(m.group(3))))
    return res


def infer(a):
    rows = []
    for model in a.models.split(","):
        for t in [int(s) for s in a.threads.split(",")]:
            acc = {}
            for r in range(a.rounds):
                env = dict(os.environ, GOMAXPROCS=str(t))
                go = rates([a.infer, "-model", model, "-rounds", "1"], env)
                pt = rates([a.python, os.path.join(HERE, "infer.py"), "-model", model, "-threads", str(t), "-rounds", "1"])
                for side, res in (("qatgo", go), ("torch", pt)):
                    for v, rs in res.items():
                        acc.setdefault((side, v), []).extend(rs)
                print(f"# {model} threads {t} round {r + 1} done", file=sys.stderr)
            for v in ("fp32", "int8"):
                g, p = acc.get(("qatgo", v)), acc.get(("torch", v))
                if g and p:
                    gc, pc = statistics.median(x[0] for x in g), statistics.median(x[0] for x in p)
                    gw, pw = statistics.median(x[1] for x in g), statistics.median(x[1] for x in p)
                    rows.append((model, t, v, gw, pw, gw / pw, gc, pc, gc / pc))
    print("| model | threads | variant | qatgo img/s | torch img/s | ratio (wall) | qatgo img/CPU-s | torch img/CPU-s | ratio (cpu) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.0f} | {r[4]:.0f} | {r[5]:.2f}x | {r[6]:.0f} | {r[7]:.0f} | {r[8]:.2f}x |")


if __name__ == "__main__":
    main()
