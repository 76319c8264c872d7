"""The OpenAPI 3.1 document of the local engine's API (served at /openapi.json)."""

from __future__ import annotations

from typing import Any

from akool_mcp.media.probe import limits
from akool_mcp.models import AvatarCreateRequest, TalkingVideoRequest


def _envelope(data_ref: dict[str, Any] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {
        "code": {"type": "integer", "description": "1000 success; see the Akool error codes"},
        "msg": {"type": "string"},
    }
    if data_ref is not None:
        props["data"] = data_ref
    return {
        "description": "Akool envelope (business errors also answer HTTP 200 with another code)",
        "content": {"application/json": {"schema": {"type": "object", "properties": props, "required": ["code"]}}},
    }


def _query(name: str, schema: dict[str, Any], description: str, *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


_AVATAR = {
    "type": "object",
    "properties": {
        "_id": {"type": "string"},
        "avatar_id": {"type": "string"},
        "name": {"type": "string"},
        "type": {"type": "integer", "enum": [1, 2]},
        "from": {"type": "integer", "enum": [2, 3]},
        "status": {"type": "integer", "enum": [1, 2, 3, 4]},
        "url": {"type": "string"},
        "thumbnailUrl": {"type": "string"},
        "gender": {"type": "string"},
        "create_time": {"type": "integer"},
        "error_reason": {"type": "string"},
    },
}
_VIDEO = {
    "type": "object",
    "properties": {
        "_id": {"type": "string"},
        "video_id": {"type": "string"},
        "task_id": {"type": "string"},
        "video_status": {"type": "integer", "enum": [1, 2, 3, 4]},
        "video": {"type": "string", "description": "the MP4 URL once video_status is 3"},
        "create_time": {"type": "integer"},
        "deduction_duration": {"type": "number"},
        "progress": {"type": "number"},
        "error_code": {"type": "integer"},
        "error_reason": {"type": "string"},
        "webhook": {
            "type": "object",
            "description": "the latest webhook delivery for this video, when webhookUrl was given",
            "properties": {
                "state": {"type": "string", "enum": ["none yet", "pending", "delivered", "failed"]},
                "attempts": {"type": "integer"},
                "last_error": {"type": ["string", "null"]},
            },
        },
    },
}
_HEALTH = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded", "unavailable"]},
        "workers": {"type": "object", "properties": {"alive": {"type": "integer"}, "total": {"type": "integer"}}},
        "queue": {
            "type": "object",
            "properties": {
                "queued": {"type": "integer", "description": "videos waiting"},
                "processing": {"type": "integer", "description": "videos rendering"},
                "unfinished_jobs": {"type": "integer", "description": "videos and avatars waiting or running"},
                "limit": {"type": "integer", "description": "AKOOL_MAX_QUEUED_JOBS"},
                "per_client_limit": {"type": "integer", "description": "AKOOL_MAX_QUEUED_PER_CLIENT"},
            },
        },
        "webhooks": {"type": "object"},
        "restarts": {"type": "integer"},
        "quarantined": {"type": "integer"},
        "last_error": {"type": ["string", "null"]},
    },
}
LIMITS = (
    "Limits: request bodies up to 1 MiB (larger: HTTP 413), JSON nested at most 16 levels; text may not hold "
    "NUL or lone surrogates; URLs up to 2048 characters; avatar_id up to 64 letters and digits on upload; "
    "name up to 200 characters; images up to 50 megapixels (read from the file header); media up to 300 MB. "
    "Bearer tokens expire after AKOOL_LOCAL_TOKEN_TTL_DAYS (365) and all die when the secret changes; "
    "getToken allows 10 calls a minute per client (code 1005 with Retry-After past that). A private or "
    "loopback webhookUrl is refused (1003) unless AKOOL_ALLOW_PRIVATE_URLS=true; link-local and cloud metadata "
    "addresses always are. Avatar videos and audio are probed when they arrive and before a render, and refused "
    "(avatar status 4, or video status 4 naming the element) outside the limits in `x-media-limits`. A render must "
    "finish within AKOOL_RENDER_BUDGET_SECONDS (120) + AKOOL_RENDER_BUDGET_FACTOR (10) x its speech's length, or "
    "it fails naming the input that made it slow. At most AKOOL_MAX_QUEUED_JOBS (100) videos and avatars wait or "
    "run at once, AKOOL_MAX_QUEUED_PER_CLIENT (20) for one caller address: past that a create answers code 1005 "
    "with Retry-After and queues nothing. Webhooks to one receiver go one at a time, in order, 10 s each; "
    "receivers do not wait on each other."
)
_TOO_LARGE = {"description": "the body is over 1 MiB (envelope with code 1003)"}


def openapi_document() -> dict[str, Any]:
    security: list[dict[str, list[str]]] = [{"apiKey": []}, {"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "akool-mcp local engine",
            "version": "1.0",
            "description": "A self-hosted implementation of Akool's Talking Avatar API that renders on this machine. "
            + LIMITS,
            "x-media-limits": limits(),
        },
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
                "TalkingVideoRequest": TalkingVideoRequest.model_json_schema(by_alias=True),
                "AvatarCreateRequest": AvatarCreateRequest.model_json_schema(by_alias=True),
                "Avatar": _AVATAR,
                "Video": _VIDEO,
                "Health": _HEALTH,
            },
        },
        "paths": {
            "/api/open/v3/getToken": {
                "post": {
                    "summary": "Exchange clientId and clientSecret for a bearer token (token at the top level)",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"clientId": {"type": "string"}, "clientSecret": {"type": "string"}},
                                    "required": ["clientId", "clientSecret"],
                                }
                            }
                        }
                    },
                    "responses": {"200": _envelope(), "413": _TOO_LARGE},
                }
            },
            "/api/open/v3/avatar/list": {
                "get": {
                    "summary": "List avatars",
                    "security": security,
                    "parameters": [
                        _query("from", {"type": "integer", "enum": [2, 3]}, "2 official, 3 uploaded; absent = all"),
                        _query("type", {"type": "integer", "enum": [1, 2]}, "1 talking, 2 streaming; absent = all"),
                        _query("page", {"type": "integer", "minimum": 1, "default": 1}, "page number"),
                        _query("size", {"type": "integer", "minimum": 1, "default": 100}, "page size"),
                    ],
                    "responses": {
                        "200": _envelope(
                            {
                                "type": "object",
                                "properties": {
                                    "count": {"type": "integer"},
                                    "result": {"type": "array", "items": {"$ref": "#/components/schemas/Avatar"}},
                                },
                            }
                        )
                    },
                }
            },
            "/api/open/v3/avatar/detail": {
                "get": {
                    "summary": "One avatar by its record _id",
                    "security": security,
                    "parameters": [_query("id", {"type": "string"}, "avatar record _id", required=True)],
                    "responses": {"200": _envelope({"$ref": "#/components/schemas/Avatar"})},
                }
            },
            "/api/open/v3/avatar/create": {
                "post": {
                    "summary": "Upload an avatar from a video or image URL (prepared in the background)",
                    "security": security,
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/AvatarCreateRequest"}}
                        }
                    },
                    "responses": {"200": _envelope({"$ref": "#/components/schemas/Avatar"}), "413": _TOO_LARGE},
                }
            },
            "/api/open/v3/avatar/delete": {
                "post": {
                    "summary": "Delete one of your own avatars (an engine extension; Akool's v3 API has no delete)",
                    "security": security,
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"id": {"type": "string", "description": "the avatar record _id"}},
                                    "required": ["id"],
                                }
                            }
                        }
                    },
                    "responses": {"200": _envelope(), "413": _TOO_LARGE},
                }
            },
            "/api/open/v3/talkingavatar/create": {
                "post": {
                    "summary": "Create a 3840x2160 talking-avatar video",
                    "security": security,
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/TalkingVideoRequest"}}
                        }
                    },
                    "responses": {"200": _envelope({"$ref": "#/components/schemas/Video"}), "413": _TOO_LARGE},
                }
            },
            "/api/open/v3/content/video/infobymodelid": {
                "get": {
                    "summary": "A video's status, and its URL once completed",
                    "security": security,
                    "parameters": [
                        _query("video_model_id", {"type": "string"}, "the _id create returned", required=True)
                    ],
                    "responses": {"200": _envelope({"$ref": "#/components/schemas/Video"})},
                }
            },
            "/api/open/v4/voice/list": {
                "get": {
                    "summary": "Voices for input_text",
                    "security": security,
                    "parameters": [
                        _query("type", {"type": "integer"}, "2 built-in voices"),
                        _query("page", {"type": "integer", "minimum": 1}, "page number"),
                        _query("size", {"type": "integer", "minimum": 1}, "page size"),
                    ],
                    "responses": {"200": _envelope()},
                }
            },
            "/api/open/v3/faceswap/quota/info": {
                "get": {"summary": "Credit balance", "security": security, "responses": {"200": _envelope()}}
            },
            "/health": {
                "get": {
                    "summary": "Whether the engine can take work: render workers alive, queue, webhooks, last error",
                    "responses": {
                        "200": {
                            "description": "able to take work",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}},
                        },
                        "503": {
                            "description": "no render worker alive, or the store unusable",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}},
                        },
                    },
                }
            },
        },
    }
