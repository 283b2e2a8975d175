"""Small CIFAR-10 classifiers of other families than the ResNets, trained here by
tools/train_cifar_victim.py (no weights are published for them): protections are trained
against one family and judged on the others, since nobody knows which model will look at a
photo. Each has the ResNets' layout, a stem, three stages (layer1-3) and a head, so that
cifar_resnet.features cuts any of them after a stage.

  vgg     plain 3x3 conv-BN-ReLU pairs with max pooling, no shortcuts (VGG, Simonyan 2015)
  mobile  inverted residuals with depthwise convolutions (MobileNetV2, Sandler 2018)
  vit     a vision transformer on 4x4 patches (ViT, Dosovitskiy 2021)
"""
import torch
import torch.nn as nn


def conv_bn_relu(inputs, outputs):
    return [nn.Conv2d(inputs, outputs, 3, 1, 1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU()]


class Vgg(nn.Module):
    def __init__(self, width=32):
        super().__init__()
        w = width
        self.layer1 = nn.Sequential(*conv_bn_relu(3, w), *conv_bn_relu(w, w), nn.MaxPool2d(2))
        self.layer2 = nn.Sequential(*conv_bn_relu(w, 2 * w), *conv_bn_relu(2 * w, 2 * w), nn.MaxPool2d(2))
        self.layer3 = nn.Sequential(*conv_bn_relu(2 * w, 4 * w), *conv_bn_relu(4 * w, 4 * w))
        self.head = nn.Linear(4 * w, 10)

    def stem_layers(self):
        return []

    def forward(self, x):
        return self.head(self.layer3(self.layer2(self.layer1(x))).mean((2, 3)))


class InvertedResidual(nn.Module):
    def __init__(self, inputs, outputs, stride, expansion=3):
        super().__init__()
        h = inputs * expansion
        self.body = nn.Sequential(nn.Conv2d(inputs, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
                                  nn.Conv2d(h, h, 3, stride, 1, groups=h, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
                                  nn.Conv2d(h, outputs, 1, bias=False), nn.BatchNorm2d(outputs))
        self.residual = stride == 1 and inputs == outputs

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


class Mobile(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Sequential(nn.Conv2d(3, 24, 3, 1, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU6())
        self.layer1 = nn.Sequential(InvertedResidual(24, 32, 2), InvertedResidual(32, 32, 1))
        self.layer2 = nn.Sequential(InvertedResidual(32, 64, 2), InvertedResidual(64, 64, 1))
        self.layer3 = nn.Sequential(InvertedResidual(64, 96, 1), nn.Conv2d(96, 192, 1, bias=False), nn.BatchNorm2d(192), nn.ReLU6())
        self.head = nn.Linear(192, 10)

    def stem_layers(self):
        return [self.first]

    def forward(self, x):
        return self.head(self.layer3(self.layer2(self.layer1(self.first(x)))).mean((2, 3)))


class TransformerBlock(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        y = self.norm1(x)
        x = x + self.attention(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class PatchEmbedding(nn.Module):
    """The image as tokens: one per patch, with a learned position."""

    def __init__(self, dim, patch):
        super().__init__()
        self.patches = nn.Conv2d(3, dim, patch, patch)
        self.position = nn.Parameter(torch.randn(1, (32 // patch) ** 2, dim) * 0.02)

    def forward(self, x):
        return self.patches(x).flatten(2).transpose(1, 2) + self.position


class Vit(nn.Module):
    def __init__(self, dim=128, patch=4):
        super().__init__()
        self.tokens = PatchEmbedding(dim, patch)
        self.layer1 = TransformerBlock(dim, 4)
        self.layer2 = nn.Sequential(TransformerBlock(dim, 4), TransformerBlock(dim, 4))
        self.layer3 = nn.Sequential(TransformerBlock(dim, 4), nn.LayerNorm(dim))
        self.head = nn.Linear(dim, 10)

    def stem_layers(self):
        return [self.tokens]

    def forward(self, x):
        return self.head(self.layer3(self.layer2(self.layer1(self.tokens(x)))).mean(1))


# name: (architecture, training steps, learning rate, weight decay) that reach 72.0 / 69.7 / 55.5 %
# on the 1,000 test images after training on the 5,000 of ../shared/assets (batch 64).
FAMILIES = {"vgg": (Vgg, 2500, 3e-3, 5e-4), "mobile": (Mobile, 2500, 3e-3, 5e-4), "vit": (Vit, 3000, 1e-3, 0.05)}
