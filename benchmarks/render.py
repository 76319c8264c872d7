"""Benchmark: a 10 s 4K talking clip against encoding the same number of still frames.

Usage: .venv/bin/python benchmarks/render.py [--preset veryfast] [--seconds 10] [--rounds 2]

Figures, not pass/fail. Renders and baseline encodes alternate in this one process and the best
of each is compared, as absolute times vary 15-30% between runs on a shared machine. The
baseline encodes the clip's own first frame over and over with the same settings. The first
("cold") render also draws the avatar, which later renders at that size take from a cache.
The peak memory of the render is read after the first render, before any baseline runs.
Results go to stdout and to benchmarks/results/render.json.
"""

from __future__ import annotations

import argparse
import fractions
import json
import os
import pathlib
import platform
import resource
import tempfile
import time

import av
import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.local.render import AvatarLayer, Box, ColorLayer, Composition, ImageLayer, render
from akool_mcp.local.speech import Speech, synthesize

WIDTH, HEIGHT, FPS = 3840, 2160, 25
TEXT = (
    "Welcome to the local talking avatar engine. Everything you see and hear was made on this machine, "
    "without a network connection: the voice, the face, and the four K video. "
    "It should take little more time than encoding the frames."
)


def speech_of(seconds: float) -> Speech:
    """Synthesized speech padded with silence or trimmed to exactly ``seconds``."""
    spoken = synthesize(TEXT, "en-US-female-1")
    wanted = round(seconds * spoken.sample_rate)
    samples = np.zeros(wanted, np.float32)
    n = min(wanted, len(spoken.samples))
    samples[:n] = spoken.samples[:n]
    mouth = None
    if spoken.mouth is not None:
        mouth = np.zeros(int(np.ceil(seconds * 100)), np.float32)
        m = min(len(mouth), len(spoken.mouth))
        mouth[:m] = spoken.mouth[:m]
    return Speech(samples=samples, sample_rate=spoken.sample_rate, mouth=mouth)


def logo(path: pathlib.Path) -> None:
    image = np.zeros((360, 720, 4), np.uint8)
    cv2.rectangle(image, (0, 0), (719, 359), (250, 250, 250, 200), -1)
    cv2.circle(image, (180, 180), 120, (60, 140, 230, 255), -1, cv2.LINE_AA)
    cv2.putText(image, "AKOOL", (320, 215), cv2.FONT_HERSHEY_SIMPLEX, 3.0, (40, 40, 40, 255), 8, cv2.LINE_AA)
    cv2.imwrite(str(path), image)


def first_frame(path: pathlib.Path) -> npt.NDArray[np.uint8]:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            return np.asarray(frame.to_ndarray(format="yuv420p"), np.uint8)
    raise RuntimeError("the rendered clip has no frames")


def encode_still(yuv: npt.NDArray[np.uint8], path: pathlib.Path, frames: int, preset: str, crf: int) -> float:
    """Seconds to encode ``frames`` copies of one 4K picture: the encoder's own cost."""
    started = time.perf_counter()
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": preset, "crf": str(crf)}
        stream.codec_context.thread_type = "AUTO"
        stream.codec_context.thread_count = 0
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.time_base = fractions.Fraction(1, FPS)
        for index in range(frames):
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description="Time a 10 s 4K talking clip against encoding a still.")
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--crf", type=int, default=23)
    parser.add_argument("--rounds", type=int, default=2, help="alternate render and still this many times")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        logo(folder / "logo.png")
        started = time.perf_counter()
        speech = speech_of(args.seconds)
        speech_s = time.perf_counter() - started
        composition = Composition(
            layers=[
                ColorLayer((43, 95, 142, 255), Box(0, 0, WIDTH, HEIGHT)),
                AvatarLayer(Box(1220, 560, 1400, 1600), builtin_id="local_sofia"),
                ImageLayer(folder / "logo.png", Box(3000, 120, 720, 360)),
            ],
            speech=speech,
        )
        # Alternating and keeping the best of each damps the noise of a shared machine.
        render_times: list[float] = []
        still_times: list[float] = []
        frames = 0
        render_peak_mb = 0.0
        for _ in range(max(1, args.rounds)):
            started = time.perf_counter()
            frames = render(composition, folder / "talk.mp4", preset=args.preset, crf=args.crf).frames
            render_times.append(time.perf_counter() - started)
            if len(render_times) == 1:
                # ru_maxrss is the process's high-water mark: read it before the baseline runs.
                render_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            # The baseline encodes the clip's own first frame, so both see the same picture.
            still = first_frame(folder / "talk.mp4")
            still_times.append(encode_still(still, folder / "still.mp4", frames, args.preset, args.crf))
        size = (folder / "talk.mp4").stat().st_size
    render_s, still_s = min(render_times), min(still_times)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    figures = {
        "preset": args.preset,
        "crf": args.crf,
        "seconds": args.seconds,
        "frames": frames,
        "size": f"{WIDTH}x{HEIGHT}",
        "speech_synthesis_s": round(speech_s, 3),
        "render_s": round(render_s, 3),
        "render_s_cold": round(render_times[0], 3),
        "render_s_all": [round(t, 3) for t in render_times],
        "render_fps": round(frames / render_s, 1),
        "still_encode_s": round(still_s, 3),
        "still_encode_s_all": [round(t, 3) for t in still_times],
        "still_encode_fps": round(frames / still_s, 1),
        "ratio_render_to_still": round(render_s / still_s, 3),
        "ratio_cold_render_to_still": round(render_times[0] / still_s, 3),
        "peak_rss_mb_render": round(render_peak_mb, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "output_mb": round(size / 1e6, 2),
        "machine": f"{platform.machine()} {platform.system()}, {len(os.sched_getaffinity(0))} cores",
    }
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    out = pathlib.Path(__file__).parent / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "render.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
