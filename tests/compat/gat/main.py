"""Graph attention network (GAT) in the style of pytorch/examples gat/main.py, with the
attention coefficients held as the values of a sparse COO adjacency matrix.

The graph is synthetic (a planted-partition "cora-like" graph: nodes of a class link
mostly to each other and share noisy bag-of-words features), so nothing is downloaded.
"""

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim import Adam


class SparseGraphAttentionLayer(nn.Module):
    """One GAT layer (Velickovic et al. 2018) over the edges of a sparse adjacency matrix.

        e_ij = LeakyReLU(a_src . W h_i + a_dst . W h_j)   for each edge (i, j)
        alpha_ij = softmax over j of e_ij                   (the row's edges only)
        h_i' = sum_j alpha_ij W h_j

    The unnormalized exp(e_ij) are the values of a sparse (N, N) matrix, so both the
    aggregation and the softmax's row sums are sparse @ dense products.
    """

    def __init__(self, in_features, out_features, n_heads, concat=False, dropout=0.4,
                 leaky_relu_slope=0.2):
        super().__init__()
        self.n_heads = n_heads
        self.concat = concat
        self.dropout = dropout
        if concat:
            assert out_features % n_heads == 0
            self.n_hidden = out_features // n_heads
        else:  # the heads are averaged
            self.n_hidden = out_features
        self.W = nn.Parameter(torch.empty(size=(in_features, self.n_hidden * n_heads)))
        self.a_src = nn.Parameter(torch.empty(size=(n_heads, self.n_hidden)))
        self.a_dst = nn.Parameter(torch.empty(size=(n_heads, self.n_hidden)))
        self.leakyrelu = nn.LeakyReLU(leaky_relu_slope)
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.xavier_normal_(self.W)
        nn.init.xavier_normal_(self.a_src)
        nn.init.xavier_normal_(self.a_dst)

    def forward(self, h, adj_mat):
        n_nodes = h.shape[0]
        src, dst = adj_mat.indices()
        h_transformed = torch.mm(h, self.W)
        h_transformed = F.dropout(h_transformed, self.dropout, training=self.training)
        h_transformed = h_transformed.view(n_nodes, self.n_heads, self.n_hidden)

        # per-node halves of the score, then one score per edge and head: (E, n_heads)
        source_scores = (h_transformed * self.a_src).sum(dim=-1)
        target_scores = (h_transformed * self.a_dst).sum(dim=-1)
        e = self.leakyrelu(source_scores[src] + target_scores[dst])
        # softmax is unchanged by a shift; the global max keeps exp from overflowing
        edge_e = torch.exp(e - e.max().detach())
        edge_e = F.dropout(edge_e, self.dropout, training=self.training)

        ones = torch.ones(n_nodes, 1, dtype=h.dtype, device=h.device)
        heads = []
        for k in range(self.n_heads):
            attention = torch.sparse_coo_tensor(adj_mat.indices(), edge_e[:, k],
                                                (n_nodes, n_nodes))
            row_sum = torch.spmm(attention, ones)
            aggregated = torch.sparse.mm(attention, h_transformed[:, k, :])
            heads.append(aggregated / row_sum.clamp(min=1e-16))
        h_prime = torch.stack(heads, dim=0)  # (n_heads, n_nodes, n_hidden)

        if self.concat:
            return h_prime.permute(1, 0, 2).contiguous().view(n_nodes, -1)
        return h_prime.mean(dim=0)


class GAT(nn.Module):
    """Two GAT layers: multi-head with ELU, then a single head with log_softmax."""

    def __init__(self, in_features, n_hidden, n_heads, num_classes, concat=False, dropout=0.4,
                 leaky_relu_slope=0.2):
        super().__init__()
        self.gat1 = SparseGraphAttentionLayer(
            in_features=in_features, out_features=n_hidden, n_heads=n_heads,
            concat=concat, dropout=dropout, leaky_relu_slope=leaky_relu_slope)
        self.gat2 = SparseGraphAttentionLayer(
            in_features=n_hidden, out_features=num_classes, n_heads=1,
            concat=False, dropout=dropout, leaky_relu_slope=leaky_relu_slope)

    def forward(self, input_tensor, adj_mat):
        x = self.gat1(input_tensor, adj_mat)
        x = F.elu(x)
        x = self.gat2(x, adj_mat)
        return F.log_softmax(x, dim=1)


def make_graph(n_nodes, n_classes, n_features, p_in, p_out, seed):
    """(words (N, F) int, labels (N,), edges (E, 2)) of a planted-partition graph."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n_nodes)
    # each class favours its own slice of the vocabulary, over a background of noise
    favoured = np.arange(n_features) % n_classes == labels[:, None]
    words = (rng.random((n_nodes, n_features)) < np.where(favoured, 0.2, 0.05)).astype(np.int32)
    same = labels[:, None] == labels[None, :]
    linked = np.triu(rng.random((n_nodes, n_nodes)) < np.where(same, p_in, p_out), 1)
    edges = np.argwhere(linked)
    return words, labels, edges


def load_graph(args, device='cpu'):
    """Features row-normalized, labels and the sparse adjacency matrix, as load_cora does."""
    words, labels, edges = make_graph(args.nodes, args.classes, args.features, args.p_in,
                                      args.p_out, args.seed)
    features = torch.FloatTensor(words)
    scale_vector = torch.sum(features, dim=1)
    scale_vector = 1 / scale_vector
    scale_vector[scale_vector == float('inf')] = 0  # nodes without any word
    scale_vector = torch.diag(scale_vector).to_sparse()
    features = scale_vector @ features

    labels = torch.LongTensor(labels)

    V, E = len(labels), edges.shape[0]
    edges = np.concatenate([edges, edges[:, ::-1]])  # undirected: both directions
    adj_mat = torch.sparse_coo_tensor(edges.T, torch.ones(2 * E), (V, V), dtype=torch.int64)
    adj_mat = torch.eye(V) + adj_mat  # self-loops (sparse + dense is dense)
    adj_mat = adj_mat.to_sparse()
    print(f'{V} nodes, {E} edges, {features.shape[1]} features, {args.classes} classes')
    return features.to(device), labels.to(device), adj_mat.to(device)


def train_iter(epoch, model, optimizer, criterion, input, target, mask_train, mask_val,
               print_every=10):
    start_t = time.time()
    model.train()
    optimizer.zero_grad()
    output = model(*input)
    loss = criterion(output[mask_train], target[mask_train])
    loss.backward()
    optimizer.step()

    loss_train, acc_train = test(model, criterion, input, target, mask_train)
    loss_val, acc_val = test(model, criterion, input, target, mask_val)
    if epoch % print_every == 0:
        print(f'Epoch: {epoch:04d} ({(time.time() - start_t):.4f}s) loss_train: {loss_train:.4f} '
              f'acc_train: {acc_train:.4f} loss_val: {loss_val:.4f} acc_val: {acc_val:.4f}')
    return loss_train


def test(model, criterion, input, target, mask):
    model.eval()
    with torch.no_grad():
        output = model(*input)
        output, target = output[mask], target[mask]
        loss = criterion(output, target)
        acc = (output.argmax(dim=1) == target).float().sum() / len(target)
    return loss.item(), acc.item()


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description='PyTorch Graph Attention Network')
    parser.add_argument('--epochs', type=int, default=300,
                        help='number of epochs to train (default: 300)')
    parser.add_argument('--lr', type=float, default=0.005,
                        help='learning rate (default: 0.005)')
    parser.add_argument('--l2', type=float, default=5e-4,
                        help='weight decay (default: 5e-4)')
    parser.add_argument('--dropout-p', type=float, default=0.6,
                        help='dropout probability (default: 0.6)')
    parser.add_argument('--hidden-dim', type=int, default=64,
                        help='dimension of the hidden representation (default: 64)')
    parser.add_argument('--num-heads', type=int, default=8,
                        help='number of the attention heads (default: 8)')
    parser.add_argument('--concat-heads', action='store_true',
                        help='concatenate the attention heads rather than average them')
    parser.add_argument('--val-every', type=int, default=20,
                        help='epochs between printed evaluations (default: 20)')
    parser.add_argument('--nodes', type=int, default=2708, help='nodes in the graph')
    parser.add_argument('--classes', type=int, default=7, help='node classes')
    parser.add_argument('--features', type=int, default=1433, help='words per node vocabulary')
    parser.add_argument('--p-in', type=float, default=0.004, help='link probability within a class')
    parser.add_argument('--p-out', type=float, default=0.0003, help='link probability across classes')
    parser.add_argument('--no-accel', action='store_true', help='disables the accelerator')
    parser.add_argument('--dry-run', action='store_true', help='quickly check a single pass')
    parser.add_argument('--seed', type=int, default=13, metavar='S',
                        help='random seed (default: 13)')
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    use_accel = not args.no_accel and torch.accelerator.is_available()
    if use_accel:
        device = torch.accelerator.current_accelerator()
    else:
        device = torch.device('cpu')
    print(f'Using {device} device')

    features, labels, adj_mat = load_graph(args, device=device)
    # train on a small labelled part, as on Cora
    idx = torch.randperm(len(labels)).to(device)
    n_test, n_val = len(labels) * 4 // 10, len(labels) * 2 // 10
    idx_test, idx_val, idx_train = idx[:n_test], idx[n_test:n_test + n_val], idx[n_test + n_val:]

    gat_net = GAT(
        in_features=features.shape[1],
        n_hidden=args.hidden_dim,
        n_heads=args.num_heads,
        num_classes=labels.max().item() + 1,
        concat=args.concat_heads,
        dropout=args.dropout_p,
        leaky_relu_slope=0.2
    ).to(device)

    optimizer = Adam(gat_net.parameters(), lr=args.lr, weight_decay=args.l2)
    criterion = nn.NLLLoss()

    losses = []
    for epoch in range(args.epochs):
        losses.append(train_iter(epoch + 1, gat_net, optimizer, criterion, (features, adj_mat),
                                 labels, idx_train, idx_val, args.val_every))
        if args.dry_run:
            break
    loss_test, acc_test = test(gat_net, criterion, (features, adj_mat), labels, idx_test)
    print(f'Test set results: loss {loss_test:.4f} accuracy {acc_test:.4f}')

    # A silent failure must not pass: the loss must fall and the test nodes be classified
    # clearly better than chance.
    if not args.dry_run:
        assert losses[-1] < losses[0], (losses[0], losses[-1])
        assert acc_test > 1.5 / args.classes, f'test accuracy {acc_test:.2f} is near chance'
        print('OK: training reduced the loss')
