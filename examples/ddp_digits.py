"""The digits CNN trained data-parallel on several processes (DistributedDataParallel).

    python -m taimatsu.distributed.run --nproc 2 examples/ddp_digits.py [--epochs 10]
    mpiexec -n 2 python examples/ddp_digits.py            # the same, with mpiexec directly

Each rank trains on its own shard of the data (DistributedSampler) with batches of
--batch-size; DDP averages the gradients, so the replicas stay identical, and the
global batch is nproc * batch-size. Rank 0 evaluates and saves the checkpoint.
"""

from __future__ import annotations

import argparse
import zlib

from cnn_digits import DigitNet
from digits_data import accuracy, load_digits

import taimatsu as tm
import taimatsu.distributed as dist
from taimatsu import nn
from taimatsu.nn.parallel import DistributedDataParallel as DDP
from taimatsu.utils.data import DataLoader, DistributedSampler, TensorDataset


def main(argv=None) -> float | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32, help="per rank")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--save", default=None, help="checkpoint path (written by rank 0)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    tm.manual_seed(rank)  # different dropout masks per rank; DDP syncs the initial weights
    x_train, y_train, x_test, y_test = load_digits()
    dataset = TensorDataset(x_train, y_train)
    sampler = DistributedSampler(dataset, shuffle=True, seed=0)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)
    model = DDP(DigitNet())
    optimizer = tm.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    scheduler = tm.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        total = tm.zeros(2, dtype=tm.float64)  # (summed loss, samples) of this rank
        for images, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            total += tm.tensor([loss.item() * len(labels), len(labels)], dtype=tm.float64)
        scheduler.step()
        dist.all_reduce(total)
        if rank == 0 and not args.quiet:
            print(f"epoch {epoch + 1}: loss {float(total[0] / total[1]):.4f}")

    # The replicas' weights must still be identical: compare every rank's checksum. (The
    # BatchNorm statistics differ after the last step: DDP copies rank 0's at each forward.)
    checksum = zlib.crc32(b"".join(p.detach().numpy().tobytes()
                                   for p in model.module.parameters()))
    checksums = [None] * world
    dist.all_gather_object(checksums, checksum)
    acc = None
    if rank == 0:
        print(f"ranks: {world}, replicas identical: {len(set(checksums)) == 1}")
        acc = accuracy(model.module, x_test, y_test)
        print(f"test accuracy: {acc:.4f}")
        if args.save:
            tm.save(model.module.state_dict(), args.save)  # keys without "module."
    dist.destroy_process_group()
    return acc


if __name__ == "__main__":
    main()
