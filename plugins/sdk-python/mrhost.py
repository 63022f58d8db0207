"""mrhost plugin helpers for Python (contract mrhost:plugin@0.2.0, built with componentize-py).

Write a plugin as a class with a manifest and a `run(scope)` body; this module hides the
WIT bindings (JSON text, `Err` wrappers, resources):

    import mrhost

    class Collector(mrhost.Plugin):
        def manifest(self):
            return (mrhost.manifest("kms-keys-py", "kms:key")
                    .operation("kms:ListKeys").operation("kms:DescribeKey")
                    .model_shape("kms:KeyMetadata").id_field("KeyId")
                    .build())

        def run(self, scope):
            keys = list(mrhost.items("kms", "ListKeys", {}, "Keys"))
            for key, described in mrhost.enrich(
                    keys, lambda k: mrhost.request("kms", "DescribeKey", {"KeyId": k["KeyId"]})):
                if isinstance(described, mrhost.CallError):
                    if described.is_not_found():
                        continue
                    raise described
                mrhost.emit(described["KeyMetadata"])

- Calls: `call`, `pages`, `items` (a dotted path, lists flattened: "Reservations.Instances"),
  `select`; `call_many` / `call_all` / `enrich` run calls at once (the host bounds how many).
- `emit` sends one resource (a dict); the host adds RequestRegion/RequestAccount (and
  TagsMap/Name when it has an AWS tag list).
- Errors: a failed call raises `CallError` (`.code`, `.is_not_found()`); raising it out of
  `run` ends the scope with a typed error (an AWS error keeps its code, which
  `--ignore-error-codes` matches); any other exception ends it as a failure with its
  message, after logging the traceback.
- `scope.region`, `scope.partition`, `scope.params` (a dict of typed values) and
  `scope.account()` (resolved by the host only when asked for).

Build: componentize-py -d wit/v0.2 -w plugin componentize app -p <dir of this file> ...
(see scripts/build-examples.sh). `log` is the way to say something: built with
--stub-wasi, print() goes nowhere.
"""

import json
import traceback

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import aws, sink
from wit_world.imports import log as _wlog
from wit_world.imports import types as t

__all__ = [
    "Plugin", "Scope", "CallError", "manifest", "call", "call_if_exists", "pages", "items",
    "select", "request", "call_many", "call_all", "enrich", "emit", "emit_all", "log",
    "ERROR", "WARN", "INFO", "DEBUG", "TRACE",
]

ERROR, WARN, INFO, DEBUG, TRACE = (
    t.Level.ERROR, t.Level.WARN, t.Level.INFO, t.Level.DEBUG, t.Level.TRACE)

_KINDS = {
    "string": t.ValueKind.STRING, "bool": t.ValueKind.BOOL, "int": t.ValueKind.INT,
    "float": t.ValueKind.FLOAT, "timestamp": t.ValueKind.TIMESTAMP, "json": t.ValueKind.JSON,
}
_BY = {"id": t.ReferenceBy.ID, "arn": t.ReferenceBy.ARN}


class CallError(Exception):
    """A call failed: `kind` is "api", "denied", "invalid-request" or "failed"; `code`,
    `message`, `http_status` and `retryable` are set for "api"."""

    def __init__(self, error):
        self.error = error
        self.code = None
        self.http_status = None
        self.retryable = False
        if isinstance(error, t.CallError_Api):
            self.kind = "api"
            self.code = error.value.code
            self.message = error.value.message
            self.http_status = error.value.http_status
            self.retryable = error.value.retryable
        elif isinstance(error, t.CallError_Denied):
            self.kind, self.message = "denied", error.value
        elif isinstance(error, t.CallError_InvalidRequest):
            self.kind, self.message = "invalid-request", error.value
        else:
            self.kind, self.message = "failed", getattr(error, "value", str(error))
        super().__init__(self.describe())

    def describe(self):
        """One line, as the Rust SDK's CallError::describe: `Code: message`, `denied: ...`."""
        if self.kind == "api":
            return "%s: %s" % (self.code, self.message)
        if self.kind == "invalid-request":
            return "invalid request: %s" % self.message
        return "%s: %s" % (self.kind, self.message)

    def is_not_found(self):
        """Whether AWS answered that the resource does not exist (NotFound, NoSuch...,
        NonExistent..., ...DoesNotExist codes)."""
        c = self.code or ""
        return ("NotFound" in c or c.startswith("NoSuch") or "NonExistent" in c
                or "DoesNotExist" in c)

    def collect_error(self):
        """The typed `collect` error: the API error itself, or a one-line failure."""
        if isinstance(self.error, t.CallError_Api):
            return t.CollectError_Api(self.error.value)
        return t.CollectError_Failed(self.describe())


def _json(text):
    try:
        return json.loads(text)
    except ValueError as e:
        raise CallError(t.CallError_Failed("host sent invalid JSON: %s" % e))


def call(service, operation, params=None):
    """One AWS call with boto3-style params; the response as boto3 returns it."""
    try:
        text = aws.call(service, operation, json.dumps(params or {}))
    except Err as e:
        raise CallError(e.value)
    return _json(text)


def call_if_exists(service, operation, params=None):
    """`call`, or None when AWS answers that the resource does not exist."""
    try:
        return call(service, operation, params)
    except CallError as e:
        if e.is_not_found():
            return None
        raise


def pages(service, operation, params=None):
    """The pages of a paginated call, one parsed page at a time."""
    with aws.paginate(service, operation, json.dumps(params or {})) as it:
        while True:
            try:
                page = it.next()
            except Err as e:
                raise CallError(e.value)
            if page is None:
                return
            yield _json(page)


def select(value, path):
    """The values at a dotted path, every list met on the way flattened (a `[]` suffix
    is allowed); a list at the end gives its elements, a missing value nothing."""
    parts = [p[:-2] if p.endswith("[]") else p for p in path.split(".") if p]
    out = []

    def walk(v, rest):
        if not rest:
            if isinstance(v, list):
                out.extend(v)
            elif v is not None:
                out.append(v)
            return
        if isinstance(v, dict):
            if rest[0] in v:
                walk(v[rest[0]], rest[1:])
        elif isinstance(v, list):
            for x in v:
                walk(x, rest)

    walk(value, parts)
    return out


def items(service, operation, params, path):
    """The items at `path` of every page of a paginated call."""
    for page in pages(service, operation, params):
        yield from select(page, path)


def request(service, operation, params=None):
    """One call of a batch, for `call_many`."""
    return aws.Request(service, operation, json.dumps(params or {}))


def call_many(requests):
    """Start the calls at once; yields (index, response dict or CallError) as each one
    completes (index: the request's position)."""
    with aws.call_many(list(requests)) as batch:
        while True:
            done = batch.next()
            if done is None:
                return
            if isinstance(done.result, Ok):
                try:
                    yield done.index, _json(done.result.value)
                except CallError as e:
                    yield done.index, e
            else:
                yield done.index, CallError(done.result.value)


def call_all(requests):
    """Every request's result (a dict or a CallError), in the order of `requests`."""
    requests = list(requests)
    out = [None] * len(requests)
    for i, r in call_many(requests):
        out[i] = r
    return out


def enrich(items_, make):
    """Each item with the result of the call `make(item)` builds for it (a dict or a
    CallError), as the calls complete: "list, then describe each", concurrently."""
    items_ = list(items_)
    for i, result in call_many(make(x) for x in items_):
        yield items_[i], result


def emit(resource):
    """Emit one resource, a dict (compact JSON, key order kept)."""
    sink.emit(json.dumps(resource, separators=(",", ":"), ensure_ascii=False))


def emit_all(resources):
    """Emit every resource of an iterable; returns how many."""
    n = 0
    for r in resources:
        emit(r)
        n += 1
    return n


def log(level, message):
    """Log through the host, prefixed with the plugin and scope (ERROR and WARN always
    shown, INFO with -v, DEBUG with -vv)."""
    _wlog.log(level, message)


class _Builder:
    def __init__(self, name, resource_type):
        self.m = t.PluginManifest(
            name=name, version="0.1.0", resource_type=resource_type, description="",
            operations=[], scope_kind=t.ScopeKind.REGIONAL, id_field=None, columns=[],
            model_shape=None, extra_columns=[], references=[], params=[])

    def version(self, v):
        self.m.version = v
        return self

    def describe(self, d):
        self.m.description = d
        return self

    def operation(self, op):
        """An operation the plugin calls, `service:Operation`; the host refuses others."""
        self.m.operations.append(op)
        return self

    def global_(self):
        """Once per account instead of once per region."""
        self.m.scope_kind = t.ScopeKind.GLOBAL
        return self

    def id_field(self, f):
        self.m.id_field = f
        return self

    def columns(self, *cols):
        """Default table/CSV columns."""
        self.m.columns = list(cols)
        return self

    def model_shape(self, shape):
        """The model shape an item is, `service:Shape` (typed columns, references)."""
        self.m.model_shape = shape
        return self

    def column(self, name, kind, description):
        """A typed column the plugin adds: kind is string, bool, int, float, timestamp, json."""
        self.m.extra_columns.append(t.Column(name, _KINDS[kind], description))
        return self

    def reference(self, field, target_type, by="id"):
        """A field naming a resource of another type, by "id" or "arn"."""
        self.m.references.append(t.Reference(field, target_type, _BY[by]))
        return self

    def param(self, name, kind, required=False, description=""):
        """A parameter (`--param name=value`), typed."""
        self.m.params.append(t.ParamSpec(name, _KINDS[kind], required, description))
        return self

    def build(self):
        return self.m


def manifest(name, resource_type):
    """Start a manifest; regional unless `.global_()`."""
    return _Builder(name, resource_type)


class Scope:
    """Where `run` runs: `region`, `partition`, `params` (name -> typed value), and the
    account, resolved by the host when `account()` is first called."""

    def __init__(self, scope):
        self.region = scope.region
        self.partition = scope.partition
        self.params = {}
        for p in scope.params:
            v = p.value
            if isinstance(v, t.ParamValue_Json):
                self.params[p.name] = json.loads(v.value)
            else:
                self.params[p.name] = v.value

    def account(self):
        try:
            return aws.account()
        except Err as e:
            raise CallError(e.value)


class Plugin(exports.Collector):
    """Base class of a plugin: define `manifest(self)` and `run(self, scope)`; name the
    class `Collector` in the app module."""

    def run(self, scope):
        raise NotImplementedError

    def collect(self, scope):
        try:
            self.run(Scope(scope))
        except CallError as e:
            raise Err(e.collect_error())
        except Err:
            raise
        except Exception as e:
            # A bug: say where through the host's log, then end the scope with its message.
            log(ERROR, traceback.format_exc().rstrip())
            raise Err(t.CollectError_Failed("%s: %s" % (type(e).__name__, e)))
