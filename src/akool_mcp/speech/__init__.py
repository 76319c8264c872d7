"""Offline speech: the voices (neural English, eSpeak NG for the rest), text read as people read it,
decoding recorded audio, mouth tracks from phoneme timings, and captions."""

from akool_mcp.speech.audio import decode_audio
from akool_mcp.speech.captions import Cue, cues_from_text, parse_webvtt, to_webvtt
from akool_mcp.speech.clip import MAX_SECONDS, MAX_TEXT_CHARS, Speech, SpeechError
from akool_mcp.speech.mouth import MOUTH_STEP, MouthTracks
from akool_mcp.speech.synthesis import check_text, synthesize
from akool_mcp.speech.voices import DEFAULT_VOICE_ID, Voice, list_voices

__all__ = [
    "DEFAULT_VOICE_ID",
    "MAX_SECONDS",
    "MAX_TEXT_CHARS",
    "MOUTH_STEP",
    "Cue",
    "MouthTracks",
    "Speech",
    "SpeechError",
    "Voice",
    "check_text",
    "cues_from_text",
    "decode_audio",
    "list_voices",
    "parse_webvtt",
    "synthesize",
    "to_webvtt",
]
