#!/usr/bin/env python3
"""Fine-tune a released CIFAR-10 ResNet a little adversarially and save its weights for
export_victim.py: a "slightly robust" surrogate (Springer et al. 2021, "A little robustness
goes a long way"). Perturbations that fool such a model rely less on one network's
high-frequency quirks, so they transfer better to networks never trained against and
survive JPEG better (README, "Guided generators").

    robust_finetune.py 20 --weights ../shared/assets/weights/cifar10_resnet20-*.th \\
        --data ../shared/assets/cifar10/train --out runs/victims/rn20_robust.pth \\
        [--test ../shared/assets/cifar10/test] [--eps 2] [--steps 400] [--seed 0]
    export_victim.py cifar10_resnet20 --weights runs/victims/rn20_robust.pth --out runs/victims/rn20_robust.pt

Each step attacks half of a batch of 128 with FGSM from a random start (L-inf --eps/255,
step 1.25 eps, Wong et al. 2020) and trains on the batch, SGD with momentum and a cosine
schedule. On 2 CPU cores, RN20 at 2/255: 1.5 minutes, test accuracy 80.4 % -> 83.2 %.
"""
import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mfvictims.cifar_resnet import CifarResNet, load_weights  # noqa: E402
from mfvictims.cifar_training import CIFAR_NORM, Progress, accuracy, augment, cosine_lr, load_folder, normalise, save_weights  # noqa: E402

BATCH = 128


def fgsm_random_start(model, images, labels, eps):
    """One signed-gradient step of 1.25 eps from a uniform start in the eps ball."""
    model.eval()
    delta = ((torch.rand_like(images) * 2 - 1) * eps).requires_grad_(True)
    loss = F.cross_entropy(model(normalise((images + delta).clamp(0, 1), CIFAR_NORM)), labels)
    grad, = torch.autograd.grad(loss, delta)
    return (images + (delta + 1.25 * eps * grad.sign()).clamp(-eps, eps)).clamp(0, 1).detach()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("depth", type=int, choices=[20, 32, 44])
    parser.add_argument("--weights", required=True, help="the released checkpoint to start from")
    parser.add_argument("--data", required=True, help="CIFAR-10 class folders to train on")
    parser.add_argument("--out", required=True, help="the weights file (a state dict)")
    parser.add_argument("--test", help="class folders to report the test accuracy on")
    parser.add_argument("--eps", type=float, default=2, help="the attack's L-inf bound, in 1/255 (default 2)")
    parser.add_argument("--steps", type=int, default=400, help="batches of 128 (default 400)")
    parser.add_argument("--lr", type=float, default=0.01, help="peak SGD learning rate (default 0.01)")
    parser.add_argument("--images-per-class", type=int, help="train on the first N images of each class (tests)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.steps < 1 or args.eps <= 0:
        sys.exit("robust_finetune: --steps must be at least 1 and --eps above 0")

    torch.manual_seed(args.seed)
    model = CifarResNet(args.depth)
    load_weights(model, args.weights)
    images, labels = load_folder(args.data, args.images_per_class)
    test = load_folder(args.test) if args.test else None
    before = f"{100 * accuracy(model, *test):.1f} % -> " if test else ""
    eps = args.eps / 255
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    progress, start = Progress(f"rn{args.depth} robust {args.eps:g}/255", args.steps), time.time()
    attacked = (torch.arange(BATCH) < BATCH // 2).view(-1, 1, 1, 1)  # the other half stays clean
    for step in range(args.steps):
        cosine_lr(opt, args.lr, step, args.steps)
        pick = torch.randint(0, len(images), (BATCH,))
        batch, batch_labels = augment(images[pick], mix=False), labels[pick]
        batch = torch.where(attacked, fgsm_random_start(model, batch, batch_labels, eps), batch)
        model.train()
        loss = F.cross_entropy(model(normalise(batch, CIFAR_NORM)), batch_labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        progress.show(step + 1, loss.item())
    save_weights(model, args.out)
    line = f"fine-tuned in {time.time() - start:.0f} s; wrote {args.out}"
    if test:
        line += f"; test accuracy {before}{100 * accuracy(model, *test):.1f} %"
    print(line, flush=True)


if __name__ == "__main__":
    main()
