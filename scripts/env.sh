# Sourced by the scripts: nothing may reach AWS or the instance-metadata address.
# Dummy keys, a region, IMDS off, no user config files.
export AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
export AWS_REGION=${AWS_REGION:-us-east-1}
export TZ=UTC
