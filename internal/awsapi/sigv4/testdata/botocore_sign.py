"""Sign requests with botocore's SigV4Auth, for botocore_test.go.

Usage: botocore_sign.py ENDPOINT

Prints a JSON list of requests signed for service "ecr" in us-east-1, each
{"name", "method", "url", "headers", "body", "session_token"}, which the Go
test sends to ENDPOINT and verifies.
"""

import json
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "AKIDBOTOCORE"
SECRET_KEY = "botocore/Secret+Key"
TARGET = "AmazonEC2ContainerRegistry_V20150921."
JSON_11 = "application/x-amz-json-1.1"

CASES = [
    {
        "name": "GetAuthorizationToken",
        "method": "POST",
        "path": "/",
        "headers": {"X-Amz-Target": TARGET + "GetAuthorizationToken", "Content-Type": JSON_11},
        "body": "{}",
    },
    {
        "name": "DescribeRepositories with session token",
        "method": "POST",
        "path": "/",
        "headers": {"X-Amz-Target": TARGET + "DescribeRepositories", "Content-Type": JSON_11},
        "body": '{"repositoryNames": ["team/app"], "maxResults": 10}',
        "token": "IQoJb3JpZ2luX2VjE//session+token==",
    },
    {
        "name": "GET with odd path and query",
        "method": "GET",
        "path": "/a%20b/caf%C3%A9/x~y/",
        "query": "b=x%20y&a=2&a=1&tilde=~me&flag&enc=%2F%3D",
        "headers": {"X-Custom": "  spaced    out  "},
        "body": "",
    },
]


def main():
    endpoint = sys.argv[1].rstrip("/")
    out = []
    for case in CASES:
        url = endpoint + case["path"]
        if case.get("query"):
            url += "?" + case["query"]
        request = AWSRequest(
            method=case["method"],
            url=url,
            headers=dict(case["headers"]),
            data=case["body"].encode(),
        )
        credentials = Credentials(ACCESS_KEY, SECRET_KEY, case.get("token"))
        SigV4Auth(credentials, "ecr", "us-east-1").add_auth(request)
        prepared = request.prepare()
        headers = {
            k: v.decode() if isinstance(v, bytes) else v
            for k, v in prepared.headers.items()
        }
        body = prepared.body or b""
        out.append(
            {
                "name": case["name"],
                "method": prepared.method,
                "url": prepared.url,
                "headers": headers,
                "body": body.decode() if isinstance(body, bytes) else body,
                "session_token": case.get("token") or "",
            }
        )
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
