"""torchaudio.datasets: SPEECHCOMMANDS, YESNO, LIBRISPEECH, LJSPEECH (with download), and
SpeechCommandsFolder for any folder in the Speech Commands layout."""

from .librispeech import LIBRISPEECH
from .ljspeech import LJSPEECH
from .speechcommands import SPEECHCOMMANDS, SpeechCommandsFolder, speech_commands_synth_root
from .utils import download_url_to_file, extract_archive
from .yesno import YESNO

__all__ = ["SPEECHCOMMANDS", "SpeechCommandsFolder", "YESNO", "LIBRISPEECH", "LJSPEECH",
           "speech_commands_synth_root", "download_url_to_file", "extract_archive"]
