#!/usr/bin/env python3
"""Export a PyTorch model to TorchScript as a maskforge victim, with a sidecar JSON (kind,
input size, mean/std, output selection) that maskforge reads next to it.

    export_victim.py MODEL --out FILE.pt (--weights FILE | --pretrained [TAG] | --random-init)

MODEL                       kind        weights
  torchvision:<arch>        classifier  --weights (state dict) or --pretrained (torchvision download)
  cifar10_resnet20|32|44    classifier  --weights ../shared/assets/weights/cifar10_resnetNN-*.th;
                            with --features layer1|layer2|layer3: an embedder of that stage's features
  cifar10_vgg|mobile|vit    classifier  --weights from train_cifar_victim.py; --features as for the ResNets
  facenet                   embedder    --weights (state dict) or --pretrained vggface2|casia-webface
  mtcnn_pnet                detector    --weights ../shared/assets/weights/mtcnn_pnet.pt
  mtcnn                     detector    --weights ../shared/assets/weights (the folder with mtcnn_{p,r,o}net.pt):
                                        the whole cascade, P-Net proposals refined by R-Net and O-Net;
                                        its score_boxes(x, boxes) method scores given boxes with O-Net
  open_clip:<arch>          embedder    --pretrained TAG (open_clip download); open_clip:tiny for tests
  llava:<folder or hub id>  mllm        the folder's weights (--pretrained allows a hub download); llava:tiny for tests

Nothing is downloaded unless --pretrained is given. The export is checked: the saved file,
loaded back, must match the PyTorch model on a batch of another size.
"""
import argparse
import json
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mfvictims import cifar_families, cifar_resnet, mtcnn, vlm  # noqa: E402
from mfvictims.cifar_training import CIFAR_NORM  # noqa: E402

IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
MTCNN_NORM = ([127.5 / 255] * 3, [128 / 255] * 3)  # (x - 127.5) / 128 on 0-255 pixels


class Export:
    """What an exporter returns: the module to trace and the sidecar's facts."""

    def __init__(self, module, kind, size, norm, example_ids=None, output="", extra=None):
        self.module, self.kind, self.size, self.norm = module.eval(), kind, size, norm
        self.example_ids, self.output, self.extra = example_ids, output, extra or {}


class EmbedImage(torch.nn.Module):
    """Exposes a CLIP model's image encoder as forward(x) -> embedding."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.encode_image(x)


def fail(message):
    sys.exit(f"export_victim: {message}")


def example_boxes(n, size, k=5):
    """k random boxes [n, k, 4] inside a size x size image, for tracing and checking score_boxes."""
    corner, side = torch.rand(n, k, 2) * size / 2, (0.25 + torch.rand(n, k, 1) / 4) * size
    return torch.cat([corner, corner + side], -1)


def state_dict(path):
    loaded = torch.load(path, map_location="cpu", weights_only=False)
    return loaded.get("state_dict", loaded) if isinstance(loaded, dict) else loaded.state_dict()


def export_torchvision(arch, args):
    import torchvision

    model = torchvision.models.get_model(arch, weights="DEFAULT" if args.pretrained else None)
    if args.weights:
        model.load_state_dict(state_dict(args.weights))
    return Export(model, "classifier", args.input_size or 224, IMAGENET)


def export_cifar(model, args):
    """A CIFAR-10 classifier, or with --features the embedder of its stage."""
    if args.features:
        return Export(cifar_resnet.features(model, args.features), "embedder", 32, CIFAR_NORM, extra={"features": args.features})
    return Export(model, "classifier", 32, CIFAR_NORM)


def export_facenet(args):
    from facenet_pytorch import InceptionResnetV1

    model = InceptionResnetV1(pretrained=args.pretrained, classify=False)
    if args.weights:
        model.load_state_dict(state_dict(args.weights))
    return Export(model, "embedder", args.input_size or 160, MTCNN_NORM)


def export_mtcnn_pnet(args):
    pnet = mtcnn.PNet()
    if args.weights:
        pnet.load_state_dict(state_dict(args.weights), strict=True)
    size = args.input_size or 160
    return Export(mtcnn.PNetDetector(pnet, size), "detector", size, MTCNN_NORM, extra={"min_face": 20})


def export_mtcnn(args):
    nets = {"pnet": mtcnn.PNet(), "rnet": mtcnn.RNet(), "onet": mtcnn.ONet()}
    if args.weights:
        folder = Path(args.weights)
        if not folder.is_dir():
            fail(f"mtcnn: --weights must be the folder holding mtcnn_pnet.pt, mtcnn_rnet.pt and mtcnn_onet.pt, not {folder}")
        for name, net in nets.items():
            net.load_state_dict(state_dict(str(folder / f"mtcnn_{name}.pt")), strict=True)
    size = args.input_size or 160
    detector = mtcnn.CascadeDetector(nets["pnet"], nets["rnet"], nets["onet"], size)
    return Export(detector, "detector", size, MTCNN_NORM, extra={"min_face": 20, "score": "lowest face probability of P-Net, R-Net and O-Net"})


def export_open_clip(arch, args):
    import open_clip
    from open_clip import factory

    if arch == "tiny":
        arch = "maskforge-tiny"
        factory._MODEL_CONFIGS[arch] = {
            "embed_dim": 32,
            "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8, "head_width": 32},
            "text_cfg": {"context_length": 16, "vocab_size": 100, "width": 32, "heads": 2, "layers": 1},
        }
    model = open_clip.create_model(arch, pretrained=args.pretrained or None)
    if args.weights:
        model.load_state_dict(state_dict(args.weights))
    cfg = getattr(model.visual, "preprocess_cfg", {}) or {}
    size = model.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    norm = (list(cfg.get("mean", vlm.CLIP_NORM[0])), list(cfg.get("std", vlm.CLIP_NORM[1])))
    return Export(EmbedImage(model), "embedder", args.input_size or size, norm)


def export_llava(source, args):
    if source == "tiny":
        model = vlm.tiny_llava()
    else:
        model = vlm.load_llava(source, allow_download=bool(args.pretrained))
    prefix = [int(i) for i in args.prefix_ids.split(",")] if args.prefix_ids else []
    size = model.config.vision_config.image_size
    norm = vlm.CLIP_NORM
    processor_config = Path(source) / "preprocessor_config.json"
    if processor_config.is_file():
        p = json.loads(processor_config.read_text())
        norm = (p.get("image_mean", norm[0]), p.get("image_std", norm[1]))
    ids = torch.randint(0, model.config.text_config.vocab_size - 1, (2, 5))
    return Export(vlm.MllmWrapper(model, prefix), "mllm", size, norm, example_ids=ids,
                  extra={"vocab_size": model.config.text_config.vocab_size, "prefix_ids": prefix})


def build(name, args):
    family, _, arch = name.partition(":")
    if args.features and not family.startswith("cifar10_"):
        fail(f"--features is for the CIFAR-10 models, not '{name}'")
    if family == "torchvision" and arch:
        return export_torchvision(arch, args)
    if family in ("cifar10_resnet20", "cifar10_resnet32", "cifar10_resnet44"):
        model = cifar_resnet.CifarResNet(int(family.removeprefix("cifar10_resnet")))
        if args.weights:
            cifar_resnet.load_weights(model, args.weights)
        return export_cifar(model, args)
    if family.removeprefix("cifar10_") in cifar_families.FAMILIES:
        model = cifar_families.FAMILIES[family.removeprefix("cifar10_")][0]()
        if args.weights:
            model.load_state_dict(state_dict(args.weights))
        return export_cifar(model, args)
    if family == "facenet":
        return export_facenet(args)
    if family == "mtcnn_pnet":
        return export_mtcnn_pnet(args)
    if family == "mtcnn":
        return export_mtcnn(args)
    if family == "open_clip" and arch:
        return export_open_clip(arch, args)
    if family == "llava" and arch:
        return export_llava(arch, args)
    fail(f"unknown model '{name}'; see --help for the models this tool exports")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--out", required=True, help="the TorchScript file; the sidecar is written beside it as .json")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--weights", help="a weights file (state dict or checkpoint) for the architecture")
    source.add_argument("--pretrained", nargs="?", const=True, default=None, help="download the model's published weights (optional tag)")
    source.add_argument("--random-init", action="store_true", help="random weights; downloads nothing (tests)")
    parser.add_argument("--input-size", type=int, help="square input size, where the model allows a choice")
    parser.add_argument("--features", choices=["layer1", "layer2", "layer3"], help="cifar10_*: export the features after this stage (an embedder)")
    parser.add_argument("--prefix-ids", help="llava: token ids placed before the image, comma-separated")
    args = parser.parse_args()
    from_folder = args.model.startswith("llava:") and args.model != "llava:tiny"  # the folder holds the weights
    if not (from_folder or args.weights or args.pretrained or args.random_init):
        parser.error("one of the arguments --weights --pretrained --random-init is required")

    torch.manual_seed(0)
    export = build(args.model, args)
    s = export.size
    example = (torch.rand(2, 3, s, s),) if export.example_ids is None else (torch.rand(2, 3, s, s), export.example_ids)
    # Traced with gradients enabled: under no_grad, fused inference kernels (e.g. the fast
    # path of nn.MultiheadAttention) enter the graph, and they have no derivative.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        methods = {"forward": example}
        if hasattr(export.module, "score_boxes"):  # a detector that scores given boxes (mtcnn)
            methods["score_boxes"] = (example[0], example_boxes(2, s))
        traced = torch.jit.trace_module(export.module, methods, check_trace=False, strict=False)
    # Tracing records the device of a tensor made inside forward (torch.arange, torch.full,
    # .to(x.device), even with device=x.device) as a constant: such an export mixes devices
    # on a GPU. The traced graph then names the CPU.
    if any('value="cpu"' in str(getattr(traced, name).inlined_graph) for name in methods):
        fail(f"{args.model}: the traced model makes tensors on the CPU whatever its input's device, so it would not run on a GPU; "
             "make them from the input instead (as mfvictims/tracing.py's positions() does)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        traced.save(str(out))
        # Parity on a batch of another size: the export must not have fixed the batch size.
        n = 3
        check = (torch.rand(n, 3, s, s),) if export.example_ids is None else (torch.rand(n, 3, s, s), export.example_ids[:1].expand(n, -1))
        reloaded = torch.jit.load(str(out))
        with torch.no_grad():
            diff = (reloaded(*check) - export.module(*check)).abs().max().item()
            if "score_boxes" in methods:
                boxes = example_boxes(n, s)
                diff = max(diff, (reloaded.score_boxes(check[0], boxes) - export.module.score_boxes(check[0], boxes)).abs().max().item())
    if diff > 1e-4:
        fail(f"the exported file differs from the PyTorch model by {diff:g} on a batch of {n}")
    sidecar = {"kind": export.kind, "input_size": [s, s], "mean": list(export.norm[0]), "std": list(export.norm[1]),
               "output": export.output, "model": args.model, "weights": "random" if args.random_init else (args.weights or ("pretrained" if args.pretrained else "folder")),
               **export.extra, **({"methods": ["score_boxes"]} if "score_boxes" in methods else {})}
    out.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n")
    params = sum(p.numel() for p in export.module.parameters())
    print(f"exported {args.model} ({export.kind}, {params / 1e6:.2f} M parameters, input {s}x{s}) to {out}; parity {diff:.1e}")


if __name__ == "__main__":
    main()
