"""End to end on the local engine: the MCP tools in process, a real 4K render, restarts, and the demo."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import av
import cv2
import httpx2
import numpy as np
import pytest
from mcp import Client
from mcp.types import ImageContent, ResourceLink

from akool_mcp.config import Settings
from akool_mcp.server import build_server
from tests.support import data, local_file, make_settings

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def local_settings(tmp_path: Path) -> Settings:
    return make_settings(
        {
            "data_dir": tmp_path / "data",
            "output_dir": tmp_path / "Videos",
            "backend": "local",
            "render_preset": "ultrafast",
        }
    )


def probe(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        assert video.duration is not None and audio.duration is not None
        assert video.time_base is not None and audio.time_base is not None
        return {
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "fps": float(video.average_rate or 0),
            "audio_codec": audio.codec_context.name,
            "video_seconds": float(video.duration * video.time_base),
            "audio_seconds": float(audio.duration * audio.time_base),
        }


async def follow(client: Client, video_id: str) -> dict[str, Any]:
    with anyio.fail_after(240):
        while True:
            status = data(await client.call_tool("get_video_status", {"video_id": video_id, "wait_seconds": 20}))
            if status["done"]:
                return status


async def test_the_tools_make_a_real_4k_talking_video_offline(tmp_path: Path) -> None:
    async with Client(build_server(local_settings(tmp_path))) as client:
        avatars = data(await client.call_tool("list_avatars", {"source": "official"}))
        voices = data(await client.call_tool("list_voices", {"language": "en"}))["voices"]
        created = data(
            await client.call_tool(
                "create_talking_video",
                {
                    "avatar_id": avatars["avatars"][0]["avatar_id"],
                    "text": "Hello from the local engine.",
                    "voice_id": voices[0]["voice_id"],
                    "background": "#2B5F8E",
                },
            )
        )
        status = await follow(client, created["video_id"])
        shown = await client.call_tool("get_video_status", {"video_id": created["video_id"]})
        listed = data(await client.call_tool("list_videos", {}))
    assert avatars["backend"] == "local" and avatars["total"] >= 4
    assert all(local_file(a["thumbnail_url"]).is_file() for a in avatars["avatars"])  # file:// URLs over stdio
    assert "avatar_from" not in created  # the wire's field stays on the wire
    assert status["status"] == "completed", status
    kept = Path(status["file_path"])
    assert status["video_url"] == kept.resolve().as_uri()  # the kept file, never the engine's own copy
    facts = probe(kept)
    assert (facts["width"], facts["height"]) == (3840, 2160)
    assert (facts["codec"], facts["pix_fmt"], facts["audio_codec"]) == ("h264", "yuv420p", "aac")
    assert facts["fps"] == 25
    assert abs(facts["video_seconds"] - facts["audio_seconds"]) <= 0.04 + 0.03  # one frame, plus AAC priming
    # Kept in the output folder without a second copy on the same disk, and shown with a 16:9 poster.
    engine_copy = tmp_path / "data" / "files" / "videos" / f"{created['video_id']}.mp4"
    assert kept.parent == tmp_path / "Videos" and kept.stat().st_ino == engine_copy.stat().st_ino
    posters = [c for c in shown.content if isinstance(c, ImageContent)]
    assert len(posters) == 1
    jpeg = base64.b64decode(posters[0].data)
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape[:2] == (360, 640) and 5_000 < len(jpeg) < 100_000
    links = [c for c in shown.content if isinstance(c, ResourceLink)]
    assert [link.mime_type for link in links] == ["video/mp4", "text/vtt"]
    assert listed["videos"][0]["video_id"] == created["video_id"] and listed["videos"][0]["file_path"] == str(kept)


async def test_a_users_photo_url_without_a_face_fails_with_a_reason(tmp_path: Path) -> None:
    plain = tmp_path / "wall.png"
    cv2.imwrite(str(plain), np.full((400, 300, 3), 200, np.uint8))
    async with Client(build_server(local_settings(tmp_path))) as client:
        voices = data(await client.call_tool("list_voices", {}))["voices"]
        created = data(
            await client.call_tool(
                "create_talking_video",
                {"avatar_url": str(plain), "text": "Hi.", "voice_id": voices[0]["voice_id"], "avatar_width": 600,
                 "avatar_height": 800},
            )
        )  # fmt: skip
        status = await follow(client, created["video_id"])
    assert status["status"] == "failed" and "face" in (status["error_reason"] or "").lower()


def _spawn_engine(data_dir: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKOOL_")}
    env.update({"AKOOL_DATA_DIR": str(data_dir), "AKOOL_LOCAL_API_KEY": "k" * 32, "AKOOL_RENDER_PRESET": "ultrafast"})
    return subprocess.Popen(
        [sys.executable, "-m", "akool_mcp", "local-api", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_until(proc: subprocess.Popen[str], marker: str) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        if marker in line:
            return
    raise AssertionError(f"the engine exited ({proc.wait()}) before logging {marker!r}")


async def test_killing_the_engine_mid_render_loses_nothing(tmp_path: Path) -> None:
    from tests.test_processes import _free_port  # pyright: ignore[reportPrivateUsage]

    port = _free_port()
    data_dir = tmp_path / "data"
    headers = {"x-api-key": "k" * 32}
    base = f"http://127.0.0.1:{port}"
    body: dict[str, Any] = {
        "width": 3840,
        "height": 2160,
        "avatar_from": 2,
        "elements": [
            {"type": "image", "url": "#336699", "width": 3840, "height": 2160, "scale_x": 1, "scale_y": 1,
             "offset_x": 1920, "offset_y": 1080},
            {"type": "avatar", "avatar_id": "", "width": 2160, "height": 2160, "scale_x": 1, "scale_y": 1,
             "offset_x": 1920, "offset_y": 1080},
            {"type": "audio", "input_text": "This sentence is long enough to be interrupted while it renders in four "
             "K, and to be finished after the engine comes back.", "voice_id": ""},
        ],
    }  # fmt: skip
    first = _spawn_engine(data_dir, port)
    try:
        await anyio.to_thread.run_sync(_read_until, first, "Uvicorn running on")
        async with httpx2.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
            avatars = (await http.get("/api/open/v3/avatar/list", params={"from": 2})).json()["data"]["result"]
            voices = (await http.get("/api/open/v4/voice/list")).json()["data"]["result"]
            body["elements"][1]["avatar_id"] = avatars[0]["avatar_id"]
            body["elements"][2]["voice_id"] = voices[0]["voice_id"]
            created = (await http.post("/api/open/v3/talkingavatar/create", json=body)).json()
        video_id = created["data"]["_id"]
        await anyio.to_thread.run_sync(_read_until, first, "video.render_start")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert first.stderr is not None
        first.stderr.close()
    second = _spawn_engine(data_dir, port)
    try:
        await anyio.to_thread.run_sync(_read_until, second, "video.completed")
        async with httpx2.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
            info = (
                await http.get("/api/open/v3/content/video/infobymodelid", params={"video_model_id": video_id})
            ).json()
            download = await http.get(info["data"]["video"], headers={"Range": "bytes=0-99"})
    finally:
        second.send_signal(signal.SIGINT)
        second.wait(timeout=30)
        assert second.stderr is not None
        second.stderr.close()
    assert info["data"]["video_status"] == 3
    assert download.status_code == 206 and len(download.content) == 100
    videos = data_dir / "files" / "videos"
    # No partial file left behind: the video and its captions.
    assert sorted(p.name for p in videos.iterdir()) == [f"{video_id}.mp4", f"{video_id}.vtt"]
    assert probe(videos / f"{video_id}.mp4")["width"] == 3840


def test_the_demo_makes_and_saves_a_video(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKOOL_")}
    env.update(
        {
            "AKOOL_DATA_DIR": str(tmp_path / "data"),
            "AKOOL_OUTPUT_DIR": str(tmp_path / "videos"),
            "AKOOL_RENDER_PRESET": "ultrafast",
        }
    )
    out = tmp_path / "demo.mp4"
    result = subprocess.run(
        [sys.executable, "-m", "akool_mcp", "demo", "--out", str(out), "--text", "Hello, this is the demo."],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"saved: {out}" in result.stdout
    assert probe(out)["height"] == 2160


async def test_sigterm_during_a_long_render_stops_the_engine_and_keeps_the_job_for_the_next_start(
    tmp_path: Path,
) -> None:
    from akool_mcp.local.store import Store
    from akool_mcp.models import Status
    from tests.test_processes import _free_port  # pyright: ignore[reportPrivateUsage]

    port = _free_port()
    data_dir = tmp_path / "data"
    headers = {"x-api-key": "k" * 32}
    text = "A long script keeps this render busy for minutes, so the stop must reach inside it. " * 40
    engine = _spawn_engine(data_dir, port)
    try:
        await anyio.to_thread.run_sync(_read_until, engine, "Uvicorn running on")
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as http:
            avatars = (await http.get("/api/open/v3/avatar/list", params={"from": 2})).json()["data"]["result"]
            voices = (await http.get("/api/open/v4/voice/list")).json()["data"]["result"]
            body = {
                "width": 3840,
                "height": 2160,
                "avatar_from": 2,
                "elements": [
                    {"type": "avatar", "avatar_id": avatars[0]["avatar_id"], "width": 2160, "height": 2160,
                     "scale_x": 1, "scale_y": 1, "offset_x": 1920, "offset_y": 1080},
                    {"type": "audio", "input_text": text, "voice_id": voices[0]["voice_id"]},
                ],
            }  # fmt: skip
            video_id = (await http.post("/api/open/v3/talkingavatar/create", json=body)).json()["data"]["_id"]
        await anyio.to_thread.run_sync(_read_until, engine, "video.render_start")
    finally:
        engine.send_signal(signal.SIGTERM)
        code = await anyio.to_thread.run_sync(lambda: engine.wait(timeout=30))  # raises if it does not stop
        assert engine.stderr is not None
        said = engine.stderr.read()
        engine.stderr.close()
    row = Store(data_dir / "engine.sqlite3").get_video(video_id)
    # Uvicorn shuts the engine down (its workers stop, the render inside them), then exits by the signal.
    assert "Application shutdown complete" in said and code in (0, -signal.SIGTERM)
    assert row is not None and row.status in (Status.QUEUEING, Status.PROCESSING)  # resumed on the next start
    assert not [p.name for p in (data_dir / "files" / "videos").iterdir()]  # no half-written file
