"""The voices the local engine speaks with: their public ids, names and languages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Voice:
    voice_id: str
    name: str
    gender: str
    language: str
    locale: str


# voice_id -> (eSpeak voice name with variant, display name). The ids are part of the public
# contract: never rename one, only add.
_VOICE_TABLE: tuple[tuple[Voice, str], ...] = (
    (Voice("en-US-male-1", "Ethan", "male", "English", "en-US"), "en-us"),
    (Voice("en-US-male-2", "Noah", "male", "English", "en-US"), "en-us+m3"),
    (Voice("en-US-female-1", "Ava", "female", "English", "en-US"), "en-us+f3"),
    (Voice("en-US-female-2", "Mia", "female", "English", "en-US"), "en-us+f4"),
    (Voice("en-GB-male-1", "Oliver", "male", "English", "en-GB"), "en"),
    (Voice("en-GB-female-1", "Amelia", "female", "English", "en-GB"), "en+f2"),
    (Voice("es-ES-male-1", "Mateo", "male", "Spanish", "es-ES"), "es"),
    (Voice("es-ES-female-1", "Lucia", "female", "Spanish", "es-ES"), "es+f3"),
    (Voice("fr-FR-male-1", "Louis", "male", "French", "fr-FR"), "fr"),
    (Voice("fr-FR-female-1", "Camille", "female", "French", "fr-FR"), "fr+f3"),
    (Voice("de-DE-male-1", "Lukas", "male", "German", "de-DE"), "de"),
    (Voice("de-DE-female-1", "Hannah", "female", "German", "de-DE"), "de+f2"),
)
ESPEAK_NAMES = {voice.voice_id: espeak for voice, espeak in _VOICE_TABLE}


def list_voices() -> list[Voice]:
    return [voice for voice, _ in _VOICE_TABLE]
