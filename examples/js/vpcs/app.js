// The vpcs plugin in JavaScript, with the SDK helpers (plugins/sdk-js/mrhost.js): every VPC
// of a region as ec2 DescribeVpcs returns it (what plugins/vpcs emits). With
// `--param dns=true`, also whether DNS support and DNS hostnames are on — two
// DescribeVpcAttribute calls per VPC, all running at once.
//
// Built with componentize-js against wit/v0.2, from the repository root (so the SDK's
// relative import resolves); see scripts/build-examples.sh and examples/README.md.

import * as mrhost from '../../../plugins/sdk-js/mrhost.js';

const ATTRIBUTES = [
  ['enableDnsSupport', 'EnableDnsSupport'],
  ['enableDnsHostnames', 'EnableDnsHostnames'],
];

export const collector = mrhost.plugin({
  manifest: mrhost
    .manifest('vpcs-js', 'ec2:vpc')
    .describe('VPCs (ec2 DescribeVpcs), one item per VPC; with dns=true their DNS attributes')
    .operation('ec2:DescribeVpcs')
    .operation('ec2:DescribeVpcAttribute')
    .modelShape('ec2:Vpc')
    .column('EnableDnsSupport', 'bool', 'DescribeVpcAttribute enableDnsSupport')
    .column('EnableDnsHostnames', 'bool', 'DescribeVpcAttribute enableDnsHostnames')
    .param('dns', 'bool', false, 'add EnableDnsSupport and EnableDnsHostnames')
    .idField('VpcId')
    .columns('VpcId', 'CidrBlock', 'IsDefault', 'State')
    .build(),

  run(scope) {
    if (!scope.params.dns) {
      mrhost.emitAll(mrhost.items('ec2', 'DescribeVpcs', {}, 'Vpcs'));
      return;
    }
    const vpcs = [...mrhost.items('ec2', 'DescribeVpcs', {}, 'Vpcs')];
    const requests = vpcs.flatMap((v) =>
      ATTRIBUTES.map(([attribute]) =>
        mrhost.request('ec2', 'DescribeVpcAttribute', { VpcId: v.VpcId, Attribute: attribute })));
    // The calls run at once; callAll gives the results back in request order.
    const results = mrhost.callAll(requests);
    let i = 0;
    for (const vpc of vpcs) {
      for (const [, key] of ATTRIBUTES) {
        const answer = results[i++];
        if (answer instanceof mrhost.CallError) throw answer;
        vpc[key] = answer[key].Value;
      }
      mrhost.emit(vpc);
    }
  },
});
