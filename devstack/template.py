"""Reads template.yaml: the routes, functions, table and key the local stack must mirror."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation short-form tags (!Ref, !Sub, ...) as plain data."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {f"Fn::{suffix}" if suffix != "Ref" else "Ref": value}


_CfnLoader.add_multi_constructor("!", _tag)


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ... or ANY
    path: str  # /auth/session, /figma/{proxy+}
    function: str  # logical id
    pattern: re.Pattern[str] = field(compare=False)
    auth: str = "NONE"  # or AWS_IAM: API Gateway checks a SigV4 signature before the function runs

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method):
            return None
        found = self.pattern.match(path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    handler: str  # app.lambda_handler
    timeout: int
    schedule: str | None = None

    @property
    def name(self) -> str:
        """The folder name under functions/ (what `make invoke FN=` takes)."""
        return self.code_dir.name


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def functions(doc: dict[str, Any]) -> dict[str, Function]:
    default_timeout = doc.get("Globals", {}).get("Function", {}).get("Timeout", 3)
    out = {}
    for logical_id, res in doc["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res["Properties"]
        schedule = None
        for event in (props.get("Events") or {}).values():
            if event.get("Type") in ("Schedule", "ScheduleV2"):
                given = event["Properties"].get("Schedule") or event["Properties"].get("ScheduleExpression")
                schedule = str(_parameter_default(doc, given))
        out[logical_id] = Function(
            logical_id,
            ROOT / props["CodeUri"].rstrip("/"),
            props["Handler"],
            int(props.get("Timeout", default_timeout)),
            schedule,
        )
    return out


def _parameter_default(doc: dict[str, Any], value: Any) -> Any:
    """``value``, or the default of the parameter a ``!Ref`` names (what a deploy without overrides uses)."""
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in doc.get("Parameters", {}):
        return doc["Parameters"][value["Ref"]].get("Default", "")
    return value


def routes(doc: dict[str, Any]) -> list[Route]:
    out = []
    for logical_id, res in doc["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (res["Properties"].get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            path, method = event["Properties"]["Path"], event["Properties"]["Method"].upper()
            auth = str((event["Properties"].get("Auth") or {}).get("Authorizer") or "NONE")
            out.append(Route(method if method != "*" else "ANY", path, logical_id, _compile(path), auth))
    # Literal paths before greedy ones, as API Gateway prefers the most specific route.
    return sorted(out, key=lambda r: ("+}" in r.path, -len(r.path)))


def _compile(path: str) -> re.Pattern[str]:
    regex = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("+}"):
            regex += f"(?P<{part[1:-2]}>.+)"
        elif part.startswith("{"):
            regex += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}$")


def table_properties(doc: dict[str, Any]) -> dict[str, Any]:
    for res in doc["Resources"].values():
        if res.get("Type") == "AWS::DynamoDB::Table":
            return dict(res["Properties"])
    raise LookupError("template.yaml declares no AWS::DynamoDB::Table")


def bucket_properties(doc: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """The ``Properties`` of the ``AWS::S3::Bucket`` named ``logical_id``."""
    resource = doc["Resources"].get(logical_id) or {}
    if resource.get("Type") != "AWS::S3::Bucket":
        raise LookupError(f"template.yaml declares no AWS::S3::Bucket {logical_id}")
    return dict(resource.get("Properties") or {})


def parameter_values(doc: dict[str, Any], **given: str) -> dict[str, str]:
    """Each parameter's value as a deploy would see it: ``given``, else its default."""
    values = {name: str(spec.get("Default", "")) for name, spec in (doc.get("Parameters") or {}).items()}
    return {**values, **given}


def evaluate(value: Any, parameters: dict[str, str]) -> Any:
    """``value`` with the intrinsics a property of ours uses resolved against ``parameters``:
    ``Ref`` to a parameter, ``Fn::Sub`` of a string naming parameters, ``Fn::Split``. Anything
    else (``Fn::GetAtt`` of a resource) is left as it is, for the caller to decide."""
    if isinstance(value, list):
        return [evaluate(item, parameters) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in parameters:
        return parameters[value["Ref"]]
    if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return re.sub(r"\$\{([^}!]+)\}", lambda found: parameters.get(found[1], found[0]), value["Fn::Sub"])
    if set(value) == {"Fn::Split"}:
        separator, source = value["Fn::Split"]
        return str(evaluate(source, parameters)).split(separator)
    return {key: evaluate(item, parameters) for key, item in value.items()}


@dataclass(frozen=True)
class SocketRoute:
    """A route of the WebSocket API: its key ($connect, $disconnect, $default or an action), the
    function its integration invokes, and whether the function's answer goes back on the socket
    (a route response)."""

    key: str
    function: str  # logical id
    replies: bool = False


@dataclass(frozen=True)
class SocketApi:
    logical_id: str
    stage: str
    selection: str  # $request.body.action
    routes: dict[str, SocketRoute]


def socket_api(doc: dict[str, Any]) -> SocketApi | None:
    """The template's WebSocket API (AWS::ApiGatewayV2::Api, WEBSOCKET), its stage and routes."""
    res = doc["Resources"]
    apis = [k for k, r in res.items() if r.get("Type") == "AWS::ApiGatewayV2::Api"]
    api = next((k for k in apis if res[k]["Properties"].get("ProtocolType") == "WEBSOCKET"), None)
    if api is None:
        return None

    def of_api(kind: str) -> dict[str, dict[str, Any]]:
        return {
            k: r["Properties"]
            for k, r in res.items()
            if r.get("Type") == kind and r["Properties"].get("ApiId") == {"Ref": api}
        }

    functions_of = {
        k: _function_named(str(p.get("IntegrationUri"))) for k, p in of_api("AWS::ApiGatewayV2::Integration").items()
    }
    answered = {str(p["RouteId"].get("Ref")) for p in of_api("AWS::ApiGatewayV2::RouteResponse").values()}
    routes = {}
    for logical_id, props in of_api("AWS::ApiGatewayV2::Route").items():
        target = re.search(r"integrations/\$\{(\w+)\}", str(props.get("Target")))
        function = functions_of.get(target.group(1)) if target else None
        if function:
            routes[props["RouteKey"]] = SocketRoute(props["RouteKey"], function, logical_id in answered)
    stage = next((p["StageName"] for p in of_api("AWS::ApiGatewayV2::Stage").values()), "$default")
    selection = res[api]["Properties"].get("RouteSelectionExpression", "$request.body.action")
    return SocketApi(api, stage, selection, routes)


def _function_named(uri: str) -> str | None:
    found = re.search(r"\$\{(\w+)\.Arn\}", uri)
    return found.group(1) if found else None


@dataclass(frozen=True)
class Rule:
    """An EventBridge rule of the template (a function's ``EventBridgeRule`` event)."""

    name: str  # <function logical id><event name>
    function: str
    pattern: dict[str, Any]


def rules(doc: dict[str, Any]) -> list[Rule]:
    out = []
    for logical_id, res in doc["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        for name, event in (res["Properties"].get("Events") or {}).items():
            if event.get("Type") == "EventBridgeRule":
                out.append(Rule(f"{logical_id}{name}", logical_id, dict(event["Properties"]["Pattern"])))
    return out
