"""What the HTTP media route will serve: regular files inside its three roots, behind a signed, expiring link."""

from __future__ import annotations

from pathlib import Path

import pytest

from akool_mcp.domain.links import Links, LinkSigner, bound_base_url, load_link_secret
from akool_mcp.server.media_routes import media_file

NOW = 1_800_000_000.0


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
        signer=LinkSigner.from_secret("s" * 32, ttl=3600, now=lambda: NOW),
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


def test_links_point_at_the_server_signed_and_never_at_its_disk(links: Links, tmp_path: Path) -> None:
    video = links.video(str(tmp_path / "Videos" / "a b.mp4")) or ""
    assert video.startswith("http://127.0.0.1:8000/media/videos/a%20b.mp4?expires=1800003600&signature=")
    thumbnail = links.engine(str(tmp_path / "files" / "avatars" / "t.png")) or ""
    assert thumbnail.startswith("http://127.0.0.1:8000/media/files/avatars/t.png?expires=")
    assert links.engine(str(tmp_path / "secret.mp4")) is None
    assert links.engine("https://cdn.example/x.png") == "https://cdn.example/x.png"


def signed(links: Links, path: str) -> tuple[str, str]:
    assert links.signer is not None
    query = dict(part.split("=", 1) for part in links.signer.query(path).split("&"))
    return query["expires"], query["signature"]


def test_a_signed_link_is_good_for_its_path_until_it_expires(links: Links) -> None:
    assert links.signer is not None
    expires, signature = signed(links, "/media/videos/a.mp4")
    assert links.signer.refusal("/media/videos/a.mp4", expires, signature) is None
    later = LinkSigner(links.signer.key, 3600, now=lambda: NOW + 3601)
    assert "expired at 2027-01-15 09:00 UTC" in (later.refusal("/media/videos/a.mp4", expires, signature) or "")


@pytest.mark.parametrize(
    ("path", "change"),
    [
        ("/media/videos/other.mp4", "none"),  # another file's link
        ("/media/videos/a.mp4", "expires"),  # a later expiry written in
        ("/media/videos/a.mp4", "signature"),  # a letter changed
        ("/media/videos/a.mp4", "key"),  # made by another server
    ],
)
def test_a_changed_link_or_another_files_link_is_refused(links: Links, path: str, change: str) -> None:
    assert links.signer is not None
    expires, signature = signed(links, "/media/videos/a.mp4")
    signer = links.signer
    if change == "expires":
        expires = str(int(expires) + 86400)
    elif change == "signature":
        signature = ("A" if signature[0] != "A" else "B") + signature[1:]
    elif change == "key":
        signer = LinkSigner.from_secret("t" * 32, ttl=3600, now=lambda: NOW)
    refusal = signer.refusal(path, expires, signature) or ""
    assert refusal.startswith("This link is not valid")


def test_an_unsigned_link_is_refused_saying_how_to_get_a_working_one(links: Links) -> None:
    assert links.signer is not None
    assert "not signed" in (links.signer.refusal("/media/videos/a.mp4", None, None) or "")


def test_the_signing_secret_is_kept_private_and_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = load_link_secret(data, None)
    assert load_link_secret(data, None) == first and len(first) >= 32
    assert (data / "link-secret").stat().st_mode & 0o777 == 0o600 and data.stat().st_mode & 0o777 == 0o700
    assert load_link_secret(data, "configured-secret") == "configured-secret"


def test_the_base_url_is_the_configured_one_or_the_bound_address() -> None:
    assert bound_base_url("0.0.0.0", 8000, None) == "http://127.0.0.1:8000"  # noqa: S104
    assert bound_base_url("::1", 8000, None) == "http://[::1]:8000"
    assert bound_base_url("127.0.0.1", 8000, "https://mcp.example/base/") == "https://mcp.example/base"
