"""The emulator's files as Figma's are: generated documents of a chosen size (devstack/figma_document.py)
with versions that grow on each edit, readers, a plan, and the REST answers Figma gives for them.

REST (after the emulator's scope and rate-limit checks): ``GET /v1/files/{key}`` (``depth``, ``ids``),
``/nodes`` (``ids``, ``depth``), ``/meta``, ``/versions``, ``GET /v1/images/{key}`` (URLs of PNGs
the emulator renders at ``GET /_emulator/render/{key}/{id}.png``), ``/variables/local`` and
``/published`` (Enterprise files only; elsewhere Figma's 403 "Limited by Figma plan"). A file that
was deleted answers 404, a user not among its readers 403 Forbidden, on every path that names it.
A file or nodes answer longer than the ``too_large`` control's bytes is Figma's 400 "Request too
large". Answers are gzipped when the request accepts gzip (``Vary`` names Accept-Encoding either
way); a file or nodes answer is built and compressed once and kept with the last few (``Renders``).

Keys nobody created are default files (4 KB, version "1", readable by all, named "Design file
{key}"); ``HUGE`` is a 7 MB one (over Lambda's 6 MB), ``Demo30MB`` a 30 MB one. Control (POST /_emulator/files…):
``files`` {key, size, name?, plan?, readers?}, ``files/edit`` {key, user?}, ``files/delete``
{key, user?}, ``files/too_large`` {bytes}; ``GET /_emulator/files/{key}`` describes one.
"""

from __future__ import annotations

import gzip
import re
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import quote, unquote

from devstack import figma_document as doc
from devstack import figma_webhooks
from devstack.figma_access import FileAccess
from devstack.figma_document import Design, FileModel, Layout, Node
from devstack.figma_limits import PLANS, Limits
from devstack.figma_users import figma_user, user_profile
from devstack.figma_webhooks import Webhooks

DEFAULT_SIZE = 4 * 1024
HUGE_SIZE = 7 * 1024 * 1024
DEMO_30MB = "Demo30MB"
MIN_SIZE, MAX_SIZE = 1024, 64 * 1024 * 1024
TOO_LARGE = {"status": 400, "err": "Request too large. If applicable, filter by query params."}
FORBIDDEN = {"status": 403, "err": "Forbidden"}
NOT_FOUND = {"status": 404, "err": "Not found"}
LIMITED_BY_PLAN = {"status": 403, "error": True, "message": "Limited by Figma plan"}
VARY = "X-Figma-Token,Authorization,Accept-Encoding"  # what api.figma.com answers (docs/FIGMA.md)
JSON = "application/json; charset=utf-8"
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_MAX_PIXELS, _MAX_SIDE = 4_000_000, 4096


class NoSuchFile(LookupError):
    """A control names a file that was deleted."""


@dataclass(frozen=True)
class FileSpec:
    """A file: its design (key, name, size, version) and who may read it."""

    design: Design
    readers: frozenset[str] | None = None  # None: every user
    creator: str = "ada"
    editors: tuple[str, ...] = ()  # who made each edit, in order

    def may_read(self, user: str) -> bool:
        return self.readers is None or user in self.readers

    @property
    def last_editor(self) -> str:
        return self.editors[-1] if self.editors else self.creator


def created_version(key: str) -> int:
    """A created file's first version: a number like Figma's (ten digits), the same for a key."""
    return 1_000_000_000 + int(doc.hex40(f"{key}:version")[:8], 16) % 1_000_000_000


def default_spec(key: str) -> FileSpec:
    return FileSpec(Design(key, f"Design file {key}", DEFAULT_SIZE))


class Rendered:
    """One built answer: its bytes, and their gzip made on the first request that accepts it."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self._gzipped: bytes | None = None
        self._lock = threading.Lock()

    def gzipped(self) -> bytes:
        with self._lock:
            if self._gzipped is None:
                self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
            return self._gzipped

    @property
    def held(self) -> int:
        return len(self.body) + len(self._gzipped or b"")


class Renders:
    """The last few answers built (a 60 MB file and its gzip are 70 MB: a few, not dozens), and
    the layouts of the files planned (a few numbers each). One build at a time: two requests for
    the same big file build it once."""

    max_entries, max_bytes, max_layouts = 3, 160 * 1024 * 1024, 256

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.building = threading.RLock()  # a nodes answer may build the file inside its own build
        self.entries: OrderedDict[Hashable, Rendered] = OrderedDict()
        self.layouts: OrderedDict[Design, Layout] = OrderedDict()

    def _hit(self, key: Hashable) -> Rendered | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def _keep(self, key: Hashable, entry: Rendered) -> None:
        with self.lock:
            self.entries[key] = entry
            while len(self.entries) > 1 and (
                len(self.entries) > self.max_entries or sum(e.held for e in self.entries.values()) > self.max_bytes
            ):
                self.entries.popitem(last=False)

    def get(self, key: Hashable, build: Callable[[], bytes]) -> Rendered:
        found = self._hit(key)
        if found is not None:
            return found
        with self.building:
            found = self._hit(key)
            if found is None:
                found = Rendered(build())
                self._keep(key, found)
            return found

    def layout(self, design: Design) -> Layout:
        """The file's layout, planned (and its first version's answer kept) on first use."""
        first = replace(design, edits=0)
        with self.building:
            with self.lock:
                known = self.layouts.get(first)
            if known is not None:
                return known
            body, layout = doc.plan(first)
            with self.lock:
                self.layouts[first] = layout
                while len(self.layouts) > self.max_layouts:
                    self.layouts.popitem(last=False)
            self._keep(("file", first, None, None), Rendered(body))
            return layout

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


@dataclass
class Files:
    """The emulator's files. Call with the emulator's lock held (``renders`` has its own lock, so
    nothing is built while the emulator's lock is held)."""

    specs: dict[str, FileSpec] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    too_large: int = 0  # answers longer than this are Figma's 400 (0: off)
    renders: Renders = field(default_factory=Renders)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """The defaults: no created file, HUGE over Lambda's 6 MB, no size refusal. Built answers
        stay (they depend only on what a file is, so they are still right)."""
        self.specs = {
            "HUGE": FileSpec(Design("HUGE", "Huge", HUGE_SIZE, created_version("HUGE"))),
            # A real design system's size, for the demo's "the whole document" (built on first read)
            DEMO_30MB: FileSpec(
                Design(DEMO_30MB, "Design system (30 MB)", 30 * 1024 * 1024, created_version(DEMO_30MB))
            ),
        }
        self.deleted.clear()
        self.too_large = 0

    def get(self, key: str) -> FileSpec | None:
        if key in self.deleted:
            return None
        return self.specs.get(key) or default_spec(key)


class EmulatorLike(Protocol):
    """What this module uses of the emulator's state (devstack/figma_emulator.py, EmulatorState)."""

    lock: threading.Lock
    files: Files
    limits: Limits
    webhooks: Webhooks
    access: FileAccess


@dataclass(frozen=True)
class Answer:
    """A REST answer in Figma's shape, gzipped when the request accepts gzip."""

    status: int
    body: bytes
    rendered: Rendered | None = None
    content_type: str = JSON

    def encoded(self, accept_encoding: str) -> tuple[bytes, dict[str, str]]:
        """The bytes to send and their headers (``Vary`` either way, as Figma's CDN answers)."""
        headers = {"Vary": VARY, "Cache-Control": "no-cache, no-store"}
        if not accepts_gzip(accept_encoding):
            return self.body, headers
        body = self.rendered.gzipped() if self.rendered is not None else gzip.compress(self.body, mtime=0)
        return body, {**headers, "Content-Encoding": "gzip"}


def json_answer(status: int, body: Any) -> Answer:
    return Answer(status, doc.dumps(body))


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header accepts gzip (``gzip;q=0`` refuses it)."""
    for item in header.split(","):
        coding, _, params = item.partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip"):
            quality = params.strip().lower()
            return not (quality.startswith("q=") and _number(quality[2:], 1.0) == 0)
    return False


def _number(text: str, default: float) -> float:
    try:
        return float(text)
    except ValueError:
        return default


# -- REST -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """A REST call the emulator has let through (its token, scope and rate limit checked)."""

    user: str
    method: str
    path: str
    query: dict[str, str]
    host: str


def _named_file(path: str) -> tuple[str, str] | None:
    """(file key, what follows it) for /v1/files/{key}… and /v1/images/{key}."""
    segments = path.strip("/").split("/")
    if len(segments) >= 3 and segments[0] == "v1" and segments[1] == "files":
        return segments[2], "/".join(segments[3:])
    if len(segments) == 3 and segments[:2] == ["v1", "images"]:
        return segments[2], "images"
    return None


def rest(state: EmulatorLike, call: Call) -> Answer | None:
    """Figma's answer to a call that names a file; None: not one of this module's (the emulator
    answers it, e.g. comments, which a deleted or unreadable file has refused here first)."""
    named = _named_file(call.path)
    if named is None:
        return None
    key, rest_of_path = named
    with state.lock:
        spec = state.files.get(key)
        too_large = state.files.too_large
        plan = state.limits.file_plans.get(key) or state.limits.user_plans.get(call.user, "pro")
        role = state.access.role(key, call.user)  # devstack/figma_access.py: who may open and edit
    if spec is None or role == "none":  # Figma hides a file one cannot open
        return json_answer(404, NOT_FOUND)
    if not spec.may_read(call.user):
        return json_answer(403, FORBIDDEN)
    if rest_of_path.startswith("variables"):
        return variables_answer(spec, plan, call)
    if call.method != "GET":
        return None
    reads: dict[str, Callable[[], Answer]] = {
        "": lambda: file_answer(state.files.renders, spec, call.query, too_large),
        "nodes": lambda: nodes_answer(state.files.renders, spec, call.query, too_large),
        "meta": lambda: meta_answer(spec, call.host, role),
        "versions": lambda: versions_answer(spec, call.host),
        "images": lambda: images_answer(state.files.renders, spec, call),
    }
    read = reads.get(rest_of_path)
    return read() if read is not None else None


def _ids(query: dict[str, str]) -> tuple[str, ...] | None:
    ids = sorted({i.strip() for i in query.get("ids", "").split(",") if i.strip()})
    return tuple(ids) if ids else None


def _depth(query: dict[str, str]) -> int | None:
    """A positive ``depth``; anything else reads the whole tree (the emulator is lenient here)."""
    raw = query.get("depth", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def full_file(renders: Renders, design: Design) -> Rendered:
    """The whole file's JSON (GET /v1/files/{key} without ``depth`` or ``ids``)."""
    layout = renders.layout(design)
    return renders.get(("file", design, None, None), lambda: doc.replay(design, layout))


def _refused_if_large(rendered: Rendered, too_large: int) -> Answer:
    if too_large and len(rendered.body) > too_large:
        return json_answer(400, TOO_LARGE)
    return Answer(200, rendered.body, rendered)


def file_answer(renders: Renders, spec: FileSpec, query: dict[str, str], too_large: int) -> Answer:
    design, depth, ids = spec.design, _depth(query), _ids(query)
    if depth is None and ids is None:
        return _refused_if_large(full_file(renders, design), too_large)
    layout = renders.layout(design)

    def build() -> bytes:
        model = FileModel(design, layout)
        document = doc.select(model, set(ids) if ids else None, depth)
        body = {**design.header(), "document": document, "components": model.components(), "componentSets": {}}
        return doc.dumps({**body, "schemaVersion": 0, "styles": model.styles()})

    return _refused_if_large(renders.get(("file", design, depth, ids), build), too_large)


def _node_part(renders: Renders, model: FileModel, node_id: str, depth: int | None) -> bytes:
    """One entry of the nodes map: the node's subtree with the components and styles it uses."""
    if node_id == "0:0" and depth is None:  # the whole document: cut from the file's JSON, not rebuilt
        whole = full_file(renders, model.design).body
        start, end = doc.document_span(whole, model.design)
        components, styles = model.components(), model.styles()
        document = whole[start:end]
    else:
        node = doc.find(model, node_id)
        if node is None:
            return b"null"  # Figma: "the nodes map may contain values that are null"
        components, styles = doc.used(model, node)
        document = doc.dumps(doc.truncate(node, depth))
    rest = {"components": components, "componentSets": {}, "schemaVersion": 0, "styles": styles}
    return b'{"document":' + document + b"," + doc.dumps(rest)[1:]


def nodes_answer(renders: Renders, spec: FileSpec, query: dict[str, str], too_large: int) -> Answer:
    design, depth, ids = spec.design, _depth(query), _ids(query) or ()
    layout = renders.layout(design)

    def build() -> bytes:
        model = FileModel(design, layout)
        parts = [doc.dumps(i) + b":" + _node_part(renders, model, i, depth) for i in ids]
        return doc.dumps(design.header())[:-1] + b',"nodes":{' + b",".join(parts) + b"}}"

    return _refused_if_large(renders.get(("nodes", design, depth, ids), build), too_large)


def meta_answer(spec: FileSpec, host: str, role: str = "owner") -> Answer:
    """GET /v1/files/{key}/meta: Figma wraps it in ``file`` (figma/rest-api-spec #92)."""
    design, header = spec.design, spec.design.header()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", design.name).strip("-") or "Untitled"
    meta = {
        "name": design.name,
        "folder_name": "Drafts",
        "last_touched_at": header["lastModified"],
        "creator": figma_user(spec.creator, host),
        "last_touched_by": figma_user(spec.last_editor, host),
        "thumbnail_url": header["thumbnailUrl"],
        "editorType": "figma",
        "role": role,  # the caller's: owner, editor or viewer
        "link_access": header["linkAccess"],
        "url": f"https://www.figma.com/design/{design.key}/{slug}",
        "version": header["version"],
    }
    return json_answer(200, {"file": meta})


def versions_answer(spec: FileSpec, host: str) -> Answer:
    """GET /v1/files/{key}/versions: every version, newest first (each edit made one)."""
    versions = []
    for edits in range(spec.design.edits, -1, -1):
        version, created = spec.design.version_at(edits)
        user = spec.editors[edits - 1] if edits else spec.creator
        versions.append(
            {"id": version, "created_at": created, "label": None, "description": None, "user": figma_user(user, host)}
        )
    return json_answer(200, {"versions": versions, "pagination": {}})


def images_answer(renders: Renders, spec: FileSpec, call: Call) -> Answer:
    """GET /v1/images/{key}: a URL per node the emulator can render (a node with a bounding box),
    null for the others, as Figma answers."""
    model = FileModel(spec.design, renders.layout(spec.design))
    scale = min(4.0, max(0.01, _number(call.query.get("scale", "1"), 1.0)))
    ext = "svg" if call.query.get("format") == "svg" else "png"  # jpg and pdf come as PNG
    images: dict[str, str | None] = {}
    for node_id in _ids(call.query) or ():
        node = _renderable(model, node_id)
        where = f"{quote(spec.design.key)}/{quote(node_id, safe='')}.{ext}"
        images[node_id] = None if node is None else f"http://{call.host}/_emulator/render/{where}?scale={scale:g}"
    return json_answer(200, {"err": None, "images": images})


def _renderable(model: FileModel, node_id: str) -> Node | None:
    if node_id != doc.NOTES_ID and doc.frame_session(node_id) is None:
        return None  # the document and pages have no bounds: Figma renders them as null
    return doc.find(model, node_id)


# -- variables (Enterprise) ------------------------------------------------------------------------


def variables_answer(spec: FileSpec, plan: str, call: Call) -> Answer:
    """/v1/files/{key}/variables…: Enterprise files only; elsewhere Figma's 403 "Limited by Figma
    plan" in the Variables API's error shape (``error``, ``message``)."""
    if plan != "enterprise":
        return json_answer(403, LIMITED_BY_PLAN)
    if call.method == "POST":
        return json_answer(200, {"status": 200, "error": False, "meta": {"tempIdToRealId": {}}})
    meta = variables(spec.design, published=call.path.endswith("/published"))
    return json_answer(200, {"status": 200, "error": False, "meta": meta})


def _collections() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(id, name, modes) of the file's two collections: primitives, and themes over them."""
    return [
        ("VariableCollectionId:1:1", "Primitives", [("1:0", "Value")]),
        ("VariableCollectionId:1:2", "Theme", [("1:1", "Light"), ("1:2", "Dark")]),
    ]


def _variable_values(design: Design) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(id, collection, name, values by mode) of every variable."""
    palette = doc.Palette(design.key, styled=False).colors
    names = ("blue", "violet", "orange", "coral", "sky", "green", "yellow", "gray")
    out: list[tuple[str, str, str, dict[str, Any]]] = [
        (f"VariableID:2:{i + 1}", "VariableCollectionId:1:1", f"color/{name}/500", {"1:0": palette[i]})
        for i, name in enumerate(names)
    ]
    out += [
        (f"VariableID:2:{20 + i}", "VariableCollectionId:1:1", f"space/{100 * (i + 1)}", {"1:0": float(4 << i)})
        for i in range(4)
    ]
    for i, role in enumerate(("surface", "text", "accent", "border")):
        light, dark = (
            {"type": "VARIABLE_ALIAS", "id": f"VariableID:2:{i + 1}"},
            {"type": "VARIABLE_ALIAS", "id": f"VariableID:2:{8 - i}"},
        )
        out.append((f"VariableID:3:{i + 1}", "VariableCollectionId:1:2", f"color/{role}", {"1:1": light, "1:2": dark}))
    out.append(("VariableID:3:10", "VariableCollectionId:1:2", "brand/name", {"1:1": design.name, "1:2": design.name}))
    out.append(("VariableID:3:11", "VariableCollectionId:1:2", "feature/new-nav", {"1:1": True, "1:2": False}))
    return out


def _resolved_type(value: Any) -> str:
    if isinstance(value, dict):  # a colour, or an alias of one
        return "COLOR"
    return {bool: "BOOLEAN", float: "FLOAT", str: "STRING"}[type(value)]


def variables(design: Design, *, published: bool) -> Node:
    """The ``meta`` of the Variables API's answers (local: with values and modes; published:
    ids, keys and subscribed ids only, as Figma's spec shapes them)."""
    key, updated = design.key, design.last_modified
    found: Node = {"variables": {}, "variableCollections": {}}
    for vid, collection, name, values in _variable_values(design):
        first = next(iter(values.values()))
        kind = _resolved_type(first)  # an alias (a dict too) points at a colour here
        common = {"id": vid, "name": name, "key": doc.hex40(f"{key}:{vid}"), "variableCollectionId": collection}
        if published:
            found["variables"][vid] = {
                **common,
                "subscribed_id": doc.hex40(f"{key}:sub:{vid}"),
                "resolvedDataType": kind,
            }
            found["variables"][vid]["updatedAt"] = updated
            continue
        found["variables"][vid] = {**common, "resolvedType": kind, "valuesByMode": values, "remote": False}
        found["variables"][vid].update(description="", hiddenFromPublishing=False, scopes=["ALL_SCOPES"], codeSyntax={})
    for cid, name, modes in _collections():
        common = {"id": cid, "name": name, "key": doc.hex40(f"{key}:{cid}")}
        if published:
            found["variableCollections"][cid] = {
                **common,
                "subscribed_id": doc.hex40(f"{key}:sub:{cid}"),
                "updatedAt": updated,
            }
            continue
        ids = [v for v, c, _, _ in _variable_values(design) if c == cid]
        found["variableCollections"][cid] = {
            **common,
            "modes": [{"modeId": m, "name": n} for m, n in modes],
            "defaultModeId": modes[0][0],
            "remote": False,
            "hiddenFromPublishing": False,
            "variableIds": ids,
        }
    return found


# -- rendered images -------------------------------------------------------------------------------


def png(width: int, height: int, rgba: tuple[int, int, int, int]) -> bytes:
    """A valid PNG of one colour (8-bit RGBA), built with zlib and struct."""
    raw = (b"\x00" + bytes(rgba) * width) * height

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def _first_colour(node: Node) -> tuple[int, int, int, int]:
    """The first fill's colour of the node or, for a node without fills, of the first node in it
    that has one (white when none has)."""
    for n in doc.walk(node):
        for paint in n.get("fills", ()):
            color = paint.get("color") or paint.get("gradientStops", [{}])[0].get("color")
            if color:
                alpha = color["a"] * paint.get("opacity", 1.0) * n.get("opacity", 1.0)
                return round(color["r"] * 255), round(color["g"] * 255), round(color["b"] * 255), round(alpha * 255)
    return (255, 255, 255, 255)


def _pixels(box: Node, scale: float) -> tuple[int, int]:
    """The node's bounds at ``scale``, scaled down to at most 4096 px a side and 4 megapixels."""
    w, h = max(1.0, box["width"] * scale), max(1.0, box["height"] * scale)
    shrink = min(1.0, _MAX_SIDE / max(w, h), (_MAX_PIXELS / (w * h)) ** 0.5)
    return max(1, round(w * shrink)), max(1, round(h * shrink))


def render(state: EmulatorLike, path: str, query: dict[str, str]) -> Answer:
    """GET /_emulator/render/{key}/{node id}.png|svg?scale=: the image an /v1/images URL names
    (anyone with the URL may fetch it, as with Figma's signed S3 URLs)."""
    parts = path.split("/")
    if len(parts) != 5 or "." not in parts[4]:
        return json_answer(404, NOT_FOUND)
    key, (name, _, ext) = unquote(parts[3]), unquote(parts[4]).rpartition(".")
    with state.lock:
        spec = state.files.get(key)
    model = None if spec is None else FileModel(spec.design, state.files.renders.layout(spec.design))
    node = None if model is None else _renderable(model, name)
    if node is None:
        return json_answer(404, NOT_FOUND)
    width, height = _pixels(node["absoluteBoundingBox"], min(4.0, max(0.01, _number(query.get("scale", "1"), 1.0))))
    r, g, b, a = _first_colour(node)
    if ext == "svg":
        svg = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        )
        svg += f'<rect width="{width}" height="{height}" fill="#{r:02x}{g:02x}{b:02x}" fill-opacity="{a / 255:.3f}"/></svg>'
        return Answer(200, svg.encode(), content_type="image/svg+xml")
    return Answer(200, png(width, height, (r, g, b, a)), content_type="image/png")


# -- control (POST /_emulator/files…, GET /_emulator/files/{key}) ----------------------------------

_CREATE_FIELDS = {"key", "size", "name", "plan", "readers"}


def _object(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValueError(f"unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    return body


def _key(body: dict[str, Any]) -> str:
    key = body.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise ValueError("key: 1 to 128 letters, digits, '-' or '_'")
    return key


def _user(body: dict[str, Any], name: str) -> str | None:
    user = body.get(name)
    if user is not None and (not isinstance(user, str) or not _KEY.match(user)):
        raise ValueError(f"{name}: a user key such as 'ada'")
    return user


def _spec(body: Any) -> tuple[FileSpec, str | None]:
    """The file a create control describes, and its plan (None: keep the plans as they are)."""
    body = _object(body, _CREATE_FIELDS)
    key, size, name = _key(body), body.get("size"), body.get("name", None)
    if not isinstance(size, int) or isinstance(size, bool) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size: an integer number of bytes from {MIN_SIZE} to {MAX_SIZE}")
    if name is not None and (not isinstance(name, str) or not 0 < len(name) <= 200):
        raise ValueError("name: 1 to 200 characters")
    plan = body.get("plan")
    if plan is not None and plan not in PLANS:
        raise ValueError(f"plan: one of {PLANS}")
    readers = body.get("readers")
    if readers is not None and (
        not isinstance(readers, list) or not all(isinstance(r, str) and _KEY.match(r) for r in readers)
    ):
        raise ValueError("readers: a list of user keys such as ['ada', 'bob']")
    design = Design(key, name or f"Design file {key}", size, created_version(key))
    creator = readers[0] if readers else "ada"
    return FileSpec(design, None if readers is None else frozenset(readers), creator), plan


def create(state: EmulatorLike, body: Any) -> dict[str, Any]:
    """POST /_emulator/files: a file of ``size`` bytes (built now: the answer says its exact size)."""
    spec, plan = _spec(body)
    key = spec.design.key
    with state.lock:
        state.files.specs[key] = spec
        state.files.deleted.discard(key)
        if plan is not None:
            state.limits.file_plans[key] = plan
    built = full_file(state.files.renders, spec.design)
    return {"key": key, "version": spec.design.version, "bytes": len(built.body)}


def _event(spec: FileSpec, event_type: str, user: str, **fields: Any) -> dict[str, Any]:
    """A webhook event about the file, with the fields Figma's deliveries carry (docs/FIGMA.md)."""
    event = {"event_type": event_type, "file_key": spec.design.key, "file_name": spec.design.name, **fields}
    if event_type != "FILE_UPDATE":  # the others name who did it (Figma's ``User``)
        profile = user_profile(user)
        picture = f"https://s3-alpha.figma.com/profile/{doc.hex40(profile['id'])[:36]}"
        event["triggered_by"] = {"id": profile["id"], "handle": profile["handle"], "img_url": picture}
    return event


def edit(state: EmulatorLike, body: Any) -> dict[str, Any]:
    """POST /_emulator/files/edit {key, user?}: a person changes the file and saves a version —
    one node renamed, moved or added; the version grows; FILE_UPDATE and FILE_VERSION_UPDATE go to
    the file's webhooks."""
    body = _object(body, {"key", "user"})
    key, user = _key(body), _user(body, "user")
    with state.lock:
        spec = state.files.get(key)
        if spec is None:
            raise NoSuchFile(key)
        editor = user or spec.creator
        spec = replace(spec, design=replace(spec.design, edits=spec.design.edits + 1), editors=(*spec.editors, editor))
        state.files.specs[key] = spec
    version, created = spec.design.version, spec.design.last_modified
    figma_webhooks.fire(state, _event(spec, "FILE_UPDATE", editor))
    figma_webhooks.fire(
        state, _event(spec, "FILE_VERSION_UPDATE", editor, version_id=version, created_at=created, description="")
    )
    return {"key": key, "version": version}


def delete(state: EmulatorLike, body: Any) -> dict[str, Any]:
    """POST /_emulator/files/delete {key, user?}: the file is gone (404) and FILE_DELETE goes out
    (to the file's FILE_DELETE and FILE_UPDATE webhooks)."""
    body = _object(body, {"key", "user"})
    key, user = _key(body), _user(body, "user")
    with state.lock:
        spec = state.files.get(key)
        if spec is None:
            raise NoSuchFile(key)
        state.files.specs.pop(key, None)
        state.files.deleted.add(key)
    figma_webhooks.fire(state, _event(spec, "FILE_DELETE", user or spec.creator))
    return {"key": key, "deleted": True}


def set_too_large(state: EmulatorLike, body: Any) -> dict[str, Any]:
    """POST /_emulator/files/too_large {bytes}: file and nodes answers longer than ``bytes`` are
    Figma's 400 "Request too large" (0: off)."""
    size = _object(body, {"bytes"}).get("bytes")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError("bytes: a number of bytes, 0 for off")
    with state.lock:
        state.files.too_large = size
    return {"bytes": size}


def describe(state: EmulatorLike, key: str) -> Answer:
    """GET /_emulator/files/{key}: what tests check (its version, the size of its JSON, readers, plan)."""
    with state.lock:
        spec = state.files.get(key)
        plan = state.limits.file_plans.get(key)
    if spec is None:
        return json_answer(404, NOT_FOUND)
    built = full_file(state.files.renders, spec.design)
    readers = None if spec.readers is None else sorted(spec.readers)
    return json_answer(
        200, {"key": key, "version": spec.design.version, "bytes": len(built.body), "readers": readers, "plan": plan}
    )
