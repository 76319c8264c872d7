"""Scripts on MCP servers side by side (cluster mode), in process: two replicas share one PostgreSQL database
and one blob store and nothing else. A script made through one is followed and joined through the other,
joined once, served by both (from a shared folder, or from object storage by a presigned link); its
request_id and its scenes are known to both, and it is saved under a name through either."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from akool_mcp.config import Settings
from akool_mcp.server import build_server
from akool_mcp.server.http_guard import http_app
from akool_mcp.tools.state import AppState
from tests.fakes.akool import FakeAkool
from tests.s3 import S3Server
from tests.support import FakeClock, cloud_settings, data
from tests.tools.test_cloud_captions import talking_mp4
from tests.tools.test_scripts import AKOOL_SCENES, CREATE, follow
from tests.tools.test_spending import User

pytestmark = pytest.mark.anyio

FRONT = "http://127.0.0.1:8765"  # the balancer's address: the same for both replicas
TOKEN = "replica-token-0123456789abcdef"


def replica(
    root: Path, name: str, database: str, fake: FakeAkool, clock: FakeClock, blobs: dict[str, Any]
) -> tuple[MCPServer[AppState], Settings]:
    settings = cloud_settings(
        data_dir=root / name / "data",
        output_dir=root / name / "videos",
        database_url=database,
        **blobs,
        link_secret="replicas-link-secret-0123456789abcdef",
        mcp_token=TOKEN,
        public_url=FRONT,
    )
    server = build_server(settings, transport=fake.transport(), resolver=fake.resolve, clock=clock, media_base=FRONT)
    return server, settings


@asynccontextmanager
async def serving(server: MCPServer[AppState], settings: Settings) -> AsyncGenerator[httpx2.AsyncClient]:
    app = http_app(server, "streamable-http", host="127.0.0.1", port=8765, settings=settings)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=FRONT) as http:
        yield http


@pytest.fixture(params=["folder", "s3"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Where the replicas keep what they share: a folder (a shared mount) or object storage (moto)."""
    if request.param == "folder":
        return {"blob_store": str(tmp_path / "blobs")}
    server: S3Server = request.getfixturevalue("s3_server")
    request.getfixturevalue("s3_credentials")
    return {"blob_store": f"s3://{server.new_bucket()}/mcp", "s3_endpoint_url": server.endpoint, "s3": server}


def kept_names(store: dict[str, Any], tmp_path: Path) -> list[str]:
    if "s3" not in store:
        return sorted(p.name for p in (tmp_path / "blobs" / "kept").iterdir())
    bucket = store["blob_store"].removeprefix("s3://").split("/")[0]
    listing = store["s3"].client().list_objects_v2(Bucket=bucket, Prefix="mcp/kept/")
    return sorted(item["Key"].rsplit("/", 1)[-1] for item in listing.get("Contents", []))


async def read(http: httpx2.AsyncClient, url: str) -> httpx2.Response:
    """The first bytes of a media link, following the store's presigned link where it sends one."""
    answer = await http.get(url, headers={"Range": "bytes=0-99"})
    if answer.status_code == 307:
        async with httpx2.AsyncClient() as outside:
            return await outside.get(answer.headers["location"], headers={"Range": "bytes=0-99"})
    return answer


async def test_a_script_made_on_one_replica_is_joined_once_on_the_other_and_served_by_both(
    tmp_path: Path, migrated: str, shared_store: dict[str, Any]
) -> None:
    fake, clock, user = FakeAkool(cdn_video=talking_mp4(2.0)), FakeClock(), User()  # scenes with sound: captions
    blobs = {k: v for k, v in shared_store.items() if k != "s3"}
    one, one_settings = replica(tmp_path, "one", migrated, fake, clock, blobs)
    other, other_settings = replica(tmp_path, "other", migrated, fake, clock, blobs)
    request = {"scenes": AKOOL_SCENES, "request_id": "launch-video"}
    async with (
        Client(one, elicitation_callback=user) as on_one,
        Client(other, elicitation_callback=user) as on_other,
    ):
        created = data(await on_one.call_tool("create_video_from_script", request))
        finished = data(await follow(on_other, created["video_id"]))
        seen_on_one = data(await on_one.call_tool("get_video_status", {"video_id": created["video_id"]}))
        again = data(await on_other.call_tool("create_video_from_script", request))
        second_cut = data(
            await on_other.call_tool("create_video_from_script", {"scenes": AKOOL_SCENES, "title": "Second cut"})
        )
        listed = data(await on_one.call_tool("list_videos", {}))["videos"]
        # Named on the replica that did not join it: copied from the shared store, and shared under its name.
        named = data(await on_one.call_tool("save_video", {"video_id": created["video_id"], "name": "launch.mp4"}))
    async with serving(one, one_settings) as from_one, serving(other, other_settings) as from_other:
        reads = [await read(http, finished["video_url"]) for http in (from_one, from_other)]
        named_read = await read(from_other, named["video_url"])
        captions_url = re.search(r"WebVTT captions: (\S+)\.$", finished["next_step"])
        assert captions_url is not None, finished["next_step"]
        # The joining replica's captions link, opened through the replica that did not join it.
        captions = await read(from_one, captions_url.group(1))
    assert finished["status"] == "completed" and seen_on_one["status"] == "completed"
    assert seen_on_one["video_url"].split("?")[0] == finished["video_url"].split("?")[0]
    assert finished["video_url"].startswith(f"{FRONT}/media/videos/")
    kept = kept_names(shared_store, tmp_path)
    joined = [k for k in kept if created["video_id"] in k]
    assert [Path(k).suffix for k in joined] == [".mp4", ".vtt"]  # joined once, into the shared store, captions too
    assert captions.status_code in (200, 206) and captions.content.startswith(b"WEBVTT")
    assert "launch.mp4" in kept and named_read.status_code == 206 and named_read.content[4:8] == b"ftyp"
    # It joined nothing: only the named copy, its captions with it (from the shared store).
    assert sorted(p.name for p in (tmp_path / "one" / "videos").iterdir()) == ["launch.mp4", "launch.vtt"]
    assert [r.status_code for r in reads] == [206, 206] and all(r.content[4:8] == b"ftyp" for r in reads)
    # The request_id made on one replica answers on the other, and nothing is sent or billed again.
    assert again["video_id"] == created["video_id"] and "Nothing was sent or billed again" in again["next_step"]
    # A new script with the same scenes, through the other replica, reuses every scene rendered before.
    assert second_cut["next_step"].startswith("Rendering 0 of 3 scenes. 3 scenes made before are reused.")
    assert len(fake.calls(CREATE)) == 3
    assert {v["video_id"] for v in listed} == {created["video_id"], second_cut["video_id"]}
