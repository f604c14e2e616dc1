"""The Figma emulator's files as Figma's are (devstack/figma_files.py, devstack/figma_document.py):
generated at a chosen size, the same bytes for the same version, versions that grow on edits with
webhooks, readers, depth/ids, nodes, rendered images, Enterprise-only variables, gzip when asked,
Figma's "Request too large", and controls that refuse bad input.

Runs its own emulator in-process (the stack's is left alone) with Figma's rate limits off: these
tests read one file many times a minute."""

from __future__ import annotations

import gzip
import json
import struct
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from devstack import figma_document
from devstack.figma_emulator import EMULATOR_CLIENT, FigmaEmulator
from devstack.figma_files import Renders
from devstack.serving import BackgroundServer

REDIRECT = "http://127.0.0.1:9/callback"
SCOPES = (
    "file_content:read file_metadata:read file_versions:read file_comments:read file_variables:read "
    "webhooks:read webhooks:write"
)
TOO_LARGE = {"status": 400, "err": "Request too large. If applicable, filter by query params."}
PLAIN = {"Accept-Encoding": "identity"}


class _Receiver(BaseHTTPRequestHandler):
    """A webhook endpoint that takes every delivery (the emulator records what it sent)."""

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def figma() -> Iterator[FigmaEmulator]:
    emulator = FigmaEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    server = BackgroundServer(_Receiver, host="127.0.0.1", port=0, name="webhook-receiver")
    server.serve()
    yield f"{server.url}/figma"
    server.stop()


@pytest.fixture(autouse=True)
def clean(figma: FigmaEmulator) -> Iterator[None]:
    figma.state.reset()
    with figma.state.lock:
        figma.state.redirect_uris = {REDIRECT}
        figma.state.limits.enabled = False
        figma.state.one_token_per_user = False  # ada and grace hold tokens side by side
    yield
    figma.state.reset()


def token_for(figma: FigmaEmulator, user: str) -> str:
    """An access token the emulator issued through its own OAuth flow (consent, code, exchange)."""
    query = {"client_id": EMULATOR_CLIENT["FIGMA_CLIENT_ID"], "redirect_uri": REDIRECT, "response_type": "code"}
    query |= {"scope": SCOPES, "state": "s" * 20}
    assert httpx.get(f"{figma.url}/oauth", params=query).status_code == 200
    decided = httpx.post(f"{figma.url}/oauth/decide", data={**query, "decision": "allow", "user": user})
    code = parse_qs(urlsplit(decided.headers["location"]).query)["code"][0]
    auth = (EMULATOR_CLIENT["FIGMA_CLIENT_ID"], EMULATOR_CLIENT["FIGMA_CLIENT_SECRET"])
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    answer = httpx.post(f"{figma.url}/v1/oauth/token", data=form, auth=auth)
    return str(answer.json()["access_token"])


def client(figma: FigmaEmulator, user: str = "ada") -> httpx.Client:
    return httpx.Client(base_url=figma.url, headers={"Authorization": f"Bearer {token_for(figma, user)}"}, timeout=60)


@pytest.fixture
def ada(figma: FigmaEmulator) -> Iterator[httpx.Client]:
    with client(figma) as http:
        yield http


def control(figma: FigmaEmulator, path: str, body: Any) -> httpx.Response:
    return httpx.post(f"{figma.url}/_emulator/{path}", json=body, timeout=120)


def create(figma: FigmaEmulator, key: str, size: int, **fields: Any) -> dict[str, Any]:
    answer = control(figma, "files", {"key": key, "size": size, **fields})
    assert answer.status_code == 200, answer.text
    created: dict[str, Any] = answer.json()
    return created


def by_id(tree: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in figma_document.walk(tree)}


def reset(figma: FigmaEmulator) -> None:
    """The emulator's reset, then the limits off again (as every test starts)."""
    assert control(figma, "reset", {}).status_code == 200
    with figma.state.lock:
        figma.state.limits.enabled = False


def fresh_renders(figma: FigmaEmulator) -> None:
    """Forget every built answer and layout: the next read builds the file from nothing."""
    with figma.state.lock:
        figma.state.files.renders = Renders()


# -- generation ---------------------------------------------------------------------------------


def test_the_same_key_and_version_is_the_same_bytes_and_another_key_is_not(figma: FigmaEmulator, ada):
    create(figma, "Same1", 200_000)
    first = ada.get("/v1/files/Same1", headers=PLAIN).content
    fresh_renders(figma)
    create(figma, "Same1", 200_000)  # made again, built from nothing

    assert ada.get("/v1/files/Same1", headers=PLAIN).content == first
    create(figma, "Other1", 200_000)
    assert ada.get("/v1/files/Other1", headers=PLAIN).content != first
    edited = control(figma, "files/edit", {"key": "Same1"}).json()["version"]
    after_edit = ada.get("/v1/files/Same1", headers=PLAIN).content
    fresh_renders(figma)
    assert after_edit != first and ada.get("/v1/files/Same1", headers=PLAIN).content == after_edit
    assert json.loads(after_edit)["version"] == edited


@pytest.mark.parametrize("size", [1024, 1024 * 1024, 30 * 1024 * 1024])
def test_a_file_is_its_requested_size_within_five_percent(figma: FigmaEmulator, ada, size: int):
    created = create(figma, f"Sized{size}", size)

    body = ada.get(f"/v1/files/Sized{size}", headers=PLAIN).content
    assert len(body) == created["bytes"]
    assert abs(len(body) - size) <= size * 0.05
    assert json.loads(body)["document"]["type"] == "DOCUMENT"


def test_a_file_has_figmas_shape(figma: FigmaEmulator, ada):
    create(figma, "Shape1", 1024 * 1024, name="Checkout redesign")

    file = ada.get("/v1/files/Shape1").json()

    assert {"name", "lastModified", "thumbnailUrl", "version", "role", "editorType", "linkAccess"} <= set(file)
    assert {"document", "components", "componentSets", "schemaVersion", "styles"} <= set(file)
    assert file["name"] == "Checkout redesign" and file["editorType"] == "figma"
    nodes = list(figma_document.walk(file["document"]))
    kinds = {n["type"] for n in nodes}
    assert {"DOCUMENT", "CANVAS", "FRAME", "RECTANGLE", "TEXT", "GROUP", "INSTANCE", "COMPONENT"} <= kinds
    texts = [n for n in nodes if n["type"] == "TEXT"]
    assert all(isinstance(t["characters"], str) and "fontFamily" in t["style"] for t in texts)
    instances = [n for n in nodes if n["type"] == "INSTANCE"]
    assert all(i["componentId"] in file["components"] for i in instances)
    rectangles = [n for n in nodes if n["type"] == "RECTANGLE"]
    assert all(
        {"absoluteBoundingBox", "fills", "strokes", "effects", "constraints", "blendMode"} <= set(r) for r in rectangles
    )
    assert any(r["fills"] and "color" in r["fills"][0] for r in rectangles)
    styled = {s for n in nodes for s in n.get("styles", {}).values()}
    assert styled and styled <= set(file["styles"])
    assert len({n["id"] for n in nodes}) == len(nodes)  # ids are unique


def test_an_unknown_key_is_a_small_default_file_at_version_1_and_huge_is_over_6_mb(figma: FigmaEmulator, ada):
    default = ada.get("/v1/files/NeverMade1", headers=PLAIN)

    assert default.status_code == 200 and default.json()["version"] == "1"
    assert default.json()["name"] == "Design file NeverMade1" and 3500 < len(default.content) < 4700
    huge = httpx.get(f"{figma.url}/_emulator/files/HUGE").json()
    assert huge["bytes"] > 6 * 1024 * 1024


# -- gzip -----------------------------------------------------------------------------------------


def raw(http: httpx.Client, path: str, encoding: str) -> tuple[httpx.Response, bytes]:
    """The answer as it came on the wire (not decoded)."""
    with http.stream("GET", path, headers={"Accept-Encoding": encoding}) as response:
        return response, b"".join(response.iter_raw())


def test_gzip_only_when_asked_with_vary_and_content_length_either_way(figma: FigmaEmulator, ada):
    create(figma, "Zip1", 2 * 1024 * 1024)
    plain_response, plain = raw(ada, "/v1/files/Zip1", "identity")
    zipped_response, zipped = raw(ada, "/v1/files/Zip1", "gzip, deflate")

    assert "content-encoding" not in plain_response.headers
    assert zipped_response.headers["content-encoding"] == "gzip"
    for response, body in ((plain_response, plain), (zipped_response, zipped)):
        assert "Accept-Encoding" in response.headers["vary"]
        assert int(response.headers["content-length"]) == len(body)
    assert gzip.decompress(zipped) == plain
    assert len(plain) / len(zipped) >= 4
    assert "content-encoding" not in raw(ada, "/v1/files/Zip1", "gzip;q=0, identity")[0].headers
    for path in ("/v1/files/Zip1/meta", "/v1/files/Zip1/nodes?ids=0:1", "/v1/images/Zip1?ids=0:1"):
        response, body = raw(ada, path, "gzip")
        assert response.headers["content-encoding"] == "gzip" and json.loads(gzip.decompress(body))


# -- versions, edits, webhooks, deletion -------------------------------------------------------------


def test_an_edit_grows_the_version_and_meta_shows_it(figma: FigmaEmulator, ada):
    created = create(figma, "Edit1", 100_000)
    before = ada.get("/v1/files/Edit1/meta").json()["file"]
    assert before["version"] == created["version"] == ada.get("/v1/files/Edit1").json()["version"]

    edited = control(figma, "files/edit", {"key": "Edit1", "user": "grace"}).json()
    again = control(figma, "files/edit", {"key": "Edit1"}).json()

    assert int(created["version"]) < int(edited["version"]) < int(again["version"])
    meta = ada.get("/v1/files/Edit1/meta").json()["file"]
    assert meta["version"] == again["version"] and meta["last_touched_at"] > before["last_touched_at"]
    assert {"name", "folder_name", "creator", "last_touched_by", "thumbnail_url", "editorType", "role"} <= set(meta)
    assert {"link_access", "url"} <= set(meta)
    file = ada.get("/v1/files/Edit1").json()
    assert file["version"] == again["version"] and file["lastModified"] == meta["last_touched_at"]
    versions = ada.get("/v1/files/Edit1/versions").json()["versions"]
    assert [v["id"] for v in versions] == [again["version"], edited["version"], created["version"]]
    assert versions[1]["user"]["handle"] == "Grace Hopper"


def hook(http: httpx.Client, figma: FigmaEmulator, endpoint: str, event_type: str, key: str) -> str:
    """A webhook on the file, its PING delivered."""
    before = figma.state.webhooks.delivered
    body = {"event_type": event_type, "context": "file", "context_id": key, "endpoint": endpoint, "passcode": "pass"}
    made = http.post("/v2/webhooks", json=body)
    assert made.status_code == 200, made.text
    assert figma.state.wait_for_deliveries(before + 1)
    return str(made.json()["id"])


def payloads(figma: FigmaEmulator, hook_id: str, event_type: str) -> list[dict[str, Any]]:
    with figma.state.lock:
        sent = [r["request_info"]["payload"] for r in figma.state.webhooks.requests.get(hook_id, [])]
    return [p for p in sent if p["event_type"] == event_type]


def test_an_edit_delivers_file_update_and_file_version_update(figma: FigmaEmulator, ada, receiver: str):
    create(figma, "Hooked1", 20_000, name="Hooked file")
    update = hook(ada, figma, receiver, "FILE_UPDATE", "Hooked1")
    versioned = hook(ada, figma, receiver, "FILE_VERSION_UPDATE", "Hooked1")
    before = figma.state.webhooks.delivered

    version = control(figma, "files/edit", {"key": "Hooked1", "user": "grace"}).json()["version"]

    assert figma.state.wait_for_deliveries(before + 2)
    [updated] = payloads(figma, update, "FILE_UPDATE")
    assert (updated["file_key"], updated["file_name"], updated["passcode"]) == ("Hooked1", "Hooked file", "pass")
    [saved] = payloads(figma, versioned, "FILE_VERSION_UPDATE")
    assert saved["version_id"] == version and saved["triggered_by"]["handle"] == "Grace Hopper"
    assert {"created_at", "description", "timestamp", "webhook_id"} <= set(saved)


def test_a_deleted_file_is_404_everywhere_and_file_delete_is_delivered(figma: FigmaEmulator, ada, receiver: str):
    create(figma, "Gone1", 20_000)
    deleted = hook(ada, figma, receiver, "FILE_DELETE", "Gone1")
    updated = hook(ada, figma, receiver, "FILE_UPDATE", "Gone1")  # Figma: these get deletions too
    before = figma.state.webhooks.delivered

    assert control(figma, "files/delete", {"key": "Gone1", "user": "grace"}).status_code == 200

    assert figma.state.wait_for_deliveries(before + 2)
    for hook_id in (deleted, updated):
        [gone] = payloads(figma, hook_id, "FILE_DELETE")
        assert gone["file_key"] == "Gone1" and gone["triggered_by"]["handle"] == "Grace Hopper"
    for path in ("", "/meta", "/nodes?ids=0:1", "/comments", "/versions"):
        answer = ada.get(f"/v1/files/Gone1{path}")
        assert (answer.status_code, answer.json()) == (404, {"status": 404, "err": "Not found"}), path
    assert ada.get("/v1/images/Gone1?ids=0:1").status_code == 404
    assert control(figma, "files/edit", {"key": "Gone1"}).status_code == 404
    assert httpx.get(f"{figma.url}/_emulator/files/Gone1").status_code == 404
    create(figma, "Gone1", 20_000)  # made again: there again
    assert ada.get("/v1/files/Gone1").status_code == 200


# -- readers ------------------------------------------------------------------------------------------


def test_a_user_not_among_the_readers_gets_403_forbidden_on_every_read(figma: FigmaEmulator, ada):
    create(figma, "Private1", 20_000, readers=["grace"])

    for path in ("", "/meta", "/nodes?ids=0:1", "/comments", "/versions", "/variables/local"):
        answer = ada.get(f"/v1/files/Private1{path}")
        assert (answer.status_code, answer.json()) == (403, {"status": 403, "err": "Forbidden"}), path
    assert ada.get("/v1/images/Private1?ids=0:1").json() == {"status": 403, "err": "Forbidden"}
    with client(figma, "grace") as grace:
        assert grace.get("/v1/files/Private1").status_code == 200
        assert grace.get("/v1/files/Private1/meta").json()["file"]["creator"]["handle"] == "Grace Hopper"
    described = httpx.get(f"{figma.url}/_emulator/files/Private1").json()
    assert described["readers"] == ["grace"] and described["plan"] is None


# -- depth, ids, nodes -----------------------------------------------------------------------------------


def test_depth_cuts_the_tree_and_ids_keep_their_subtrees_and_every_page(figma: FigmaEmulator, ada):
    create(figma, "Tree1", 9 * 1024 * 1024)  # three pages
    full = ada.get("/v1/files/Tree1").json()
    nodes = by_id(full["document"])
    pages = full["document"]["children"]
    frames = [f for p in pages for f in p["children"] if f["type"] == "FRAME"]

    shallow = ada.get("/v1/files/Tree1?depth=1").json()["document"]
    assert [p["id"] for p in shallow["children"]] == [p["id"] for p in pages] and len(pages) >= 3
    assert all(p["children"] == [] for p in shallow["children"])
    two = ada.get("/v1/files/Tree1?depth=2").json()["document"]
    assert [f["id"] for p in two["children"] for f in p["children"]] == [f["id"] for p in pages for f in p["children"]]
    assert all(f.get("children", []) == [] for p in two["children"] for f in p["children"])

    deep = next(n for n in figma_document.walk(frames[-1]) if n["type"] == "TEXT")
    wanted = [deep["id"], frames[0]["id"]]
    picked = ada.get(f"/v1/files/Tree1?ids={','.join(wanted)}").json()["document"]
    assert [p["id"] for p in picked["children"]] == [p["id"] for p in pages]  # every page, as Figma does
    found = by_id(picked)
    assert found[deep["id"]] == deep and found[frames[0]["id"]] == frames[0]
    assert not {f["id"] for f in frames[1:-1]} & set(found)
    assert len(found) < len(nodes) / 10


def test_nodes_are_the_same_subtrees_as_in_the_file_and_an_unknown_id_is_null(figma: FigmaEmulator, ada):
    create(figma, "Nodes1", 500_000)
    full = ada.get("/v1/files/Nodes1").json()
    nodes = by_id(full["document"])
    instance = next(n for n in nodes.values() if n["type"] == "INSTANCE")
    inside = instance["children"][0]["id"]  # I{instance};{component child}
    frame = next(n for n in nodes.values() if n["type"] == "FRAME")
    wanted = [frame["id"], instance["id"], inside, "0:1", "9999:1"]

    answer = ada.get(f"/v1/files/Nodes1/nodes?ids={','.join(wanted)}").json()

    assert {"name", "lastModified", "thumbnailUrl", "version", "role", "editorType"} <= set(answer)
    assert answer["nodes"]["9999:1"] is None
    for node_id in wanted[:4]:
        entry = answer["nodes"][node_id]
        assert entry["document"] == nodes[node_id], node_id
        assert {"components", "componentSets", "schemaVersion", "styles"} <= set(entry)
    assert instance["componentId"] in answer["nodes"][instance["id"]]["components"]
    whole = ada.get("/v1/files/Nodes1/nodes?ids=0:0").json()["nodes"]["0:0"]
    assert whole["document"] == full["document"] and whole["components"] == full["components"]
    assert ada.get(f"/v1/files/Nodes1/nodes?ids={frame['id']}").json()["nodes"][frame["id"]]["document"] == frame
    one = ada.get(f"/v1/files/Nodes1/nodes?ids={frame['id']}&depth=1").json()["nodes"][frame["id"]]["document"]
    assert [c["id"] for c in one["children"]] == [c["id"] for c in frame["children"]]
    assert all(c.get("children", []) == [] for c in one["children"])


# -- images ----------------------------------------------------------------------------------------------


def png_parts(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, first pixel) of a one-IDAT 8-bit RGBA PNG, checking its signature and CRCs."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        tag, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length : at + 12 + length])[0] == zlib.crc32(tag + body)
        chunks[tag] = body
        at += 12 + length
    width, height, bits, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (bits, colour) == (8, 6) and b"IEND" in chunks
    pixels = zlib.decompress(chunks[b"IDAT"])
    assert len(pixels) == height * (1 + 4 * width)
    return width, height, pixels[1:5]


def test_images_are_urls_of_valid_pngs_of_the_nodes_aspect_and_colour(figma: FigmaEmulator, ada):
    create(figma, "Pics1", 200_000)
    nodes = by_id(ada.get("/v1/files/Pics1").json()["document"])
    rect = next(
        n
        for n in nodes.values()
        if n["type"] == "RECTANGLE" and n["fills"][0]["type"] == "SOLID" and "opacity" not in n
    )

    answer = ada.get(f"/v1/images/Pics1?ids={rect['id']},9999:1,0:1&format=png&scale=2").json()

    assert answer["err"] is None and answer["images"]["9999:1"] is None and answer["images"]["0:1"] is None
    image = httpx.get(answer["images"][rect["id"]])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    width, height, pixel = png_parts(image.content)
    box = rect["absoluteBoundingBox"]
    assert (width, height) == (round(box["width"] * 2), round(box["height"] * 2))
    fill = rect["fills"][0]
    expected = [round(fill["color"][c] * 255) for c in "rgb"] + [round(fill.get("opacity", 1.0) * 255)]
    assert list(pixel) == expected


# -- variables, too large ----------------------------------------------------------------------------------


def test_variables_are_refused_on_pro_and_answered_on_enterprise(figma: FigmaEmulator, ada):
    create(figma, "Vars1", 20_000, plan="pro")
    create(figma, "Vars2", 20_000, plan="enterprise")

    refused = ada.get("/v1/files/Vars1/variables/local")
    assert (refused.status_code, refused.json()) == (
        403,
        {"status": 403, "error": True, "message": "Limited by Figma plan"},
    )
    assert ada.get("/v1/files/Vars1/variables/published").status_code == 403
    local = ada.get("/v1/files/Vars2/variables/local").json()
    assert (local["status"], local["error"]) == (200, False)
    variables, collections = local["meta"]["variables"], local["meta"]["variableCollections"]
    assert variables and all(v["variableCollectionId"] in collections for v in variables.values())
    assert all(set(c["variableIds"]) <= set(variables) for c in collections.values())
    published = ada.get("/v1/files/Vars2/variables/published").json()["meta"]
    assert set(published["variables"]) == set(variables) and "valuesByMode" not in next(
        iter(published["variables"].values())
    )
    assert httpx.get(f"{figma.url}/_emulator/files/Vars2").json()["plan"] == "enterprise"


def test_the_too_large_control_refuses_long_answers_with_figmas_400(figma: FigmaEmulator, ada):
    created = create(figma, "Big1", 50_000)
    assert control(figma, "files/too_large", {"bytes": created["bytes"] - 1}).status_code == 200

    refused = ada.get("/v1/files/Big1")
    assert (refused.status_code, refused.json()) == (400, TOO_LARGE)
    assert ada.get("/v1/files/Big1/nodes?ids=0:0").json() == TOO_LARGE
    assert ada.get("/v1/files/Big1?depth=1").status_code == 200  # filtered by query params: small enough
    assert ada.get("/v1/files/Big1/nodes?ids=0:1&depth=1").status_code == 200
    control(figma, "files/too_large", {"bytes": 0})
    assert ada.get("/v1/files/Big1").status_code == 200


# -- the controls -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("files", {"key": "K1", "size": 1023}),
        ("files", {"key": "K1", "size": 64 * 1024 * 1024 + 1}),
        ("files", {"key": "K1", "size": "2048"}),
        ("files", {"key": "K1", "size": True}),
        ("files", {"size": 2048}),
        ("files", {"key": "a/b", "size": 2048}),
        ("files", {"key": "K1", "size": 2048, "plan": "gold"}),
        ("files", {"key": "K1", "size": 2048, "readers": "ada"}),
        ("files", {"key": "K1", "size": 2048, "readers": [1]}),
        ("files", {"key": "K1", "size": 2048, "name": ""}),
        ("files", {"key": "K1", "size": 2048, "colour": "red"}),
        ("files", ["K1", 2048]),
        ("files/edit", {}),
        ("files/edit", {"key": "K1", "user": 7}),
        ("files/delete", {"key": ""}),
        ("files/too_large", {"bytes": -1}),
        ("files/too_large", {"bytes": "big"}),
    ],
)
def test_bad_control_input_is_400_with_figmas_error_shape(figma: FigmaEmulator, path: str, body: Any):
    answer = control(figma, path, body)

    assert answer.status_code == 400 and answer.json()["status"] == 400 and answer.json()["err"]
    assert httpx.get(f"{figma.url}/_emulator/files/K1").json()["version"] == "1"  # nothing was made


def test_a_body_that_is_not_json_is_400(figma: FigmaEmulator):
    answer = httpx.post(f"{figma.url}/_emulator/files", content=b"{not json")

    assert answer.status_code == 400 and answer.json()["status"] == 400


def test_reset_brings_back_the_default_files(figma: FigmaEmulator):
    create(figma, "Reset1", 100_000, readers=["grace"], plan="enterprise")
    control(figma, "files/delete", {"key": "HUGE"})
    control(figma, "files/too_large", {"bytes": 2000})

    reset(figma)  # tokens go too

    described = httpx.get(f"{figma.url}/_emulator/files/Reset1").json()
    assert (described["version"], described["readers"], described["plan"]) == ("1", None, None)
    assert abs(described["bytes"] - 4096) <= 4096 * 0.05
    with client(figma) as ada:
        assert ada.get("/v1/files/Reset1").status_code == 200
    assert httpx.get(f"{figma.url}/_emulator/files/HUGE").json()["bytes"] > 6 * 1024 * 1024


def test_a_reset_returns_only_once_a_ping_on_its_way_has_been_answered(figma: FigmaEmulator, ada):
    """A test's end resets the emulator: a PING still on its way must not reach the receiver (and
    write into the table) after the next test has begun."""
    arrived, release, order = threading.Event(), threading.Event(), []

    class Held(_Receiver):
        def do_POST(self) -> None:  # noqa: N802
            arrived.set()
            release.wait(10)
            order.append("answered")
            super().do_POST()

    server = BackgroundServer(Held, host="127.0.0.1", port=0, name="held-receiver")
    server.serve()
    try:
        endpoint = f"{server.url}/figma"
        body = {"event_type": "FILE_UPDATE", "context": "file", "context_id": "Held1", "endpoint": endpoint}
        body["passcode"] = "pass"
        assert ada.post("/v2/webhooks", json=body).status_code == 200
        assert arrived.wait(10)
        resetting = threading.Thread(target=lambda: (figma.state.reset(), order.append("reset")))
        resetting.start()
        resetting.join(1)  # a reset that does not wait for the PING is done by now
        release.set()
        resetting.join(15)
    finally:
        release.set()
        server.stop()

    assert order == ["answered", "reset"]
