#!/usr/bin/env python3
"""Regenerate host/models/ from the botocore package on PyPI.

    python3 scripts/update-models.py [BOTOCORE_VERSION]

Downloads the botocore wheel (pip download, no install), keeps the newest API version of
every service, strips what the engine never reads (documentation, examples, regex patterns,
enum value lists), merges paginators-1.sdk-extras.json as boto3 does, and writes:

  host/models/botocore.pack   one gzip blob per service behind a small JSON index, so the
                              binary decodes only the services a run touches
  host/models/VERSION         the botocore version the pack came from
  host/models/LICENSE.txt, NOTICE   botocore's licence (Apache-2.0) and notice

Pack format: b"MRHPACK1\n", one line of JSON index
{"botocore": VERSION, "services": {name: [offset, length]}, "extras": {...}}, then the blobs;
offsets count from the first byte after the index line. Each blob is gzip of
{"service": <service-2.json>, "paginators": <paginators-1.json "pagination">}.
"endpoints" (botocore's legacy endpoints.json) is stored the same way under the name
"_endpoints".
"""
import glob
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile

STRIP_KEYS = {"documentation", "documentationUrl", "examples", "pattern", "enum", "deprecatedMessage"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "host", "models")


def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in STRIP_KEYS}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o


def deep_merge(base, extra):
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            deep_merge(base[k], v)
        else:
            base[k] = v


def api_version_key(v):
    return v  # ISO dates sort as strings


def main():
    version = sys.argv[1] if len(sys.argv) > 1 else None
    spec = f"botocore=={version}" if version else "botocore"
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, spec], check=True)
        wheel = glob.glob(os.path.join(tmp, "botocore-*.whl"))[0]
        z = zipfile.ZipFile(wheel)
        names = z.namelist()
        botocore_version = os.path.basename(wheel).split("-")[1]

        def read(name):
            data = z.read(name)
            return json.loads(gzip.decompress(data) if name.endswith(".gz") else data)

        services = {}
        for n in names:
            parts = n.split("/")
            if len(parts) == 5 and parts[0] == "botocore" and parts[1] == "data" and parts[4].startswith("service-2.json"):
                svc, api = parts[2], parts[3]
                if svc not in services or api_version_key(api) > services[svc]:
                    services[svc] = api
        blobs = {}
        for svc, api in sorted(services.items()):
            base = f"botocore/data/{svc}/{api}/"
            model = read(base + ("service-2.json.gz" if base + "service-2.json.gz" in names else "service-2.json"))
            extras = base + "service-2.sdk-extras.json"
            if extras in names:
                deep_merge(model, read(extras).get("merge", {}))
            pag = {}
            if base + "paginators-1.json" in names:
                pag = read(base + "paginators-1.json").get("pagination", {})
                if base + "paginators-1.sdk-extras.json" in names:
                    deep_merge(pag, read(base + "paginators-1.sdk-extras.json").get("merge", {}).get("pagination", {}))
            doc = {"service": strip(model), "paginators": pag}
            blobs[svc] = gzip.compress(json.dumps(doc, separators=(",", ":")).encode(), 9, mtime=0)
        endpoints = read("botocore/data/endpoints.json")
        blobs["_endpoints"] = gzip.compress(json.dumps(endpoints, separators=(",", ":")).encode(), 9, mtime=0)

        index = {"botocore": botocore_version, "services": {}}
        body = io.BytesIO()
        for name, blob in blobs.items():
            index["services"][name] = [body.tell(), len(blob)]
            body.write(blob)
        os.makedirs(OUT, exist_ok=True)
        with open(os.path.join(OUT, "botocore.pack"), "wb") as f:
            f.write(b"MRHPACK1\n")
            f.write(json.dumps(index, separators=(",", ":"), sort_keys=True).encode() + b"\n")
            f.write(body.getvalue())
        with open(os.path.join(OUT, "VERSION"), "w") as f:
            f.write(f"botocore {botocore_version}\n")
        for meta in ("LICENSE.txt", "NOTICE"):
            info = [n for n in names if n.endswith(".dist-info/" + meta)]
            if info:
                with open(os.path.join(OUT, meta), "wb") as f:
                    f.write(z.read(info[0]))
        print(f"botocore {botocore_version}: {len(services)} services, pack {body.tell() / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
