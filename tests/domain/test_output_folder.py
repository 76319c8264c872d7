"""The output folder: names checked, nothing replaced, nothing written through a swapped folder, a full
disk said plainly with nothing left behind."""

from __future__ import annotations

import errno
import threading
from pathlib import Path

import pytest

from akool_mcp.domain.output_folder import OutputFolder, checked_name
from akool_mcp.errors import InputError, SaveError


def video(tmp_path: Path, name: str, fill: bytes) -> Path:
    path = tmp_path / "engine" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(fill * 100_000)
    return path


@pytest.mark.parametrize(
    "name",
    ["CON", "nul.mp4", "Com1.mp4", "LPT9", "aux .mp4", "evil\u202egnp.mp4", "zero\u200bwidth.mp4", "bom\ufeff.mp4"],
)
def test_device_names_and_invisible_characters_are_refused(name: str) -> None:
    with pytest.raises(InputError) as refused:
        checked_name(name)
    assert refused.value.field == "name"


def test_ordinary_names_pass_and_gain_their_extension() -> None:
    assert checked_name("Holiday greetings") == "Holiday greetings.mp4"
    assert checked_name("café-intro.MP4") == "café-intro.MP4"
    assert checked_name("console.mp4") == "console.mp4"  # only the device names themselves are reserved


def test_two_saves_with_one_name_never_both_succeed_nor_mix(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path / "Videos")
    sources = [video(tmp_path, "a.mp4", b"A"), video(tmp_path, "b.mp4", b"B")]
    for round_ in range(10):
        name = f"same-{round_}.mp4"
        outcomes: list[str] = []
        start = threading.Barrier(2)

        def save(
            source: Path, name: str = name, outcomes: list[str] = outcomes, start: threading.Barrier = start
        ) -> None:
            start.wait()
            try:
                folder.place(name, source)
                outcomes.append(source.name)
            except FileExistsError:
                outcomes.append("refused")

        threads = [threading.Thread(target=save, args=(source,)) for source in sources]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes)[1] == "refused" and sorted(outcomes)[0] in ("a.mp4", "b.mp4")
        kept = (tmp_path / "Videos" / name).read_bytes()
        assert kept in (b"A" * 100_000, b"B" * 100_000)
    assert sorted(p.name for p in (tmp_path / "Videos").iterdir()) == [f"same-{n}.mp4" for n in range(10)]


def test_a_users_own_part_file_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "Videos"
    out.mkdir()
    (out / "holiday.mp4.part").write_bytes(b"the user's half-copied file")
    OutputFolder(out).place("holiday.mp4", video(tmp_path, "a.mp4", b"A"))
    assert (out / "holiday.mp4.part").read_bytes() == b"the user's half-copied file"
    assert sorted(p.name for p in out.iterdir()) == ["holiday.mp4", "holiday.mp4.part"]


def test_a_folder_swapped_for_a_link_after_start_is_not_written_through(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "Videos", tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = OutputFolder(out)
    folder.place("first.mp4", video(tmp_path, "a.mp4", b"A"))
    (out / "first.mp4").unlink()
    out.rmdir()
    out.symlink_to(elsewhere)
    with pytest.raises(SaveError, match="was replaced"):
        folder.place("second.mp4", video(tmp_path, "b.mp4", b"B"))
    assert list(elsewhere.iterdir()) == []


class FullDisk:
    """A file that fills up after a few bytes, as a full disk answers (ENOSPC)."""

    def __init__(self) -> None:
        self.closed = False

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def close(self) -> None:
        self.closed = True


def test_a_full_disk_is_said_plainly_and_leaves_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "Videos"
    folder = OutputFolder(out)
    with folder.create("big.mp4") as new:
        new.file.close()
        new.file = FullDisk()  # type: ignore[assignment]  # the disk fills up under the write
        with pytest.raises(SaveError) as failed:
            new.write(b"x" * 1024)
    assert str(failed.value) == (
        "not enough disk space in the output folder 'Videos' (AKOOL_OUTPUT_DIR); free some space, then try again."
    )
    assert str(tmp_path) not in str(failed.value)
    assert list(out.iterdir()) == []
