"""What the HTTP media route will serve: regular files inside its three roots, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from akool_mcp.domain.links import Links, bound_base_url
from akool_mcp.server.media_routes import media_file


@pytest.fixture
def links(tmp_path: Path) -> Links:
    for folder in ("Videos", "posters", "files/avatars"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "Videos" / "a.mp4").write_bytes(b"video")
    (tmp_path / "Videos" / ".hidden.mp4").write_bytes(b"hidden")
    (tmp_path / "files" / "avatars" / "t.png").write_bytes(b"png")
    (tmp_path / "secret.mp4").write_bytes(b"secret")
    (tmp_path / "Videos" / "link.mp4").symlink_to(tmp_path / "secret.mp4")
    return Links(
        output_dir=tmp_path / "Videos",
        poster_dir=tmp_path / "posters",
        files_root=tmp_path / "files",
        base_url="http://127.0.0.1:8000",
    )


def test_files_inside_the_roots_are_served(links: Links, tmp_path: Path) -> None:
    assert media_file(links, "videos", "a.mp4") == (tmp_path / "Videos" / "a.mp4").resolve()
    (tmp_path / "Videos" / "a.vtt").write_text("WEBVTT\n")
    assert media_file(links, "videos", "a.vtt") == (tmp_path / "Videos" / "a.vtt").resolve()
    assert media_file(links, "files", "avatars/t.png") == (tmp_path / "files" / "avatars" / "t.png").resolve()


@pytest.mark.parametrize(
    ("kind", "rel"),
    [
        ("videos", "../secret.mp4"),
        ("videos", "link.mp4"),
        ("videos", ".hidden.mp4"),
        ("videos", "missing.mp4"),
        ("files", "../Videos/a.mp4"),
        ("elsewhere", "a.mp4"),
        ("videos", "a.mp4\x00"),
    ],
)
def test_anything_else_is_not_found(links: Links, kind: str, rel: str) -> None:
    assert media_file(links, kind, rel) is None


def test_links_point_at_the_server_and_never_at_its_disk(links: Links, tmp_path: Path) -> None:
    assert links.video(str(tmp_path / "Videos" / "a b.mp4")) == "http://127.0.0.1:8000/media/videos/a%20b.mp4"
    assert (
        links.engine(str(tmp_path / "files" / "avatars" / "t.png")) == "http://127.0.0.1:8000/media/files/avatars/t.png"
    )
    assert links.engine(str(tmp_path / "secret.mp4")) is None
    assert links.engine("https://cdn.example/x.png") == "https://cdn.example/x.png"


def test_the_base_url_is_the_configured_one_or_the_bound_address() -> None:
    assert bound_base_url("0.0.0.0", 8000, None) == "http://127.0.0.1:8000"  # noqa: S104
    assert bound_base_url("::1", 8000, None) == "http://[::1]:8000"
    assert bound_base_url("127.0.0.1", 8000, "https://mcp.example/base/") == "https://mcp.example/base"
