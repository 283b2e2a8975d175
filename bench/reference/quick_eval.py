"""A quick strength check of a TorchScript protection (a `maskforge export` or the eager
reference's output) on the 1,000 CIFAR-10 test images of ../shared/assets: RN20, RN32 and
RN44 accuracy in % (and vgg, mobile and vit where runs/victims has them) on the 8-bit protected images and after a real JPEG at quality 75
(Pillow), SSIM (scikit-image, Gaussian window) on the first 300, and the largest change.
`maskforge eval` measures the same and more; this needs no spec and prints one JSON line.

    python quick_eval.py generator.ts.pt
"""
import io
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage.metrics import structural_similarity

sys.path.insert(0, str(Path(__file__).parent))
from spam_reference import Victim, image_folder  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def jpeg75(batch):
    out = []
    for im in batch:
        buffer = io.BytesIO()
        Image.fromarray((im.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).save(buffer, "JPEG", quality=75)
        out.append(torch.from_numpy(np.asarray(Image.open(buffer), dtype=np.float32) / 255).permute(2, 0, 1))
    return torch.stack(out)


def main():
    torch.set_grad_enabled(False)
    x, y = image_folder(ROOT.parent / "shared/assets/cifar10/test")
    protection = torch.jit.load(sys.argv[1]).eval()
    with torch.enable_grad():  # a guided generator computes its victims' input gradient
        adv = torch.cat([protection(x[i:i + 200]).detach() for i in range(0, len(x), 200)])
    adv = (adv * 255).round() / 255
    after_jpeg = jpeg75(adv)
    result = {}
    for name in ("rn20", "rn32", "rn44", "vgg", "mobile", "vit"):
        path = ROOT / f"runs/victims/{name}.pt"
        if not path.exists():  # the other families: scripts/cifar-victims.sh vgg mobile vit
            continue
        victim = Victim({"path": str(path)})
        result[name] = round((victim(adv).argmax(1) == y).float().mean().item() * 100, 1)
        result[f"{name}_jpeg"] = round((victim(after_jpeg).argmax(1) == y).float().mean().item() * 100, 1)
    ssim = [structural_similarity(a.permute(1, 2, 0).double().numpy(), b.permute(1, 2, 0).double().numpy(), channel_axis=2,
                                  gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)
            for a, b in zip(adv[:300], x[:300])]
    result["ssim"] = round(float(np.mean(ssim)), 4)
    result["linf_255"] = round(float((adv - x).abs().max() * 255), 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
