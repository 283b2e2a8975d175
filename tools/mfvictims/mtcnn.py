"""MTCNN's P-Net (Zhang et al. 2016) as a differentiable face detector: the fully
convolutional proposal net run over an image pyramid, every cell of every scale giving a
box and a face probability. Layer names match the MTCNN weights in ../shared/assets."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .tracing import positions


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
            ys = positions(x, h).view(1, h, 1).expand(n, h, w)
            xs = positions(x, w).view(1, 1, w).expand(n, h, w)
            x0, y0 = (2 * xs + 1) / scale, (2 * ys + 1) / scale
            x1, y1 = (2 * xs + 12) / scale, (2 * ys + 12) / scale
            bw, bh = x1 - x0, y1 - y0
            box = torch.stack([x0 + reg[:, 0] * bw, y0 + reg[:, 1] * bh, x1 + reg[:, 2] * bw, y1 + reg[:, 3] * bh, prob[:, 1]], -1)
            out.append(box.reshape(n, h * w, 5))
        return torch.cat(out, 1)


class RNet(nn.Module):
    """The refinement net: 24x24 crops -> face probability and box regression."""

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 28, 3), nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(28, 48, 3), nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(48, 64, 2), nn.PReLU(64)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu3(self.conv3(x))
        x = self.prelu4(self.dense4(x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)))  # Caffe's (N, W, H, C) order
        return F.softmax(self.dense5_1(x), 1), self.dense5_2(x)


class ONet(nn.Module):
    """The output net: 48x48 crops -> face probability, box regression, 5 landmarks."""

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 32, 3), nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(32, 64, 3), nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(64, 64, 3), nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu4(self.conv4(x))
        x = self.prelu5(self.dense5(x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)))
        return F.softmax(self.dense6_1(x), 1), self.dense6_2(x)


def square(boxes):
    """MTCNN's rerec: each box [.., 4] made square around its centre, side the longer one."""
    cx, cy = (boxes[..., 0] + boxes[..., 2]) / 2, (boxes[..., 1] + boxes[..., 3]) / 2
    half = torch.maximum(boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]) / 2
    return torch.stack([cx - half, cy - half, cx + half, cy + half], -1)


def crops(x, boxes, side):
    """Crops of boxes [N, K, 4] (input pixels) from x [N, C, H, W], resized to side x side
    bilinearly, zeros outside the image, differentiable in the image and the boxes:
    [N * K, C, side, side]. One grid_sample per image batch, the K crops stacked in its grid."""
    n, k = boxes.shape[0], boxes.shape[1]
    h, w = x.shape[2], x.shape[3]
    t = (positions(x, side) + 0.5) / side
    px = boxes[..., 0:1] + (boxes[..., 2:3] - boxes[..., 0:1]) * t  # [N, K, side] pixel coordinates
    py = boxes[..., 1:2] + (boxes[..., 3:4] - boxes[..., 1:2]) * t
    gx = (px / w * 2 - 1)[:, :, None, :].expand(n, k, side, side)
    gy = (py / h * 2 - 1)[:, :, :, None].expand(n, k, side, side)
    grid = torch.stack([gx, gy], -1).reshape(n, k * side, side, 2)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)  # [N, C, K * side, side]
    return out.reshape(n, x.shape[1], k, side, side).permute(0, 2, 1, 3, 4).reshape(n * k, x.shape[1], side, side)


def refine(boxes, reg):
    """A box [.., 4] moved by its regression [.., 4] (offsets in units of its size)."""
    w, h = boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]
    return torch.stack([boxes[..., 0] + reg[..., 0] * w, boxes[..., 1] + reg[..., 1] * h, boxes[..., 2] + reg[..., 2] * w, boxes[..., 3] + reg[..., 3] * h], -1)


class CascadeDetector(nn.Module):
    """The whole MTCNN cascade as a differentiable detector. Input: images [N, 3, S, S]
    normalised ((x - 127.5) / 128). P-Net runs over the pyramid; its `proposals` best boxes
    (made square) are cropped to 24x24 for R-Net; R-Net's `refined` best (by the lower of
    the two stages' probabilities) are refined, squared and cropped to 48x48 for O-Net.
    Output: the O-Net boxes [N, refined, 5] as (x0, y0, x1, y1, score) in input pixels, where
    the score is the lowest face probability of the three stages, so a box is a detection at
    threshold t when every stage would pass it at t (MTCNN's own thresholds are 0.6, 0.7 and
    0.7). Stage selection is by index (not differentiable), every score is differentiable in
    the image. No non-maximum suppression: overlapping boxes of one face are all reported."""

    def __init__(self, pnet, rnet, onet, size, min_face=20, proposals=48, refined=16):
        super().__init__()
        self.pnet = PNetDetector(pnet, size, min_face)
        self.rnet, self.onet = rnet, onet
        self.proposals, self.refined = proposals, refined

    def forward(self, x):
        n = x.shape[0]
        p = self.pnet(x)  # [N, B, 5]
        p_score, p_index = p[..., 4].topk(min(self.proposals, p.shape[1]), dim=1)
        boxes = square(p[..., :4].gather(1, p_index[..., None].expand(-1, -1, 4)))
        k = boxes.shape[1]
        r_prob, r_reg = self.rnet(crops(x, boxes, 24))
        r_score = torch.minimum(p_score, r_prob[:, 1].reshape(n, k))
        r_boxes = square(refine(boxes, r_reg.reshape(n, k, 4)))
        r_best, r_index = r_score.topk(min(self.refined, k), dim=1)
        boxes = r_boxes.gather(1, r_index[..., None].expand(-1, -1, 4))
        k = boxes.shape[1]
        o_prob, o_reg = self.onet(crops(x, boxes, 48))
        score = torch.minimum(r_best, o_prob[:, 1].reshape(n, k))
        return torch.cat([refine(boxes, o_reg.reshape(n, k, 4)), score[..., None]], -1)

    def score_boxes(self, x, boxes):
        """O-Net's face probability [N, K] for given boxes [N, K, 4] (input pixels, made
        square as the cascade makes its own). A loss can then score crops around a face
        without the cascade's selection of boxes, which picks others as the chosen ones fall."""
        prob, _ = self.onet(crops(x, square(boxes), 48))
        return prob[:, 1].reshape(boxes.shape[0], boxes.shape[1])
