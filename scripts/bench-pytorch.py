# The PyTorch peer of `npm run bench:compact`: builds Real-ESRGAN Compact (SRVGGNetCompact: a 3x3 conv, PReLU, then
# num_conv x (3x3 conv + PReLU), a last conv to 3 * scale^2 channels, pixel shuffle, plus the nearest-upsampled
# input), saves its random weights as a .pth the studio imports, and times one inference of a 576x720 photo with
# PyTorch's CPU threads. Prints one JSON line: {"medianSeconds", "runs", "threads", "torch"}.
import argparse, json, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SRVGGNetCompact(nn.Module):
    def __init__(self, num_feat=64, num_conv=16, upscale=1):
        super().__init__()
        self.upscale = upscale
        layers = [nn.Conv2d(3, num_feat, 3, 1, 1), nn.PReLU(num_parameters=num_feat)]
        for _ in range(num_conv):
            layers += [nn.Conv2d(num_feat, num_feat, 3, 1, 1), nn.PReLU(num_parameters=num_feat)]
        layers.append(nn.Conv2d(num_feat, 3 * upscale * upscale, 3, 1, 1))
        self.body = nn.ModuleList(layers)
        self.upsampler = nn.PixelShuffle(upscale)

    def forward(self, x):
        out = x
        for layer in self.body:
            out = layer(out)
        return self.upsampler(out) + F.interpolate(x, scale_factor=self.upscale, mode='nearest')


parser = argparse.ArgumentParser()
parser.add_argument('--out', required=True)
parser.add_argument('--runs', type=int, default=5)
args = parser.parse_args()
torch.manual_seed(0)
model = SRVGGNetCompact().eval()
torch.save({'params': model.state_dict()}, args.out)
x = torch.rand(1, 3, 576, 720)
times = []
with torch.inference_mode():
    model(x)
    for _ in range(args.runs):
        start = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - start)
print(json.dumps({'medianSeconds': statistics.median(times), 'runs': args.runs, 'threads': torch.get_num_threads(), 'torch': torch.__version__}))
