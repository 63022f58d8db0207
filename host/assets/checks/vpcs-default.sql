-- id: vpcs-default
-- title: Default VPCs still present
-- severity: low
-- needs: vpcs.VpcId, vpcs.CidrBlock, vpcs.State, vpcs.IsDefault
-- description: Every region starts with a default VPC whose subnets give instances public
--   addresses. Delete the ones nothing uses.
SELECT _account, _region, VpcId, CidrBlock, State
FROM vpcs
WHERE IsDefault = 1
ORDER BY _account, _region
