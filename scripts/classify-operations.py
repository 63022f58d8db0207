#!/usr/bin/env python3
"""Classify every operation of every AWS service model into one of five classes.

    scripts/classify-operations.py            regenerate crates/aws-engine/data/operation-classes.tsv
    scripts/classify-operations.py --check    compare, do not write: exit 1 when an operation of the
                                              models is missing from the data file (or the reverse),
                                              when a class differs from what the rule and overrides
                                              give now, or when an override names no operation
    scripts/classify-operations.py --review   print the lists a reviewer goes through after a model
                                              update (see docs/operation-classes.md)
    scripts/classify-operations.py --explain SERVICE:Operation   the rule's reasoning for one operation

Classes (docs/operation-classes.md):

    read    metadata; allowed by default
    data    reads customer data: object bodies, items, log events, query results
    secret  returns credentials, tokens, passwords, keys, decrypted values
    billed  charged per request beyond the normal API price
    write   anything with an effect (and every verb nobody listed)

Models: the newest API version of every service in the installed botocore (the `.venv` made by
scripts/setup.sh has the version the embedded pack was built from; if botocore cannot be imported
the script re-runs itself with .venv/bin/python). Operations are the keys of each model's
"operations" map: cloudfront's key ListDistributions has "name": "ListDistributions2020_05_31"
inside; the key is what mrhost and boto3 use. With the pack present (crates/aws-engine/models/botocore.pack)
--check also compares against the operations the binary embeds.

The rule, first match wins (the source column of the data file names the step):

 1. override         crates/aws-engine/data/operation-classes.overrides, reviewed by hand
 2. rest:PUT|PATCH|DELETE   a REST operation with one of these methods is a write
 3. verb:<Verb>      the operation's verb (leading CamelCase word; a leading Batch or Admin is
                     peeled off: BatchGetItem -> Get, AdminListGroupsForUser -> List) is not one
                     of READ_VERBS or DATA_VERBS -> write, unless the REST method is GET/HEAD
                     (then the operation is a read candidate with source rest:GET / rest:HEAD)
    Read candidates (read or data verbs, or a REST GET/HEAD) then go through the output shape:
 4. output:secret-member   a string/blob anywhere in the output named like a credential
                     (SECRET_STRONG), or a member the model marks sensitive named like one
                     (SECRET_WEAK), or a sensitive container of environment variables,
                     credentials or headers (SECRET_CONTAINERS: Lambda and ECS environments);
                     members documented as redacted/not returned do not count
 5. output:stream    the output has a streaming blob, an event stream, or a blob HTTP payload
 6. output:item-attributes  the output holds DynamoDB-style attribute-value maps (table items)
 7. output:sensitive-data  a member the model marks sensitive named like content (SENSITIVE_DATA:
                     EC2 UserData, Step Functions input/output, message bodies)
 8. output:presigned-url  a string member named like a pre-signed/download URL (PRESIGNED_URL)
 9. output:data-member   a top-level output member named like record data (DATA_MEMBERS),
                     for read verbs
10. doc:charged      the operation's documentation says calls are charged (BILLED_DOC), for read
                     verbs; a candidate list: every hit is confirmed or overridden by review
11. verb:<Verb>|rest:GET|rest:HEAD   read (data for DATA_VERBS)

When two classes could apply the stricter wins: write > secret > data > billed > read.
"""
import argparse
import glob
import gzip
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = os.path.join(ROOT, "crates", "aws-engine", "data")
TSV = os.path.join(DATA_DIR, "operation-classes.tsv")
OVERRIDES = os.path.join(DATA_DIR, "operation-classes.overrides")
SPOT = os.path.join(DATA_DIR, "operation-classes.spot")
PACKS = [
    os.path.join(ROOT, "crates", "aws-engine", "models", "botocore.pack"),
    os.path.join(ROOT, "host", "models", "botocore.pack"),
]

CLASSES = ("read", "data", "secret", "billed", "write")

# Verbs whose operations only look at metadata, as far as the name goes. Test, Detect, Generate,
# Download, Export, Retrieve, Evaluate, Compare, Assume, Decrypt, Sign ... are deliberately NOT
# here: they start jobs, invoke code, hand out keys or bill per call often enough that they are
# writes unless an override says otherwise.
READ_VERBS = {
    "Describe", "List", "Get", "Search", "Lookup", "Head", "View", "Count", "Is",
    "Check", "Validate", "Simulate", "Estimate", "Preview", "Discover",
}
# Verbs that read records, items or rows: data unless the output says something stricter.
DATA_VERBS = {"Query", "Scan", "Select", "Filter"}
# Prefixes peeled off before taking the verb (BatchGetItem -> Get, AdminGetUser -> Get).
PEEL = ("Batch", "Admin")

# Names (full match, case-insensitive) of string/blob output members that carry a credential,
# whatever the model says about sensitivity.
SECRET_STRONG = re.compile(
    r"(?ix)^(?:"
    r"  .*secretaccesskey | secretkey | secret | .*clientsecret(?:value)? | .*sharedsecret"
    r"| secret(?:string|binary|value|token) | .*sessiontoken | .*securitytoken"
    r"| .*password | .*passwd | .*passphrase | passworddata"
    r"| .*privatekey(?:base64|pem|material)? | keymaterial | plaintext"
    r"| (?:.*access|refresh|id|auth|authorization|bearer|web|webidentity|oauth|jwt|cli|issued)token"
    r"| .*presharedkey | authcode | .*authkey | base32stringseed | qrcodepng"
    r")$"
)
# Names that look like a credential only when the model also marks the member sensitive.
SECRET_WEAK = re.compile(
    r"(?i)(token|secret|credential|password|passphrase|cookie|apikey|accesskey|privatekey|signingkey"
    r"|licensekey|streamkey|solutionkey|vsankey|devicekey|specifickey|sharedkey|signature|authenticationmaterial"
    r"|connectionstring|auth(?!or|ority))"
)
# Never secrets, whatever the flags say: pagination and idempotency tokens, names and ARNs of
# keys and secrets, public material.
NOT_SECRET = re.compile(
    r"(?ix)^(?:"
    r"  (?:next|previous|prev|page|pagination|continuation|client|clientrequest|idempotency|change"
    r"  |lock|update|creation|conditional|upload|sequence|marker|resume|version|start|end|query"
    r"  |forward|backward|nextbackward|nextforward|result|task|callback|feedback|preview|offer"
    r"  |term|chunk|nextchunk|nextpage|nextcontinuation|listupdate|sync|syncsession|purchase"
    r"  |block|firstblock|secondblock|workunit|loganomaly|iterator|shard|shardIterator)token"
    r"| .*(?:arn|id|ids|name|names|alias|type|status|state|date|time|timestamp|count|length|size"
    r"    |version|algorithm|fingerprint|usage|spec|format|mode|method|location|uri|url|path"
    r"    |policy|description|enabled|required|region|source|prefix|suffix|pattern|field|param"
    r"    |header|expression|identifier|reference|lastused|expiration|expiry|rotation|field)"
    r"| public.* | .*publickey.* | .*certificate(?:body|chain|pem)? | .*csr | certificatesigningrequest"
    r"| key | .*keyid | .*authority | author"
    r")$"
)
# Containers (maps, lists, structures) the model marks sensitive whose name says they hold
# configuration secrets: Lambda/ECS environment variables, credential maps, auth headers.
SECRET_CONTAINERS = re.compile(r"(?i)^(environment|environmentvariables|variables|env|credentials?|secrets?|headers?)$")
# Members the model marks sensitive whose name says they carry customer content: EC2 user data,
# Step Functions input/output, message bodies.
SENSITIVE_DATA = re.compile(r"(?i)^(userdata|input|output|payload|result|content|body|messagebody)$")
# String members holding a pre-signed URL to customer content (log files, layers, documents).
PRESIGNED_URL = re.compile(r"(?i)^(?:.*pre-?signed.*|.*signed\w*ur[li]|.*download(?:url|link))$")
# Top-level output members that hold records rather than descriptions of resources.
DATA_MEMBERS = re.compile(r"(?i)^(records?|rows|resultset|logevents|filecontent|resultrows)$")
# Documentation sentences that say a call is charged (candidates, reviewed in the overrides).
BILLED_DOC = re.compile(
    r"(?i)\b(?:you are charged|is charged|are charged(?! only when)|will be charged(?! for)"
    r"|incurs? (?:a |an )?(?:charge|cost|fee)|different pricing structure|charged per"
    r"|billed per|messaging costs|for pricing information)\b"
)
REST_WRITE_METHODS = {"PUT", "PATCH", "DELETE"}
REST_READ_METHODS = {"GET", "HEAD"}


def pack_version():
    """The botocore version the embedded pack was built from, or None without a pack."""
    for path in PACKS:
        if os.path.exists(path):
            with open(path, "rb") as f:
                f.readline()
                return json.loads(f.readline()).get("botocore")
    return None


def ensure_botocore():
    """Import the botocore the embedded models came from: the operation set must be the pack's.
    Re-runs under .venv/bin/python (scripts/setup.sh installs the pinned botocore there) when
    this interpreter has none or another version."""
    want = pack_version()
    try:
        import botocore
        have = botocore.__version__
    except ImportError:
        have = None
    if have and (want is None or have == want):
        return
    venv = os.path.join(ROOT, ".venv", "bin", "python")
    in_venv = os.path.realpath(sys.prefix) == os.path.realpath(os.path.join(ROOT, ".venv"))
    if os.path.exists(venv) and not in_venv:
        os.execv(venv, [venv, os.path.abspath(__file__)] + sys.argv[1:])
    if have is None:
        sys.exit("classify-operations: botocore is not installed (run scripts/setup.sh)")
    sys.exit(f"classify-operations: botocore {have} is installed but the embedded models are botocore "
             f"{want}; install botocore=={want} in .venv (scripts/setup.sh)")


def load_models():
    import botocore

    data = os.path.join(os.path.dirname(botocore.__file__), "data")
    models = {}
    for svc in sorted(os.listdir(data)):
        path = os.path.join(data, svc)
        if not os.path.isdir(path):
            continue
        versions = [v for v in os.listdir(path) if glob.glob(os.path.join(path, v, "service-2.json*"))]
        if not versions:
            continue
        api = max(versions)  # ISO dates sort as strings, as scripts/update-models.py does
        base = os.path.join(path, api)
        model = read_json(glob.glob(os.path.join(base, "service-2.json*"))[0])
        extras = os.path.join(base, "service-2.sdk-extras.json")
        if os.path.exists(extras):
            deep_merge(model, read_json(extras).get("merge", {}))
        models[svc] = model
    return botocore.__version__, models


def read_json(path):
    with open(path, "rb") as f:
        raw = f.read()
    return json.loads(gzip.decompress(raw) if path.endswith(".gz") else raw)


def deep_merge(base, extra):
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            deep_merge(base[k], v)
        else:
            base[k] = v


def pack_operations():
    """(botocore version, {service: set(operations)}) from the embedded pack, or None."""
    for path in PACKS:
        if os.path.exists(path):
            with open(path, "rb") as f:
                raw = f.read()
            if not raw.startswith(b"MRHPACK1\n"):
                sys.exit(f"{path}: not an MRHPACK1 file")
            nl = raw.index(b"\n", 9)
            index = json.loads(raw[9:nl])
            base = nl + 1
            ops = {}
            for svc, (off, length) in index["services"].items():
                if svc.startswith("_"):
                    continue
                blob = json.loads(gzip.decompress(raw[base + off:base + off + length]))
                ops[svc] = set(blob["service"]["operations"])
            return path, index.get("botocore"), ops
    return None


def verb_of(op_name):
    word = re.match(r"[A-Z][a-z0-9]*", op_name)
    verb = word.group(0) if word else op_name
    if verb in PEEL and len(op_name) > len(verb):
        inner = re.match(r"[A-Z][a-z0-9]*", op_name[len(verb):])
        if inner:
            return inner.group(0)
    return verb


def output_members(model, shape_name, path="", seen=()):
    """Yield (path, member name, member dict, target shape) for every member under the output."""
    shapes = model["shapes"]
    if shape_name in seen or len(seen) > 12:
        return
    seen = seen + (shape_name,)
    shape = shapes[shape_name]
    kind = shape["type"]
    if kind == "structure":
        for name, member in shape.get("members", {}).items():
            target = shapes[member["shape"]]
            yield path + "." + name, name, member, target
            yield from output_members(model, member["shape"], path + "." + name, seen)
    elif kind == "list":
        yield from output_members(model, shape["member"]["shape"], path + "[]", seen)
    elif kind == "map":
        yield from output_members(model, shape["value"]["shape"], path + "{}", seen)


ATTRIBUTE_VALUE_KEYS = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"}


def is_attribute_value_map(model, shape):
    if shape["type"] != "map":
        return False
    value = model["shapes"][shape["value"]["shape"]]
    return value["type"] == "structure" and ATTRIBUTE_VALUE_KEYS <= set(value.get("members", {}))


# Member or operation documentation saying the value never comes back.
REDACTED_DOC = re.compile(r"(?i)\b(?:redacted|is not returned|isn't returned|never returned|not returned in the"
                          r"|always masked|returned masked)\b")


def is_sensitive(model, member, target):
    """The member, its shape, or the element/value shape of a list/map is marked sensitive."""
    if member.get("sensitive") or target.get("sensitive"):
        return True
    inner = target.get("member") if target["type"] == "list" else target.get("value") if target["type"] == "map" else None
    return bool(inner and model["shapes"][inner["shape"]].get("sensitive"))


def secret_container(model, name, target):
    """Credentials/secrets of any shape; environment variables and headers as a map or a list of
    name/value pairs (Lambda's Variables map, ECS's environment list)."""
    if not SECRET_CONTAINERS.match(name):
        return False
    if re.match(r"(?i)^(credentials?|secrets?)$", name) or target["type"] == "map":
        return True
    if target["type"] == "list":
        element = model["shapes"][target["member"]["shape"]]
        keys = {k.lower() for k in element.get("members", {})}
        return element["type"] == "structure" and "value" in keys and ({"name", "key"} & keys)
    return False


def secret_member(name, member, target):
    if target["type"] not in ("string", "blob"):
        return False
    if REDACTED_DOC.search(member.get("documentation", "")) or NOT_SECRET.match(name):
        return False
    if target.get("enum"):
        return False  # an enumeration (TokenValidityUnits.AccessToken = "hours") is no secret
    sensitive = bool(member.get("sensitive") or target.get("sensitive"))
    if SECRET_STRONG.match(name):
        # "PlainText" strings are display text in some models (quicksight); decrypted values are
        # blobs or marked sensitive.
        if name.lower() == "plaintext" and target["type"] != "blob" and not sensitive:
            return False
        return not re.match(r"(?i)^(public|.*publickey)", name)
    return sensitive and bool(SECRET_WEAK.search(name))


def analyse_output(model, op):
    """Findings on the output shape: {'secret': [paths], 'stream': [...], 'items': [...], 'data': [...]}."""
    found = {"secret": [], "stream": [], "items": [], "data": [], "sensitive-data": [], "presigned": []}
    if "output" not in op:
        return found
    out_name = op["output"]["shape"]
    out = model["shapes"][out_name]
    payload = out.get("payload")
    for name, member in out.get("members", {}).items():
        target = model["shapes"][member["shape"]]
        if DATA_MEMBERS.match(name) and target["type"] in ("list", "structure", "map", "blob"):
            found["data"].append("." + name)
        if name == payload and target["type"] == "blob":
            found["stream"].append("." + name + " (payload)")
    for path, name, member, target in output_members(model, out_name):
        if member.get("streaming") or target.get("streaming") or target.get("eventstream"):
            found["stream"].append(path)
        if secret_member(name, member, target):
            found["secret"].append(path)
        elif is_sensitive(model, member, target):
            if secret_container(model, name, target) and not REDACTED_DOC.search(member.get("documentation", "")):
                found["secret"].append(path)
            elif SENSITIVE_DATA.match(name):
                found["sensitive-data"].append(path)
        if target["type"] == "string" and PRESIGNED_URL.match(name):
            found["presigned"].append(path)
        if is_attribute_value_map(model, target):
            found["items"].append(path)
    return found


def rule(model, op_key, op):
    """(class, source, reasons) by the rule alone (steps 2-9)."""
    protocol = model["metadata"].get("protocol", "")
    method = op.get("http", {}).get("method", "").upper()
    rest = protocol.startswith("rest-")
    verb = verb_of(op_key)
    if rest and method in REST_WRITE_METHODS:
        return "write", f"rest:{method}", []
    if verb in READ_VERBS:
        base, source = "read", f"verb:{verb}"
    elif verb in DATA_VERBS:
        base, source = "data", f"verb:{verb}"
    elif rest and method in REST_READ_METHODS:
        base, source = "read", f"rest:{method}"
    else:
        return "write", f"verb:{verb}", []
    found = analyse_output(model, op)
    if found["secret"] and REDACTED_DOC.search(re.sub(r"<[^>]+>", " ", op.get("documentation", ""))):
        found["secret"] = []  # "this password is not returned in the actual response"
    if found["secret"]:
        return "secret", "output:secret-member", found["secret"]
    if found["stream"]:
        return "data", "output:stream", found["stream"]
    if found["items"]:
        return "data", "output:item-attributes", found["items"]
    if found["sensitive-data"]:
        return "data", "output:sensitive-data", found["sensitive-data"]
    if found["presigned"]:
        return "data", "output:presigned-url", found["presigned"]
    if found["data"] and base == "read":
        return "data", "output:data-member", found["data"]
    if base == "read":
        doc = re.sub(r"<[^>]+>", " ", op.get("documentation", ""))
        hit = BILLED_DOC.search(doc)
        if hit:
            return "billed", "doc:charged", [" ".join(doc[max(0, hit.start() - 80):hit.end() + 80].split())]
    return base, source, []


def load_overrides(path=OVERRIDES):
    overrides, problems = {}, []
    if not os.path.exists(path):
        return overrides, problems
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 3 or ":" not in fields[0] or not fields[2].startswith("#"):
                problems.append(f"{path}:{n}: want service:Operation<TAB>class<TAB># why, got {line!r}")
                continue
            key, cls, why = fields[0].strip(), fields[1].strip(), fields[2][1:].strip()
            if cls not in CLASSES:
                problems.append(f"{path}:{n}: unknown class {cls!r}")
                continue
            if not why:
                problems.append(f"{path}:{n}: an override needs a reason")
            if key in overrides:
                problems.append(f"{path}:{n}: {key} overridden twice")
            overrides[key] = (cls, why, n)
    return overrides, problems


def classify(models, overrides):
    rows = {}
    for svc, model in models.items():
        for key, op in model["operations"].items():
            full = f"{svc}:{key}"
            if full in overrides:
                rows[(svc, key)] = (overrides[full][0], "override")
            else:
                cls, source, _ = rule(model, key, op)
                rows[(svc, key)] = (cls, source)
    return rows


def render(version, rows):
    counts = {c: 0 for c in CLASSES}
    for cls, _ in rows.values():
        counts[cls] += 1
    header = (f"# botocore {version}: {len(rows)} operations; "
              + ", ".join(f"{c} {counts[c]}" for c in CLASSES)
              + ". Generated by scripts/classify-operations.py from the rule and"
              " operation-classes.overrides; do not edit (docs/operation-classes.md)")
    lines = [header]
    for (svc, key) in sorted(rows):
        cls, source = rows[(svc, key)]
        lines.append(f"{svc}\t{key}\t{cls}\t{source}")
    return "\n".join(lines) + "\n", counts


def read_tsv(path=TSV):
    rows, header = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                header = header or line
                continue
            if not line:
                continue
            svc, key, cls, source = line.split("\t")
            rows[(svc, key)] = (cls, source)
    return header, rows


def check(version, models, overrides, problems):
    bad = list(problems)
    if not os.path.exists(TSV):
        print(f"{TSV} does not exist: run scripts/classify-operations.py", file=sys.stderr)
        return 1
    header, have = read_tsv()
    want = classify(models, overrides)
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    for svc, key in missing:
        bad.append(f"not classified: {svc}:{key} (the rule says {want[(svc, key)][0]}, {want[(svc, key)][1]})")
    for svc, key in extra:
        bad.append(f"classified but not in the models: {svc}:{key}")
    for k in sorted(set(want) & set(have)):
        if want[k] != have[k]:
            bad.append(f"stale: {k[0]}:{k[1]} is {have[k][0]} ({have[k][1]}) in the data file, "
                       f"{want[k][0]} ({want[k][1]}) by the rule and overrides now")
    known = {f"{s}:{k}" for s, k in want}
    for key, (cls, why, n) in sorted(overrides.items(), key=lambda x: x[1][2]):
        if key not in known:
            bad.append(f"{OVERRIDES}:{n}: override for {key}, which no model has")
    if header and f"botocore {version}:" not in header:
        bad.append(f"data file header is {header.split(';')[0]!r}, models are botocore {version}")
    pack = pack_operations()
    if pack:
        path, pack_version, pack_ops = pack
        pairs = {(s, k) for s, ks in pack_ops.items() for k in ks}
        for s, k in sorted(pairs - set(have)):
            bad.append(f"embedded in {os.path.relpath(path, ROOT)} but not classified: {s}:{k}")
        for s, k in sorted(set(have) - pairs):
            bad.append(f"classified but not embedded in {os.path.relpath(path, ROOT)}: {s}:{k}")
    if os.path.exists(SPOT):
        with open(SPOT, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                key, cls = line.split("\t")
                svc, op = key.split(":", 1)
                got = have.get((svc, op))
                if got is None:
                    bad.append(f"{SPOT}:{n}: {key} is not in the data file")
                elif got[0] != cls:
                    bad.append(f"{SPOT}:{n}: {key} should be {cls}, the data file says {got[0]} ({got[1]})")
    for line in bad:
        print(line, file=sys.stderr)
    if bad:
        print(f"classify-operations --check: {len(bad)} problem(s); "
              f"{len(missing)} operation(s) not classified, {len(extra)} classified but unknown",
              file=sys.stderr)
        return 1
    print(f"classify-operations --check: {len(have)} operations classified, botocore {version}, ok")
    return 0


def review(models, overrides):
    """The lists to go through after a model update (docs/operation-classes.md, Reviewing)."""
    risky = re.compile(r"^(Get|Batch|Download|Export|Generate|Test|Check|Assume|Create|Retrieve|Decrypt|Sign)")
    sections = {k: [] for k in ("read-risky-verb", "secret", "data", "billed", "write-secret-output",
                                "redundant-override")}
    for svc, model in sorted(models.items()):
        for key, op in sorted(model["operations"].items()):
            full = f"{svc}:{key}"
            cls, source, reasons = rule(model, key, op)
            if full in overrides:
                if overrides[full][0] == cls:
                    sections["redundant-override"].append(f"{full}\t{cls}\t(rule: {source})")
                continue
            if cls == "read" and risky.match(key):
                sections["read-risky-verb"].append(f"{full}\t{source}")
            elif cls in ("secret", "data", "billed"):
                sections[cls].append(f"{full}\t{source}\t{' '.join(reasons[:3])}")
            elif cls == "write":
                found = analyse_output(model, op)
                if found["secret"]:
                    sections["write-secret-output"].append(f"{full}\t{source}\t{' '.join(found['secret'][:3])}")
    for name, lines in sections.items():
        print(f"## {name}: {len(lines)}")
        for line in lines:
            print(line)


def explain(models, overrides, target):
    svc, _, key = target.partition(":")
    model = models.get(svc)
    if model is None or key not in model["operations"]:
        sys.exit(f"no operation {target}")
    op = model["operations"][key]
    cls, source, reasons = rule(model, key, op)
    print(f"{target}: rule says {cls} ({source})")
    for r in reasons:
        print(f"  {r}")
    if target in overrides:
        o = overrides[target]
        print(f"  override (line {o[2]}): {o[0]}  # {o[1]}")
    print(f"  verb {verb_of(key)}, protocol {model['metadata'].get('protocol')}, "
          f"method {op.get('http', {}).get('method')}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare only; exit 1 on any difference")
    ap.add_argument("--review", action="store_true", help="print the review lists")
    ap.add_argument("--explain", metavar="SERVICE:Operation")
    args = ap.parse_args()
    ensure_botocore()
    version, models = load_models()
    overrides, problems = load_overrides()
    if args.check:
        sys.exit(check(version, models, overrides, problems))
    if args.explain:
        explain(models, overrides, args.explain)
        return
    if args.review:
        review(models, overrides)
        return
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        sys.exit(1)
    rows = classify(models, overrides)
    known = {f"{s}:{k}" for s, k in rows}
    stale = [k for k in overrides if k not in known]
    if stale:
        sys.exit("overrides for operations no model has: " + ", ".join(sorted(stale)))
    text, counts = render(version, rows)
    os.makedirs(DATA_DIR, exist_ok=True)
    with open(TSV, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"botocore {version}: {len(rows)} operations; "
          + ", ".join(f"{c} {counts[c]}" for c in CLASSES) + f"; {len(overrides)} overrides")


if __name__ == "__main__":
    main()
