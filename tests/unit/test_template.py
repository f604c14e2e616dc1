"""template.yaml, as SAM transforms it: routes exactly the contract's, least-privilege roles
the key policy admits, and production settings on every function."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from devstack.template import ROOT, load

CONTRACT_ROUTES = {
    ("GET", "/auth/figma/authorize"),
    ("GET", "/auth/figma/callback"),
    ("POST", "/auth/token"),
    ("GET", "/auth/session"),
    ("GET", "/auth/sessions"),
    ("POST", "/auth/refresh"),
    ("POST", "/auth/logout"),
    ("ANY", "/figma/{proxy+}"),
    ("POST", "/auth/jwt"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/connections/{user_id}"),
    ("DELETE", "/connections/{user_id}"),
    ("ANY", "/connections/{user_id}/figma/{proxy+}"),
    ("POST", "/auth/device"),
    ("GET", "/auth/device/verify"),
    ("POST", "/auth/device/verify"),
    ("POST", "/auth/webhooks"),
    ("GET", "/auth/webhooks"),
    ("DELETE", "/auth/webhooks/{id}"),
    ("POST", "/connections/{user_id}/webhooks"),
    ("GET", "/connections/{user_id}/webhooks"),
    ("DELETE", "/connections/{user_id}/webhooks/{id}"),
    ("POST", "/webhooks/figma"),
    ("POST", "/auth/realtime"),
    ("DELETE", "/auth/rate_limits"),
    ("DELETE", "/connections/{user_id}/rate_limits"),
    ("GET", "/connections"),
    ("GET", "/oauth/authorize"),
    ("POST", "/oauth/authorize"),
}
IAM_ROUTES = {r for r in CONTRACT_ROUTES if r[1].startswith("/connections")}
PREFLIGHT = ("OPTIONS", "/{proxy+}")  # CORS preflights reach the functions: API Gateway configures no CORS


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    doc = load()
    for resource in doc["Resources"].values():
        props = resource.get("Properties", {})
        for uri in ("CodeUri", "ContentUri"):
            if uri in props:
                props[uri] = "s3://bucket/artifact.zip"

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    done: dict[str, Any] = transform(
        doc, {"FigmaClientId": "id", "AllowedOrigins": "https://app.example.com"}, NoManagedPolicies()
    )
    return done


def resources(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in doc["Resources"].items() if v["Type"] == kind}


def http_api(doc: dict[str, Any]) -> dict[str, Any]:
    """The HTTP API (the other ApiGatewayV2 API is the realtime WebSocket API)."""
    (api,) = [
        a
        for a in resources(doc, "AWS::ApiGatewayV2::Api").values()
        if a["Properties"].get("ProtocolType") != "WEBSOCKET"
    ]
    return dict(api)


def http_stage(doc: dict[str, Any]) -> dict[str, Any]:
    (stage,) = [
        s for s in resources(doc, "AWS::ApiGatewayV2::Stage").values() if s["Properties"].get("StageName") != "live"
    ]
    return dict(stage)


def test_the_api_serves_exactly_the_contracts_routes() -> None:
    routes = set()
    for res in load()["Resources"].values():
        for event in (res.get("Properties", {}).get("Events") or {}).values():
            if event["Type"] == "HttpApi":
                routes.add((event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    assert routes == CONTRACT_ROUTES | {PREFLIGHT}


def test_api_gateway_configures_no_cors_so_the_functions_headers_pass_through(transformed: dict[str, Any]) -> None:
    assert "CorsConfiguration" not in http_api(transformed)["Properties"]


def test_every_function_role_is_on_the_path_the_key_policy_admits(transformed: dict[str, Any]) -> None:
    roles = resources(transformed, "AWS::IAM::Role")
    assert len(roles) == 13
    for role in roles.values():
        assert role["Properties"]["Path"] == {"Fn::Sub": "/figma-auth/${AWS::StackName}/"}
    statements = transformed["Resources"]["Key"]["Properties"]["KeyPolicy"]["Statement"]
    (use,) = [st for st in statements if st["Sid"] == "OnlyThisStacksFunctionsUseItForFigmaGrants"]
    assert use["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Sub"].endswith(":role/figma-auth/${AWS::StackName}/*")
    assert set(use["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt"}


def kms_actions() -> set[str]:
    """Every KMS action IAM knows, from botocore's service model (ReEncrypt is two actions in IAM)."""
    import botocore.session

    names = set(botocore.session.get_session().get_service_model("kms").operation_names) - {"ReEncrypt"}
    return {f"kms:{name}" for name in names | {"ReEncryptFrom", "ReEncryptTo"}}


def expand(patterns: str | list[str], known: set[str]) -> set[str]:
    """The actions a statement's Action names, wildcards matched as IAM matches them (``*`` any
    characters, ``?`` one, case-insensitive)."""
    import fnmatch

    wanted = [patterns] if isinstance(patterns, str) else patterns
    return {a for a in known for p in wanted if fnmatch.fnmatchcase(a.lower(), p.lower())}


# What a key's user can do with it: encrypt, decrypt, sign, derive, or grant any of these.
KMS_USE = {
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateMac",
    "kms:VerifyMac",
    "kms:Sign",
    "kms:DeriveSharedSecret",
    "kms:Decapsulate",
    "kms:CreateGrant",
    "kms:ImportKeyMaterial",
}


GRANT_CONTEXT = {"kms:EncryptionContext:purpose": "figma-grant"}  # the vault's envelope
VIA_S3 = {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}}  # the bodies bucket's objects


def test_hardening_2_only_the_session_role_reaches_sign_and_only_the_functions_roles_decrypt(
    transformed: dict[str, Any],
) -> None:
    known = kms_actions()
    assert KMS_USE <= known and len(known) > 50
    session_roles = ({"Fn::GetAtt": ["SessionFunctionRole", "Arn"]}, {"Fn::GetAtt": "SessionFunctionRole.Arn"})
    reached: dict[str, set[str]] = {}
    for key in ("Key", "JwtKeyA", "JwtKeyB"):
        for statement in transformed["Resources"][key]["Properties"]["KeyPolicy"]["Statement"]:
            allowed = expand(statement["Action"], known)
            assert allowed, (key, statement["Sid"])  # every pattern names real actions
            condition = statement.get("Condition", {})
            for action in allowed & KMS_USE:
                reached.setdefault(action, set()).add(key)
                if action == "kms:CreateGrant":  # only grants AWS services make for their own resources
                    assert condition == {"Bool": {"kms:GrantIsForAWSResource": "true"}}, (key, statement["Sid"])
                elif action == "kms:Sign":
                    assert condition.keys() == {"ArnEquals"}, (key, statement["Sid"])
                    assert condition["ArnEquals"] in [{"aws:PrincipalArn": role} for role in session_roles]
                else:
                    assert action in ("kms:Decrypt", "kms:GenerateDataKey") and key == "Key", (key, action)
                    assert condition["ArnLike"]["aws:PrincipalArn"]["Fn::Sub"].endswith(
                        ":role/figma-auth/${AWS::StackName}/*"
                    )
                    assert condition["StringEquals"] in (GRANT_CONTEXT, VIA_S3), (key, statement["Sid"])
                    if condition["StringEquals"] == VIA_S3:  # S3's context names a bucket: any, in the key policy
                        assert condition["StringLike"] == {
                            "kms:EncryptionContext:aws:s3:arn": {"Fn::Sub": "arn:${AWS::Partition}:s3:::*"}
                        }
    assert reached == {
        "kms:Decrypt": {"Key"},
        "kms:GenerateDataKey": {"Key"},
        "kms:Sign": {"JwtKeyA", "JwtKeyB"},
        "kms:CreateGrant": {"Key", "JwtKeyA", "JwtKeyB"},
    }


def test_hardening_2_the_wildcard_expansion_catches_the_old_administrator_statement() -> None:
    old = ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Get*"]
    assert {"kms:CreateGrant", "kms:PutKeyPolicy"} <= expand(old, kms_actions())
    assert expand(["kms:sign"], kms_actions()) == {"kms:Sign"}  # IAM matches actions case-insensitively


def test_no_data_action_is_granted_on_every_resource_and_kms_needs_the_context(transformed: dict[str, Any]) -> None:
    for name, role in resources(transformed, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if any(a.startswith(("dynamodb:", "kms:", "secretsmanager:", "events:")) for a in actions):
                    assert statement["Resource"] != "*", (name, actions)
                if any(a.startswith("kms:") for a in actions):
                    context = statement["Condition"]["StringEquals"]
                    assert context == GRANT_CONTEXT or context == {
                        **VIA_S3,
                        "kms:EncryptionContext:aws:s3:arn": {"Fn::GetAtt": "Bodies.Arn"},
                    }, (name, context)


def test_only_the_backend_may_query_the_listing_index_which_holds_connections_alone(
    transformed: dict[str, Any],
) -> None:
    queriers = set()
    for name, role in resources(transformed, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                where = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                if "dynamodb:Query" in statement["Action"] and any("by_listing" in str(r) for r in where):
                    queriers.add(name.removesuffix("FunctionRole"))
    assert queriers == {"Backend"}
    table = transformed["Resources"]["Table"]["Properties"]
    (index,) = [i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == "by_listing"]
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["listing", "created_at"]
    assert index["Projection"] == {  # what a listing shows; a refresh's or a lease's write never touches it
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["handle", "email", "img_url", "scopes", "grant_status"],
    }


def test_only_the_functions_that_call_figma_may_read_the_client_secret(transformed: dict[str, Any]) -> None:
    readers = set()
    for name, role in resources(transformed, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                if "secretsmanager:GetSecretValue" in statement["Action"]:
                    readers.add(name.removesuffix("FunctionRole"))
    assert readers == {
        "Callback",
        "Session",
        "Refresh",
        "FigmaProxy",
        "RefreshScheduler",
        "Backend",
        "Webhooks",
        "WebhookReconciler",
        "Realtime",  # a watch proves access with the watcher's token (its refresh may need the secret)
    }  # never the webhook receiver nor the push: Figma's deliveries need no Figma call


def test_every_function_is_arm64_python313_with_its_own_log_group_and_a_timeout_under_the_api_limit(
    transformed: dict[str, Any],
) -> None:
    functions = resources(transformed, "AWS::Lambda::Function")
    assert len(functions) == 13
    for name, fn in functions.items():
        props = fn["Properties"]
        assert props["Architectures"] == ["arm64"] and props["Runtime"] == "python3.13"
        assert "LogGroup" in props["LoggingConfig"]
        limit = 300 if name in ("RefreshSchedulerFunction", "WebhookReconcilerFunction") else 30  # the scheduled ones
        assert props["Timeout"] <= limit, name


def test_backend_routes_and_only_they_are_aws_iam_and_nothing_else_is_authorized_by_api_gateway(
    transformed: dict[str, Any],
) -> None:
    paths = http_api(transformed)["Properties"]["Body"]["paths"]
    iam = set()
    for path, item in paths.items():
        for method, operation in item.items():
            security = operation.get("security")
            if security:
                assert security == [{"AWS_IAM": []}], (method, path)
                iam.add((method.upper().replace("X-AMAZON-APIGATEWAY-ANY-METHOD", "ANY"), path))
    assert iam == IAM_ROUTES


def test_the_jwt_keys_sign_es256_for_the_session_function_role_only(transformed: dict[str, Any]) -> None:
    doc = transformed["Resources"]
    for name in ("JwtKeyA", "JwtKeyB"):
        props = doc[name]["Properties"]
        assert (props["KeySpec"], props["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
        by_sid = {st["Sid"]: st for st in props["KeyPolicy"]["Statement"]}
        assert len(by_sid) == 3
        admin, use = by_sid["AccountAdministersTheKeyButCannotSignWithIt"], by_sid["OnlyTheSessionFunctionSigns"]
        grants = by_sid["GrantsOnlyForAwsServices"]
        assert not {"kms:Sign", "kms:Decrypt", "kms:GenerateDataKey"} & set(admin["Action"])
        assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
        assert set(use["Action"]) == {"kms:Sign", "kms:GetPublicKey"}
        role_arn = use["Condition"]["ArnEquals"]["aws:PrincipalArn"]["Fn::GetAtt"]
        assert role_arn in ("SessionFunctionRole.Arn", ["SessionFunctionRole", "Arn"])
    for name, role in resources(transformed, "AWS::IAM::Role").items():  # no role policy reaches them
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert not {"kms:Sign", "kms:GetPublicKey"} & set(actions), name
    env = doc["SessionFunction"]["Properties"]["Environment"]["Variables"]
    condition, if_b, otherwise_a = env["JWT_KEY_ID"]["Fn::If"]
    assert condition == "SignsWithJwtKeyB" and "JwtKeyB" in str(if_b) and "JwtKeyA" in str(otherwise_a)


def test_a_signing_key_the_stack_does_not_create_is_refused_before_deploy() -> None:
    (rule,) = load()["Rules"]["JwtSigningKeyExists"]["Assertions"]
    keys, signing = "JwtKeys", "JwtSigningKey"

    def holds(values: dict[str, str]) -> bool:
        either = rule["Assert"]["Fn::Or"]
        return any(
            values[a["Fn::Equals"][0]["Ref"]]
            == (a["Fn::Equals"][1] if isinstance(a["Fn::Equals"][1], str) else values[a["Fn::Equals"][1]["Ref"]])
            for a in either
        )

    assert holds({keys: "A", signing: "A"}) and holds({keys: "AB", signing: "B"}) and holds({keys: "B", signing: "B"})
    assert not holds({keys: "A", signing: "B"}) and not holds({keys: "B", signing: "A"})


def test_anonymous_routes_that_write_are_throttled_below_the_stage(transformed: dict[str, Any]) -> None:
    props = http_stage(transformed)["Properties"]
    default = props["DefaultRouteSettings"]["ThrottlingRateLimit"]
    routes = props["RouteSettings"]
    for route in (
        "GET /auth/figma/authorize",
        "POST /auth/device",
        "GET /auth/device/verify",
        "POST /auth/device/verify",
    ):
        assert routes[route]["ThrottlingRateLimit"] < default, route
    assert set(routes) <= {f"{m} {p}" for m, p in CONTRACT_ROUTES}  # each names a real route


def test_every_output_url_uses_the_custom_domain_when_one_is_set() -> None:
    outputs = load()["Outputs"]
    for name in ("ApiUrl", "AuthorizeUrl", "Issuer"):
        condition, with_domain, without = outputs[name]["Value"]["Fn::If"]
        assert condition == "HasCustomDomain" and "${CustomDomainName}" in str(with_domain), name
        assert "execute-api" in str(without), name


def test_the_secrets_arn_is_an_output_and_one_secret_source_is_required() -> None:
    doc = load()
    value = doc["Outputs"]["FigmaClientSecretArn"]["Value"]["Fn::If"]
    assert value[0] == "CreateSecret" and value[2] == {"Ref": "FigmaClientSecretArn"}
    (rule,) = doc["Rules"]["FigmaClientSecretGiven"]["Assertions"]
    assert "FigmaClientSecret" in str(rule["Assert"]) and "FigmaClientSecretArn" in str(rule["Assert"])


def test_samconfig_environments_deploy_without_prompts_and_localhost_only_in_dev() -> None:
    import tomllib

    from samcli.cli.types import CfnParameterOverridesType

    from devstack.template import ROOT

    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    declared = set(load()["Parameters"])
    parsed = {}
    for env in ("dev", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        values = CfnParameterOverridesType().convert(deploy["parameter_overrides"], None, None)
        assert set(values) <= declared, env  # SAM's own parser, the template's own parameter names
        assert {"FigmaClientId", "FigmaClientSecretArn", "AllowedOrigins"} <= set(values), env
        parsed[env] = values
    assert (
        "localhost" in parsed["dev"]["AllowedOrigins"]
        and config["dev"]["deploy"]["parameters"]["confirm_changeset"] is False
    )
    assert "localhost" not in parsed["prod"]["AllowedOrigins"] and "127.0.0.1" not in parsed["prod"]["AllowedOrigins"]
    assert parsed["prod"]["TableDeletionProtection"] == "true" and parsed["dev"]["TableDeletionProtection"] == "false"


def test_the_example_apis_jwt_authorizer_trusts_exactly_our_issuer_and_audience() -> None:
    """What a verifier refuses (alg none, HS256, a tampered body) is its library's; what is ours
    is the configuration that makes API Gateway check our tokens: issuer and audience from our
    outputs and parameters, every route behind the authorizer, the token from Authorization."""
    ours = load()
    example = load(ROOT / "examples" / "protected-api" / "template.yaml")
    auth = example["Resources"]["Api"]["Properties"]["Auth"]
    authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]

    assert authorizer["IdentitySource"] == "$request.header.Authorization"
    assert authorizer["JwtConfiguration"] == {"issuer": {"Ref": "Issuer"}, "audience": [{"Ref": "Audience"}]}
    assert example["Parameters"]["Issuer"]["AllowedPattern"] == "^https://[^/]+$"  # what API Gateway accepts
    assert example["Parameters"]["Audience"]["Default"] == ours["Parameters"]["JwtAudience"]["Default"]
    assert "Issuer" in ours["Outputs"]
    for function in example["Resources"].values():
        for event in function.get("Properties", {}).get("Events", {}).values():
            assert "Auth" not in event["Properties"]  # no route opts out of the default authorizer


MCP_EXAMPLE = ROOT / "examples" / "mcp-figma"
FIGMA_AUTH = {
    "AWS::Partition": "aws",
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "123456789012",
    "HttpApi": "abc123",
}


def cfn(value: Any, names: dict[str, Any]) -> Any:
    """The intrinsics the example's template uses, evaluated as CloudFormation does."""
    if isinstance(value, list):
        return [cfn(v, names) for v in value]
    if not isinstance(value, dict) or len(value) != 1 or not next(iter(value)).startswith(("Ref", "Fn::")):
        return {k: cfn(v, names) for k, v in value.items()} if isinstance(value, dict) else value
    ((fn, arg),) = value.items()
    if fn == "Ref":
        return names[arg]
    if fn == "Fn::Select":
        return cfn(arg[1], names)[arg[0]]
    if fn == "Fn::Split":
        return cfn(arg[1], names).split(arg[0])
    if fn == "Fn::GetAtt":
        return ".".join(arg) if isinstance(arg, list) else arg  # the attribute's name, to compare
    assert fn == "Fn::Sub", fn
    text, own = (arg, {}) if isinstance(arg, str) else (arg[0], {k: cfn(v, names) for k, v in arg[1].items()})
    return re.sub(r"\$\{([^}]+)\}", lambda m: str({**names, **own}[m.group(1)]), text)


@pytest.fixture(scope="module")
def mcp_example() -> tuple[dict[str, Any], dict[str, Any]]:
    """examples/mcp-figma/template.yaml as SAM transforms it, and the names a deployment gives
    it: figma-auth's own outputs (from our template) as its parameters."""
    from samtranslator.translator.transform import transform

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    ours = load()
    names = {
        **FIGMA_AUTH,
        "Issuer": "https://auth.example.com",
        "BackendInvokeArn": cfn(ours["Outputs"]["BackendInvokeArn"]["Value"], FIGMA_AUTH),
        "AWS::URLSuffix": "amazonaws.com",
        "Api": "mcp789",
    }
    doc = load(MCP_EXAMPLE / "template.yaml")
    for param in ("Issuer", "BackendInvokeArn"):
        assert re.fullmatch(doc["Parameters"][param]["AllowedPattern"], names[param]), param
    for resource in doc["Resources"].values():
        for uri in ("CodeUri", "ContentUri"):
            if uri in resource.get("Properties", {}):
                resource["Properties"][uri] = "s3://bucket/artifact.zip"

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    params = {k: names[k] for k in ("Issuer", "BackendInvokeArn")}
    return transform(doc, params, NoManagedPolicies()), names


def test_the_mcp_example_may_only_read_figma_as_a_user_through_the_backend_routes(
    mcp_example: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """Its role, as SAM makes it from figma-auth's BackendInvokeArn output: GET through
    /connections/{id}/figma/... only; never a user's token, the listing, a write or a disconnect."""
    from devstack.iam import allows, invoke_arn

    doc, names = mcp_example
    (role,) = resources(doc, "AWS::IAM::Role").values()
    (policy,) = role["Properties"]["Policies"]
    document = cfn(policy["PolicyDocument"], names)

    def may(method: str, path: str, api_id: str = "abc123") -> bool:
        arn = invoke_arn(region="eu-west-1", account="123456789012", api_id=api_id, method=method, path=path)
        return allows(document, arn)

    assert may("GET", "/connections/1143/figma/v1/files/KEY")
    assert not may("GET", "/connections/1143")  # a Figma access token: never held by the MCP server
    assert not may("GET", "/connections")
    assert not may("POST", "/connections/1143/figma/v1/files/KEY/comments")
    assert not may("DELETE", "/connections/1143")
    assert not may("DELETE", "/connections/1143/rate_limits")
    assert not may("GET", "/connections/1143/figma/v1/me", api_id="other1")
    broader = names["BackendInvokeArn"].replace("/*/connections/*", "/*")
    assert not re.fullmatch(
        load(MCP_EXAMPLE / "template.yaml")["Parameters"]["BackendInvokeArn"]["AllowedPattern"], broader
    )


def test_the_mcp_example_is_told_its_own_url_figma_auths_and_the_region_sigv4_signs_for(
    mcp_example: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    doc, names = mcp_example
    (function,) = resources(doc, "AWS::Lambda::Function").values()
    env = cfn(function["Properties"]["Environment"]["Variables"], names)
    url = cfn(doc["Outputs"]["McpUrl"]["Value"], names)

    assert (
        env["MCP_URL"] == url == "https://mcp789.execute-api.eu-west-1.amazonaws.com/mcp"
    )  # what OAuthResources lists
    assert env["FIGMA_AUTH_URL"] == "https://auth.example.com" and env["FIGMA_AUTH_REGION"] == "eu-west-1"
    assert env["MCP_STATELESS"] == "true"
    assert env["AWS_LWA_READINESS_CHECK_PATH"] == "/.well-known/oauth-protected-resource/mcp"  # the SDK serves it
    (route,) = resources(doc, "AWS::ApiGatewayV2::Route").values()
    (integration,) = resources(doc, "AWS::ApiGatewayV2::Integration").values()
    assert route["Properties"]["RouteKey"] == "$default" and "AuthorizationType" not in route["Properties"]
    assert cfn(integration["Properties"]["IntegrationUri"], names) == "McpFunction.Arn"


def test_the_mcp_examples_function_starts_the_server_through_lambda_web_adapter() -> None:
    """The handler is the start script Lambda Web Adapter runs (executable, starting server.py),
    the adapter's layer fits the architecture, the helper's layer holds figma_auth_backend, and
    the deployed packages are the versions the tests run."""
    doc = load(MCP_EXAMPLE / "template.yaml")
    props = doc["Resources"]["McpFunction"]["Properties"]
    start = MCP_EXAMPLE / props["CodeUri"] / props["Handler"]
    assert os.access(start, os.X_OK) and "server.py" in start.read_text()
    # the adapter's port reaches the server under a name of its own (a shell's PORT is make run's)
    assert 'LISTEN_PORT="${AWS_LWA_PORT' in start.read_text()
    assert 'os.environ.get("LISTEN_PORT")' in (MCP_EXAMPLE / "server.py").read_text()
    assert props["Environment"]["Variables"]["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert props["Architectures"] == ["arm64"] and "LambdaAdapterLayerArm64" in str(props["Layers"][0])
    helper = doc["Resources"]["BackendHelperLayer"]["Properties"]["ContentUri"]
    assert (MCP_EXAMPLE / helper / "figma_auth_backend.py").is_file()

    def pins(path: Any) -> dict[str, str]:
        lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
        return {n.split("[")[0].lower(): v for n, v in (line.split("==") for line in lines if "==" in line)}

    deployed, tested = (
        pins(MCP_EXAMPLE / "requirements.txt"),
        {
            **pins(ROOT / "requirements-dev.txt"),
            **pins(ROOT / "shared" / "requirements.txt"),
        },
    )
    assert deployed and all(tested.get(name) == version for name, version in deployed.items()), deployed


def test_the_schedulers_page_reads_wait_30_s_and_the_request_path_5_s(monkeypatch: pytest.MonkeyPatch) -> None:
    """RELIABILITY, "a slow 1 MB page": the due-index Query has its own client that waits up to
    30 s per attempt, and the scheduled batch reads its pages through it."""
    import inspect

    from figma_auth import aws, container, jobs

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    paging: Any = aws.dynamodb_paging(aws.session()).meta.config  # botocore's Config (untyped attributes)
    requests: Any = aws.dynamodb(aws.session()).meta.config
    assert (paging.read_timeout, paging.connect_timeout) == (30, 2)
    assert (requests.read_timeout, requests.connect_timeout) == (5, 2)
    assert "pages=c.pages" in inspect.getsource(jobs.refresh_batch)
    assert "client=self.dynamodb_paging" in inspect.getsource(container.Parts)


def test_the_realtime_websocket_api_routes_connect_disconnect_and_default_to_the_realtime_function() -> None:
    from devstack.template import socket_api

    api = socket_api(load())
    assert api is not None and api.stage == "live"
    assert {k: (r.function, r.replies) for k, r in api.routes.items()} == {
        "$connect": ("RealtimeFunction", False),
        "$disconnect": ("RealtimeFunction", False),
        "$default": ("RealtimeFunction", True),  # the reply to a watch goes back on the socket
    }
    assert "wss://${RealtimeApi}" in load()["Outputs"]["RealtimeUrl"]["Value"]["Fn::Sub"]


def test_only_the_realtime_push_and_reconciler_functions_manage_sockets_and_only_this_apis() -> None:
    managers = {}
    for name, res in load()["Resources"].items():
        for policy in res.get("Properties", {}).get("Policies") or []:
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                if "execute-api:ManageConnections" in statement["Action"]:
                    managers[name] = statement["Resource"]["Fn::Sub"]
    assert set(managers) == {"RealtimeFunction", "PushFunction", "WebhookReconcilerFunction"}
    assert "/live/POST/@connections/" in managers["WebhookReconcilerFunction"]  # it only posts (tells watchers)
    for resource in managers.values():
        assert ":${RealtimeApi}/live/" in resource and resource.endswith("/@connections/*"), resource


def test_the_push_function_gets_the_file_events_and_the_users_own_from_the_bus() -> None:
    from devstack.template import rules

    (rule,) = rules(load())
    assert rule.function == "PushFunction"
    assert rule.pattern["source"] == ["figma-auth"]
    assert {"prefix": "Figma "} in rule.pattern["detail-type"]
    assert {"SessionEnded", "GrantNeedsReauth", "FigmaRateLimited", "ConnectionDeleted"} <= set(
        rule.pattern["detail-type"][1:]
    )
