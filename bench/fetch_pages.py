#!/usr/bin/env python3
"""What the server costs by itself: fetch every DescribeVpcs page over one keep-alive
connection, following NextToken, parsing nothing but the token.

    fetch_pages.py URL REGION
"""

import http.client
import re
import sys
from urllib.parse import urlparse

url, region = sys.argv[1], sys.argv[2]
u = urlparse(url)
conn = http.client.HTTPConnection(u.hostname, u.port)
headers = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/%s/ec2/aws4_request, "
    "SignedHeaders=host, Signature=0" % region,
    "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
}
token, pages, size = None, 0, 0
while True:
    body = "Action=DescribeVpcs&Version=2016-11-15"
    if token:
        body += "&NextToken=" + token
    conn.request("POST", "/", body=body, headers=headers)
    data = conn.getresponse().read()
    pages += 1
    size += len(data)
    # The token is near the end of the page.
    m = re.search(rb"<nextToken>([^<]+)</nextToken>", data[-200:])
    if not m:
        break
    token = m.group(1).decode()
    if pages > 100000:
        sys.exit("too many pages")
print("%d pages, %.1f MB" % (pages, size / 1e6), file=sys.stderr)
