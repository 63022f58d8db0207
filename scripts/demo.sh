#!/usr/bin/env bash
# The demo: build mrhost and its plugins, start moto on 127.0.0.1, create VPCs in three
# regions, and run `mrhost run plugins/vpcs.wasm` over them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

scripts/setup.sh
echo "building mrhost (release) and the plugins..." >&2
cargo build --locked --release -p mrhost
scripts/build-plugins.sh
mrhost=target/release/mrhost

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv/bin/python -m moto.server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null' EXIT
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null; do sleep 0.1; done
endpoint="http://127.0.0.1:$port"
echo "moto is listening on $endpoint" >&2

regions=eu-west-1,eu-west-2,us-east-1
.venv/bin/python tests/py/aws.py >/dev/null <<JSON
{"endpoint": "$endpoint", "calls": [
  {"region": "eu-west-1", "service": "ec2", "operation": "CreateVpc", "params": {"CidrBlock": "10.1.0.0/16", "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "dublin-app"}]}]}},
  {"region": "eu-west-2", "service": "ec2", "operation": "CreateVpc", "params": {"CidrBlock": "10.2.0.0/16", "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "london-app"}]}]}},
  {"region": "eu-west-2", "service": "ec2", "operation": "CreateVpc", "params": {"CidrBlock": "10.3.0.0/16", "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "london-data"}]}]}},
  {"region": "us-east-1", "service": "ec2", "operation": "CreateVpc", "params": {"CidrBlock": "10.4.0.0/16", "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "virginia-app"}]}]}}
]}
JSON

show() { echo; echo "\$ mrhost $*" >&2; "$mrhost" "$@" --endpoint-url "$endpoint"; }
show run plugins/vpcs.wasm --regions "$regions"
show run plugins/vpcs.wasm --regions "$regions" --output ndjson
show call ec2 DescribeVpcs --regions "$regions" --params '{"Filters": [{"Name": "tag:Name", "Values": ["*-app"]}]}'
