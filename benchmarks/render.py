# PyAV's stubs leave Packet and **kwargs untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""Benchmark: a 10 s 4K talking clip against encoding the same number of still frames.

Usage: .venv/bin/python benchmarks/render.py [--case builtin|photo|video] [--preset veryfast]
       [--seconds 10] [--rounds 3]

Cases: ``builtin`` a drawn avatar with a logo over a colour; ``photo`` the astronaut portrait
(scikit-image, a dev dependency) filling the canvas height; ``video`` a 1080p clip panning and
zooming over that portrait, looped under the speech. For ``photo`` and ``video`` the landmark
time is also reported (per frame for video, where the face is tracked on every frame).

Figures, not pass/fail. The baseline encodes the clip's own first frame over and over with the
same encoder settings: the cost of the frames alone. For ``video`` a second baseline, ``plain``,
decodes the source clip, scales it into the box and encodes it with the same settings, with no
face work: what any tool must do to show that video at 4K. Its frames change everywhere, so x264
alone takes several times a still's time on them.

A third baseline, ``own``, encodes the rendered clip's own frames with no drawing: the clip is
rendered once more losslessly (x264 at crf 0, not timed), decoded, and each frame's moving
rectangle is written into one reused frame, as the renderer writes it. That is x264's price for
exactly these moving pictures. render / own is what the drawing and the overlap with the encoder
add; own / still is what the motion itself costs the encoder (a head that sways changes every
macroblock it covers, on every frame). The frames are taken from a lossless copy because frames
decoded from the clip itself are cheaper to encode again: x264 has already skipped or smoothed
the blocks that changed least.

Render and baselines run in turn, ``--rounds`` times, and each ratio is the median of the ratios
of runs made side by side: on a shared machine absolute times vary 15-30% and more. CPU seconds
(all threads of the process) are given too; they vary less with the load than wall time.
- cold: each run in a fresh process, like the first render of a new server. It includes drawing
  the avatar and the allocator's first touch of x264's buffers (about 1 s at medium).
- warm: in this process after a first run, like a server that has rendered before.
Peak memory (ru_maxrss) is that of the fresh render process. Results go to stdout and to
benchmarks/results/render.json (render-<preset>.json for other presets).
"""

from __future__ import annotations

import argparse
import contextlib
import fractions
import json
import os
import pathlib
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Generator

import av
import cv2
import numpy as np
import numpy.typing as npt

from akool_mcp.render import AvatarLayer, Box, ColorLayer, Composition, ImageLayer, render
from akool_mcp.render.encode import YuvFrame
from akool_mcp.render.face.photo import fit_box
from akool_mcp.render.face.video import LoopedFrames
from akool_mcp.speech import Speech, synthesize

WIDTH, HEIGHT, FPS = 3840, 2160, 25
LOSSLESS = "talk-lossless.mp4"  # the clip rendered at crf 0: its frames exactly as drawn
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


@contextlib.contextmanager
def x264(path: pathlib.Path, preset: str, crf: int) -> Generator[Callable[[av.VideoFrame | None], None]]:
    """A 4K libx264 MP4 at ``path`` with the engine's settings; yields "encode this frame" (None flushes)."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": preset, "crf": str(crf)}
        stream.codec_context.thread_type = "AUTO"
        stream.codec_context.thread_count = 0

        def encode(frame: av.VideoFrame | None) -> None:
            for packet in stream.encode(frame):
                container.mux(packet)

        yield encode
        encode(None)


def encode_still(yuv: npt.NDArray[np.uint8], path: pathlib.Path, frames: int, preset: str, crf: int) -> float:
    """Seconds to encode ``frames`` copies of one 4K picture: the encoder's own cost."""
    started = time.perf_counter()
    with x264(path, preset, crf) as encode:
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.time_base = fractions.Fraction(1, FPS)
        for index in range(frames):
            frame.pts = index
            encode(frame)
    return time.perf_counter() - started


def encode_plain(clip: pathlib.Path, path: pathlib.Path, frames: int, preset: str, crf: int) -> float:
    """Seconds to decode the avatar's source video (looped), scale it to 4K and encode it: the
    cost of a video avatar's frames alone, with no face work."""
    started = time.perf_counter()
    source = LoopedFrames(clip)
    first = source.at(0.0)
    box = fit_box(Box(0, 0, WIDTH, HEIGHT), first.width, first.height)
    canvas = YuvFrame(np.zeros((HEIGHT, WIDTH, 3), np.uint8))
    with x264(path, preset, crf) as encode:
        for index in range(frames):
            canvas.scale_in(box.left, box.top, box.width, box.height, source.at(index / FPS))
            canvas.frame.pts, canvas.frame.time_base = index, fractions.Fraction(1, FPS)
            encode(canvas.frame)
    return time.perf_counter() - started


Change = tuple[int, int, npt.NDArray[np.uint8]]  # even x, even y, I420 block (OpenCV's layout)


def own_frames(clip: pathlib.Path) -> tuple[npt.NDArray[np.uint8], list[Change]]:
    """The losslessly rendered clip as its first frame (I420) and, for each frame, its pixels over
    the one even-edged rectangle where the picture changes in any frame: what the renderer itself
    writes into its frames."""
    frames: list[npt.NDArray[np.uint8]] = []
    with av.open(str(clip)) as container:
        for frame in container.decode(video=0):
            frames.append(np.asarray(frame.to_ndarray(format="yuv420p"), np.uint8))
    if not frames:
        raise RuntimeError("the rendered clip has no frames")
    first = frames[0]
    height = first.shape[0] * 2 // 3
    moved = np.zeros((height, WIDTH), bool)
    for yuv in frames[1:]:
        changed = cv2.absdiff(yuv, first) > 0
        chroma = changed[height:].reshape(2, height // 2, WIDTH // 2).any(axis=0)
        moved |= changed[:height] | np.repeat(np.repeat(chroma, 2, axis=0), 2, axis=1)
    rows, cols = np.flatnonzero(moved.any(axis=1)), np.flatnonzero(moved.any(axis=0))
    if len(rows) == 0:
        return first, [(0, 0, np.zeros((0, 0), np.uint8))] * len(frames)
    x0, y0 = int(cols[0]) // 2 * 2, int(rows[0]) // 2 * 2
    x1, y1 = min(WIDTH, int(cols[-1]) + 2) // 2 * 2, min(HEIGHT, int(rows[-1]) + 2) // 2 * 2
    w, h = x1 - x0, y1 - y0
    changes: list[Change] = []
    for yuv in frames:
        block = np.empty((h * 3 // 2, w), np.uint8)
        block[:h] = yuv[y0:y1, x0:x1]
        chroma = yuv[height:].reshape(2, height // 2, WIDTH // 2)[:, y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]
        block[h:].reshape(2, h // 2, w // 2)[...] = chroma
        changes.append((x0, y0, block))
    return first, changes


def encode_own(own: tuple[npt.NDArray[np.uint8], list[Change]], path: pathlib.Path, preset: str, crf: int) -> float:
    """Seconds to encode the rendered clip's own frames with no drawing at all: each frame's
    changed rectangle (worked out beforehand) is written into one reused frame, as the renderer
    writes its moving rectangles. What x264 alone asks for these moving pictures."""
    first, changes = own
    canvas = YuvFrame.from_i420(first)
    started = time.perf_counter()
    with x264(path, preset, crf) as encode:
        for index, (x, y, block) in enumerate(changes):
            if block.size:
                canvas.put(x, y, block)
            canvas.frame.pts, canvas.frame.time_base = index, fractions.Fraction(1, FPS)
            encode(canvas.frame)
    return time.perf_counter() - started


def portrait() -> npt.NDArray[np.uint8]:
    from skimage import data  # a dev dependency: the benchmark runs from a checkout

    return np.asarray(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), np.uint8)


def pan_video(path: pathlib.Path, seconds: float = 4.0) -> None:
    """A 1920x1080 H.264 clip slowly panning and zooming over the portrait."""
    picture = cv2.resize(portrait(), (2048, 2048), interpolation=cv2.INTER_CUBIC)
    frames = round(seconds * FPS)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.options = {"crf": "18"}
        for index in range(frames):
            t = index / max(1, frames - 1)
            scale = 1080 / (1100 / (1 + 0.25 * t))
            cx, cy = 900 + 180 * t, 760 + 60 * t
            matrix = np.array([[scale, 0, 960 - cx * scale], [0, scale, 540 - cy * scale]], np.float32)
            image = np.asarray(cv2.warpAffine(picture, matrix, (1920, 1080), borderMode=cv2.BORDER_REFLECT), np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = index, fractions.Fraction(1, FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def composition(folder: pathlib.Path, seconds: float, case: str = "builtin") -> Composition:
    background = ColorLayer((43, 95, 142, 255), Box(0, 0, WIDTH, HEIGHT))
    if case == "photo":
        if not (folder / "portrait.png").exists():
            cv2.imwrite(str(folder / "portrait.png"), portrait())
        layers = [background, AvatarLayer(Box(0, 0, WIDTH, HEIGHT), image_path=folder / "portrait.png")]
        return Composition(layers=layers, speech=speech_of(seconds))
    if case == "video":
        if not (folder / "clip.mp4").exists():
            pan_video(folder / "clip.mp4")
        layers = [background, AvatarLayer(Box(0, 0, WIDTH, HEIGHT), video_path=folder / "clip.mp4")]
        return Composition(layers=layers, speech=speech_of(seconds))
    logo(folder / "logo.png")
    return Composition(
        layers=[
            background,
            AvatarLayer(Box(1220, 560, 1400, 1600), builtin_id="local_sofia"),
            ImageLayer(folder / "logo.png", Box(3000, 120, 720, 360)),
        ],
        speech=speech_of(seconds),
    )


def landmark_ms(folder: pathlib.Path, case: str) -> dict[str, float]:
    """Landmark cost: once for a photo, per frame for a video (tracked as the renderer does)."""
    from akool_mcp.render.face.landmarks import find_faces
    from akool_mcp.render.face.video import FaceTracker

    if case == "photo":
        picture = np.asarray(cv2.resize(portrait(), (2160, 2160)), np.uint8)
        started = time.perf_counter()
        find_faces(picture)
        return {"landmarks_once_ms": round((time.perf_counter() - started) * 1000, 2)}
    tracker = FaceTracker(FPS)
    source = LoopedFrames(folder / "clip.mp4")  # YUV frames, as the renderer tracks them
    frames = [source.at(index / FPS) for index in range(round(4.0 * FPS))]
    tracker.track(frames[0])
    started = time.perf_counter()
    for frame in frames[1:]:
        tracker.track(frame)
    return {"landmarks_ms_per_frame": round((time.perf_counter() - started) * 1000 / (len(frames) - 1), 2)}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def cpu_s() -> float:
    """CPU seconds of this process so far, every thread (x264's and OpenCV's too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``work``."""
    cpu, wall = cpu_s(), time.perf_counter()
    work()
    return time.perf_counter() - wall, cpu_s() - cpu


def child(args: argparse.Namespace) -> None:
    """One measurement in a fresh process; prints its figures as JSON."""
    folder = pathlib.Path(args.folder)
    frames = round(args.seconds * FPS)
    if args.child == "render":
        clip = composition(folder, args.seconds, args.case)
        seconds, cpu = timed(lambda: render(clip, folder / "talk.mp4", preset=args.preset, crf=args.crf))
    elif args.child == "own":
        own = own_frames(folder / LOSSLESS)
        seconds, cpu = timed(lambda: encode_own(own, folder / "own.mp4", args.preset, args.crf))
        del own
    elif args.child == "plain":
        seconds, cpu = timed(
            lambda: encode_plain(folder / "clip.mp4", folder / "plain.mp4", frames, args.preset, args.crf)
        )
    else:
        still = first_frame(folder / "talk.mp4")
        seconds, cpu = timed(lambda: encode_still(still, folder / "still.mp4", frames, args.preset, args.crf))
    print(json.dumps({"seconds": seconds, "cpu": cpu, "frames": frames, "peak_mb": peak_mb()}))


def cold(kind: str, folder: pathlib.Path, args: argparse.Namespace) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", kind, "--folder", str(folder), "--preset", args.preset]
    command += ["--seconds", str(args.seconds), "--crf", str(args.crf), "--case", args.case]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Time a 10 s 4K talking clip against encoding a still.")
    parser.add_argument("--case", choices=["builtin", "photo", "video"], default="builtin")
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--crf", type=int, default=23)
    parser.add_argument("--rounds", type=int, default=3, help="repeat each measurement this many times")
    parser.add_argument("--child", choices=["render", "still", "own", "plain"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    rounds = max(1, args.rounds)
    # A video avatar's frames change everywhere: its own-frames baseline is the plain one.
    kinds = ["render", "still"] + (["plain"] if args.case == "video" else ["own"])
    cold_runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    warm_runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        if "own" in kinds:
            render(composition(folder, args.seconds, args.case), folder / LOSSLESS, preset="ultrafast", crf=0)
        # Cold: every measurement in a fresh process (the first render of a new server), the
        # kinds in turn so that each round's runs meet the same load.
        for _ in range(rounds):
            for kind in kinds:
                cold_runs[kind].append(cold(kind, folder, args))
        size = (folder / "talk.mp4").stat().st_size
        # Warm: all in this process after a first run, as in a server that has rendered before
        # (allocator pages and the avatar drawing are reused).
        clip = composition(folder, args.seconds, args.case)
        landmarks = landmark_ms(folder, args.case) if args.case != "builtin" else {}
        still = first_frame(folder / "talk.mp4")
        frames = round(args.seconds * FPS)
        source = folder / "clip.mp4"
        work: dict[str, Callable[[], object]] = {
            "render": lambda: render(clip, folder / "talk-warm.mp4", preset=args.preset, crf=args.crf),
            "still": lambda: encode_still(still, folder / "still-warm.mp4", frames, args.preset, args.crf),
            "plain": lambda: encode_plain(source, folder / "plain-warm.mp4", frames, args.preset, args.crf),
        }
        if "own" in kinds:
            own = own_frames(folder / LOSSLESS)
            work["own"] = lambda: encode_own(own, folder / "own-warm.mp4", args.preset, args.crf)
        for kind in kinds:
            work[kind]()  # warm-up
        for _ in range(rounds):
            for kind in kinds:
                seconds, cpu = timed(work[kind])
                warm_runs[kind].append({"seconds": seconds, "cpu": cpu})

    def median(runs: list[dict[str, float]], key: str = "seconds") -> float:
        return round(statistics.median(r[key] for r in runs), 3)

    def ratio(runs: dict[str, list[dict[str, float]]], base: str, key: str = "seconds", top: str = "render") -> float:
        """The median over rounds of top / base, each from runs made side by side."""
        pairs = zip(runs[top], runs[base], strict=True)
        return round(statistics.median(r[key] / b[key] for r, b in pairs), 3)

    figures: dict[str, object] = {
        "case": args.case,
        "preset": args.preset,
        "crf": args.crf,
        "seconds": args.seconds,
        "frames": frames,
        "size": f"{WIDTH}x{HEIGHT}",
        "rounds": rounds,
    }
    for when, runs in (("cold", cold_runs), ("warm", warm_runs)):
        figures[f"{when}_render_s"] = median(runs["render"])
        figures[f"{when}_still_encode_s"] = median(runs["still"])
        figures[f"{when}_ratio"] = ratio(runs, "still")
        figures[f"{when}_cpu_ratio"] = ratio(runs, "still", "cpu")
        if "own" in runs:
            figures[f"{when}_own_frames_encode_s"] = median(runs["own"])
            figures[f"{when}_own_frames_ratio_to_still"] = ratio(runs, "still", top="own")
            figures[f"{when}_own_frames_cpu_ratio_to_still"] = ratio(runs, "still", "cpu", top="own")
            figures[f"{when}_ratio_to_own_frames"] = ratio(runs, "own")
            figures[f"{when}_cpu_ratio_to_own_frames"] = ratio(runs, "own", "cpu")
        if "plain" in runs:
            figures[f"{when}_plain_video_s"] = median(runs["plain"])
            figures[f"{when}_ratio_to_plain"] = ratio(runs, "plain")
            figures[f"{when}_cpu_ratio_to_plain"] = ratio(runs, "plain", "cpu")
    figures |= {
        "render_fps": round(frames / statistics.median(r["seconds"] for r in warm_runs["render"]), 1),
        "peak_rss_mb_render": median(cold_runs["render"], "peak_mb"),
        "peak_rss_mb_still_encode": median(cold_runs["still"], "peak_mb"),
        **{f"all_cold_{kind}_s": [round(r["seconds"], 3) for r in cold_runs[kind]] for kind in kinds},
        **{f"all_warm_{kind}_s": [round(r["seconds"], 3) for r in warm_runs[kind]] for kind in kinds},
        **{f"all_cold_{kind}_cpu_s": [round(r["cpu"], 3) for r in cold_runs[kind]] for kind in kinds},
        "output_mb": round(size / 1e6, 2),
        "machine": f"{platform.machine()} {platform.system()}, {len(os.sched_getaffinity(0))} cores",
        **landmarks,
    }
    for key, value in figures.items():
        print(f"{key:>26}: {value}")
    out = pathlib.Path(__file__).parent / "results"
    out.mkdir(parents=True, exist_ok=True)
    name = "render" + ("" if args.case == "builtin" else f"-{args.case}")
    (out / f"{name}{'' if args.preset == 'veryfast' else '-' + args.preset}.json").write_text(
        json.dumps(figures, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
