"""Signs webhooks with the reference Standard Webhooks libraries from PyPI,
`standardwebhooks` and the `svix` package's Webhook, for VerifySignature's
tests. Input: a JSON file {"secret": "whsec_...", "messages": [{"id": "...",
"timestamp": 1700000000, "body": "..."}]}. Prints a JSON array with, for
each message, {"standardwebhooks": "v1,...", "svix": "v1,..."}."""

import json
import sys
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook
from svix.webhooks import Webhook as SvixWebhook


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    std = Webhook(data["secret"])
    svix = SvixWebhook(data["secret"])
    out = []
    for m in data["messages"]:
        at = datetime.fromtimestamp(m["timestamp"], tz=timezone.utc)
        out.append({
            "standardwebhooks": std.sign(m["id"], at, m["body"]),
            "svix": svix.sign(m["id"], at, m["body"]),
        })
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
