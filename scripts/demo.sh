#!/usr/bin/env bash
# The demo: build mrhost and its plugins, start moto on 127.0.0.1, create VPCs in three
# regions, and run `mrhost run plugins/vpcs.wasm` over them; then sync the estate twice (with
# changes between) into an inventory and end by writing report.html and printing its path.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

scripts/setup.sh
echo "building mrhost (release) and the plugins..." >&2
cargo build --locked --release -p mrhost
scripts/build-plugins.sh
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
mrhost=$target_dir/release/mrhost

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

export MRHOST_CACHE_DIR=$(mktemp -d)  # the demo leaves the user's cache alone
show() { echo; echo "\$ mrhost $*" >&2; "$mrhost" "$@" --endpoint-url "$endpoint"; }
show run plugins/vpcs.wasm --regions "$regions" --output json
show run plugins/vpcs.wasm --regions "$regions" --output table
show run plugins/vpcs.wasm --regions "$regions" --output ndjson --query '{id: VpcId, cidr: CidrBlock, region: RequestRegion}'
show call ec2 DescribeVpcs --regions "$regions" --params '{"Filters": [{"Name": "tag:Name", "Values": ["*-app"]}]}'
show list ec2 route-tables --regions "$regions" --output table --columns RouteTableId,VpcId,RequestRegion
show query "SELECT region, count(*) AS vpcs, sum(IsDefault) AS defaults FROM vpcs GROUP BY region" --regions "$regions" --output table
echo; echo "\$ mrhost policy plugins/vpcs.wasm" >&2; "$mrhost" policy plugins/vpcs.wasm

# The estate as an inventory, twice with changes between, and the inventory as one
# self-contained page (mrhost report): counts, heat map, changes, findings, tables.
inventory="sqlite:$MRHOST_CACHE_DIR/inventory.sqlite"
types="plugins/vpcs.wasm plugins/subnets.wasm plugins/security-groups.wasm plugins/volumes.wasm"
show sync $types --regions "$regions" --to "$inventory"
.venv/bin/python tests/py/aws.py >/dev/null <<JSON
{"endpoint": "$endpoint", "calls": [
  {"region": "eu-west-1", "service": "ec2", "operation": "CreateVolume", "params": {"AvailabilityZone": "eu-west-1a", "Size": 100}},
  {"region": "eu-west-1", "service": "ec2", "operation": "CreateVolume", "params": {"AvailabilityZone": "eu-west-1b", "Size": 20, "Encrypted": true}},
  {"region": "us-east-1", "service": "ec2", "operation": "CreateVolume", "params": {"AvailabilityZone": "us-east-1a", "Size": 8}},
  {"region": "eu-west-2", "service": "ec2", "operation": "CreateSecurityGroup", "params": {"GroupName": "bastion", "Description": "ssh from anywhere"}, "save": "sg"},
  {"region": "eu-west-2", "service": "ec2", "operation": "AuthorizeSecurityGroupIngress", "params": {"GroupId": "\$sg.GroupId", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}},
  {"region": "eu-west-2", "service": "ec2", "operation": "CreateVpc", "params": {"CidrBlock": "10.5.0.0/16", "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "london-batch"}]}]}}
]}
JSON
show sync $types --regions "$regions" --to "$inventory" --refresh  # not the cached answers of sync 1
report=$target_dir/report.html
echo; echo "\$ mrhost report --from $inventory --since 1 -o $report" >&2
"$mrhost" report --from "$inventory" --since 1 -o "$report"  # prints the page's path
