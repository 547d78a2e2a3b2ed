"""taimatsu plugin hooks: registers the audio models, datasets and transforms, and builds
Hugging Face wav2vec2 repositories (entry point `audio` in the group `taimatsu`)."""

from __future__ import annotations

import inspect

from taimatsu.plugins import hookimpl

from . import datasets, models, transforms

DOMAIN = "audio"

# registry name -> (builder, task)
MODELS = {
    "m5": (models.m5, "keyword_spotting"),
    "kws_cnn": (models.kws_cnn, "keyword_spotting"),
    "kws_cnn_lstm": (models.kws_cnn_lstm, "keyword_spotting"),
    "wav2vec2_base": (models.wav2vec2_base, "speech_recognition"),
    "wav2vec2_large_lv60": (models.wav2vec2_large_lv60, "speech_recognition"),
}

# registry name -> dataset class
DATASETS = {
    "speech_commands": datasets.SpeechCommandsFolder,
    "speechcommands": datasets.SPEECHCOMMANDS,
    "yesno": datasets.YESNO,
    "librispeech": datasets.LIBRISPEECH,
    "ljspeech": datasets.LJSPEECH,
}


def _first_line(obj) -> str | None:
    doc = inspect.getdoc(obj)
    return doc.splitlines()[0] if doc else None


@hookimpl
def taimatsu_register_models(registry):
    for name, (builder, task) in MODELS.items():
        registry.add(name, builder, domain=DOMAIN, task=task, description=_first_line(builder))


@hookimpl
def taimatsu_register_datasets(registry):
    for name, cls in DATASETS.items():
        registry.add(name, cls, domain=DOMAIN, description=_first_line(cls))


@hookimpl
def taimatsu_register_transforms(registry):
    for name in transforms.__all__:  # class names, as the other domains register theirs
        cls = getattr(transforms, name)
        registry.add(name, cls, domain=DOMAIN, description=_first_line(cls))


@hookimpl
def taimatsu_hub_load(source, config):
    from .models.wav2vec2 import hub_load
    return hub_load(source, config)
