"""Tests for utils/data/_utils/transport.py: the result pipe between a worker and the
main process (protocol-5 pickling with large arrays sent out of band)."""

import multiprocessing
import os
import threading

import ml_dtypes
import numpy as np
import pytest

import taimatsu
from taimatsu import Tensor
from taimatsu.utils.data._utils import transport
from taimatsu.utils.data._utils.transport import OUT_OF_BAND_MIN, ResultReader, ResultWriter


@pytest.fixture
def pipe():
    reader, writer = multiprocessing.Pipe(duplex=False)
    transport.enlarge_pipe(reader.fileno())
    yield ResultReader(reader, poll_s=0.1), ResultWriter(writer)
    reader.close()
    writer.close()


def _roundtrip(pipe, obj):
    """Sends `obj` from a thread (a large message does not fit in the pipe at once)."""
    reader, writer = pipe
    sender = threading.Thread(target=writer.send, args=(obj,))
    sender.start()
    out = reader.recv(lambda: True)
    sender.join()
    return out


def test_roundtrip_of_a_nested_batch(pipe):
    big = np.arange(OUT_OF_BAND_MIN, dtype=np.float64).reshape(-1, 8)
    batch = {"x": Tensor._make(big), "small": taimatsu.tensor([1, 2]), "s": ["a", "b"],
             "n": (3, 4.5, None), "np": big[:4], "bf": taimatsu.ones(5000, dtype=taimatsu.bfloat16)}
    out = _roundtrip(pipe, batch)
    assert isinstance(out["x"], Tensor) and np.array_equal(out["x"].numpy(), big)
    assert out["small"].tolist() == [1, 2] and out["small"].dtype is taimatsu.int64
    assert out["s"] == ["a", "b"] and out["n"] == (3, 4.5, None)
    assert np.array_equal(out["np"], big[:4])
    assert out["bf"].dtype is taimatsu.bfloat16 and out["bf"].numpy().dtype == ml_dtypes.bfloat16
    assert out["x"].numpy().flags.writeable


def test_large_arrays_travel_out_of_band_and_small_ones_inside(pipe):
    big = np.ones(OUT_OF_BAND_MIN // 8, dtype=np.float64)
    header, buffers = transport.dumps((Tensor._make(big), np.zeros(10)))
    assert len(buffers) == 1 and buffers[0].nbytes == big.nbytes
    assert len(header) < 1000  # the big array's bytes are not in the header


@pytest.mark.parametrize("make", [
    lambda a: a.T,                       # Fortran-ordered
    lambda a: a[:, ::3],                 # strided
    lambda a: a[:0],                     # empty
    lambda a: a[3, 4, ...],              # 0-dim
])
def test_any_layout_arrives_equal(pipe, make):
    base = np.arange(200 * 300, dtype=np.float32).reshape(200, 300)
    src = make(base)
    out = _roundtrip(pipe, Tensor._make(src))
    assert out.shape == src.shape and np.array_equal(out.numpy(), src)


def test_requires_grad_of_a_leaf_is_kept_and_a_graph_is_refused(pipe):
    leaf = taimatsu.ones(3, requires_grad=True)
    assert _roundtrip(pipe, leaf).requires_grad
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
        transport.dumps(leaf * 2)
    assert not _roundtrip(pipe, (leaf * 2).detach()).requires_grad


def test_end_of_file_and_a_writer_dying_mid_message():
    reader_conn, writer_conn = multiprocessing.Pipe(duplex=False)
    reader = ResultReader(reader_conn, poll_s=0.05)
    writer_conn.close()
    with pytest.raises(EOFError, match="closed its pipe"):
        reader.recv(lambda: True)
    reader_conn.close()

    reader_conn, writer_conn = multiprocessing.Pipe(duplex=False)
    reader = ResultReader(reader_conn, poll_s=0.05)
    header, _ = transport.dumps(np.zeros(OUT_OF_BAND_MIN))
    os.write(writer_conn.fileno(), header)  # the header promises a buffer that never comes
    with pytest.raises(EOFError, match="died in the middle of a message"):
        reader.recv(lambda: False)  # the (still open) writer counts as dead: no hang
    writer_conn.close()
    reader_conn.close()
