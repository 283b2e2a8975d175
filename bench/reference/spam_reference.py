"""The eager PyTorch reference of maskforge's `spam` trainer: the same generator
architectures, victims (the same TorchScript files), data, losses and schedule, written
plainly, reading the same YAML config. bench/strength.sh trains both and evaluates them
side by side with `maskforge eval`, so the C++ recipe can never fall behind the ~40 lines
a researcher would write.

    python spam_reference.py CONFIG.yaml --out generator.ts.pt [--set key.path=value ...]
    python spam_reference.py CONFIG.yaml --time step.json [--warmup 5] [--set ...]

With --time it measures instead of exporting: the median wall time of a step (batch
selection, flip and crop, forward, backward, optimizer step) after the warm-up steps, and
the peak resident memory, for bench/train_step.sh.

It supports what the strength and step-time configs use: an image_folder dataset (held in
memory; data.crop as random crops, data.hflip), the resnet and unet
generators, plain or guided (generator.guide, guide_steps, guide_top_k, guide_top_k_weights; not guide_jpeg), TorchScript
victims, the untargeted_ce, relativistic_ce, cw_margin (classifier) and feature_distance (embedder) terms, the ssim quality term, a constant eps
(optionally texture-scaled), and trainer.{steps, lr, warmup_steps, lr_floor, betas,
weight_decay, grad_clip, balance_victims}; it has no robustness transforms and refuses a config with them. The output is a TorchScript module with the interface and attributes of a
`maskforge export`, so `maskforge eval` and `maskforge protect` take it.
"""
import argparse
import json
import math
import random
import resource
import statistics
import time
from fractions import Fraction
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml
from PIL import Image

EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def number(v):
    """YAML numbers as maskforge reads them: fractions such as 8/255 allowed."""
    return float(Fraction(v)) if isinstance(v, str) else float(v)


def load_config(path, overrides):
    config = yaml.safe_load(Path(path).read_text())
    for item in overrides:
        key, _, value = item.partition("=")
        node = config
        *parents, last = key.split(".")
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
        node[int(last) if isinstance(node, list) else last] = yaml.safe_load(value)
    return config


# --- generators: the layouts of networks/resnet_generator.cpp and unet_generator.cpp -----

def norm_layer(kind, channels):
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    return nn.Identity()


class ResidualBlock(nn.Module):
    def __init__(self, channels, norm):
        super().__init__()
        self.conv1, self.norm1 = nn.Conv2d(channels, channels, 3, 1, 1), norm_layer(norm, channels)
        self.conv2, self.norm2 = nn.Conv2d(channels, channels, 3, 1, 1), norm_layer(norm, channels)

    def forward(self, h):
        return h + self.norm2(self.conv2(F.relu(self.norm1(self.conv1(h)))))


class ResnetGenerator(nn.Module):
    multiple: int

    def __init__(self, inputs, width, blocks, norm, head_scale):
        super().__init__()
        w = width
        self.stem = nn.Conv2d(inputs, w, 7, padding=3, padding_mode="reflect")
        self.stem_norm = norm_layer(norm, w)
        self.down1, self.down1_norm = nn.Conv2d(w, 2 * w, 3, 2, 1), norm_layer(norm, 2 * w)
        self.down2, self.down2_norm = nn.Conv2d(2 * w, 4 * w, 3, 2, 1), norm_layer(norm, 4 * w)
        self.blocks = nn.Sequential(*[ResidualBlock(4 * w, norm) for _ in range(blocks)])
        self.up1, self.up1_norm = nn.Conv2d(4 * w, 2 * w, 3, 1, 1), norm_layer(norm, 2 * w)
        self.up2, self.up2_norm = nn.Conv2d(2 * w, w, 3, 1, 1), norm_layer(norm, w)
        self.head = nn.Conv2d(w, 3, 7, padding=3, padding_mode="reflect")
        with torch.no_grad():
            self.head.weight.mul_(head_scale)
            self.head.bias.zero_()
        self.multiple = 4

    def forward(self, x):
        h = F.relu(self.stem_norm(self.stem(x)))
        h = F.relu(self.down1_norm(self.down1(h)))
        h = self.blocks(F.relu(self.down2_norm(self.down2(h))))
        h = F.relu(self.up1_norm(self.up1(F.interpolate(h, scale_factor=2.0, mode="nearest"))))
        h = F.relu(self.up2_norm(self.up2(F.interpolate(h, scale_factor=2.0, mode="nearest"))))
        return self.head(h)


class UnetLevel(nn.Module):
    def __init__(self, inputs, channels, stride, norm):
        super().__init__()
        self.down = nn.Conv2d(inputs, channels, 3, stride, 1, padding_mode="reflect" if stride == 1 else "zeros")
        self.down_norm = norm_layer(norm, channels)
        self.conv, self.conv_norm = nn.Conv2d(channels, channels, 3, 1, 1), norm_layer(norm, channels)

    def forward(self, x):
        return F.relu(self.conv_norm(self.conv(F.relu(self.down_norm(self.down(x))))))


class UnetUp(nn.Module):
    def __init__(self, inputs, channels, norm):
        super().__init__()
        self.up, self.up_norm = nn.Conv2d(inputs, channels, 3, 1, 1), norm_layer(norm, channels)

    def forward(self, h, skip):
        return F.relu(self.up_norm(self.up(torch.cat([F.interpolate(h, scale_factor=2.0, mode="nearest"), skip], 1))))


class UnetGenerator(nn.Module):
    multiple: int

    def __init__(self, inputs, width, depth, norm, head_scale):
        super().__init__()
        ch = [width << min(i, 3) for i in range(depth)]
        self.levels = nn.ModuleList([UnetLevel(inputs if i == 0 else ch[i - 1], ch[i], 1 if i == 0 else 2, norm) for i in range(depth)])
        # The decoder, deepest level first.
        self.ups = nn.ModuleList([UnetUp(ch[i + 1] + ch[i], ch[i], norm) for i in range(depth - 2, -1, -1)])
        self.head = nn.Conv2d(ch[0], 3, 1)
        with torch.no_grad():
            self.head.weight.mul_(head_scale)
            self.head.bias.zero_()
        self.multiple = 1 << (depth - 1)

    def forward(self, x):
        skips: list[torch.Tensor] = []
        h = x
        for level in self.levels:
            h = level(h)
            skips.append(h)
        k = len(skips) - 2
        for up in self.ups:
            h = up(h, skips[k])
            k -= 1
        return self.head(h)


def texture_budget(x, eps: float, max_factor: float, mean: float, window: int, full_std: float):
    """losses/eps.cpp's texture scaling: eps * min(s * local luminance std, max_factor), with
    s found by bisection so that the factor's mean is `mean` per image, at most 1 / full_std."""
    lum = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
    k = window | 1
    pad = k // 2
    mode = "reflect" if lum.size(2) > pad and lum.size(3) > pad else "replicate"
    m = F.avg_pool2d(F.pad(lum, [pad, pad, pad, pad], mode=mode), k, 1)
    square = F.avg_pool2d(F.pad(lum * lum, [pad, pad, pad, pad], mode=mode), k, 1)
    std = (square - m * m).clamp(min=0).sqrt() + 1e-3
    lo = torch.zeros_like(std.amin((2, 3), True))
    hi = max_factor / std.amin((2, 3), True)
    for _ in range(50):
        mid = (lo + hi) / 2
        above = (std * mid).clamp(max=max_factor).mean((2, 3), True) > mean
        hi = torch.where(above, mid, hi)
        lo = torch.where(above, lo, mid)
    if full_std > 0:
        hi = hi.clamp(max=1.0 / full_std)
    return (std * hi).clamp(max=max_factor) * eps


class Protector(nn.Module):
    """A trained generator behind the interface of a maskforge export."""
    maskforge_kind: str
    arch: str
    run_name: str
    config_sha256: str
    toolkit_version: str
    eps: float

    texture: bool
    max_factor: float
    mean: float
    window: int
    full_std: float

    guided: bool  # what maskforge protect and eval read: run it with gradients enabled
    guide_steps: int
    guide_top_k: int
    guide_by_clean_probability: bool

    def __init__(self, net, eps, arch, run_name, texture, guides, guide_steps, guide_top_k, guide_by_clean_probability):
        super().__init__()
        self.net = net
        self.guides = nn.ModuleList(guides)
        self.guided = bool(guides)
        self.guide_steps = guide_steps
        self.guide_top_k = guide_top_k
        self.guide_by_clean_probability = guide_by_clean_probability
        self.eps = eps
        self.maskforge_kind = "generator"
        self.arch = arch
        self.run_name = run_name
        self.config_sha256 = ""
        self.toolkit_version = "eager reference"
        self.texture = texture is not None
        texture = texture or {}
        self.max_factor = number(texture.get("max_factor", 2))
        self.mean = number(texture.get("mean", 1))
        self.window = int(texture.get("window", 7))
        self.full_std = number(texture.get("full_std", 0))

    def unbounded(self, x):
        h, w = x.shape[2], x.shape[3]
        m = self.net.multiple
        ph, pw = max((h + m - 1) // m, 2) * m - h, max((w + m - 1) // m, 2) * m - w
        padded = F.pad(x, [0, pw, 0, ph], mode="reflect" if ph < h and pw < w else "replicate") if ph or pw else x
        return self.net(padded)[:, :, :h, :w]

    def guidance(self, x, away: list[torch.Tensor]):
        """networks/guide.cpp: each guide victim's input gradient of its cross-entropy away from
        the clean image's top classes (weighed at the first call), scaled to a standard
        deviation of 1/4 per image, averaged over the victims; detached."""
        xg = x.detach().float().requires_grad_(True)
        find_classes = len(away) == 0
        total = torch.zeros_like(xg)
        i = 0
        for v in self.guides:
            out = v(xg).float()
            if find_classes:
                away.append(away_from_top_classes(out, self.guide_top_k, self.guide_by_clean_probability))
            loss = away_cross_entropy(out, away[i]).sum()
            g = torch.autograd.grad([loss], [xg])[0]
            assert g is not None
            total = total + g / (4 * g.flatten(1).std(1).clamp(min=1e-12)).view(-1, 1, 1, 1)
            i += 1
        return (total / len(self.guides)).detach()

    @torch.jit.export
    def perturbation(self, x):
        eps = texture_budget(x, self.eps, self.max_factor, self.mean, self.window, self.full_std) if self.texture else torch.full([1, 1, 1, 1], self.eps, device=x.device)
        if not self.guided:
            return torch.tanh(self.unbounded(x)) * eps
        # networks/generator.cpp's passes: each sees the image protected so far and the guide
        # there, their raw outputs add up, and one tanh bounds the sum.
        away: list[torch.Tensor] = []
        raw = self.unbounded(torch.cat([x, self.guidance(x, away).to(x.dtype)], 1))
        for _ in range(1, self.guide_steps):
            image = (x + torch.tanh(raw) * eps).clamp(0, 1)
            raw = raw + self.unbounded(torch.cat([image, self.guidance(image, away).to(x.dtype)], 1))
        return torch.tanh(raw) * eps

    def forward(self, x):
        return torch.clamp(x + self.perturbation(x), 0.0, 1.0)


# --- victims, data, losses ----------------------------------------------------------------

class Victim(nn.Module):
    def __init__(self, spec):
        super().__init__()
        path = Path(spec["path"])
        side = json.loads(path.with_suffix(".json").read_text()) if path.with_suffix(".json").exists() else {}
        self.net = torch.jit.load(str(path)).eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.size = spec.get("input_size") or side.get("input_size", [32, 32])
        self.register_buffer("mean", torch.tensor(spec.get("mean") or side.get("mean", [0.0] * 3)).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(spec.get("std") or side.get("std", [1.0] * 3)).view(1, 3, 1, 1))
        self.weight = number(spec.get("weight", 1))
        self.name, self.kind = spec.get("name", path.stem), spec.get("kind", side.get("kind", "classifier"))

    def forward(self, x):
        if list(x.shape[2:]) != list(self.size):
            x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False, antialias=True)
        return self.net((x - self.mean) / self.std)


def rgb_tensor(image):
    """[3, H, W] float in [0, 1], as numpy's float32 division gives it (without needing numpy)."""
    hwc = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).view(image.height, image.width, 3)
    return (hwc.float() / 255).permute(2, 0, 1)


def image_folder(root):
    files = sorted(p for p in Path(root).rglob("*") if p.suffix.lower() in EXTENSIONS)
    classes = sorted({p.relative_to(root).parts[0] for p in files})
    images = torch.stack([rgb_tensor(Image.open(f).convert("RGB")) for f in files])
    labels = torch.tensor([classes.index(p.relative_to(root).parts[0]) for p in files])
    return images, labels


TERM_KINDS = {"untargeted_ce": "classifier", "relativistic_ce": "classifier", "cw_margin": "classifier", "feature_distance": "embedder", "ssim": "quality"}


def ssim(a, b, window, sigma):
    """losses/image_ops.cpp's SSIM per image: a Gaussian window, valid filtering, per channel."""
    fits = min(a.shape[2:])
    if window > fits:  # an odd window that fits the image, as there
        window = fits if fits % 2 else fits - 1
    t = torch.arange(window, dtype=a.dtype, device=a.device) - (window - 1) / 2
    k = torch.exp(-t * t / (2 * sigma * sigma))
    k = k / k.sum()
    k2 = (k[:, None] * k[None, :]).expand(a.shape[1], 1, window, window)
    blur = lambda t: F.conv2d(t, k2, groups=a.shape[1])  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b, cov = blur(a * a) - mu_a ** 2, blur(b * b) - mu_b ** 2, blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    return (((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))).flatten(1).mean(1)


def away_from_top_classes(clean_logits, top_k: int, by_clean_probability: bool):
    """Log-weights [N, C] of each image's top_k classes, 0 or their clean log-probability, -inf
    elsewhere (networks/victim.cpp)."""
    clean = clean_logits.detach().float()
    top = clean.topk(top_k, 1)[1]
    weights = clean.log_softmax(1).gather(1, top) if by_clean_probability else torch.zeros(top.shape, device=clean.device)
    return torch.full_like(clean, -float("inf")).scatter(1, top, weights)


def away_cross_entropy(logits, log_weights):
    """-log of the weighted summed probability of the classes log_weights marks, per image."""
    return torch.logsumexp(logits, 1) - torch.logsumexp(logits + log_weights, 1)


def adversarial_loss(term, out, clean, labels):
    """The adversarial terms of losses/classifier_terms.cpp and embedding_terms.cpp, per image, to minimise."""
    name = term["name"]
    if name == "feature_distance":
        return -(out - clean).flatten(1).pow(2).sum(1) / clean.flatten(1).pow(2).sum(1).clamp(min=1e-8)
    if name in ("untargeted_ce", "relativistic_ce"):
        if term.get("against", "prediction") == "label":
            away = torch.full_like(clean, -float("inf")).scatter(1, labels[:, None], 0.0)
        else:
            away = away_from_top_classes(clean, int(term.get("top_k", 1)), term.get("top_k_weights", "equal") == "clean")
        logits = out - clean if name == "relativistic_ce" else out
        return -away_cross_entropy(logits, away).clamp(max=number(term.get("cap", 10)))
    source = clean.argmax(1)
    own = out.gather(1, source[:, None]).squeeze(1)
    others = out.scatter(1, source[:, None], -1e9).amax(1)
    return (own - others).clamp(min=-number(term.get("kappa", 0)))


def random_crops(x, size):
    """data.crop with crop_mode random: one square crop per image, anywhere inside it."""
    if not size:
        return x
    tops = torch.randint(0, x.shape[2] - size + 1, (len(x),)).tolist()
    lefts = torch.randint(0, x.shape[3] - size + 1, (len(x),)).tolist()
    return torch.stack([im[:, t:t + size, l:l + size] for im, t, l in zip(x, tops, lefts)])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config")
    parser.add_argument("--out", help="where the trained generator goes (TorchScript)")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("--time", metavar="JSON", help="time the steps instead: write the median ms/step after the warm-up steps and the peak RSS here")
    parser.add_argument("--warmup", type=int, default=5, help="with --time: steps left out of the median")
    args = parser.parse_args()
    if not args.out and not args.time:
        parser.error("pass --out (train and export) or --time (time the steps)")
    c = load_config(args.config, args.overrides)
    seed = int(c.get("run", {}).get("seed", 0))
    torch.manual_seed(seed)
    random.seed(seed)

    data, g, t = c["data"], c.get("generator", {}), c["trainer"]
    if int(data.get("resize", 0)):
        raise SystemExit("spam_reference: data.resize is not supported")
    # run.device as maskforge reads it; on CUDA, trainer.precision auto means bf16 autocast there too
    wanted = str(c.get("run", {}).get("device", "auto"))
    device = torch.device("cuda" if wanted == "auto" and torch.cuda.is_available() else "cpu" if wanted == "auto" else wanted)
    precision = str(t.get("precision", "auto"))
    bf16 = precision == "bf16" or (precision == "auto" and device.type == "cuda")
    images, labels = image_folder(data["root"])
    images, labels = images.to(device), labels.to(device)
    crop = int(data.get("crop", 0))
    victims = [Victim(v).to(device) for v in c["victims"]]
    terms = c["losses"]
    for term in terms:
        if term["name"] not in TERM_KINDS or "victim_weights" in term:
            raise SystemExit(f"spam_reference: loss term {term['name']} (or its victim_weights) is not supported")
    if c.get("robustness"):
        raise SystemExit("spam_reference: robustness transforms are not supported; pass --set 'robustness=[]'")
    guides = [next(v for v in victims if v.name == name) for name in g.get("guide", [])]
    if any(v.kind != "classifier" for v in guides):
        raise SystemExit("spam_reference: a guide victim must be a classifier (detector guides are not supported)")
    if number(g.get("guide_jpeg", 0)) > 0:
        raise SystemExit("spam_reference: a guide through JPEG is not supported (it has no JPEG); pass --set generator.guide_jpeg=0")
    inputs = 6 if guides else 3  # a guided generator sees the guidance map beside the image
    eps_config = c.get("eps", {})
    eps = number(eps_config.get("value", 8 / 255))
    texture = eps_config if eps_config.get("scaling", "none") == "texture" else None
    arch, norm = g.get("arch", "resnet"), g.get("norm", "instance")
    head_scale = number(g.get("head_scale", 1))
    if arch == "resnet":
        net = ResnetGenerator(inputs, int(g.get("width", 32)), int(g.get("blocks", 4)), norm, head_scale)
    else:
        net = UnetGenerator(inputs, int(g.get("width", 16)), int(g.get("depth", 4)), norm, head_scale)
    protector = Protector(net, eps, arch, c.get("run", {}).get("name", Path(args.config).stem) + " (eager reference)", texture,
                          guides, int(g.get("guide_steps", 1)), int(g.get("guide_top_k", 1)),
                          g.get("guide_top_k_weights", "equal") == "clean").to(device)

    balance = bool(t.get("balance_victims", False))
    steps, lr, warmup = int(t.get("steps", 1000)), number(t.get("lr", 1e-3)), int(t.get("warmup_steps", 0))
    floor = number(t.get("lr_floor", 0))
    betas = tuple(number(b) for b in t.get("betas", [0.9, 0.999]))
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, betas=betas, weight_decay=number(t.get("weight_decay", 0)))
    batch = int(data.get("batch_size", 16))
    order, cursor = [], 0
    start = time.time()
    step_ms = []
    for step in range(steps):
        began = time.perf_counter()
        # linear warm-up, then cosine decay from lr to lr * lr_floor
        if step < warmup:
            rate = lr * (step + 1) / warmup
        else:
            progress = min((step - warmup) / max(1, steps - warmup), 1.0)
            rate = lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))
        for group in optimizer.param_groups:
            group["lr"] = rate
        if cursor + batch > len(order):
            order, cursor = torch.randperm(len(images)).tolist(), 0
        idx = order[cursor:cursor + batch]
        cursor += batch
        x, y = random_crops(images[idx], crop), labels[idx]
        if data.get("hflip", True):
            flip = (torch.rand(len(idx)) < 0.5).to(device)
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        net.train()
        with torch.autocast(device.type, torch.bfloat16, enabled=bf16):
            adv = protector(x)
            # trainer.balance_victims: each victim sees its own copy of adv, so that its
            # gradient there can be rescaled before the gradients add up
            seen = [adv.detach().requires_grad_(True) if balance else adv for _ in victims]
            loss, adversarial = 0, 0
            for v, image in zip(victims, seen):
                with torch.no_grad():
                    clean = v(x).float()
                out = v(image).float()
                for term in terms:
                    if TERM_KINDS[term["name"]] == v.kind and v.name in term.get("victims", [v.name]):
                        adversarial = adversarial + number(term.get("weight", 1)) * v.weight * adversarial_loss(term, out, clean, y).mean()
            quality = 0
            for term in terms:
                if term["name"] == "ssim":
                    quality = quality + number(term.get("weight", 1)) * (1 - ssim(adv.float(), x.float(), int(term.get("window", 11)), number(term.get("sigma", 1.5))).mean())
            loss = adversarial + quality
        optimizer.zero_grad()
        if balance:
            # per image, every victim's gradient rescaled to the mean of their RMS over the victims
            grads = [g for g in torch.autograd.grad(adversarial, seen, allow_unused=True) if g is not None]  # victims a term reaches
            rms = torch.stack([g.flatten(1).pow(2).mean(1).sqrt() for g in grads])
            mean = rms.mean(0)
            total = sum(g * (mean / r.clamp(min=1e-30)).view(-1, 1, 1, 1) for g, r in zip(grads, rms))
            torch.autograd.backward([adv] + ([quality] if torch.is_tensor(quality) else []), [total] + ([None] if torch.is_tensor(quality) else []))
        else:
            loss.backward()
        if number(t.get("grad_clip", 0)) > 0:
            nn.utils.clip_grad_norm_(protector.parameters(), number(t["grad_clip"]))
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()  # the step is done when the GPU is
        step_ms.append(1000 * (time.perf_counter() - began))
        if (step + 1) % 50 == 0 or step + 1 == steps:
            print(f"step {step + 1}/{steps} loss {loss.item():.4f} lr {rate:.2e} {(step + 1) / (time.time() - start):.2f} step/s", flush=True)
    if args.time:
        timed = step_ms[args.warmup:]
        if not timed:
            raise SystemExit(f"spam_reference: {steps} steps leave none to time after {args.warmup} warm-up steps")
        Path(args.time).write_text(json.dumps({
            "median_ms": statistics.median(timed), "steps_timed": len(timed), "threads": torch.get_num_threads(),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else 0}) + "\n")
    if args.out:
        net.eval()
        torch.jit.script(protector).save(args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
