"""MTCNN's P-Net (Zhang et al. 2016) as a differentiable face detector: the fully
convolutional proposal net run over an image pyramid, every cell of every scale giving a
box and a face probability. Layer names match the MTCNN weights in ../shared/assets."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class PNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, 3)
        self.prelu1 = nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(10, 16, 3)
        self.prelu2 = nn.PReLU(16)
        self.conv3 = nn.Conv2d(16, 32, 3)
        self.prelu3 = nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, 1)
        self.softmax4_1 = nn.Softmax(dim=1)
        self.conv4_2 = nn.Conv2d(32, 4, 1)

    def forward(self, x):
        x = self.prelu1(self.conv1(x))
        x = self.pool1(x)
        x = self.prelu2(self.conv2(x))
        x = self.prelu3(self.conv3(x))
        return self.softmax4_1(self.conv4_1(x)), self.conv4_2(x)


def pyramid_scales(size, min_face=20, factor=0.709):
    """The scales at which P-Net's 12x12 window sees faces from min_face pixels up."""
    scale, scales = 12.0 / min_face, []
    while size * scale >= 12:
        scales.append(scale)
        scale *= factor
    return scales


class PNetDetector(nn.Module):
    """Input: images [N, 3, S, S] already normalised ((x - 127.5) / 128). Output: boxes
    [N, B, 5] as (x0, y0, x1, y1, face probability) in input pixels."""

    def __init__(self, pnet, size, min_face=20):
        super().__init__()
        self.pnet = pnet
        self.scales = pyramid_scales(size, min_face)
        self.sizes = [int(math.ceil(size * s)) for s in self.scales]

    def forward(self, x):
        out = []
        for scale, side in zip(self.scales, self.sizes):
            prob, reg = self.pnet(F.interpolate(x, size=(side, side), mode="area"))
            n, _, h, w = prob.shape
            ys = torch.arange(h, dtype=x.dtype).view(1, h, 1).expand(n, h, w)
            xs = torch.arange(w, dtype=x.dtype).view(1, 1, w).expand(n, h, w)
            x0, y0 = (2 * xs + 1) / scale, (2 * ys + 1) / scale
            x1, y1 = (2 * xs + 12) / scale, (2 * ys + 12) / scale
            bw, bh = x1 - x0, y1 - y0
            box = torch.stack([x0 + reg[:, 0] * bw, y0 + reg[:, 1] * bh, x1 + reg[:, 2] * bw, y1 + reg[:, 3] * bh, prob[:, 1]], -1)
            out.append(box.reshape(n, h * w, 5))
        return torch.cat(out, 1)
