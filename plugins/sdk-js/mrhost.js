// mrhost plugin helpers for JavaScript (contract mrhost:plugin@0.2.0, built with
// componentize-js). Import this module from a plugin and export `collector` made by
// `plugin(...)`; no need to read the WIT (JSON text, `{tag, val}` variants, thrown
// payloads, resources are handled here):
//
//   import * as mrhost from '../../../plugins/sdk-js/mrhost.js';
//
//   export const collector = mrhost.plugin({
//     manifest: mrhost.manifest('kms-keys-js', 'kms:key')
//       .operation('kms:ListKeys').operation('kms:DescribeKey')
//       .modelShape('kms:KeyMetadata').idField('KeyId')
//       .build(),
//     run(scope) {
//       const keys = [...mrhost.items('kms', 'ListKeys', {}, 'Keys')];
//       for (const [key, described] of mrhost.enrich(keys,
//           (k) => mrhost.request('kms', 'DescribeKey', { KeyId: k.KeyId }))) {
//         if (described instanceof mrhost.CallError) {
//           if (described.isNotFound()) continue;
//           throw described;
//         }
//         mrhost.emit(described.KeyMetadata);
//       }
//     },
//   });
//
// - Calls: call, pages, items (a dotted path, lists flattened), select; callMany / callAll
//   / enrich run calls at once (the host bounds how many).
// - emit sends one resource (an object); the host adds RequestRegion/RequestAccount (and
//   TagsMap/Name when it has an AWS tag list).
// - Errors: a failed call throws CallError (.code, .isNotFound()); thrown out of `run` it
//   ends the scope with a typed error (an AWS error keeps its code for
//   --ignore-error-codes); any other exception ends it as a failure, logged first.
// - scope.region, scope.partition, scope.params (name -> typed value), scope.account().
//
// JavaScript numbers are doubles: an integer beyond 2^53 in a response would change.

import * as aws from 'mrhost:plugin/aws@0.2.0';
import { emit as sinkEmit } from 'mrhost:plugin/sink@0.2.0';
import { log as hostLog } from 'mrhost:plugin/log@0.2.0';

/** A failed call: kind is 'api', 'denied', 'invalid-request' or 'failed'. */
export class CallError extends Error {
  constructor(error) {
    const api = error && error.tag === 'api' ? error.val : undefined;
    const kind = error && error.tag ? error.tag : 'failed';
    const message = api ? api.message : error && error.tag ? error.val : String(error);
    super(api ? `${api.code}: ${api.message}` : `${kind === 'invalid-request' ? 'invalid request' : kind}: ${message}`);
    this.error = error;
    this.kind = kind;
    this.code = api ? api.code : undefined;
    this.httpStatus = api ? api.httpStatus : undefined;
    this.retryable = api ? api.retryable : false;
  }

  /** One line, as the Rust SDK's CallError::describe. */
  describe() {
    return this.message;
  }

  /** Whether AWS answered that the resource does not exist. */
  isNotFound() {
    const c = this.code || '';
    return c.includes('NotFound') || c.startsWith('NoSuch') || c.includes('NonExistent') || c.includes('DoesNotExist');
  }

  /** The typed collect error: the API error itself, or a one-line failure. */
  collectError() {
    return this.kind === 'api' ? { tag: 'api', val: this.error.val } : { tag: 'failed', val: this.describe() };
  }
}

function payloadOf(e) {
  return e && e.payload !== undefined ? e.payload : undefined;
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CallError({ tag: 'failed', val: `host sent invalid JSON: ${e.message}` });
  }
}

/** One AWS call with boto3-style params; the response as boto3 returns it. */
export function call(service, operation, params = {}) {
  let text;
  try {
    text = aws.call(service, operation, JSON.stringify(params));
  } catch (e) {
    const p = payloadOf(e);
    if (p !== undefined) throw new CallError(p);
    throw e;
  }
  return parse(text);
}

/** `call`, or undefined when AWS answers that the resource does not exist. */
export function callIfExists(service, operation, params = {}) {
  try {
    return call(service, operation, params);
  } catch (e) {
    if (e instanceof CallError && e.isNotFound()) return undefined;
    throw e;
  }
}

/** The pages of a paginated call, one parsed page at a time. */
export function* pages(service, operation, params = {}) {
  const it = aws.paginate(service, operation, JSON.stringify(params));
  for (;;) {
    let page;
    try {
      page = it.next();
    } catch (e) {
      const p = payloadOf(e);
      if (p !== undefined) throw new CallError(p);
      throw e;
    }
    if (page === undefined || page === null) return;
    yield parse(page);
  }
}

/** The values at a dotted path, every list met on the way flattened. */
export function select(value, path) {
  const parts = path.split('.').filter((p) => p).map((p) => (p.endsWith('[]') ? p.slice(0, -2) : p));
  const out = [];
  const walk = (v, rest) => {
    if (rest.length === 0) {
      if (Array.isArray(v)) out.push(...v);
      else if (v !== undefined && v !== null) out.push(v);
      return;
    }
    if (Array.isArray(v)) {
      for (const x of v) walk(x, rest);
    } else if (v !== null && typeof v === 'object' && rest[0] in v) {
      walk(v[rest[0]], rest.slice(1));
    }
  };
  walk(value, parts);
  return out;
}

/** The items at `path` of every page of a paginated call. */
export function* items(service, operation, params, path) {
  for (const page of pages(service, operation, params)) yield* select(page, path);
}

/** One call of a batch, for callMany. */
export function request(service, operation, params = {}) {
  return { service, operation, paramsJson: JSON.stringify(params) };
}

/** Start the calls at once; yields [index, response object or CallError] as each completes. */
export function* callMany(requests) {
  const batch = aws.callMany([...requests]);
  for (;;) {
    const done = batch.next();
    if (done === undefined || done === null) return;
    if (done.result.tag === 'ok') {
      let value;
      try {
        value = parse(done.result.val);
      } catch (e) {
        value = e;
      }
      yield [done.index, value];
    } else {
      yield [done.index, new CallError(done.result.val)];
    }
  }
}

/** Every request's result (an object or a CallError), in the order of `requests`. */
export function callAll(requests) {
  const list = [...requests];
  const out = new Array(list.length);
  for (const [i, r] of callMany(list)) out[i] = r;
  return out;
}

/** Each item with the result of the call `make(item)` builds for it, as the calls complete. */
export function* enrich(itemList, make) {
  const list = [...itemList];
  for (const [i, r] of callMany(list.map(make))) yield [list[i], r];
}

/** Emit one resource, an object. */
export function emit(resource) {
  sinkEmit(JSON.stringify(resource));
}

/** Emit every resource of an iterable; returns how many. */
export function emitAll(resources) {
  let n = 0;
  for (const r of resources) {
    emit(r);
    n += 1;
  }
  return n;
}

/**
 * Log through the host (prefixed with the plugin and scope; 'error' and 'warn' always
 * shown, 'info' with -v, 'debug' with -vv). Built without stdio, console.* goes nowhere.
 */
export function log(level, message) {
  hostLog(level, message);
}

class ManifestBuilder {
  constructor(name, resourceType) {
    this.m = {
      name, version: '0.1.0', resourceType, description: '', operations: [],
      scopeKind: 'regional', idField: undefined, columns: [], modelShape: undefined,
      extraColumns: [], references: [], params: [],
    };
  }
  version(v) { this.m.version = v; return this; }
  describe(d) { this.m.description = d; return this; }
  /** An operation the plugin calls, 'service:Operation'; the host refuses others. */
  operation(op) { this.m.operations.push(op); return this; }
  /** Once per account instead of once per region. */
  global() { this.m.scopeKind = 'global'; return this; }
  idField(f) { this.m.idField = f; return this; }
  /** Default table/CSV columns. */
  columns(...cols) { this.m.columns = cols; return this; }
  /** The model shape an item is, 'service:Shape' (typed columns, references). */
  modelShape(s) { this.m.modelShape = s; return this; }
  /** A typed column the plugin adds: kind is string, bool, int, float, timestamp, json. */
  column(name, kind, description) { this.m.extraColumns.push({ name, kind, description }); return this; }
  /** A field naming a resource of another type, by 'id' or 'arn'. */
  reference(field, targetType, by = 'id') { this.m.references.push({ field, targetType, by }); return this; }
  /** A parameter (`--param name=value`), typed. */
  param(name, kind, required = false, description = '') {
    this.m.params.push({ name, kind, required, description });
    return this;
  }
  build() { return this.m; }
}

/** Start a manifest; regional unless .global(). */
export function manifest(name, resourceType) {
  return new ManifestBuilder(name, resourceType);
}

/** Where `run` runs: region, partition, params (typed), and account() on demand. */
export class Scope {
  constructor(scope) {
    this.region = scope.region;
    this.partition = scope.partition;
    this.params = {};
    for (const p of scope.params) {
      this.params[p.name] = p.value.tag === 'json' ? JSON.parse(p.value.val) : p.value.val;
    }
  }

  /** The account id, resolved by the host on the first ask. */
  account() {
    try {
      return aws.account();
    } catch (e) {
      const p = payloadOf(e);
      if (p !== undefined) throw new CallError(p);
      throw e;
    }
  }
}

/** The `collector` export of a plugin: `{manifest, run(scope)}`. */
export function plugin({ manifest: m, run }) {
  return {
    manifest() {
      return m;
    },
    collect(scope) {
      try {
        run(new Scope(scope));
      } catch (e) {
        if (e instanceof CallError) throw e.collectError();
        // A bug: say where through the host's log, then end the scope with its message.
        log('error', `uncaught ${e}${e && e.stack ? `\n${e.stack}` : ''}`.trimEnd());
        throw { tag: 'failed', val: `${e}` };
      }
    },
  };
}
