"""The voices the local engine speaks with: their public ids, names, languages, and what speaks them.

Every English voice is neural (see :mod:`akool_mcp.speech.neural` for how each was chosen and
measured); Spanish, French and German have no neural voice whose weights may ship here, so eSpeak
NG speaks them and they say so with ``quality="basic"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Engine = Literal["hibari", "kokoro", "espeak"]
Quality = Literal["neural", "basic"]


@dataclass(frozen=True)
class Voice:
    voice_id: str
    name: str
    gender: str
    language: str
    locale: str
    quality: Quality = "neural"
    description: str = ""


@dataclass(frozen=True)
class VoiceEngine:
    """What speaks a voice: ``engine`` and its own name for the voice (a Kokoro voice pack, an eSpeak voice)."""

    engine: Engine
    model_voice: str

    @property
    def british(self) -> bool:
        return self.model_voice.startswith("b")


# The ids are part of the public contract: never rename one, only add. Names and genders stay
# what they were; what speaks each changed from eSpeak to a neural voice of the same kind.
_VOICE_TABLE: tuple[tuple[Voice, VoiceEngine], ...] = (
    (
        Voice("en-US-female-1", "Ava", "female", "English", "en-US", description="warm American female (neural)"),
        VoiceEngine("hibari", "heart"),
    ),
    (
        Voice("en-US-male-1", "Ethan", "male", "English", "en-US", description="calm American male (neural)"),
        VoiceEngine("kokoro", "am_michael"),
    ),
    (
        Voice("en-US-male-2", "Noah", "male", "English", "en-US", description="bright American male (neural)"),
        VoiceEngine("kokoro", "am_fenrir"),
    ),
    (
        Voice("en-US-female-2", "Mia", "female", "English", "en-US", description="clear American female (neural)"),
        VoiceEngine("kokoro", "af_sarah"),
    ),
    (
        Voice("en-GB-male-1", "Oliver", "male", "English", "en-GB", description="British male (neural)"),
        VoiceEngine("kokoro", "bm_george"),
    ),
    (
        Voice("en-GB-female-1", "Amelia", "female", "English", "en-GB", description="British female (neural)"),
        VoiceEngine("kokoro", "bf_emma"),
    ),
    *(
        (Voice(voice_id, name, gender, language, locale, "basic", f"{language} {gender} (basic, eSpeak NG)"),
         VoiceEngine("espeak", espeak))
        for voice_id, name, gender, language, locale, espeak in (
            ("es-ES-male-1", "Mateo", "male", "Spanish", "es-ES", "es"),
            ("es-ES-female-1", "Lucia", "female", "Spanish", "es-ES", "es+f3"),
            ("fr-FR-male-1", "Louis", "male", "French", "fr-FR", "fr"),
            ("fr-FR-female-1", "Camille", "female", "French", "fr-FR", "fr+f3"),
            ("de-DE-male-1", "Lukas", "male", "German", "de-DE", "de"),
            ("de-DE-female-1", "Hannah", "female", "German", "de-DE", "de+f2"),
        )
    ),
)  # fmt: skip
VOICE_ENGINES = {voice.voice_id: engine for voice, engine in _VOICE_TABLE}
VOICES = {voice.voice_id: voice for voice, _ in _VOICE_TABLE}
# The voice that makes speech fastest (hibari, ~0.01 CPU-s per second of speech): previews of the
# engine's own, the demo's first pick for a female avatar.
DEFAULT_VOICE_ID = "en-US-female-1"


def list_voices() -> list[Voice]:
    return [voice for voice, _ in _VOICE_TABLE]


def voice_engine(voice_id: str) -> VoiceEngine | None:
    return VOICE_ENGINES.get(voice_id)
