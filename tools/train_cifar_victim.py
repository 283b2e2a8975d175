#!/usr/bin/env python3
"""Train a small CIFAR-10 classifier of another family than the ResNets (mfvictims/
cifar_families.py: vgg, mobile or vit) and save its weights for export_victim.py. Protections
are trained against some families and judged on others; these give the ResNets of
../shared/assets company.

    train_cifar_victim.py vgg --data ../shared/assets/cifar10/train --out runs/victims/vgg.pth \\
        [--test ../shared/assets/cifar10/test] [--steps N] [--seed S]
    export_victim.py cifar10_vgg --weights runs/victims/vgg.pth --out runs/victims/vgg.pt
    export_victim.py cifar10_vgg --weights runs/victims/vgg.pth --features layer2 --out runs/victims/vgg_layer2.pt

On the 5,000 training images, 2 CPU cores: vgg 72.0 % test accuracy in 4.5 minutes, mobile
69.7 % in 3.5, vit 55.5 % in 7.5. Inputs are normalised as export_victim.py's sidecar says
(ImageNet mean and std, as for the ResNets).
"""
import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mfvictims.cifar_families import FAMILIES  # noqa: E402
from mfvictims.cifar_training import CIFAR_NORM, Progress, accuracy, augment, cosine_lr, load_folder, normalise, save_weights  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("family", choices=sorted(FAMILIES))
    parser.add_argument("--data", required=True, help="CIFAR-10 class folders to train on")
    parser.add_argument("--out", required=True, help="the weights file (a state dict)")
    parser.add_argument("--test", help="class folders to report the test accuracy on")
    parser.add_argument("--steps", type=int, help="training steps of 64 images (default: the family's)")
    parser.add_argument("--images-per-class", type=int, help="train on the first N images of each class (tests)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    architecture, steps, lr, weight_decay = FAMILIES[args.family]
    steps = steps if args.steps is None else args.steps
    if steps < 1:
        sys.exit("train_cifar_victim: --steps must be at least 1")
    images, labels = load_folder(args.data, args.images_per_class)
    model = architecture()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    progress, start = Progress(args.family, steps), time.time()
    for step in range(steps):
        cosine_lr(opt, lr, step, steps)
        pick = torch.randint(0, len(images), (64,))
        loss = F.cross_entropy(model(normalise(augment(images[pick], mix=False), CIFAR_NORM)), labels[pick], label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        progress.show(step + 1, loss.item())
    save_weights(model, args.out)
    line = f"trained in {time.time() - start:.0f} s; wrote {args.out}"
    if args.test:
        line += f"; test accuracy {100 * accuracy(model, *load_folder(args.test)):.1f} %"
    print(line, flush=True)


if __name__ == "__main__":
    main()
