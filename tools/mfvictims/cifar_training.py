"""What the tools that train on CIFAR-10 share (train_vlm.py, train_cifar_victim.py,
robust_finetune.py): the class folders, the augmentation, the learning-rate schedule, the
progress lines, the accuracy and the weights file."""
import glob
import math
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
# What CIFAR-10 models take: the ImageNet mean and std, as the released ResNets were trained
# with; export_victim.py writes it into their sidecars.
CIFAR_NORM = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


def load_images(files):
    """Image files as [N, 3, 32, 32] in [0, 1], each resized whole to 32 x 32."""
    images = [torch.frombuffer(bytearray(Image.open(f).convert("RGB").resize((32, 32)).tobytes()), dtype=torch.uint8) for f in files]
    return torch.stack(images).view(-1, 32, 32, 3).permute(0, 3, 1, 2).float() / 255


def load_folder(root, limit=None):
    """The images of ROOT/<class>/ as [N, 3, 32, 32] in [0, 1], and their labels; at most
    `limit` per class."""
    files, labels = [], []
    for label, name in enumerate(CLASSES):
        found = sorted(glob.glob(f"{root}/{name}/*"))[:limit]
        if not found:
            raise SystemExit(f"{root}/{name}/ holds no images (expected CIFAR-10 class folders)")
        files += found
        labels += [label] * len(found)
    return load_images(files), torch.tensor(labels)


def normalise(x, norm):
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in norm)
    return (x - mean) / std


def accuracy(model, images, labels):
    """The share of IMAGES (in [0, 1]) that MODEL, in eval mode, labels right."""
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(normalise(x, CIFAR_NORM)) for x in images.split(250)])
    return (logits.argmax(1) == labels).float().mean().item()


def augment(x, mix):
    """Random shift (reflect-padded crop), flip and, for distillation, mixing of image pairs."""
    n = x.shape[0]
    i, j = torch.randint(0, 9, (2,)).tolist()
    x = F.pad(x, (4, 4, 4, 4), mode="reflect")[:, :, i:i + 32, j:j + 32]
    x = torch.where((torch.rand(n) < 0.5).view(-1, 1, 1, 1), x.flip(3), x)
    if mix:
        lam = torch.distributions.Beta(1.0, 1.0).sample()
        x = lam * x + (1 - lam) * x[torch.randperm(n)]
    return x


def save_weights(model, path):
    """Writes MODEL's state dict to PATH, whole or not at all: an interrupted run leaves no
    weights file behind."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), f"{out}.partial")
    os.replace(f"{out}.partial", out)


class Progress:
    def __init__(self, name, steps):
        self.name, self.steps, self.start = name, steps, time.time()

    def show(self, step, loss):
        if step % 50 and step != self.steps:
            return
        rate = step / max(time.time() - self.start, 1e-9)
        print(f"{self.name} {step}/{self.steps}  loss {loss:.3f}  {rate:.2f} steps/s  ETA {(self.steps - step) / rate:.0f} s", flush=True)


def cosine_lr(opt, base, step, steps, warmup=50):
    lr = base * min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * step / steps))
    for g in opt.param_groups:
        g["lr"] = lr
