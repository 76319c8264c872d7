"""Offline speech: the voices, text to speech (eSpeak NG), decoding recorded audio, and mouth tracks."""

from akool_mcp.speech.audio import decode_audio
from akool_mcp.speech.clip import MAX_SECONDS, MAX_TEXT_CHARS, Speech, SpeechError
from akool_mcp.speech.espeak import synthesize
from akool_mcp.speech.mouth import MOUTH_STEP, MouthTracks
from akool_mcp.speech.voices import Voice, list_voices

__all__ = [
    "MAX_SECONDS",
    "MAX_TEXT_CHARS",
    "MOUTH_STEP",
    "MouthTracks",
    "Speech",
    "SpeechError",
    "Voice",
    "decode_audio",
    "list_voices",
    "synthesize",
]
