"""Writes traindata.pt: N phase-shifted sine waves of length L (period 2*pi*T), float64.

In the style of pytorch/examples time_sequence_prediction/generate_sine_wave.py.
"""

import argparse

import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument('--T', type=int, default=20, help='period / (2 pi) in steps')
parser.add_argument('--L', type=int, default=1000, help='length of each wave')
parser.add_argument('--N', type=int, default=100, help='number of waves')
parser.add_argument('--out', default='traindata.pt', help='file to write')
opt = parser.parse_args()

np.random.seed(2)

x = np.empty((opt.N, opt.L), 'int64')
x[:] = np.array(range(opt.L)) + np.random.randint(-4 * opt.T, 4 * opt.T, opt.N).reshape(opt.N, 1)
data = np.sin(x / 1.0 / opt.T).astype('float64')
torch.save(data, open(opt.out, 'wb'))
print(f'wrote {opt.out}: {data.shape[0]} waves of length {data.shape[1]}')
