"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""

from __future__ import annotations

from collections import OrderedDict

import pytest

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import Parameter


def _lins(n):
    return [nn.Linear(i + 1, i + 2) for i in range(n)]


# -- Sequential --------------------------------------------------------------------------------

def test_sequential_forward_and_names():
    a, b = _lins(2)
    seq = nn.Sequential(a, b)
    assert list(seq._modules) == ["0", "1"]
    assert seq(tm.randn(3, 1)).shape == (3, 3)
    named = nn.Sequential(OrderedDict([("enc", a), ("dec", b)]))
    assert named.enc is a and list(named.state_dict())[0] == "enc.weight"


def test_sequential_indexing_and_slicing():
    mods = _lins(4)
    seq = nn.Sequential(*mods)
    assert seq[0] is mods[0] and seq[-1] is mods[3]
    sub = seq[1:3]
    assert type(sub) is nn.Sequential and list(sub) == mods[1:3]
    assert list(sub._modules) == ["1", "2"]  # slicing keeps the original names
    assert len(seq) == 4
    with pytest.raises(IndexError, match="index 4 is out of range"):
        seq[4]
    with pytest.raises(IndexError, match="index -5 is out of range"):
        seq[-5]
    seq[1] = nn.Identity()
    assert isinstance(seq[1], nn.Identity)


def test_sequential_delete_renumbers():
    mods = _lins(4)
    seq = nn.Sequential(*mods)
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is mods[2]
    del seq[0:2]
    assert list(seq._modules) == ["0"] and seq[0] is mods[3]


def test_sequential_append_extend_insert_pop():
    a, b, c, d = _lins(4)
    seq = nn.Sequential(a)
    assert seq.append(b) is seq
    seq.extend([c])
    seq.insert(0, d)
    assert list(seq) == [d, a, b, c]
    seq.insert(-1, nn.Identity())
    assert isinstance(seq[3], nn.Identity) and seq[4] is c
    assert seq.pop(1) is a and len(seq) == 4
    with pytest.raises(IndexError, match="Index out of range: 9"):
        seq.insert(9, a)
    with pytest.raises(AssertionError, match="module should be of type"):
        seq.insert(0, 3)


def test_sequential_add_iadd_mul():
    a, b = _lins(2)
    s = nn.Sequential(a) + nn.Sequential(b)
    assert list(s) == [a, b]
    s += nn.Sequential(a)
    assert list(s._modules) == ["0", "1", "2"]
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential"):
        s + nn.Linear(1, 1)
    tripled = nn.Sequential(a) * 3
    assert list(tripled) == [a, a, a]
    assert list(2 * nn.Sequential(a)) == [a, a]
    s2 = nn.Sequential(a, b)
    s2 *= 2
    assert list(s2) == [a, b, a, b]
    with pytest.raises(ValueError, match="Non-positive multiplication factor 0"):
        nn.Sequential(a) * 0
    with pytest.raises(TypeError, match="unsupported operand"):
        nn.Sequential(a) * 1.5


def test_sequential_dir_hides_indices():
    seq = nn.Sequential(*_lins(2))
    assert "0" not in dir(seq) and "append" in dir(seq)


# -- ModuleList --------------------------------------------------------------------------------

def test_module_list_basics():
    mods = _lins(3)
    ml = nn.ModuleList(mods)
    assert len(ml) == 3 and list(ml) == mods and ml[-1] is mods[2]
    assert type(ml[:2]) is nn.ModuleList and list(ml[:2]) == mods[:2]
    assert [n for n, _ in ml.named_parameters()][:2] == ["0.weight", "0.bias"]
    ml.append(nn.Identity())
    ml.extend([nn.Identity()])
    ml.insert(1, nn.ReLU() if hasattr(nn, "ReLU") else nn.Identity())
    assert len(ml) == 6 and ml[2] is mods[1]
    assert ml.pop(1) is not None and ml[1] is mods[1]
    del ml[0]
    assert list(ml._modules) == [str(i) for i in range(len(ml))]
    ml[0] = nn.Identity()
    assert isinstance(ml[0], nn.Identity)
    combined = nn.ModuleList(mods[:1]) + nn.ModuleList(mods[1:])
    assert list(combined) == mods
    ml += [nn.Identity()]
    with pytest.raises(IndexError, match="index 10 is out of range"):
        ml[10]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        ml.extend(3)


def test_module_list_is_not_callable():
    with pytest.raises(NotImplementedError, match="ModuleList"):
        nn.ModuleList()(1)


def test_module_list_repr_groups_repeats():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.Identity(), nn.Linear(2, 2)])
    assert repr(ml) == (
        "ModuleList(\n"
        "  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)\n"
        "  (2): Identity()\n"
        "  (3): Linear(in_features=2, out_features=2, bias=True)\n"
        ")")
    assert repr(nn.ModuleList()) == "ModuleList()"


# -- ModuleDict --------------------------------------------------------------------------------

def test_module_dict():
    a, b = _lins(2)
    md = nn.ModuleDict({"b": b, "a": a})
    assert list(md) == ["b", "a"]  # a mapping keeps its order
    assert md["a"] is a and "a" in md and len(md) == 2
    md.update([("c", nn.Identity())])
    assert list(md.keys()) == ["b", "a", "c"]
    assert list(md.values())[0] is b and dict(md.items())["a"] is a
    assert md.pop("b") is b and "b" not in md
    md["d"] = nn.Identity()
    del md["d"]
    md.clear()
    assert len(md) == 0
    with pytest.raises(TypeError, match="ModuleDict.update should be called with an iterable"):
        md.update(3)
    with pytest.raises(ValueError, match="element #0 has length 1; 2 is required"):
        md.update([("x",)])
    with pytest.raises(TypeError, match="element #0 should be Iterable; isint"):
        md.update([3])


# -- ParameterList / ParameterDict -----------------------------------------------------------------

def test_parameter_list():
    pl = nn.ParameterList([Parameter(tm.ones(2)), tm.zeros(3)])
    assert all(isinstance(p, Parameter) for p in pl)  # plain tensors are wrapped
    assert len(pl) == 2 and pl[-1].shape == (3,)
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pl.append(tm.ones(1))
    pl.extend([tm.ones(4)])
    pl += [tm.ones(5)]
    assert len(pl) == 5 and pl[4].shape == (5,)
    assert type(pl[1:3]) is nn.ParameterList and len(pl[1:3]) == 2
    pl[0] = tm.full((2,), 3.0)
    assert isinstance(pl[0], Parameter) and pl[0].tolist() == [3.0, 3.0]
    pl.append("note")  # non-tensors are kept as plain attributes
    assert pl[5] == "note"
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an "
                                        "iterable, but got Tensor"):
        pl.extend(tm.ones(2))
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        pl()


def test_parameter_list_repr():
    pl = nn.ParameterList([Parameter(tm.ones(2, 3)), tm.zeros(3, dtype=tm.float64)])
    assert repr(pl) == (
        "ParameterList(\n"
        "    (0): Parameter containing: [taimatsu.float32 of size 2x3]\n"
        "    (1): Parameter containing: [taimatsu.float64 of size 3]\n"
        ")")


def test_parameter_dict():
    pd = nn.ParameterDict({"b": tm.ones(2), "a": tm.zeros(1)})
    assert list(pd) == ["a", "b"]  # plain dicts are sorted, as in PyTorch
    od = nn.ParameterDict(OrderedDict([("b", tm.ones(2)), ("a", tm.zeros(1))]))
    assert list(od) == ["b", "a"]
    assert isinstance(pd["a"], Parameter) and "a" in pd and len(pd) == 2
    pd["c"] = tm.ones(3)
    assert list(pd.keys()) == ["a", "b", "c"]
    assert [k for k, _ in pd.items()] == ["a", "b", "c"]
    assert len(list(pd.values())) == 3
    assert pd.get("zz") is None and pd.get("a") is pd["a"]
    assert pd.setdefault("d", tm.ones(1)).shape == (1,)
    assert pd.pop("d").shape == (1,) and "d" not in pd
    k, v = pd.popitem()
    assert k == "c" and v.shape == (3,)
    assert list(reversed(pd)) == ["b", "a"]
    copied = pd.copy()
    assert list(copied) == list(pd) and copied["a"] is pd["a"]
    merged = pd | {"z": tm.ones(1)}
    assert list(merged) == ["a", "b", "z"] and "z" not in pd
    pd |= {"y": tm.ones(1)}
    assert "y" in pd
    assert list(pd.fromkeys(["p", "q"], tm.ones(1))) == ["p", "q"]
    assert [n for n, _ in pd.named_parameters()] == ["a", "b", "y"]
    with pytest.raises(TypeError, match="Index given to ParameterDict cannot be used as a key"):
        pd[1]
    with pytest.raises(RuntimeError, match="ParameterDict should not be called."):
        pd(1)
    pd.clear()
    assert len(pd) == 0 and not list(pd.parameters())


def test_parameter_dict_repr():
    pd = nn.ParameterDict({"w": tm.ones(2, 2, dtype=tm.float64), "x": tm.ones(1)})
    assert repr(pd) == ("ParameterDict(\n"
                        "    (w): Parameter containing: [taimatsu.DoubleTensor of size 2x2]\n"
                        "    (x): Parameter containing: [taimatsu.FloatTensor of size 1]\n)")
    one = nn.ParameterList([tm.ones(2)])
    assert repr(one) == "ParameterList(  (0): Parameter containing: [taimatsu.float32 of size 2])"


def test_containers_state_dict_round_trip():
    model = nn.Sequential(nn.ModuleList(_lins(2)), nn.ModuleDict({"x": nn.Linear(2, 2)}))
    model.add_module("params", nn.ParameterList([tm.ones(2)]))
    keys = list(model.state_dict())
    assert keys == ["0.0.weight", "0.0.bias", "0.1.weight", "0.1.bias", "1.x.weight",
                    "1.x.bias", "params.0"]
    clone = nn.Sequential(nn.ModuleList(_lins(2)), nn.ModuleDict({"x": nn.Linear(2, 2)}))
    clone.add_module("params", nn.ParameterList([tm.zeros(2)]))
    clone.load_state_dict(model.state_dict())
    assert clone.params[0].tolist() == [1.0, 1.0]
