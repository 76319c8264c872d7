"""5,000 characters of script go through a sentence at a time: memory stays bounded."""

from __future__ import annotations

import json
import subprocess
import sys

MEASURE = """
import json, resource, sys
from akool_mcp.speech import synthesize
sentence = "Our new product helps small teams plan their work, and it costs only $12 a month. "
text = (sentence * 100)[: int(sys.argv[1])].rsplit(" ", 1)[0] + "."
synthesize("Warm up.", "en-US-female-1")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
speech = synthesize(text, "en-US-female-1")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grew_mb": (after - before) / 1024, "seconds": speech.duration, "cues": len(speech.cues),
                  "chars": len(text)}))
"""


def _measure(chars: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(chars)], capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_five_thousand_characters_stream_through_in_bounded_memory() -> None:
    short, long = _measure(400), _measure(5_000)
    assert long["chars"] > 4_900 and long["cues"] >= 55
    assert long["seconds"] > 10 * short["seconds"] * 0.8
    # The finished samples take 96 KB a second (24 kHz float32), kept once plus one copy while joined;
    # everything else (the model's working memory) is that of one sentence whatever the length.
    samples_mb = long["seconds"] * 24_000 * 4 / 2**20
    assert long["grew_mb"] <= 2 * samples_mb + 60, long  # measured: 94 MB for 354 s (samples 32 MB)
