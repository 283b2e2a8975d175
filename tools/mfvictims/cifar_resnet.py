"""The CIFAR-10 ResNets of He et al. 2016 (section 4.2), as described in
../shared/assets/README.md: 3x3 stem with 16 channels, three stages of n basic blocks
(16, 32, 64 channels), option-A shortcuts (subsample and zero-pad, no parameters), global
average pooling and a 64 -> 10 linear layer. Names match the released weights."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if (stride != 1 or in_planes != planes) else 0

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x
        if self.pad:
            shortcut = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + shortcut)


class CifarResNet(nn.Module):
    def __init__(self, depth):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        planes, layers = 16, []
        for i, width in enumerate([16, 32, 64]):
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(planes, width, 2 if (b == 0 and i > 0) else 1))
                planes = width
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = nn.Linear(64, 10)

    def stem_layers(self):
        return [self.conv1, self.bn1, nn.ReLU()]

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))


def features(model, layer):
    """A CIFAR-10 network (a ResNet here, or one of cifar_families') cut after one of its
    stages (layer1, layer2 or layer3): the intermediate features [N, C * H * W] that
    feature-level losses (LTP) push away from the clean image's. Mid-level features are
    shared across architectures, so a perturbation that disrupts them transfers better than
    one fitted to the last layer's logits. It holds only the layers it runs."""
    depth = ["layer1", "layer2", "layer3"].index(layer) + 1
    return nn.Sequential(*model.stem_layers(), *[model.layer1, model.layer2, model.layer3][:depth], nn.Flatten(1))


def load_weights(model, path):
    """Loads a released checkpoint: {'state_dict': {'module.<name>': tensor}} (legacy format)."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    state = checkpoint.get("state_dict", checkpoint)
    state = {k.removeprefix("module."): v for k, v in state.items()}
    model.load_state_dict(state, strict=True)
