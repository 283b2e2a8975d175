"""Images from several "sources" that differ only in the fingerprint their generator leaves,
for source-attribution studies (does a classifier still tell the sources apart once a
privacy method has been applied, and does it recover when trained on obfuscated images?).

Each source is a fixed random upsampling network, the last stage of a GAN generator: a
transposed convolution initialised at bilinear upsampling plus seeded random weights.
Every input image is halved, then upsampled by one source's network (the input images are
dealt round-robin, so the sources share no image and differ only in their artefacts), and
saved losslessly as OUT/source_K/NNNN.png.

  python tools/fingerprint_sources.py --input ../shared/assets/cifar10/train --out sources --sources 3 --per-source 200
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def upsampler(seed, strength):
    """ConvTranspose2d(3, 3, 4, stride 2): bilinear upsampling plus a seeded random kernel."""
    net = torch.nn.ConvTranspose2d(3, 3, 4, stride=2, padding=1, bias=False)
    bilinear = torch.tensor([0.25, 0.75, 0.75, 0.25])
    kernel = torch.zeros(3, 3, 4, 4)
    for c in range(3):
        kernel[c, c] = bilinear[:, None] * bilinear[None, :]
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        net.weight.copy_(kernel + strength * torch.randn(3, 3, 4, 4, generator=generator))
    return net


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True, help="folder of images, searched recursively")
    parser.add_argument("--out", required=True, help="output folder (source_0, source_1, ... inside)")
    parser.add_argument("--sources", type=int, default=3)
    parser.add_argument("--per-source", type=int, default=200, help="images per source")
    parser.add_argument("--strength", type=float, default=0.05, help="scale of the random part of each kernel")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    files = sorted(p for p in Path(args.input).rglob("*") if p.suffix.lower() in EXTENSIONS)
    needed = args.sources * args.per_source
    if len(files) < needed:
        sys.exit(f"fingerprint_sources: {args.input} has {len(files)} images; {needed} are needed")
    nets = [upsampler(args.seed * 1000 + k, args.strength) for k in range(args.sources)]
    for k in range(args.sources):
        (Path(args.out) / f"source_{k}").mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        for i, path in enumerate(files[:needed]):
            k = i % args.sources
            x = torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)[None]
            half = torch.nn.functional.avg_pool2d(x, 2)
            y = nets[k](half).clamp(0, 1)[0].permute(1, 2, 0).numpy()
            Image.fromarray((y * 255).round().astype(np.uint8)).save(Path(args.out) / f"source_{k}" / f"{i // args.sources:04d}.png")
    print(f"wrote {needed} images from {args.sources} sources to {args.out}")


if __name__ == "__main__":
    main()
