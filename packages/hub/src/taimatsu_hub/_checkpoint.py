"""Reading a model folder laid out as on the Hugging Face Hub.

A folder holds ``config.json`` and its weights as ``model.safetensors``,
``pytorch_model.bin``, or either one sharded with a ``*.index.json`` naming the shard of
each tensor. Pickled checkpoints are read with ``weights_only=True``: nothing in them runs.
"""

from __future__ import annotations

import json
import os

import taimatsu
from taimatsu.safetensors import load_file

CONFIG_NAME = "config.json"
SAFE_WEIGHTS = "model.safetensors"
SAFE_INDEX = "model.safetensors.index.json"
BIN_WEIGHTS = "pytorch_model.bin"
BIN_INDEX = "pytorch_model.bin.index.json"
# in order of preference: safetensors needs no unpickling and is read without copies
WEIGHT_FILES = (SAFE_WEIGHTS, SAFE_INDEX, BIN_WEIGHTS, BIN_INDEX)

# config.json keys through which transformers loads Python code shipped in the repository
_REMOTE_CODE_KEYS = ("auto_map", "custom_pipelines")


def read_config(folder) -> dict:
    """The parsed ``config.json`` of `folder`."""
    path = os.path.join(folder, CONFIG_NAME)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{folder} has no {CONFIG_NAME}")
    with open(path, encoding="utf-8") as f:
        try:
            config = json.load(f)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path} must hold a JSON object, not {type(config).__name__}")
    return config


def weights_file(folder) -> str | None:
    """The weights (or shard index) file of `folder` that loading would use, if any."""
    for name in WEIGHT_FILES:
        if os.path.isfile(os.path.join(folder, name)):
            return name
    return None


def load_folder_state_dict(folder, map_location="cpu") -> dict:
    """The tensors of a Hugging Face style model folder, under the checkpoint's names.

    Reads ``model.safetensors``, ``pytorch_model.bin`` or their sharded form (all shards
    named by the ``*.index.json``), preferring safetensors. Plugins call this from their
    `taimatsu_hub_load` hook, then rename keys and load them into their model.
    """
    name = weights_file(folder)
    if name is None:
        raise FileNotFoundError(f"no weights in {folder}: expected one of "
                                f"{', '.join(WEIGHT_FILES)}")
    path = os.path.join(folder, name)
    if name.endswith(".index.json"):
        return _load_sharded(folder, path, map_location)
    return load_checkpoint_file(path, map_location)


def load_checkpoint_file(path, map_location="cpu") -> dict:
    """One checkpoint file: safetensors, or a pickled state dict read with weights_only."""
    path = os.fspath(path)
    if path.endswith(".safetensors"):
        return load_file(path, device=map_location or "cpu")
    state = taimatsu.load(path, map_location=map_location, weights_only=True)
    if not isinstance(state, dict):
        raise TypeError(f"{path} holds a {type(state).__name__}, not a state dict")
    return state


def _load_sharded(folder, index_path: str, map_location) -> dict:
    with open(index_path, encoding="utf-8") as f:
        weight_map = json.load(f).get("weight_map")
    if not isinstance(weight_map, dict) or not weight_map:
        raise ValueError(f"{index_path} has no 'weight_map' (tensor name -> shard file)")
    shards = list(dict.fromkeys(weight_map.values()))
    missing = [s for s in shards if not os.path.isfile(os.path.join(folder, s))]
    if missing:
        raise FileNotFoundError(f"{index_path} names shards missing from {folder}: "
                                f"{', '.join(missing)}")
    state = {}
    for shard in shards:
        state.update(load_checkpoint_file(os.path.join(folder, shard), map_location))
    absent = [k for k in weight_map if k not in state]
    if absent:
        raise RuntimeError(f"{index_path} lists tensors that its shards do not hold: "
                           f"{', '.join(absent[:5])}{' ...' if len(absent) > 5 else ''}")
    return state


def remote_code_request(config: dict) -> dict:
    """The config.json entries that ask for the repository's own Python code ({} if none)."""
    return {k: config[k] for k in _REMOTE_CODE_KEYS if config.get(k)}
