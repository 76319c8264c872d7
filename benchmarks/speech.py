# PyAV's stubs leave Packet and **kwargs untyped: relax the unknown-type checks here only.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""Benchmark: what each voice costs, and a whole 10 s 4K job against encoding a still.

Usage: .venv/bin/python benchmarks/speech.py [--voices en-US-female-1,...] [--seconds 60] [--rounds 2]

Per voice, in a fresh process: a script of about ``--seconds`` of speech (the sentences below, repeated
as far as that voice's pace needs; the first pass, if too short, only measures the pace). Reported: CPU seconds
(all threads) per second of speech produced, the one-off cost of loading the voice (its model and
front end, measured on a first short sentence), and the process's peak resident memory.

The job: in a fresh process, the default voice speaks a ~10 s script and the engine renders it
with a built-in avatar at 3840x2160 (veryfast), against x264 encoding as many frames of the job's
first frame with the same settings (the frames' own cost). Ratios are medians over ``--rounds``.
Figures, not pass/fail; results also go to benchmarks/results/speech.json.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import statistics
import subprocess
import sys

SCRIPT = (
    "Good morning, and welcome to this short update. Our team has spent the last three months building a "
    "simpler way to plan projects, and today we want to show you what it can do. First, every task now has "
    "a clear owner and a due date, so nothing slips through the cracks. Second, the new calendar view shows "
    "the whole quarter at a glance, with holidays and deadlines side by side. Third, reports that used to "
    "take an afternoon are ready in a few seconds. We tested all of this with twelve teams in four countries, "
    "and on average they saved about five hours every week. The price stays the same: twelve dollars per "
    "person, per month, with a free trial for thirty days. If you have questions, write to us at any time, "
    "or join the live session next Thursday at four in the afternoon. Thank you for watching, and have a "
    "wonderful rest of your day."
)
JOB_TEXT = (
    "Welcome to the local talking avatar engine. Everything you see and hear was made on this machine, "
    "with no network at all: the voice, the face and the video."
)

VOICE_RUN = """
import itertools, json, re, resource, sys, time
from akool_mcp.speech import synthesize
voice, script, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
t = time.process_time()
synthesize("Loading the voice.", voice)
load = time.process_time() - t
sentences = re.split(r"(?<=[.!?]) ", script)
text = script
while True:
    t = time.process_time()
    speech = synthesize(text, voice)
    cpu = time.process_time() - t
    if speech.duration >= seconds * 0.9 or len(text) > 20_000:
        break
    # Whole sentences, as many as this voice needs for about ``seconds`` at the pace it just spoke.
    wanted, text = len(text) * seconds / speech.duration, ""
    for sentence in itertools.cycle(sentences):
        text = f"{text} {sentence}".strip()
        if len(text) >= wanted:
            break
print(json.dumps({"voice": voice, "speech_s": speech.duration, "cpu_s": cpu, "load_cpu_s": load,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

JOB_RUN = """
import fractions, json, pathlib, sys, tempfile, time
import av, numpy as np
from akool_mcp.render import AvatarLayer, Box, ColorLayer, Composition, render
from akool_mcp.speech import DEFAULT_VOICE_ID, synthesize
text, warm = sys.argv[1], sys.argv[2] == "warm"
folder = pathlib.Path(tempfile.mkdtemp())
layers = [ColorLayer((30, 60, 120, 255), Box(0, 0, 3840, 2160)), AvatarLayer(Box(1220, 160, 1400, 2000),
          builtin_id="local_liam")]
if warm:  # a server that has spoken and rendered before: voice loaded, avatar drawn
    render(Composition(layers=layers, speech=synthesize("Hello.", DEFAULT_VOICE_ID)), folder / "warm.mp4",
           preset="veryfast")
wall, cpu = time.perf_counter(), time.process_time()
speech = synthesize(text, DEFAULT_VOICE_ID)
speech_cpu = time.process_time() - cpu
result = render(Composition(layers=layers, speech=speech), folder / "job.mp4", preset="veryfast")
job_wall, job_cpu = time.perf_counter() - wall, time.process_time() - cpu
with av.open(str(folder / "job.mp4")) as container:
    first = next(iter(container.decode(video=0))).to_ndarray(format="yuv420p")
wall, cpu = time.perf_counter(), time.process_time()
with av.open(str(folder / "still.mp4"), "w", format="mp4") as container:
    stream = container.add_stream("libx264", rate=25)
    stream.width, stream.height, stream.pix_fmt = 3840, 2160, "yuv420p"
    stream.options = {"preset": "veryfast", "crf": "23"}
    stream.codec_context.thread_type = "AUTO"
    stream.codec_context.thread_count = 0
    frame = av.VideoFrame.from_ndarray(np.asarray(first, np.uint8), format="yuv420p")
    frame.time_base = fractions.Fraction(1, 25)
    for index in range(result.frames):
        frame.pts = index
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
still_wall, still_cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({"seconds": result.duration, "frames": result.frames, "job_wall_s": job_wall, "job_cpu_s": job_cpu,
                  "speech_cpu_s": speech_cpu, "still_wall_s": still_wall, "still_cpu_s": still_cpu}))
"""


def run(code: str, *args: str) -> dict[str, float | str]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    result: dict[str, float | str] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    from akool_mcp.speech import list_voices

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--voices", default=",".join(v.voice_id for v in list_voices()))
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    voices = []
    for voice in args.voices.split(","):
        measured = run(VOICE_RUN, voice, SCRIPT, str(args.seconds))
        per_second = float(measured["cpu_s"]) / float(measured["speech_s"])
        voices.append({**measured, "cpu_s_per_speech_s": per_second})
        print(
            f"{voice:16s} {float(measured['speech_s']):6.1f} s of speech  {per_second:6.3f} CPU-s/s  "
            f"load {float(measured['load_cpu_s']):5.2f} CPU-s  peak RSS {float(measured['peak_rss_mb']):6.0f} MB",
            flush=True,
        )
    runs: dict[str, list[dict[str, float | str]]] = {"cold": [], "warm": []}
    for _ in range(args.rounds):  # interleaved: the machine's load drifts
        for mode in runs:
            runs[mode].append(run(JOB_RUN, JOB_TEXT, mode))
    ratios: dict[str, tuple[float, float]] = {}
    for mode, jobs in runs.items():
        wall = statistics.median(float(j["job_wall_s"]) / float(j["still_wall_s"]) for j in jobs)
        cpu = statistics.median(float(j["job_cpu_s"]) / float(j["still_cpu_s"]) for j in jobs)
        speech = statistics.median(float(j["speech_cpu_s"]) / float(j["still_cpu_s"]) for j in jobs)
        ratios[mode] = (wall, cpu)
        print(
            f"job, {mode}: {float(jobs[0]['seconds']):.1f} s of 4K (speech + render, built-in avatar) against a "
            f"still's frames: {wall:.2f}x wall, {cpu:.2f}x CPU, of which speech {speech:.3f}x (median of {len(jobs)})"
        )
    jobs = runs["cold"] + runs["warm"]
    wall, cpu = ratios["warm"]
    out = pathlib.Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "speech.json").write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "voices": voices,
                "jobs": jobs,
                "job_wall_ratio": wall,
                "job_cpu_ratio": cpu,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
