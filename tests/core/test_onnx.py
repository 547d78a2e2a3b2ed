"""taimatsu.onnx.export: models and ops exported to ONNX, run in onnxruntime, compared with
taimatsu's own outputs."""

import io
import math

import numpy as np
import pytest

import taimatsu as tm
import taimatsu.nn.functional as F
from taimatsu import nn
from taimatsu.onnx import (
    OnnxExporterError,
    ONNXProgram,
    TrainingMode,
    UnsupportedOperatorError,
    export,
    is_in_onnx_export,
)
from taimatsu.onnx.errors import SymbolicValueError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOL = {"atol": 1e-5, "rtol": 1e-5}


class Fn(nn.Module):
    """A module around a function of tensors (for one-op exports)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *args):
        return self.fn(*args)


def _export(model, args, **kw):
    """(onnxruntime session, ModelProto) of the exported model."""
    f = io.BytesIO()
    export(model, args, f, **kw)
    proto = onnx.load_from_string(f.getvalue())
    onnx.checker.check_model(proto)
    sess = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    return sess, proto


def _flat(out) -> list:
    if isinstance(out, tm.Tensor):
        return [out]
    return [t for o in out for t in _flat(o)]


def _expected(model, *args, **kwargs):
    """The model's outputs (nested tuples flattened, as the graph's outputs are)."""
    with tm.no_grad():
        return _flat(model(*args, **kwargs))


def _check(sess, model, inputs: dict, order=None):
    """Runs the session on `inputs` and compares with the model on the same tensors."""
    got = sess.run(None, {k: v.numpy() for k, v in inputs.items()})
    want = _expected(model, *(inputs[k] for k in (order or inputs)))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        w = w.numpy()
        assert g.shape == w.shape
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, equal_nan=True, **TOL)


def _dims(value_info) -> list:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


# -- the three models of the issue --------------------------------------------------------------

def test_mlp_matches_with_names_and_a_dynamic_batch():
    tm.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 8),
                        nn.Tanh(), nn.Linear(8, 3)).eval()
    sess, proto = _export(mlp, (tm.randn(4, 6),), input_names=["features"],
                          output_names=["logits"],
                          dynamic_axes={"features": {0: "batch"}, "logits": {0: "batch"}})
    assert [i.name for i in proto.graph.input] == ["features"]
    assert [o.name for o in proto.graph.output] == ["logits"]
    assert _dims(proto.graph.input[0]) == ["batch", 6]
    assert _dims(proto.graph.output[0]) == ["batch", 3]
    for batch in (4, 1, 9):
        _check(sess, mlp, {"features": tm.randn(batch, 6)})


def _cnn():
    tm.manual_seed(1)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 12, 3, stride=2, padding=1, groups=4, bias=False), nn.BatchNorm2d(12),
        nn.ReLU(), nn.AvgPool2d(2),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(12, 5))
    net.train()
    with tm.no_grad():
        net(tm.randn(6, 3, 16, 16))  # running statistics that are not the defaults
    return net.eval()


def test_cnn_matches_with_a_dynamic_batch():
    net = _cnn()
    sess, proto = _export(net, tm.randn(2, 3, 16, 16), input_names=["image"],
                          dynamic_axes={"image": {0: "N"}})
    ops = {n.op_type for n in proto.graph.node}
    assert {"Conv", "BatchNormalization", "MaxPool", "AveragePool", "Gemm"} <= ops
    assert _dims(proto.graph.output[0]) == ["N", 5]
    for batch in (2, 5):
        _check(sess, net, {"image": tm.randn(batch, 3, 16, 16)})


@pytest.mark.parametrize("batch_first", [True, False])
def test_transformer_encoder_matches_with_dynamic_batch_and_length(batch_first):
    tm.manual_seed(2)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, batch_first=batch_first)
    enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    axes = {0: "batch", 1: "seq"} if batch_first else {0: "seq", 1: "batch"}

    def sample(b, s):
        return tm.randn(b, s, 16) if batch_first else tm.randn(s, b, 16)

    sess, proto = _export(enc, sample(2, 5), input_names=["src"], output_names=["out"],
                          dynamic_axes={"src": axes, "out": axes})
    assert _dims(proto.graph.input[0]) == _dims(proto.graph.output[0])
    for b, s in ((2, 5), (3, 9), (1, 2)):
        _check(sess, enc, {"src": sample(b, s)})


class _TinyLM(nn.Module):
    """Embedding + pre-norm GELU encoder with a padding mask built from the tokens."""

    def __init__(self, mode: str):
        super().__init__()
        self.mode = mode
        self.emb = nn.Embedding(30, 16, padding_idx=0)
        layer = nn.TransformerEncoderLayer(16, 2, 32, activation="gelu", norm_first=True,
                                           batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(16, 30)

    def forward(self, tokens, pad_mask=None):
        x = self.emb(tokens) * math.sqrt(16)
        if self.mode == "given":
            x = self.enc(x, src_key_padding_mask=pad_mask)
        elif self.mode == "from_tokens":
            x = self.enc(x, src_key_padding_mask=tokens == 0)
        else:
            causal = nn.Transformer.generate_square_subsequent_mask(tokens.size(1))
            x = self.enc(x, mask=causal, is_causal=True)
        return self.head(x).log_softmax(-1)


@pytest.mark.parametrize("mode", ["given", "from_tokens", "causal"])
def test_transformer_with_masks_and_dynamic_sizes(mode):
    tm.manual_seed(3)
    lm = _TinyLM(mode).eval()

    def sample(b, s):
        tokens = tm.randint(1, 30, (b, s))
        tokens[0, -1] = 0
        mask = tokens == 0
        return {"tokens": tokens, "pad_mask": mask} if mode == "given" else {"tokens": tokens}

    first = sample(2, 6)
    axes = {name: {0: "batch", 1: "seq"} for name in first}
    sess, _ = _export(lm, tuple(first.values()), dynamic_axes=axes)
    for b, s in ((2, 6), (3, 4), (1, 8)):
        _check(sess, lm, sample(b, s))


RECURRENT = [
    ("lstm", nn.LSTM, {}),
    ("gru 2-layer bidirectional", nn.GRU, {"num_layers": 2, "bidirectional": True}),
    ("rnn relu batch_first", nn.RNN, {"nonlinearity": "relu", "batch_first": True}),
    ("lstm 2-layer bidirectional batch_first", nn.LSTM,
     {"num_layers": 2, "bidirectional": True, "batch_first": True}),
]


@pytest.mark.parametrize("name,cls,kwargs", RECURRENT, ids=[r[0] for r in RECURRENT])
def test_recurrent_layers_with_dynamic_batch_and_length(name, cls, kwargs):
    tm.manual_seed(7)
    model = cls(5, 6, **kwargs).eval()
    batch_first = kwargs.get("batch_first", False)

    def sample(b, t):
        return tm.randn(b, t, 5) if batch_first else tm.randn(t, b, 5)

    axes = {0: "batch", 1: "time"} if batch_first else {0: "time", 1: "batch"}
    sess, proto = _export(model, (sample(2, 4),), input_names=["x"],
                          dynamic_axes={"x": axes})
    assert {"LSTM", "GRU", "RNN"} & {n.op_type for n in proto.graph.node}
    for b, t in ((2, 4), (3, 7), (1, 1)):
        x = sample(b, t)
        got = sess.run(None, {"x": x.numpy()})
        want = _expected(model, x)  # output, h_n (and c_n)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w.numpy(), **TOL)


def test_packed_sequences_are_refused():
    from taimatsu.nn.utils.rnn import pack_padded_sequence

    lstm = nn.LSTM(3, 4)
    model = Fn(lambda x: lstm(pack_padded_sequence(x, [3, 2]))[1][0])
    with pytest.raises(UnsupportedOperatorError, match="PackedSequence"):
        export(model, (tm.randn(3, 2, 3),), io.BytesIO())


# -- targets, names and export options ----------------------------------------------------------

def test_writes_to_paths_and_file_objects(tmp_path):
    model = nn.Linear(3, 2)
    x = tm.randn(1, 3)
    buf = io.BytesIO()
    export(model, (x,), buf)
    export(model, (x,), str(tmp_path / "a.onnx"))
    export(model, (x,), tmp_path / "b.onnx")
    with open(tmp_path / "c.onnx", "wb") as fh:
        export(model, (x,), fh)
    data = buf.getvalue()
    for name in ("a", "b", "c"):
        assert (tmp_path / f"{name}.onnx").read_bytes() == data
    sess = ort.InferenceSession(str(tmp_path / "a.onnx"), providers=["CPUExecutionProvider"])
    _check(sess, model, {"input": x})


def test_default_names_come_from_the_forward_signature():
    class Two(nn.Module):
        def forward(self, image, scale):
            return image * scale, image.sum()

    _, proto = _export(Two(), (tm.randn(2, 2), tm.randn(1)))
    assert [i.name for i in proto.graph.input] == ["image", "scale"]
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1"]


def test_keyword_arguments_in_a_trailing_dict_and_kwargs():
    class Scaled(nn.Module):
        def forward(self, x, bias=None):
            return x * 2 + bias

    model = Scaled()
    x, b = tm.randn(3), tm.randn(3)
    for args, kwargs in (((x, {"bias": b}), None), ((x,), {"bias": b})):
        f = io.BytesIO()
        export(model, args, f, kwargs=kwargs)
        proto = onnx.load_from_string(f.getvalue())
        assert [i.name for i in proto.graph.input] == ["x", "bias"]
        sess = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
        _check(sess, lambda x, bias: model(x, bias=bias), {"x": x, "bias": b})


def test_dynamic_shapes_in_torch_export_style():
    _, proto = _export(nn.Linear(3, 2), (tm.randn(4, 3),), dynamic_shapes={"input": {0: "n"}})
    assert _dims(proto.graph.input[0]) == ["n", 3]
    assert _dims(proto.graph.output[0]) == ["n", 2]


def test_dynamic_axes_as_a_list_get_generated_names():
    _, proto = _export(nn.Linear(3, 2), (tm.randn(4, 3),), input_names=["x"],
                       dynamic_axes={"x": [0]})
    assert _dims(proto.graph.input[0]) == ["x_dynamic_axes_1", 3]


def test_export_params_false_makes_parameters_inputs():
    model = nn.Linear(3, 2)
    _, proto = _export(model, (tm.randn(1, 3),), export_params=False)
    assert [i.name for i in proto.graph.input] == ["input", "weight", "bias"]
    assert len(proto.graph.initializer) == 0
    _, proto = _export(model, (tm.randn(1, 3),), keep_initializers_as_inputs=True)
    assert {i.name for i in proto.graph.input} == {"input", "weight", "bias"}
    assert {i.name for i in proto.graph.initializer} == {"weight", "bias"}


def test_constant_folding_pretransposes_weights():
    model = nn.Linear(4, 3)
    x = tm.randn(2, 5, 4)
    _, folded = _export(model, (x,))
    _, plain = _export(model, (x,), do_constant_folding=False)
    assert "Transpose" not in {n.op_type for n in folded.graph.node}
    assert "Transpose" in {n.op_type for n in plain.graph.node}


def test_dynamo_flag_selects_the_return_value():
    model = nn.Sequential(nn.Linear(3, 4), nn.GELU())
    x = tm.randn(2, 3)
    program = export(model, (x,))
    assert isinstance(program, ONNXProgram)
    assert isinstance(program.model_proto, onnx.ModelProto)
    (out,) = program(x)
    np.testing.assert_allclose(out.numpy(), _expected(model, x)[0].numpy(), **TOL)
    assert export(model, (x,), io.BytesIO(), dynamo=False) is None


@pytest.mark.parametrize("opset", [11, 13, 17, 20])
def test_opset_versions(opset):
    tm.manual_seed(4)
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", batch_first=True).eval()
    x = tm.randn(2, 3, 8)
    sess, proto = _export(layer, (x,), opset_version=opset, dynamic_axes={"src": {0: "b"}})
    assert proto.opset_import[0].version == opset
    ops = {n.op_type for n in proto.graph.node}
    assert ("LayerNormalization" in ops) == (opset >= 17)
    assert ("Gelu" in ops) == (opset >= 20)
    _check(sess, layer, {"src": tm.randn(4, 3, 8)})


def test_bad_arguments_are_refused():
    model = nn.Linear(2, 2)
    x = tm.randn(1, 2)
    with pytest.raises(ValueError, match="Unsupported ONNX opset version: 9"):
        export(model, (x,), io.BytesIO(), opset_version=9)
    with pytest.raises(ValueError, match="number of input names provided"):
        export(model, (x,), io.BytesIO(), input_names=["a", "b"])
    with pytest.raises(ValueError, match="number of output names provided"):
        export(model, (x,), io.BytesIO(), output_names=["a", "b"])
    with pytest.raises(TypeError, match="TrainingMode"):
        export(model, (x,), io.BytesIO(), training=True)


# -- training modes -------------------------------------------------------------------------------

def test_export_restores_every_module_mode():
    net = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 2))
    net.train()
    net[1].eval()
    modes = [m.training for m in net.modules()]
    export(net, (tm.randn(3, 4),), io.BytesIO())
    assert [m.training for m in net.modules()] == modes
    net.eval()
    export(net, (tm.randn(3, 4),), io.BytesIO(), training=TrainingMode.PRESERVE)
    assert not any(m.training for m in net.modules())


def test_training_mode_uses_batch_statistics_and_leaves_buffers_alone():
    tm.manual_seed(5)
    net = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)).eval()
    before = net[1].running_mean.numpy().copy()
    x = tm.randn(6, 4)
    sess, _ = _export(net, (x,), training=TrainingMode.TRAINING,
                      dynamic_axes={"input": {0: "n"}})
    np.testing.assert_array_equal(net[1].running_mean.numpy(), before)
    assert not net.training
    net.train()
    try:
        _check(sess, net, {"input": x})
    finally:
        net.eval()


def test_training_mode_dropout_is_refused_by_name():
    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    with pytest.raises(UnsupportedOperatorError, match="dropout"):
        export(net, (tm.randn(3, 4),), io.BytesIO(), training=TrainingMode.TRAINING)


def test_is_in_onnx_export_is_true_only_while_tracing():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(is_in_onnx_export())
            return x + 1

    assert not is_in_onnx_export()
    export(Probe(), (tm.randn(2),), io.BytesIO())
    assert seen and all(seen)
    assert not is_in_onnx_export()


# -- errors ---------------------------------------------------------------------------------------

def test_unsupported_op_is_named():
    model = Fn(lambda x: tm.linalg.inv(x) + 1)
    with pytest.raises(UnsupportedOperatorError,
                       match="Exporting the operator 'Inv' to ONNX opset version 18 is not "
                             "supported"):
        export(model, (tm.randn(3, 3),), io.BytesIO())


def test_unused_unsupported_op_does_not_matter():
    def fn(x):
        tm.linalg.inv(x)  # computed, never used
        return x.relu()

    sess, _ = _export(Fn(fn), (tm.randn(3, 3),))
    _check(sess, Fn(fn), {"args_0": tm.randn(3, 3)})


def test_custom_translation_table_adds_an_op():
    from taimatsu.ops.pointwise import Logit

    def logit(g, rec):
        x = g.value(rec.args[0])
        one = g.scalar(1.0, rec.outputs[0].dtype)
        return g.op("Log", g.op("Div", x, g.op("Sub", one, x)))

    model = Fn(lambda x: tm.logit(x) * 2)
    x = tm.rand(3, 4) * 0.8 + 0.1
    with pytest.raises(UnsupportedOperatorError, match="'Logit'"):
        export(model, (x,), io.BytesIO())
    sess, _ = _export(model, (x,), custom_translation_table={Logit: logit})
    _check(sess, model, {"args_0": x})


def test_in_place_ops_are_followed():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.act = nn.ReLU(inplace=True)

        def forward(self, x):
            out = self.act(self.fc(x))
            out += x
            out.mul_(0.5)
            out.masked_fill_(out > 1, 1.0)
            return out

    model = Block().eval()
    sess, _ = _export(model, (tm.randn(3, 4),))
    _check(sess, model, {"x": tm.randn(3, 4) * 3})


def test_in_place_comparisons_and_logic_are_followed():
    def fn(x, y):
        m = x > 0
        m &= y > 0
        m |= x > 1
        z = x * 1
        z.le_(y)
        return m.float() + z

    inputs = {"x": tm.randn(3, 4), "y": tm.randn(3, 4)}
    sess, _ = _export(Fn(fn), tuple(inputs.values()), input_names=list(inputs))
    _check(sess, Fn(fn), {"x": tm.randn(3, 4), "y": tm.randn(3, 4)})


def test_writes_through_views_are_followed():
    def fn(x):
        y = x * 2
        y[:, 0] = 0
        y[1:, 2:] = x[1:, :2] * 10
        y.view(-1)[3] = 5
        y.t()[1].mul_(3)
        return y + 1

    sess, proto = _export(Fn(fn), (tm.randn(3, 4),))
    assert "ScatterND" in {n.op_type for n in proto.graph.node}
    _check(sess, Fn(fn), {"args_0": tm.randn(3, 4)})


def test_writes_by_masks_and_index_tensors():
    def fn(x, i):
        y = x * 1
        y[y < 0] = 0.5
        y[:, y[0] > 0] = -1.0
        y[i] = tm.ones(4) * 7
        return y.index_put((i,), tm.tensor(3.0), accumulate=True)

    inputs = {"x": tm.randn(3, 4), "i": tm.tensor([2, 2])}
    sess, _ = _export(Fn(fn), tuple(inputs.values()), input_names=list(inputs))
    _check(sess, Fn(fn), inputs)


def test_writes_the_tracer_cannot_see_are_refused():
    def fn(x):
        y = x * 2
        with tm.no_grad():
            y[:, 0] = 0  # straight into memory: no op recorded
        return y + 1

    with pytest.raises(OnnxExporterError, match="modified in place"):
        export(Fn(fn), (tm.randn(2, 3),), io.BytesIO())


def test_size_not_linear_in_a_dynamic_axis_is_refused():
    model = Fn(lambda x: x.chunk(2, dim=1)[0] * 2)
    with pytest.raises(SymbolicValueError, match="a \\* size \\+ b"):
        export(model, (tm.randn(3, 4),), io.BytesIO(), dynamic_axes={"args_0": {1: "w"}})


def test_onnx_package_missing_gives_a_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError("No module named 'onnx'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(ImportError, match="pip install onnx"):
        export(nn.Linear(2, 2), (tm.randn(1, 2),), io.BytesIO())


# -- dynamic sizes computed in Python -----------------------------------------------------------

_POS = tm.randn(16, 4)

DYNAMIC = [
    ("view batch", lambda a: a.view(a.size(0), -1) * 2, (3, 2, 4), {0: "b"}),
    ("reshape two dims", lambda a: a.reshape(-1, 4).reshape(a.shape[0], a.shape[1], 4)[:, 1:],
     (2, 3, 4), {0: "b", 1: "s"}),
    ("slice by length", lambda a: a + _POS[:a.size(1)], (2, 3, 4), {0: "b", 1: "s"}),
    ("arange positions", lambda a: a + tm.arange(a.size(1)).float()[None, :, None],
     (2, 3, 4), {0: "b", 1: "s"}),
    ("zeros of a size", lambda a: tm.cat([tm.zeros(a.size(0), 1, 4), a], 1), (2, 3, 4),
     {0: "b", 1: "s"}),
    ("expand to batch", lambda a: tm.cat([_POS[:1, None].expand(a.size(0), -1, -1), a], 1),
     (2, 3, 4), {0: "b", 1: "s"}),
    ("last position", lambda a: a[:, a.size(1) - 1] + a.mean(1), (2, 3, 4), {0: "b", 1: "s"}),
]


@pytest.mark.parametrize("name,fn,shape,axes", DYNAMIC, ids=[d[0] for d in DYNAMIC])
def test_sizes_that_follow_dynamic_axes(name, fn, shape, axes):
    model = Fn(fn)
    sess, _ = _export(model, (tm.randn(*shape),), input_names=["x"],
                      dynamic_axes={"x": axes})
    for grow in (1, 4):
        bigger = [s + grow if i in axes else s for i, s in enumerate(shape)]
        _check(sess, model, {"x": tm.randn(*bigger)})


# -- op coverage: one small export per op family --------------------------------------------------

def _x(*shape):
    return tm.randn(*shape)


def _pos(*shape):
    return tm.rand(*shape) + 0.5


def _ints(*shape, low=-5, high=5):
    return tm.randint(low, high, shape)


def _bn(cls, channels, sample):
    m = cls(channels)
    m.train()
    with tm.no_grad():
        m(sample)
    return m.eval()


def _cases():
    tm.manual_seed(6)
    x, y = _x(3, 4), _x(3, 4)
    mha = nn.MultiheadAttention(8, 2)
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    return [
        ("add sub alpha", lambda a, b: tm.add(a, b, alpha=3) - b * 2 - 1, (x, y)),
        ("rsub mul div", lambda a, b: 1 - a * b / (b.abs() + 1), (x, y)),
        ("pow", lambda a: a ** 2 + 2.0 ** a + a.abs() ** 0.5, (x,)),
        ("neg sqrt exp log", lambda a: -tm.sqrt(a) + tm.exp(a) + tm.log(a), (_pos(3, 4),)),
        ("tanh sigmoid relu", lambda a: tm.tanh(a) + tm.sigmoid(a) + tm.relu(a), (x,)),
        ("gelu both", lambda a: F.gelu(a) + F.gelu(a, approximate="tanh"), (x,)),
        ("silu leaky elu selu celu",
         lambda a: F.silu(a) + F.leaky_relu(a, 0.2) + F.elu(a, 0.7) + F.selu(a) + F.celu(a, 1.3),
         (x,)),
        ("softmax log_softmax", lambda a: F.softmax(a, 0) + F.log_softmax(a, -1), (x,)),
        ("other activations",
         lambda a: (F.hardtanh(a) + F.relu6(a) + F.softplus(a, beta=2) + F.mish(a)
                    + F.hardsigmoid(a) + F.hardswish(a) + F.logsigmoid(a) + F.softshrink(a)
                    + F.hardshrink(a) + F.threshold(a, 0.1, 2.0)), (x,)),
        ("prelu", nn.PReLU(4), (x,)),
        ("glu", lambda a: F.glu(a, -1), (x,)),
        ("integer division", lambda a, b: (a // b) + (a % b) + tm.fmod(a, b)
         + tm.div(a, b, rounding_mode="trunc"), (_ints(3, 4), _ints(3, 4, low=1))),
        ("float floor mod", lambda a, b: (a // b) + (a % b) + tm.fmod(a, b), (x * 5, y)),
        ("rounding", lambda a: tm.floor(a) + tm.ceil(a) + tm.round(a * 3) + tm.trunc(a * 3)
         + tm.round(a, decimals=1), (x,)),
        ("unary math", lambda a: (tm.rsqrt(a) + tm.expm1(a) + tm.log2(a) + tm.log1p(a)
                                  + tm.sin(a) + tm.cos(a) + tm.erf(a) + tm.sign(a - 1)
                                  + tm.reciprocal(a)), (_pos(3, 4),)),
        ("clamp", lambda a, b: a.clamp(-0.5, 0.5) + a.clamp(min=0.1) + tm.clamp(a, max=b),
         (x, y)),
        ("maximum minimum", lambda a, b: tm.maximum(a, b) + tm.minimum(a, b), (x, y)),
        ("where", lambda a, b: tm.where(a > b, a, b) + tm.where(a > 0, a, 0.0), (x, y)),
        ("masked_fill", lambda a: a.masked_fill(a < 0, -1.0), (x,)),
        ("comparisons", lambda a, b: ((a == b).float() + (a != b).float() + (a <= b).float()
                                      + (a >= 0.2).float() + (a < b).long()), (x, y)),
        ("logical", lambda a, b: ((a > 0) & (b > 0)) | ~(a > b) ^ (b > 0.5), (x, y)),
        ("isnan isinf", lambda a: tm.isnan(a).float() + tm.isinf(a).float(),
         (x / (y > 0).float(),)),
        ("casts", lambda a: a.to(tm.float64) + a.double() * 2, (x,)),
        ("casts to int", lambda a: a.long() + a.int().to(tm.int64), (x * 5,)),
        ("sum mean", lambda a: a.sum() + a.sum(0).sum() + a.mean(dim=1, keepdim=True).sum(),
         (x,)),
        ("max min", lambda a: a.max() + a.min() + a.amax(1).sum() + a.amin(dim=(0, 1)), (x,)),
        ("max over a dim", lambda a: a.max(dim=1), (x,)),
        ("argmax argmin", lambda a: a.argmax(dim=1) + a.argmin(1) + a.argmax(), (x,)),
        ("var std norm", lambda a: a.var(dim=1) + a.std(0).sum() + a.norm(dim=1), (x,)),
        ("topk sort with ties", lambda a: (a.topk(2, dim=1), a.sort(dim=0, descending=True),
                                           a.sort(-1), a.topk(3, largest=False)[1]),
         (tm.tensor([[1., 3., 3., 0.], [2., 2., 1., 5.], [0., 0., 0., 0.]]),)),
        ("logsumexp prod cumsum", lambda a: tm.logsumexp(a, 1).sum() + a.prod(1).sum()
         + a.cumsum(1), (x,)),
        ("reshape view t", lambda a: a.reshape(2, 6).view(12).reshape(-1, 3).t(), (x,)),
        ("permute transpose", lambda a: a.reshape(1, 3, 4).permute(2, 0, 1).transpose(0, 2),
         (x,)),
        ("squeeze unsqueeze", lambda a: a.unsqueeze(0).unsqueeze(-1).squeeze(0).squeeze(),
         (x,)),
        ("expand", lambda a: a[:, :1].expand(3, 5) + tm.zeros(2, 3, 5), (x,)),
        ("slicing", lambda a: a[1:, ::2].sum() + a[0] + a[:, -1:] + a[None, 1, 1:3].sum(),
         (x,)),
        ("cat stack", lambda a, b: tm.cat([a, b], 1).sum(0) + tm.stack([a, b], 0).sum(0).sum(),
         (x, y)),
        ("split chunk unbind", lambda a: (a.split(2, dim=1)[1] + a.chunk(2, 1)[0]
                                          + a.unbind(0)[2][:2]), (x,)),
        ("flip roll repeat", lambda a: a.flip(0).roll(1, 1).repeat(2, 1).sum(0), (x,)),
        ("tril triu", lambda a: a.tril() + a.triu(1), (x,)),
        ("index_select", lambda a, i: a.index_select(1, i), (x, tm.tensor([3, 0, 1]))),
        ("gather", lambda a, i: a.gather(1, i), (x, tm.tensor([[0, 1], [3, 3], [2, 0]]))),
        ("index tensors", lambda a, i, j: a[i, j] + a[:, i][0], (_x(4, 5), tm.tensor([3, 0, 1]),
                                                                 tm.tensor([4, 0, 2]))),
        ("boolean mask", lambda a: a[a > 0], (x,)),
        ("scatter", lambda a, i: a.scatter(1, i, 5.0) + a.scatter(1, i[:, :2], a), (
            x, tm.tensor([[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]]))),
        ("scatter_add", lambda a, i: a.scatter_add(1, i, a), (
            x, tm.tensor([[0, 1, 2, 3], [3, 2, 1, 0], [1, 1, 1, 1]]))),
        ("embedding", nn.Embedding(10, 3), (tm.tensor([[1, 2], [9, 0]]),)),
        ("matmul bmm mm", lambda a, b: a @ b.t() + tm.bmm(a[None], b.t()[None])[0]
         + tm.mm(a, b.t()), (x, y)),
        ("addmm baddbmm", lambda a, b: tm.addmm(tm.ones(3), a, b.t(), beta=0.5, alpha=2)
         + tm.baddbmm(tm.ones(1, 3, 3), a[None], b.t()[None])[0], (x, y)),
        ("einsum", lambda a, b: tm.einsum("ij,kj->ik", a, b), (x, y)),
        ("conv1d", nn.Conv1d(4, 6, 3, stride=2, padding=1), (_x(2, 4, 9),)),
        ("conv2d groups dilation", nn.Conv2d(4, 6, 3, stride=(2, 1), padding=2, dilation=2,
                                             groups=2), (_x(2, 4, 9, 8),)),
        ("conv2d same", nn.Conv2d(2, 3, 4, padding="same"), (_x(1, 2, 7, 7),)),
        ("conv_transpose2d", nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1,
                                                groups=2), (_x(2, 4, 5, 5),)),
        ("max_pool2d ceil", nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
         (_x(2, 3, 8, 7),)),
        ("max_pool2d indices", nn.MaxPool2d(2, return_indices=True), (_x(2, 3, 8, 6),)),
        ("avg_pool2d", nn.AvgPool2d(3, stride=2, padding=1), (_x(2, 3, 8, 7),)),
        ("avg_pool2d exclude pad", nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True,
                                                count_include_pad=False), (_x(2, 3, 8, 7),)),
        ("adaptive avg pool", nn.AdaptiveAvgPool2d((3, 2)), (_x(2, 3, 8, 7),)),
        ("adaptive max pool", nn.AdaptiveMaxPool2d((3, 2)), (_x(2, 3, 8, 7),)),
        ("batch_norm1d", _bn(nn.BatchNorm1d, 4, _x(8, 4)), (_x(5, 4),)),
        ("batch_norm1d 3-d", _bn(nn.BatchNorm1d, 4, _x(8, 4, 6)), (_x(5, 4, 6),)),
        ("layer_norm", nn.LayerNorm((3, 4)), (_x(2, 3, 4),)),
        ("group_norm", nn.GroupNorm(2, 4), (_x(2, 4, 5),)),
        ("pad modes", lambda a: (F.pad(a, (1, 2, 0, 1)).sum()
                                 + F.pad(a[None], (2, 1), mode="reflect").sum()
                                 + F.pad(a[None], (1, 2), mode="circular").sum()), (x,)),
        ("interpolate", lambda a: F.interpolate(a, size=(5, 3), mode="bilinear").sum(),
         (_x(1, 2, 3, 4),)),
        ("multihead attention", nn.MultiheadAttention(8, 2, batch_first=True),
         (_x(2, 5, 8), _x(2, 6, 8), _x(2, 6, 8))),
        ("attention key padding mask",
         Fn(lambda q, m: mha(q, q, q, key_padding_mask=m)[0]),
         (_x(5, 2, 8), tm.tensor([[False] * 4 + [True], [False] * 5]))),
        ("attention float mask",
         Fn(lambda q: mha(q, q, q, attn_mask=mask, need_weights=False)[0]), (_x(5, 2, 8),)),
        ("sdpa causal", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
         (_x(2, 3, 5, 4), _x(2, 3, 5, 4), _x(2, 3, 5, 4))),
    ]


CASES = _cases()


@pytest.mark.parametrize("opset", [11, 13, 18])
@pytest.mark.parametrize("name,fn,inputs", CASES, ids=[c[0] for c in CASES])
def test_op_matches_onnxruntime(name, fn, inputs, opset):
    model = (fn if isinstance(fn, nn.Module) else Fn(fn)).eval()
    names = [f"in{i}" for i in range(len(inputs))]
    needs = {"einsum": 12, "scatter_add": 16}.get(name, 0)
    if opset < needs:
        with pytest.raises(UnsupportedOperatorError, match=f"added in version {needs}"):
            export(model, tuple(inputs), io.BytesIO(), opset_version=opset)
        return
    sess, _ = _export(model, tuple(inputs), input_names=names, opset_version=opset)
    _check(sess, model, dict(zip(names, inputs)))


def test_python_values_from_inputs_are_warned_about():
    from taimatsu.onnx.errors import OnnxExporterWarning

    model = Fn(lambda x: x * float(x.max()))
    with pytest.warns(OnnxExporterWarning, match="Python value"):
        export(model, (tm.randn(3),), io.BytesIO())


def test_hooks_are_removed_even_when_export_fails():
    from taimatsu.autograd import node

    eq, item = tm.Tensor.__eq__, tm.Tensor.item
    with pytest.raises(UnsupportedOperatorError):
        export(Fn(lambda x: tm.linalg.inv(x) == x), (tm.randn(2, 2),), io.BytesIO())
    assert node.apply_observers == []
    assert tm.Tensor.__eq__ is eq and tm.Tensor.item is item
    assert tm.zeros is tm.ops.creation.zeros
    assert bool((tm.ones(2) == 1).all())


def test_signature_and_enums_follow_torch():
    torch = pytest.importorskip("torch")
    import inspect

    ours = inspect.signature(export).parameters
    theirs = inspect.signature(torch.onnx.export).parameters
    assert list(ours) == list(theirs)
    for name, p in theirs.items():
        assert ours[name].kind == p.kind, name
        if name not in ("training", "operator_export_type"):  # torch's own enum objects
            assert ours[name].default == p.default, name
    assert [m.name for m in TrainingMode] == list(torch.onnx.TrainingMode.__members__)
    assert str(TrainingMode.EVAL) == str(torch.onnx.TrainingMode.EVAL)


def test_verify_and_program_save(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4))
    program = export(model, (tm.randn(2, 3),), verify=True)
    program.save(tmp_path / "m.onnx")
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    _check(sess, model, {"input": tm.randn(2, 3)})
