#!/usr/bin/env bash
# Peer (b): the AWS CLI v1 in a serial shell loop over the regions, as people write it.
#     aws_cli_loop.sh AWS_BIN ENDPOINT_URL region1 region2 ... > out
set -euo pipefail
aws=$1 endpoint=$2
shift 2
for region in "$@"; do
  "$aws" ec2 describe-vpcs --region "$region" --endpoint-url "$endpoint" --output json
done
