"""The PyTorch reference for bench/data_loader_bench.cpp: the same pipeline (decode, resize
the shorter side to 224, random 224 crop, flip, batches of 32) with torch's DataLoader,
torchvision transforms and Pillow, timed the same way (the second epoch).

    python data_loader_reference.py DIR [WORKERS...]
"""
import sys
import time
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class Folder(Dataset):
    def __init__(self, root):
        self.files = sorted(Path(root).glob("*.jpg"))
        self.transform = transforms.Compose([
            transforms.Resize(224),
            transforms.RandomCrop(224),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
        ])

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        with Image.open(self.files[i]) as img:
            return self.transform(img.convert("RGB")), 0


def main():
    root = sys.argv[1]
    workers = [int(w) for w in sys.argv[2:]] or [1, 2]
    torch.set_num_threads(1)
    for w in workers:
        loader = DataLoader(Folder(root), batch_size=32, shuffle=True, drop_last=True,
                            num_workers=w, persistent_workers=True, prefetch_factor=4)
        for _ in loader:  # warm-up epoch
            pass
        start, seen = time.perf_counter(), 0
        for images, _ in loader:
            seen += images.shape[0]
        print(f"pytorch workers={w} images_per_s={seen / (time.perf_counter() - start):.1f}")


if __name__ == "__main__":
    main()
