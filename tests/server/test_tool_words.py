"""What the model reads about progress and failures: the tool's words, not the engine's or the API's."""

from __future__ import annotations

from akool_mcp.domain.compose import VideoSpec
from akool_mcp.domain.requests import element_params, explain_failure
from akool_mcp.models import Video
from akool_mcp.tools.videos import progress_report


def test_a_failed_download_names_the_parameter_and_the_link_the_user_gave() -> None:
    spec = VideoSpec(avatar_id="local_amara", audio_url="https://media.example/talk.mp3")
    reason = f"elements[2]: 'audio-{'ab' * 16}.mp3' has no audio stream; give an mp3, wav, m4a, ogg or flac file"
    told = explain_failure(reason, element_params(spec))
    assert told == (
        "audio_url: 'https://media.example/talk.mp3' has no audio stream; give an mp3, wav, m4a, ogg or flac file"
    )


def test_a_failure_without_an_element_reference_is_left_as_it_is() -> None:
    params = element_params(VideoSpec(avatar_id="a", text="hi", voice_id="v"))
    assert explain_failure("the disk is full", params) == "the disk is full"
    assert explain_failure("elements[9]: odd", params) == "elements[9]: odd"
    assert explain_failure(None, params) is None


def test_progress_is_the_render_percentage_out_of_100_when_the_backend_reports_it() -> None:
    video = Video.model_validate({"_id": "v1", "video_status": 2, "progress": 0.42})
    assert progress_report(video, 12.4, 45) == (42.0, 100.0, "video processing 42%, 12 s waited")


def test_progress_counts_seconds_waited_when_no_percentage_is_known() -> None:
    video = Video.model_validate({"_id": "v1", "video_status": 1})
    assert progress_report(video, 3.0, 45) == (3.0, 45, "video queueing, 3 s of 45 s waited")
