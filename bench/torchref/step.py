"""PyTorch reference of bench/qatstep: the zoo's models (same layers, same
shapes), batch 64 of synthetic MNIST-shaped data, cross-entropy, plain SGD,
in FP32 and in QAT W8A8 (eager-mode torch.ao: conv+bn(+relu) fused with
fuse_modules_qat, the default QAT qconfig of the onednn engine, residual sums
through FloatFunctional so that they get an output fake-quant as qatgo's Add).

Run with Debian's interpreter, /usr/bin/python3 (python3-torch with
libopenblas0-pthread); prints, per variant, the same "cpu ... ms/step" line
as qatstep so that bench/torchref/compare.py can parse both:

    /usr/bin/python3 bench/torchref/step.py -model resnet20 -threads 1 -steps 20
"""
import argparse
import os
import resource
import sys
import time


def _pin_blas_threads():
    """Gives OpenBLAS the thread count of -threads before torch loads it.

    torch.set_num_threads limits PyTorch's own (OpenMP) threads only;
    Debian's libopenblas0-pthread starts one thread per core for every GEMM
    unless OPENBLAS_NUM_THREADS says otherwise, so a "1-thread" PyTorch run
    used both cores of this machine (vgg-small FP32: 1,606 img/s on 2 cores'
    CPU time, 1,495 on one).
    """
    t = "1"
    for i, arg in enumerate(sys.argv):
        if arg in ("-threads", "--threads") and i + 1 < len(sys.argv):
            t = sys.argv[i + 1]
        elif arg.startswith(("-threads=", "--threads=")):
            t = arg.split("=", 1)[1]
    os.environ["OPENBLAS_NUM_THREADS"] = t
    os.environ["OMP_NUM_THREADS"] = t


_pin_blas_threads()

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.ao.quantization as tq  # noqa: E402

BATCH = 64


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


class ConvBN(nn.Sequential):
    def __init__(self, cin, cout, k, stride=1, groups=1, act=None):
        layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
        if act is not None:
            layers.append(act())
        super().__init__(*layers)

    def fuse(self):
        names = ["0", "1", "2"] if len(self) == 3 else ["0", "1"]
        # onednn/fbgemm fuse conv+bn+relu; relu6 stays a separate module.
        if len(self) == 3 and not isinstance(self[2], nn.ReLU):
            names = ["0", "1"]
        tq.fuse_modules_qat(self, [names], inplace=True)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2), nn.Flatten(),
                               nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))

    def forward(self, x):
        return self.f(x)

    def fuse(self):
        tq.fuse_modules_qat(self.f, [["5", "6"]], inplace=True)


class VGGSmall(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(ConvBN(1, 16, 3, act=nn.ReLU), ConvBN(16, 16, 3, act=nn.ReLU), nn.MaxPool2d(2),
                               ConvBN(16, 32, 3, act=nn.ReLU), ConvBN(32, 32, 3, act=nn.ReLU), nn.MaxPool2d(2),
                               nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))

    def forward(self, x):
        return self.f(x)

    def fuse(self):
        for m in self.f:
            if isinstance(m, ConvBN):
                m.fuse()
        tq.fuse_modules_qat(self.f, [["7", "8"]], inplace=True)


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(ConvBN(cin, cout, 3, stride, act=nn.ReLU), ConvBN(cout, cout, 3))
        self.short = ConvBN(cin, cout, 1, stride) if stride != 1 or cin != cout else None
        self.add = nn.quantized.FloatFunctional()
        self.relu = nn.ReLU()

    def forward(self, x):
        s = x if self.short is None else self.short(x)
        return self.relu(self.add.add(self.body(x), s))

    def fuse(self):
        for m in self.body:
            m.fuse()
        if self.short is not None:
            self.short.fuse()


class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        layers, cin = [ConvBN(1, 16, 3, act=nn.ReLU)], 16
        for s, w in enumerate([16, 32, 64]):
            for b in range(3):
                layers.append(Basic(cin, w, 2 if s > 0 and b == 0 else 1))
                cin = w
        self.f = nn.Sequential(*layers)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.gap(self.f(x)), 1))

    def fuse(self):
        for m in self.f:
            m.fuse()


class Inverted(nn.Module):
    def __init__(self, cin, cout, t, stride):
        super().__init__()
        hid = cin * t
        parts = []
        if t != 1:
            parts.append(ConvBN(cin, hid, 1, act=nn.ReLU6))
        parts += [ConvBN(hid, hid, 3, stride, groups=hid, act=nn.ReLU6), ConvBN(hid, cout, 1)]
        self.body = nn.Sequential(*parts)
        self.res = stride == 1 and cin == cout
        self.add = nn.quantized.FloatFunctional()

    def forward(self, x):
        y = self.body(x)
        return self.add.add(x, y) if self.res else y

    def fuse(self):
        for m in self.body:
            m.fuse()


class MobileNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        layers, cin = [ConvBN(1, 16, 3, act=nn.ReLU6)], 16
        for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 2, 2), (6, 64, 2, 2), (6, 96, 1, 1)]:
            for r in range(n):
                layers.append(Inverted(cin, c, t, s if r == 0 else 1))
                cin = c
        layers.append(ConvBN(cin, 256, 1, act=nn.ReLU6))
        self.f = nn.Sequential(*layers)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(256, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.gap(self.f(x)), 1))

    def fuse(self):
        for m in self.f:
            m.fuse()


MODELS = {"lenet5": LeNet5, "vgg-small": VGGSmall, "resnet20": ResNet20, "mobilenetv2": MobileNetV2}


class Quantized(nn.Module):
    """The model between a QuantStub and a DeQuantStub (qatgo's input quantizer)."""

    def __init__(self, m):
        super().__init__()
        self.q, self.m, self.dq = tq.QuantStub(), m, tq.DeQuantStub()

    def forward(self, x):
        return self.dq(self.m(self.q(x)))


def build(name, qat):
    torch.manual_seed(1)
    m = MODELS[name]()
    if not qat:
        return m.train()
    m.train()
    m.fuse()
    m = Quantized(m)
    m.qconfig = tq.get_default_qat_qconfig("onednn")
    return tq.prepare_qat(m, inplace=False).train()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-model", default="lenet5")
    ap.add_argument("-threads", type=int, default=1)
    ap.add_argument("-steps", type=int, default=20)
    ap.add_argument("-rounds", type=int, default=1)
    ap.add_argument("-only", default="", help="fp32 or w8a8")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(2)
    x = torch.rand(BATCH, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (BATCH,), generator=g)
    variants = [v for v in ("fp32", "w8a8") if a.only in ("", v)]
    nets = {v: build(a.model, v == "w8a8") for v in variants}
    opts = {v: torch.optim.SGD(nets[v].parameters(), lr=0.01) for v in variants}
    loss_fn = nn.CrossEntropyLoss()
    print(f"model {a.model}, batch {BATCH}, torch {torch.__version__}, threads {a.threads}")
    for r in range(a.rounds):
        for v in variants:
            net, opt = nets[v], opts[v]
            for _ in range(2):  # warm-up
                opt.zero_grad()
                loss_fn(net(x), y).backward()
                opt.step()
            w0, c0 = time.perf_counter(), cpu_seconds()
            for _ in range(a.steps):
                opt.zero_grad()
                loss_fn(net(x), y).backward()
                opt.step()
            w, c = (time.perf_counter() - w0) / a.steps, (cpu_seconds() - c0) / a.steps
            print(f"round {r + 1} {v:<8} {BATCH / w:8.0f} img/s  wall {w * 1e3:.2f} ms/step  cpu {c * 1e3:.2f} ms/step")


if __name__ == "__main__":
    main()
