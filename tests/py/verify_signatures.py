"""Verifies recorded webhook requests with the reference Standard Webhooks
library (PyPI `standardwebhooks`). Input: a JSON file
{"secret": "...", "requests": [{"body_b64": "...", "headers": {...}}]}.
Prints "verified N" and exits 0, or names the first request that fails."""

import base64
import json
import sys

from standardwebhooks.webhooks import Webhook


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    hook = Webhook(data["secret"])
    for i, request in enumerate(data["requests"]):
        body = base64.b64decode(request["body_b64"])
        try:
            hook.verify(body, request["headers"], json_parse=False)
        except Exception as e:  # the library raises WebhookVerificationError
            print(f"request {i} failed verification: {e!r}")
            return 1
    print(f"verified {len(data['requests'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
