#!/usr/bin/python3
"""PyTorch reference fixtures for qatgo's ONNX import (testdata/torchref).

Builds LeNet-5, a small ResNet and a small MobileNetV2 in PyTorch, trains
each briefly on Fashion-MNIST, exports it to ONNX (BatchNormalization kept),
and writes PyTorch's FP32 logits on the first test images and the scales and
zero points torch.ao's eager-mode PTQ (default_qconfig: MinMax observers,
activations quint8 [0, 127], weights qint8 per-tensor symmetric) computes on
the first training images. Run with Debian's python3-torch:

    /usr/bin/python3 scripts/torch_reference.py [OUT_DIR] [--steps N] [--models a,b]

(the fixtures: the defaults, 300 SGD steps of batch 64 on the first 6,000
training images; TORCH_STEPS=N bash scripts/onnx_roundtrip.sh trains a
ResNet longer with --steps N --train-images 60000 --models resnet).

Files per model M: M.onnx, M.logits (float32 LE, N x 10), M.qlogits (the
converted int8 model's logits), M.fqlogits (PyTorch's fake-quant
simulation of the same quantization), M.ptq.json (scales and zero points by
module name); shared: images.u8 (test images, N x 784 bytes),
labels.u8, calib.u8 (calibration images).
"""
import gzip, json, os, sys

import numpy as np
import torch
import torch.nn as nn
import torch.ao.quantization as tq

N_TEST, N_CALIB, N_TRAIN, SEED = 300, 256, 6000, 0
DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530
torch.manual_seed(SEED)
torch.set_num_threads(1)

def idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        b = f.read()
    ndim = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * ndim).reshape(dims)

# qatgo's normalisation: (x/255 - mean)/std in float64, rounded once to float32.
LUT = ((np.arange(256, dtype=np.float64) / 255 - MEAN) / STD).astype(np.float32)
def norm(u8):
    return torch.from_numpy(LUT[u8.reshape(-1, 1, 28, 28)])

class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant, self.dequant = tq.QuantStub(), tq.DeQuantStub()
        self.conv1, self.relu1, self.pool1 = nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2)
        self.conv2, self.relu2, self.pool2 = nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)
        self.fc1, self.relu3 = nn.Linear(400, 120), nn.ReLU()
        self.fc2, self.relu4 = nn.Linear(120, 84), nn.ReLU()
        self.fc3 = nn.Linear(84, 10)
    def forward(self, x):
        x = self.quant(x)
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = self.relu4(self.fc2(self.relu3(self.fc1(x))))
        return self.dequant(self.fc3(x))
    fuse = [["conv1", "relu1"], ["conv2", "relu2"], ["fc1", "relu3"], ["fc2", "relu4"]]

class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1, self.bn1, self.relu1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
        self.conv2, self.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.add = nn.quantized.FloatFunctional()
    def forward(self, x):
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        s = x if self.down is None else self.down(x)
        return self.add.add_relu(y, s)

class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant, self.dequant = tq.QuantStub(), tq.DeQuantStub()
        self.conv1, self.bn1, self.relu = nn.Conv2d(1, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU()
        self.layer1 = nn.Sequential(Basic(8, 8, 1))
        self.layer2 = nn.Sequential(Basic(8, 16, 2))
        self.layer3 = nn.Sequential(Basic(16, 32, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)
    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(self.quant(x))))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.dequant(self.fc(torch.flatten(self.avgpool(x), 1)))
    @property
    def fuse(self):
        f = [["conv1", "bn1", "relu"]]
        for n, m in self.named_modules():
            if isinstance(m, Basic):
                f += [[n + ".conv1", n + ".bn1", n + ".relu1"], [n + ".conv2", n + ".bn2"]]
                if m.down is not None:
                    f.append([n + ".down.0", n + ".down.1"])
        return f

class Inverted(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        h = cin * expand
        self.conv = nn.Sequential(
            nn.Conv2d(cin, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
            nn.Conv2d(h, h, 3, stride, 1, groups=h, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
            nn.Conv2d(h, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.res = stride == 1 and cin == cout
        self.add = nn.quantized.FloatFunctional()
    def forward(self, x):
        y = self.conv(x)
        return self.add.add(x, y) if self.res else y

class MobileNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant, self.dequant = tq.QuantStub(), tq.DeQuantStub()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        self.blocks = nn.Sequential(Inverted(8, 8, 1, 2), Inverted(8, 16, 2, 4), Inverted(16, 16, 1, 4))
        self.head = nn.Sequential(nn.Conv2d(16, 32, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(32, 10)
    def forward(self, x):
        x = self.head(self.blocks(self.stem(self.quant(x))))
        return self.dequant(self.fc(self.drop(torch.flatten(self.pool(x), 1))))
    @property
    def fuse(self):
        f = [["stem.0", "stem.1"], ["head.0", "head.1"]]
        for n, m in self.named_modules():
            if isinstance(m, Inverted):
                f += [[n + ".conv.0", n + ".conv.1"], [n + ".conv.3", n + ".conv.4"], [n + ".conv.6", n + ".conv.7"]]
        return f

class ViewNet(nn.Module):
    """x.view(x.size(0), -1) with a dynamic batch: the Shape → Gather →
    Unsqueeze → Concat → Reshape chain torch.onnx.export writes for it;
    AvgPool2d with padding; an untrained (seeded) model."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1)
        self.fc = nn.Linear(4 * 7 * 7, 10)
    def forward(self, x):
        x = self.pool(torch.relu(self.conv(x)))
        return self.fc(x.view(x.size(0), -1))

def export_viewnet(out, test):
    torch.manual_seed(SEED)
    model = ViewNet().eval()
    torch.onnx.export(model, test[:1], os.path.join(out, "viewnet.onnx"), opset_version=11, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    with torch.no_grad():
        model(test).numpy().astype("<f4").tofile(os.path.join(out, "viewnet.logits"))

def train(model, xs, ys, steps=300, batch=64):
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    g = torch.Generator().manual_seed(SEED)
    for step in range(steps):
        i = torch.randint(0, len(xs), (batch,), generator=g)
        loss = nn.functional.cross_entropy(model(xs[i]), ys[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()

def qparams_of(qm):
    """Scales and zero points of the converted model, by module name."""
    out = {}
    for name, m in qm.named_modules():
        if isinstance(m, tq.QuantStub) or type(m).__name__ == "Quantize":
            out[name] = {"scale": float(m.scale), "zero_point": int(m.zero_point)}
        elif hasattr(m, "weight") and callable(m.weight) and hasattr(m, "scale"):
            w = m.weight()
            e = {"scale": float(m.scale), "zero_point": int(m.zero_point)}
            if w.qscheme() in (torch.per_tensor_symmetric, torch.per_tensor_affine):
                e["weight_scale"] = [float(w.q_scale())]
                e["weight_zero_point"] = [int(w.q_zero_point())]
            else:
                e["weight_scale"] = w.q_per_channel_scales().tolist()
                e["weight_zero_point"] = w.q_per_channel_zero_points().tolist()
            out[name] = e
        elif type(m).__name__ == "QFunctional":
            out[name] = {"scale": float(m.scale), "zero_point": int(m.zero_point)}
    return out

def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default="testdata/torchref")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--train-images", type=int, default=N_TRAIN)
    ap.add_argument("--models", default="lenet5,resnet,mobilenetv2,viewnet")
    args = ap.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)
    tr_x, tr_y = idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz")
    te_x, te_y = idx("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz")
    xs, ys = norm(tr_x[:args.train_images]), torch.from_numpy(tr_y[:args.train_images].astype(np.int64))
    test_u8, calib_u8 = te_x[:N_TEST], tr_x[:N_CALIB]
    open(os.path.join(out, "images.u8"), "wb").write(test_u8.tobytes())
    open(os.path.join(out, "labels.u8"), "wb").write(te_y[:N_TEST].tobytes())
    open(os.path.join(out, "calib.u8"), "wb").write(calib_u8.tobytes())
    test, calib = norm(test_u8), norm(calib_u8)
    if "viewnet" in args.models.split(","):
        export_viewnet(out, test)
    for name, cls in [("lenet5", LeNet5), ("resnet", ResNet), ("mobilenetv2", MobileNetV2)]:
        if name not in args.models.split(","):
            continue
        model = cls()
        train(model, xs, ys, steps=args.steps)
        with torch.no_grad():
            logits = model(test)
        acc = (logits.argmax(1).numpy() == te_y[:N_TEST]).mean()
        with torch.no_grad():
            acc_all = float((model(norm(te_x)).argmax(1).numpy() == te_y).mean())
        path = os.path.join(out, name + ".onnx")
        # TRAINING mode keeps BatchNormalization nodes (EVAL folds them into
        # the convs); the nodes carry the running statistics either way.
        torch.onnx.export(model, test[:1], path, opset_version=13, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
        logits.numpy().astype("<f4").tofile(os.path.join(out, name + ".logits"))
        # torch.ao eager-mode PTQ with the default qconfig.
        qm = cls()
        qm.load_state_dict(model.state_dict())
        qm.eval()
        qm = tq.fuse_modules(qm, qm.fuse)
        qm.qconfig = tq.default_qconfig
        tq.prepare(qm, inplace=True)
        with torch.no_grad():
            qm(calib)
        qm = tq.convert(qm)
        with torch.no_grad():
            ql = qm(test)
        # PyTorch's own fake-quant simulation of the same quantization
        # (prepare_qat with FakeQuantize on the same observers, calibrated
        # on the same images with fake-quant off), then its converted model.
        fm = cls()
        fm.load_state_dict(model.state_dict())
        fm.eval()
        fm = tq.fuse_modules(fm, fm.fuse)
        fm.qconfig = tq.QConfig(
            activation=tq.FakeQuantize.with_args(observer=tq.MinMaxObserver, quant_min=0, quant_max=127),
            weight=tq.FakeQuantize.with_args(observer=tq.MinMaxObserver, quant_min=-128, quant_max=127,
                                             dtype=torch.qint8, qscheme=torch.per_tensor_symmetric))
        fm.train()
        tq.prepare_qat(fm, inplace=True)
        fm.eval()
        fm.apply(tq.disable_fake_quant)
        with torch.no_grad():
            fm(calib)
        fm.apply(tq.disable_observer)
        fm.apply(tq.enable_fake_quant)
        with torch.no_grad():
            fql = fm(test)
            fq_int8 = tq.convert(fm)(test)
        fq_vs_int8 = int((fql.argmax(1) != fq_int8.argmax(1)).sum())
        fql.numpy().astype("<f4").tofile(os.path.join(out, name + ".fqlogits"))
        ql.numpy().astype("<f4").tofile(os.path.join(out, name + ".qlogits"))
        qp = qparams_of(qm)
        qacc = (ql.argmax(1).numpy() == te_y[:N_TEST]).mean()
        agree = int((ql.argmax(1) == logits.argmax(1)).sum())
        json.dump({"model": name, "fp32_accuracy": float(acc), "fp32_accuracy_all_test": acc_all, "int8_accuracy": float(qacc),
                   "fp32_int8_agree": agree, "fakequant_vs_int8_disagree": fq_vs_int8, "images": N_TEST, "calib_images": N_CALIB,
                   "torch": torch.__version__, "qconfig": "default_qconfig", "qparams": qp},
                  open(os.path.join(out, name + ".ptq.json"), "w"), indent=1, sort_keys=True)
        print(f"{name}: fp32 acc {acc:.3f} ({acc_all:.4f} on all {len(te_y)} test images), int8 acc {qacc:.3f}, "
              f"{len(qp)} quantized modules, fake-quant vs int8: {fq_vs_int8} predictions differ")

if __name__ == "__main__":
    main()
