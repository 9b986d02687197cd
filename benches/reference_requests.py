"""The reference client for benches/compare.rs: Python requests.Session
(one pooled keep-alive connection) posting the same JSON to the same HTTPS
server. Prints "rps=<requests per second>".

    python reference_requests.py URL CA_PEM JSON_FILE COUNT
"""

import sys
import time

import requests


def main() -> None:
    url, ca, json_file, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with open(json_file, "rb") as f:
        body = f.read()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    with requests.Session() as session:
        def post() -> None:
            response = session.post(url, data=body, headers=headers, verify=ca)
            if response.status_code != 200:
                raise SystemExit(f"status {response.status_code}")

        for _ in range(min(count // 10, 50)):
            post()
        start = time.perf_counter()
        for _ in range(count):
            post()
        elapsed = time.perf_counter() - start
    print(f"rps={count / elapsed:.1f}")


if __name__ == "__main__":
    main()
