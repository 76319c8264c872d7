"""Joining finished scenes into one video: time and memory. Figures, never pass/fail.

Makes three 20 s 4K scenes (built-in avatars over colours, speaking a tone; made once and kept in a
temporary folder), then joins them in a fresh process each round, as a script's last step does:
1. copied (same encoding parameters: no picture is encoded again);
2. with a 0.3 s crossfade (every picture encoded again), for comparison.
Prints wall time, CPU time and the joining process's peak memory. Aim (issue 22): well under one second
per minute of video when nothing is re-encoded.

Run: .venv/bin/python benchmarks/join.py [--rounds 3] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from akool_mcp.render import AvatarLayer, Box, ColorLayer, Composition, render
from akool_mcp.speech import Speech

COLOURS = ((200, 30, 30, 255), (30, 200, 30, 255), (30, 30, 200, 255))
AVATARS = ("local_liam", "local_sofia", "local_omar")

JOIN = """
import json, sys, time
from pathlib import Path
from akool_mcp.render.joiner import join_clips
paths = [Path(p) for p in sys.argv[1:-2]]
started, cpu = time.perf_counter(), time.process_time()
joined = join_clips(paths, Path(sys.argv[-2]), crossfade=float(sys.argv[-1]), preset="veryfast")
print(json.dumps({"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                  # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
                  "peak_mb": int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) / 1024,
                  "duration": joined.duration, "copied": joined.copied}))
"""


def make_scenes(folder: Path, seconds: float) -> list[Path]:
    rate = 24_000
    t = np.arange(round(seconds * rate)) / rate
    tone = (0.2 * np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    paths: list[Path] = []
    for index in range(3):
        path = folder / f"scene-{index}.mp4"
        layers = [
            ColorLayer(COLOURS[index], Box(0, 0, 3840, 2160)),
            AvatarLayer(Box(1100, 200, 1800, 1800), AVATARS[index]),
        ]
        render(Composition(layers=layers, speech=Speech(samples=tone, sample_rate=rate)), path, preset="veryfast")
        paths.append(path)
    return paths


def join_once(paths: list[Path], out: Path, crossfade: float) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", JOIN, *map(str, paths), str(out), str(crossfade)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    out.unlink()
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths = make_scenes(Path(folder), args.seconds)
        total = sum(path.stat().st_size for path in paths) / 1e6
        print(f"three {args.seconds:.0f} s 4K scenes: {total:.1f} MB")
        for crossfade, label in ((0.0, "copied"), (0.3, "crossfade 0.3 s")):
            runs = [join_once(paths, Path(folder) / "joined.mp4", crossfade) for _ in range(args.rounds)]
            wall = statistics.median(r["wall"] for r in runs)
            cpu = statistics.median(r["cpu"] for r in runs)
            peak = max(r["peak_mb"] for r in runs)
            minutes = runs[0]["duration"] / 60
            print(
                f"{label:16s} wall {wall:6.2f} s ({wall / minutes:5.2f} s per minute of video), cpu {cpu:6.2f} s, "
                f"peak {peak:6.0f} MB, {runs[0]['duration']:.2f} s of video, copied={bool(runs[0]['copied'])}"
            )


if __name__ == "__main__":
    main()
