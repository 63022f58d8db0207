"""Synthetic EC2 DescribeVpcs pages and an STS GetCallerIdentity answer, pre-rendered as the
exact bytes the latency server sends (and the native pass parses).

Each VPC looks like one real EC2 returns for a non-default VPC with two tags, indented as real
EC2 responses are. VPC i of a dataset is always the same bytes, so the pages are reproducible.
"""

ACCOUNT = "123456789012"
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

# One VPC, as EC2 renders it. `%(n)017x` keeps every id unique and 17 hex digits long.
_ITEM = """        <item>
            <vpcId>vpc-%(n)017x</vpcId>
            <ownerId>123456789012</ownerId>
            <state>available</state>
            <cidrBlock>10.%(a)d.%(b)d.0/24</cidrBlock>
            <cidrBlockAssociationSet>
                <item>
                    <cidrBlock>10.%(a)d.%(b)d.0/24</cidrBlock>
                    <associationId>vpc-cidr-assoc-%(n)017x</associationId>
                    <cidrBlockState>
                        <state>associated</state>
                    </cidrBlockState>
                </item>
            </cidrBlockAssociationSet>
            <dhcpOptionsId>dopt-%(d)08x</dhcpOptionsId>
            <tagSet>
                <item>
                    <key>Name</key>
                    <value>%(prefix)s-vpc-%(i)d</value>
                </item>
                <item>
                    <key>team</key>
                    <value>platform &amp; tools</value>
                </item>
            </tagSet>
            <instanceTenancy>default</instanceTenancy>
            <isDefault>false</isDefault>
            <blockPublicAccessStates>
                <internetGatewayBlockMode>off</internetGatewayBlockMode>
            </blockPublicAccessStates>
        </item>
"""


def render_items(prefix: str, base: int, start: int, stop: int) -> str:
    """VPCs start..stop (exclusive) of a dataset whose ids start at `base`."""
    item = _ITEM
    return "".join(
        item
        % {
            "n": base + i,
            "a": (i >> 8) & 0xFF,
            "b": i & 0xFF,
            "d": (base + i) & 0xFFFFFFFF,
            "prefix": prefix,
            "i": i,
        }
        for i in range(start, stop)
    )


def page_token(page: int) -> str:
    return "page-%06d" % page


def parse_token(token: str):
    if not token.startswith("page-"):
        return None
    try:
        return int(token[5:])
    except ValueError:
        return None


def render_page(prefix: str, base: int, total: int, page: int, page_size: int) -> bytes:
    """Page `page` (0-based) of a dataset of `total` VPCs, `page_size` per page."""
    start = page * page_size
    stop = min(total, start + page_size)
    more = stop < total
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<DescribeVpcsResponse xmlns="%s">\n' % EC2_NS,
        "    <requestId>%08x-0000-4000-8000-%012x</requestId>\n" % (base & 0xFFFFFFFF, page),
        "    <vpcSet>\n",
        render_items(prefix, base, start, stop),
        "    </vpcSet>\n",
    ]
    if more:
        parts.append("    <nextToken>%s</nextToken>\n" % page_token(page + 1))
    parts.append("</DescribeVpcsResponse>")
    return "".join(parts).encode()


def page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def caller_identity() -> bytes:
    return (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n'
        "  <GetCallerIdentityResult>\n"
        "    <Arn>arn:aws:iam::%s:user/bench</Arn>\n"
        "    <UserId>AIDABENCHBENCHBENCH01</UserId>\n"
        "    <Account>%s</Account>\n"
        "  </GetCallerIdentityResult>\n"
        "  <ResponseMetadata>\n"
        "    <RequestId>01234567-89ab-4def-8123-456789abcdef</RequestId>\n"
        "  </ResponseMetadata>\n"
        "</GetCallerIdentityResponse>\n" % (ACCOUNT, ACCOUNT)
    ).encode()


def ec2_error(code: str, message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code>'
        "<Message>%s</Message></Error></Errors><RequestID>bench</RequestID></Response>"
        % (code, message)
    ).encode()
