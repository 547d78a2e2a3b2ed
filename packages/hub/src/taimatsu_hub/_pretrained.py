"""`save_pretrained` and `push_to_hub`: a model as config.json + model.safetensors.

The config names the registered model and its builder's keyword arguments, so
`load(folder)` (or `load(repo_id)`) rebuilds it with the same code and loads the weights.
A model built by `taimatsu.plugins.get_model` or `load` remembers both.
"""

from __future__ import annotations

import json
import os
import tempfile

from huggingface_hub import HfApi

import taimatsu
from taimatsu.safetensors import save_file

from ._checkpoint import CONFIG_NAME, SAFE_WEIGHTS
from ._load import TAIMATSU_KEY


def save_pretrained(model, save_directory, config: dict | None = None) -> str:
    """Writes `model` to `save_directory` (created if needed) so that `load` rebuilds it.

    Args:
        model: an `nn.Module`
        save_directory: the folder to write config.json and model.safetensors into
        config: needed only for a model not built through the registry: either
            ``{"name": <registered model name>, "kwargs": {...}}``, or a Hugging Face
            config dict (written as is) that an installed plugin's `taimatsu_hub_load`
            recognises

    Returns:
        the folder
    """
    content = _config_json(model, config)
    save_directory = os.fspath(save_directory)
    os.makedirs(save_directory, exist_ok=True)
    # "format": "pt" is what transformers looks for in a safetensors checkpoint's metadata
    save_file(model.state_dict(), os.path.join(save_directory, SAFE_WEIGHTS),
              metadata={"format": "pt"})
    with open(os.path.join(save_directory, CONFIG_NAME), "w", encoding="utf-8") as f:
        f.write(content)
    return save_directory


def _config_json(model, config: dict | None) -> str:
    if config is None:
        config = getattr(model, "_taimatsu_hub_config", None)
        if config is None:
            raise ValueError(
                f"save_pretrained cannot tell how to rebuild this {type(model).__name__}: it "
                "was not built by taimatsu.plugins.get_model or taimatsu_hub.load. Pass "
                "config={'name': <registered model name>, 'kwargs': {...}}, or a Hugging Face "
                "config that an installed plugin recognises.")
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, not {type(config).__name__}")
    if "name" in config and set(config) <= {"name", "kwargs"}:
        config = {TAIMATSU_KEY: {"name": config["name"], "kwargs": config.get("kwargs", {}),
                                 "version": taimatsu.__version__}}
    try:
        return json.dumps(config, indent=2) + "\n"
    except TypeError as exc:  # e.g. a builder argument that is a tensor or a class
        raise TypeError(f"the model's config cannot be written as JSON ({exc}): builder "
                        "arguments must be numbers, strings, lists or dicts") from None


def push_to_hub(model, repo_id: str, *, config: dict | None = None,
                commit_message: str = "Upload model", private: bool | None = None,
                token=None, revision: str | None = None, create_pr: bool = False,
                endpoint: str | None = None):
    """Uploads `model` (as `save_pretrained` writes it) to the Hub repository `repo_id`.

    The repository is created if it does not exist. Returns huggingface_hub's CommitInfo.
    """
    api = HfApi(endpoint=endpoint, token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        save_pretrained(model, folder, config)
        return api.upload_folder(repo_id=repo_id, folder_path=folder,
                                 commit_message=commit_message, revision=revision,
                                 create_pr=create_pr)
