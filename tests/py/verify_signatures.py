"""Verifies recorded webhook requests with the reference Standard Webhooks
verifiers from PyPI: `standardwebhooks` and the `svix` package's Webhook.
Input: a JSON file {"secrets": ["...", ...], "requests": [{"body_b64":
"...", "headers": {...}}]} ("secret": "..." for one). Every request must
verify with each secret alone, by both libraries. Prints "verified N" and
exits 0, or names the first request that fails and exits 1."""

import base64
import json
import sys

from standardwebhooks.webhooks import Webhook
from svix.webhooks import Webhook as SvixWebhook


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    secrets = data.get("secrets") or [data["secret"]]
    verifiers = []
    for n, secret in enumerate(secrets):
        # A secret without whsec_ is its UTF-8 bytes (as the add-in signs):
        # standardwebhooks takes bytes for that, svix only the whsec_ form.
        whsec = secret.startswith("whsec_")
        std_secret = secret if whsec else secret.encode()
        svix_secret = secret if whsec else (
            "whsec_" + base64.b64encode(secret.encode()).decode())
        verifiers.append((f"standardwebhooks, secret {n}",
                          lambda b, h, w=Webhook(std_secret): w.verify(b, h, json_parse=False)))
        verifiers.append((f"svix, secret {n}",
                          lambda b, h, w=SvixWebhook(svix_secret): w.verify(b, h)))
    for i, request in enumerate(data["requests"]):
        body = base64.b64decode(request["body_b64"])
        for name, verify in verifiers:
            try:
                verify(body, request["headers"])
            except Exception as e:  # both raise WebhookVerificationError
                print(f"request {i} failed verification ({name}): {e!r}")
                return 1
    print(f"verified {len(data['requests'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
