#!/usr/bin/env bash
# The local engine as an Akool-compatible HTTP server, driven with curl: create a talking video, poll it,
# download it, and check the webhook it sent with akool_mcp.client.webhook.verify_and_decrypt.
#
#   source .venv/bin/activate && examples/local_engine_http.sh [out.mp4] [text]
#
# Needs akool-mcp and python on PATH, and curl. PORT (8000) and HOOK_PORT (8001) choose the ports.
set -euo pipefail
OUT="${1:-out/local-engine.mp4}"
TEXT="${2:-Hello from the akool-mcp local engine.}"
PORT="${PORT:-8000}"
HOOK_PORT="${HOOK_PORT:-8001}"
WORK="$(mktemp -d)"
export AKOOL_DATA_DIR="${AKOOL_DATA_DIR:-$WORK/data}"
# Fixed credentials instead of generated ones; the client secret is also the webhook AES key (32 chars).
export AKOOL_LOCAL_CLIENT_ID="example-client"
export AKOOL_LOCAL_CLIENT_SECRET="${AKOOL_LOCAL_CLIENT_SECRET:-$(python -c 'import secrets; print(secrets.token_hex(16))')}"
export AKOOL_ALLOW_PRIVATE_URLS=true  # the webhook receiver below listens on 127.0.0.1
KEY="$AKOOL_LOCAL_CLIENT_SECRET"      # the engine's x-api-key is its client secret
BASE="http://127.0.0.1:$PORT"

akool-mcp local-api --port "$PORT" 2>"$WORK/engine.log" &
ENGINE=$!
# A webhook receiver: appends every POST body as one line to hooks.jsonl and answers 200.
python - "$HOOK_PORT" "$WORK/hooks.jsonl" <<'PY' &
import http.server, sys
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[2], "ab") as f:
            f.write(body.replace(b"\n", b"") + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Hook).serve_forever()
PY
HOOK=$!
trap 'kill "$ENGINE" "$HOOK" 2>/dev/null || true; wait 2>/dev/null || true' EXIT

api() { curl -sSf -H "x-api-key: $KEY" "$@"; }
json() { python -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

for _ in $(seq 100); do curl -sf "$BASE/health" >/dev/null && break; sleep 0.2; done
AVATAR=$(api "$BASE/api/open/v3/avatar/list?from=2&size=1" | json 'd["data"]["result"][0]["avatar_id"]')
VOICE=$(api "$BASE/api/open/v4/voice/list" | json 'd["data"]["result"][0]["voice_id"]')
BODY=$(python - "$AVATAR" "$VOICE" "$TEXT" "http://127.0.0.1:$HOOK_PORT/hook" <<'PY'
import json, sys
avatar, voice, text, hook = sys.argv[1:]
full = {"width": 3840, "height": 2160, "scale_x": 1, "scale_y": 1, "offset_x": 1920, "offset_y": 1080}
print(json.dumps({
    "width": 3840, "height": 2160, "avatar_from": 2, "webhookUrl": hook,
    "elements": [
        {"type": "image", "url": "#2B5F8E", **full},
        {"type": "avatar", "avatar_id": avatar, **full, "width": 2160, "height": 2160},
        {"type": "audio", "input_text": text, "voice_id": voice},
    ],
}))
PY
)
VIDEO=$(api -H "Content-Type: application/json" -d "$BODY" "$BASE/api/open/v3/talkingavatar/create" | json 'd["data"]["_id"]')
echo "created video $VIDEO (avatar $AVATAR, voice $VOICE)"

STATUS=1
for _ in $(seq 600); do  # 1 queued, 2 processing, 3 completed, 4 failed
  STATUS=$(api "$BASE/api/open/v3/content/video/infobymodelid?video_model_id=$VIDEO" | json 'd["data"]["video_status"]')
  [ "$STATUS" -ge 3 ] && break
  sleep 0.5
done
[ "$STATUS" = 3 ] || { echo "the video did not complete (status $STATUS)" >&2; exit 1; }
URL=$(api "$BASE/api/open/v3/content/video/infobymodelid?video_model_id=$VIDEO" | json 'd["data"]["video"]')
mkdir -p "$(dirname "$OUT")"
curl -sSf -o "$OUT" "$URL"
echo "downloaded $URL -> $OUT"

# Every status change is POSTed to webhookUrl as a sealed envelope; the completion may land just after
# the status turns 3. Check and open each one as your own receiver would.
python - "$WORK/hooks.jsonl" <<'PY'
import os, sys, time
from akool_mcp.client.webhook import verify_and_decrypt
keys = {"client_id": os.environ["AKOOL_LOCAL_CLIENT_ID"], "client_secret": os.environ["AKOOL_LOCAL_CLIENT_SECRET"]}
for _ in range(100):
    lines = open(sys.argv[1], "rb").read().splitlines() if os.path.exists(sys.argv[1]) else []
    events = [verify_and_decrypt(line, **keys, max_age_seconds=600) for line in lines]
    if any(e.status >= 3 for e in events):
        break
    time.sleep(0.1)
else:
    sys.exit("no completion webhook arrived")
for event in events:
    print(f"webhook verified: video {event.id} status {event.status} url {event.url}")
PY
