"""Sine-wave prediction with two LSTMCells and L-BFGS, in float64.

In the style of pytorch/examples time_sequence_prediction/train.py: the model learns the
waves written by generate_sine_wave.py, then predicts `--future` steps past their end.
"""

# ruff: noqa: UP031, UP032
# (string formatting kept as the PyTorch examples write it)

import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class Sequence(nn.Module):
    def __init__(self, hidden=51):
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)

        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for _ in range(future):  # feed the predictions back in to go past the data
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--steps', type=int, default=15, help='steps to run')
    parser.add_argument('--hidden', type=int, default=51, help='LSTM cell size')
    parser.add_argument('--future', type=int, default=1000, help='steps to predict')
    parser.add_argument('--data', default='traindata.pt', help='written by generate_sine_wave.py')
    opt = parser.parse_args()
    np.random.seed(0)
    torch.manual_seed(0)
    # load data and make the training set; the file holds a NumPy array, which
    # weights_only loading accepts once NumPy's reconstruction globals are allowed
    with torch.serialization.safe_globals([np._core.multiarray._reconstruct, np.ndarray,
                                           np.dtype, np.dtypes.Float64DType]):
        data = torch.load(opt.data)
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    test_target = torch.from_numpy(data[:3, 1:])
    # build the model
    seq = Sequence(opt.hidden)
    seq.double()
    criterion = nn.MSELoss()
    # L-BFGS suits this problem: the whole data set fits in one batch
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8)
    losses, test_losses = [], []
    for i in range(opt.steps):
        print('STEP: ', i)

        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            print('loss:', loss.item())
            losses.append(loss.item())
            loss.backward()
            return loss
        optimizer.step(closure)
        # predict; no need to track gradients here
        with torch.no_grad():
            future = opt.future
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            print('test loss:', loss.item())
            test_losses.append(loss.item())
            y = pred.detach().numpy()
        assert y.shape == (3, input.size(1) + future) and y.dtype == np.float64
        np.save('predict%d.npy' % i, y)

    # A silent failure must not pass: L-BFGS must have fitted the waves.
    assert losses[-1] < 0.5 * losses[0], (losses[0], losses[-1])
    print('OK: training reduced the loss')
