// The vpcs plugin in JavaScript: every VPC of a region, exactly as ec2 DescribeVpcs
// returns it. The same plugin as plugins/vpcs (Rust), built with componentize-js against
// wit/ (see examples/README.md):
//
//   cd examples/js
//   npx componentize-js vpcs/app.js --wit ../../wit -n plugin \
//       --disable http fetch-event stdio random clocks -o vpcs.wasm
//
// Imports are the WIT interfaces by name; the export is an object named after the
// exported interface (`collector`). A WIT `result` error arrives as a thrown error whose
// `payload` is the error value; throwing from `collect` makes its `result::err`.

import { paginate } from 'mrhost:plugin/aws@0.1.0';
import { emit as sinkEmit } from 'mrhost:plugin/sink@0.1.0';
import { log as hostLog } from 'mrhost:plugin/log@0.1.0';

/** One line, as the Rust SDK's CallError::describe renders it. */
function describe(e) {
  switch (e.tag) {
    case 'api':
      return `${e.val.code}: ${e.val.message}`;
    case 'denied':
      return `denied: ${e.val}`;
    case 'invalid-request':
      return `invalid request: ${e.val}`;
    case 'failed':
      return `failed: ${e.val}`;
    default:
      return String(e);
  }
}

/** The pages of a paginated call, one parsed JSON page at a time. */
function* pages(service, operation, params) {
  const it = paginate(service, operation, JSON.stringify(params));
  for (;;) {
    const page = it.next();
    if (page === undefined || page === null) return;
    let parsed;
    try {
      parsed = JSON.parse(page);
    } catch (e) {
      throw { payload: { tag: 'failed', val: `host sent invalid JSON: ${e.message}` } };
    }
    yield parsed;
  }
}

/** The items under `key` (a dotted path) of every page, as the Rust SDK's items(). */
function* items(service, operation, params, key) {
  for (const page of pages(service, operation, params)) {
    let cur = page;
    for (const part of key.split('.')) {
      cur = cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? cur[part] : undefined;
      if (cur === undefined || cur === null) break;
    }
    if (cur === undefined || cur === null) continue;
    if (Array.isArray(cur)) yield* cur;
    else yield cur;
  }
}

/**
 * Log through the host (prefixed with the plugin and scope; warn and error always shown,
 * info with -v, debug with -vv). Built without `stdio`, console.* goes nowhere: this is
 * the way to say something. Levels: 'error', 'warn', 'info', 'debug', 'trace'.
 */
function log(level, message) {
  hostLog(level, message);
}

function emit(resource) {
  sinkEmit(JSON.stringify(resource));
}

export const collector = {
  manifest() {
    return {
      name: 'vpcs-js',
      version: '0.1.0',
      resourceType: 'ec2:vpc',
      description: 'VPCs (ec2 DescribeVpcs), one item per VPC',
      operations: ['ec2:DescribeVpcs'],
      scopeKind: 'regional',
      idField: 'VpcId',
      columns: ['VpcId', 'CidrBlock', 'IsDefault', 'State'],
    };
  },

  collect(_scope) {
    try {
      for (const vpc of items('ec2', 'DescribeVpcs', {}, 'Vpcs')) {
        emit(vpc);
      }
    } catch (e) {
      // An AWS call failed: end this scope with a one-line error (result::err).
      if (e && e.payload !== undefined) throw describe(e.payload);
      // A bug: say where through the host's log, then trap as a Rust panic would.
      log('error', `uncaught ${e}${e && e.stack ? `\n${e.stack}` : ''}`.trimEnd());
      throw e;
    }
  },
};
