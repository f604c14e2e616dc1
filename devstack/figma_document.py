"""Figma files, generated: a document in Figma's shape (DOCUMENT → CANVAS pages → FRAMEs →
RECTANGLE, TEXT, GROUP, INSTANCE, COMPONENT) at a chosen size, the same bytes every time for the
same file and version.

A file is a ``Design`` (key, name, target size, version base, edits made). Its JSON is written
frame by frame (``serialize``): the first pass plans the ``Layout`` (how many children each frame
has, how long the closing "Notes" text is) so that the answer lands on the target size, and later
passes replay the layout, so any frame can be built alone: ``find`` and ``select`` build only the
frames a node or an ``ids`` filter needs, never the whole tree of a 60 MB file.

Every random choice comes from ``random.Random`` seeded by the file key and the frame (or edit)
number. Node ids say where a node lives: the document is ``0:0``, page ``p`` is ``0:{p+1}``, the
notes ``1:1``, style ``2:{n}``; frame ``g``'s nodes are ``{10+g}:{n}`` (the frame ``:1``, its
component ``:2``, the component's children ``:3``…), an instance's children ``I{instance};{id}``.
An edit (``edit``) renames, moves or adds one node in one frame; the version number grows by each
edit's step and ``lastModified`` by its minutes.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Node = dict[str, Any]

FRAME_SESSION = 10
WHITE = 12  # the palette's last colour
NOTES_ID = "1:1"
EDITED = 100_000  # an added node's counter: {session}:{EDITED + edit number}
STYLED_FROM = 16 * 1024  # smaller files have no shared styles
_EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

_HEX = (
    "0D99FF A259FF F24E1E FF7262 1ABCFE 0ACF83 FFC700 18A0FB 7B61FF 333333 666666 999999 E5E5E5 F5F5F5 "
    "FFFFFF 000000 2C2C2C FF5C5C 14AE5C FFCD29 5551FF 9747FF EB5757 27AE60 2F80ED F2994A 56CCF2 BB6BD9"
).split()
_UI = (
    "Button Card Header Footer Avatar Badge Input Label Icon Divider Tab Menu Modal Toast List Item Row Hero "
    "Banner Nav Sidebar Search Filter Chip Toggle Checkbox Tooltip Dropdown Table Cell Title Caption Link Logo "
    "Image Container Section Grid Stack Overlay Content Actions"
).split()
_STATES = "Primary Secondary Ghost Large Small Default Hover Pressed Disabled Active Light Dark".split()
_WORDS = (
    "the design review team ships a new onboarding flow with account settings profile and notifications "
    "payment checkout order summary welcome back sign in to continue with email password forgot create "
    "project share invite members view all recent activity today yesterday this week upgrade your plan "
    "billing history download export save changes cancel delete confirm learn more get started dashboard "
    "revenue growth customers pending shipped delivered returned refund invoice receipt subscription trial "
    "monthly annual discount coupon apply total subtotal tax shipping address city country phone number "
    "verify code resend message reply thread mention comment like follow unfollow block report privacy "
    "security two factor authentication device session logout language region timezone theme appearance "
    "storage usage limit quota workspace folder file upload drag drop here or browse maximum size format "
    "schedule meeting calendar event reminder deadline task assignee priority status open closed draft "
    "published archived tags label filter sort ascending descending newest oldest popular trending search "
    "results found no items yet try again later something went wrong network error offline retry success"
).split()
_PEOPLE = "Maya Chen,Jonas Weber,Priya Nair,Lucas Martin,Amara Okafor,Sofia Rossi,Kenji Sato,Elena Petrova".split(",")
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_SCREENS = "Home Onboarding Settings Profile Checkout Dashboard Search Inbox Pricing Login Empty state Details".split()
_PAGES = "Cover Designs Components Flows Handoff Archive Playground Research Icons Explorations Specs Old".split()
_FRAME_SIZES = ((1440, 1024), (1440, 900), (390, 844), (375, 812), (1920, 1080), (768, 1024), (1280, 832))
# (family, PostScript name, weight, size, line height px)
_FONTS = (
    ("Inter", "Inter-Regular", 400, 14.0, 16.94318199157715),
    ("Inter", "Inter-Medium", 500, 16.0, 19.363636016845703),
    ("Inter", "Inter-Bold", 700, 24.0, 29.045454025268555),
    ("Roboto", "Roboto-Regular", 400, 12.0, 14.0625),
)
_FILL_STYLES = ("Brand/Primary", "Brand/Secondary", "Neutral/900", "Neutral/100", "Accent/Success", "Accent/Warning")
_TEXT_STYLES = ("Body/Regular", "Body/Medium", "Heading/H2", "Caption/Small")


def dumps(value: Any) -> bytes:
    """Compact JSON, as Figma's API sends it."""
    return json.dumps(value, separators=(",", ":")).encode()


def hex40(text: str) -> str:
    """A key-like id (Figma's component and style keys are 40 hex digits)."""
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 - an id, not a secret


def _f32(value: float) -> float:
    """``value`` as Figma stores it: a 32-bit float (0.0470588244497776, not 0.047058823529411764)."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _color(hex_rgb: str, alpha: float = 1.0) -> Node:
    r, g, b = (int(hex_rgb[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return {"r": _f32(r), "g": _f32(g), "b": _f32(b), "a": alpha}


def _box(x: float, y: float, w: float, h: float) -> Node:
    return {"x": float(x), "y": float(y), "width": float(w), "height": float(h)}


# -- a file, its version and its layout -------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """One person's change to one frame (or, in a file without frames, to its first page)."""

    number: int
    step: int  # how much the version number grows
    minutes: int  # how much later than the version before
    op: str  # rename | move | add | rename_frame | rename_page
    target: int  # frame g (page p for rename_page)
    pick: float  # which child, as a fraction of the frame's children
    dx: int
    dy: int
    name: str


def _edit_clock(rng: random.Random) -> tuple[int, int]:
    return rng.randint(1, 4096), rng.randint(1, 600)


def edit(key: str, number: int, frames: int) -> Edit:
    """The ``number``-th edit of file ``key`` (1-based), in a file of ``frames`` frames."""
    rng = random.Random(f"{key}:edit:{number}")
    step, minutes = _edit_clock(rng)
    op = rng.choices(("rename", "move", "add", "rename_frame"), (35, 30, 25, 10))[0] if frames else "rename_page"
    target = rng.randrange(frames) if frames else 0
    name = f"{rng.choice(_UI)}/{rng.choice(_STATES)} {number}"
    return Edit(number, step, minutes, op, target, rng.random(), rng.randint(-40, 40), rng.randint(-40, 40), name)


@dataclass(frozen=True)
class Design:
    """One version of a file: what its bytes are made from."""

    key: str
    name: str
    size: int  # the target size of GET /v1/files/{key}, uncompressed
    version_base: int = 1  # the version before any edit
    edits: int = 0

    def clocks(self) -> list[tuple[int, int]]:
        return [_edit_clock(random.Random(f"{self.key}:edit:{n}")) for n in range(1, self.edits + 1)]

    @property
    def version(self) -> str:
        return str(self.version_base + sum(step for step, _ in self.clocks()))

    def version_at(self, edits: int) -> tuple[str, str]:
        """(version, lastModified) after the first ``edits`` edits."""
        clocks = self.clocks()[:edits]
        created = _EPOCH + timedelta(minutes=int(hex40(self.key)[:8], 16) % (200 * 24 * 60))
        moment = created + timedelta(minutes=sum(minutes for _, minutes in clocks))
        return str(self.version_base + sum(step for step, _ in clocks)), moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def last_modified(self) -> str:
        return self.version_at(self.edits)[1]

    @property
    def styled(self) -> bool:
        return self.size >= STYLED_FROM

    def header(self) -> Node:
        """The file's own fields (GET /v1/files/{key} and /nodes answer them)."""
        version = self.version
        thumb = hex40(f"{self.key}:{version}")
        return {
            "name": self.name,
            "lastModified": self.last_modified,
            "thumbnailUrl": f"https://s3-alpha.figma.com/thumbnails/{thumb[:8]}-{thumb[8:12]}-{thumb[12:16]}-{thumb[16:20]}-{thumb[20:32]}",
            "version": version,
            "role": "owner",  # every reader is shown as its owner: the emulator keeps no shares
            "editorType": "figma",
            "linkAccess": "inherit",
        }


@dataclass(frozen=True)
class Layout:
    """What the first pass decided: each page's frames (their children counts), the notes' length."""

    pages: tuple[tuple[int, ...], ...]
    notes: int  # characters of the notes text on the last page; -1: no notes
    title: int = 0  # characters added to the first page's name (a file too small for notes)
    starts: tuple[int, ...] = field(init=False)  # each page's first frame number

    def __post_init__(self) -> None:
        starts, total = [], 0
        for frames in self.pages:
            starts.append(total)
            total += len(frames)
        object.__setattr__(self, "starts", tuple(starts))

    @property
    def frames(self) -> int:
        return sum(len(p) for p in self.pages)

    def locate(self, g: int) -> tuple[int, int] | None:
        """(page, index in the page) of frame ``g``."""
        if not 0 <= g < self.frames:
            return None
        p = bisect.bisect_right(self.starts, g) - 1
        while not self.pages[p] or g - self.starts[p] >= len(self.pages[p]):
            p += 1
        return p, g - self.starts[p]

    def children(self, g: int) -> int:
        where = self.locate(g)
        return -1 if where is None else self.pages[where[0]][where[1]]


def page_count(size: int) -> int:
    return max(1, min(12, size // (4 * 1024 * 1024) + 1))


def frame_session(node_id: str) -> int | None:
    """The frame number a node id belongs to (None: the document, a page, the notes or a style)."""
    head = node_id[1:].split(";", 1)[0] if node_id.startswith("I") else node_id
    session, _, counter = head.partition(":")
    if not (session.isdigit() and counter.isdigit()) or int(session) < FRAME_SESSION:
        return None
    return int(session) - FRAME_SESSION


# -- nodes --------------------------------------------------------------------------------------


class Palette:
    """A file's colours: twelve of the base ones, the first six behind its fill styles."""

    def __init__(self, key: str, styled: bool) -> None:
        rng = random.Random(f"{key}:palette")
        self.colors = [*(_color(h) for h in rng.sample(_HEX, 12)), _color("FFFFFF")]  # WHITE last
        self.styled = styled

    def paint(self, node: Node, index: int, kind: str = "fill") -> list[Node]:
        """The node's solid fill in colour ``index`` (and its fill style, when the colour has one)."""
        if self.styled and index < len(_FILL_STYLES):
            node.setdefault("styles", {})[kind] = f"2:{10 + index}"
        return [{"blendMode": "NORMAL", "type": "SOLID", "color": self.colors[index]}]


def _base(node_id: str, name: str, kind: str, box: Node) -> Node:
    blend = "PASS_THROUGH" if kind in ("FRAME", "GROUP", "INSTANCE", "COMPONENT") else "NORMAL"
    return {
        "id": node_id,
        "name": name,
        "type": kind,
        "scrollBehavior": "SCROLLS",
        "blendMode": blend,
        "absoluteBoundingBox": box,
        "absoluteRenderBounds": dict(box),
        "constraints": {"vertical": "TOP", "horizontal": "LEFT"},
        "strokes": [],
        "strokeWeight": 1.0,
        "strokeAlign": "INSIDE",
        "effects": [],
        "interactions": [],
    }


def rectangle(palette: Palette, node_id: str, name: str, box: Node, color: int, radius: float, shadow: bool) -> Node:
    node = _base(node_id, name, "RECTANGLE", box)
    node["fills"] = palette.paint(node, color)
    node["cornerRadius"] = radius
    if shadow:
        node["effects"] = [
            {
                "type": "DROP_SHADOW",
                "visible": True,
                "color": {"r": 0.0, "g": 0.0, "b": 0.0, "a": 0.25},
                "blendMode": "NORMAL",
                "offset": {"x": 0.0, "y": 4.0},
                "radius": 4.0,
                "showShadowBehindNode": False,
            }
        ]
        if palette.styled:
            node.setdefault("styles", {})["effect"] = "2:30"
    return node


def text(palette: Palette, node_id: str, box: Node, color: int, characters: str, font: int) -> Node:
    family, postscript, weight, size, line = _FONTS[font]
    node = _base(node_id, characters[:40] or "Text", "TEXT", box)
    node["fills"] = palette.paint(node, color)
    node["strokeAlign"] = "OUTSIDE"
    node["characters"] = characters
    node["style"] = {
        "fontFamily": family,
        "fontPostScriptName": postscript,
        "fontWeight": weight,
        "textAutoResize": "WIDTH_AND_HEIGHT",
        "fontSize": size,
        "textAlignHorizontal": "LEFT",
        "textAlignVertical": "TOP",
        "letterSpacing": 0.0,
        "lineHeightPx": line,
        "lineHeightPercent": 100.0,
        "lineHeightUnit": "INTRINSIC_%",
    }
    if palette.styled:
        node.setdefault("styles", {})["text"] = f"2:{20 + font}"
    node.update(layoutVersion=4, characterStyleOverrides=[], styleOverrideTable={}, lineTypes=["NONE"])
    node["lineIndentations"] = [0]
    return node


def container(palette: Palette, node_id: str, name: str, kind: str, box: Node, color: int | None) -> Node:
    """A FRAME, COMPONENT, INSTANCE or GROUP without its children (``color`` None: no fill)."""
    node = _base(node_id, name, kind, box)
    fills = [] if color is None else palette.paint(node, color)
    node["fills"] = fills
    if kind != "GROUP":
        node["clipsContent"] = kind == "FRAME"
        node["background"] = [dict(f) for f in fills]
        node["backgroundColor"] = fills[0]["color"] if fills else {"r": 0.0, "g": 0.0, "b": 0.0, "a": 0.0}
        node["layoutGrids"] = []
    return node


def _figure(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return f"${rng.randint(1, 9999)}.{rng.randint(0, 99):02d}"
    if kind == 1:
        return f"#{rng.randint(1000, 999999)}"
    if kind == 2:
        return f"{rng.choice(_MONTHS)} {rng.randint(1, 28)}, {rng.randint(2019, 2026)}"
    if kind == 3:
        return f"{rng.randint(1, 59)} min ago"
    return rng.choice(_PEOPLE)


def words(rng: random.Random, count: int) -> str:
    """UI copy: words, with now and then a price, an order number, a date or a name."""
    return " ".join(_figure(rng) if rng.random() < 0.12 else rng.choice(_WORDS) for _ in range(count)).capitalize()


def notes_text(key: str, length: int) -> str:
    """``length`` characters of prose (the notes that bring a file to its size)."""
    rng = random.Random(f"{key}:notes")
    parts, total = [], 0
    while total < length:
        sentence = words(rng, rng.randint(6, 16)) + ". "
        parts.append(sentence)
        total += len(sentence)
    return "".join(parts)[:length]


def notes(palette: Palette, key: str, length: int) -> Node:
    """The text beside the frames that brings the file to its size: its JSON grows by exactly one
    byte per character (plain ASCII, nothing else in it depends on the length)."""
    node = text(palette, NOTES_ID, _box(-1200, 0, 760, 680), 2, "", 0)
    node["name"] = "Notes"
    node["style"]["textAutoResize"] = "HEIGHT"
    node["characters"] = notes_text(key, length)
    return node


def shift(node: Node, dx: float, dy: float) -> None:
    """Move a node and everything in it."""
    for name in ("absoluteBoundingBox", "absoluteRenderBounds"):
        node[name]["x"] += dx
        node[name]["y"] += dy
    for child in node.get("children", ()):
        shift(child, dx, dy)


def truncate(node: Node, depth: int | None) -> Node:
    """The node with ``depth`` levels of children (Figma's ``depth``; the cut nodes keep ``[]``)."""
    if depth is None or "children" not in node:
        return node
    kids = [] if depth <= 0 else [truncate(c, depth - 1) for c in node["children"]]
    return {**node, "children": kids}


def walk(node: Node) -> Any:
    yield node
    for child in node.get("children", ()):
        yield from walk(child)


# -- components, frames -------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One child of a component, placed relative to the component's corner."""

    kind: str  # rect | text
    name: str
    x: float
    y: float
    w: float
    h: float
    color: int
    label: str = ""
    font: int = 0
    radius: float = 0.0


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    w: int
    h: int
    color: int
    parts: tuple[Part, ...]


def component_spec(key: str, c: int) -> ComponentSpec:
    """Frame ``c``'s component (its first child), which instances anywhere in the file copy."""
    rng = random.Random(f"{key}:component:{c}")
    kind, state = rng.choice(_UI), rng.choice(_STATES)
    w, h = rng.choice(((120, 40), (160, 48), (240, 56), (320, 200), (48, 48), (88, 32)))
    color, ink = rng.randrange(6), rng.choice((2, 3, WHITE))
    parts = [Part("rect", "Background", 0, 0, w, h, color, radius=float(rng.choice((4, 8, 12, 999))))]
    if w >= 88:
        label = words(rng, rng.randint(1, 3))
        parts.append(Part("text", "Label", 16, (h - 20) / 2, w - 32, 20, ink, label, rng.randrange(len(_FONTS))))
    if rng.random() < 0.5:
        parts.append(Part("rect", "Icon", w - 28 if w > 60 else 12, (h - 16) / 2, 16, 16, ink, radius=2.0))
    return ComponentSpec(f"{kind}/{state}", w, h, color, tuple(parts))


def materialize(palette: Palette, spec: ComponentSpec, x: float, y: float, ids: list[str]) -> list[Node]:
    """The component's children at (x, y), with the given ids."""
    out = []
    for part, node_id in zip(spec.parts, ids, strict=True):
        box = _box(x + part.x, y + part.y, part.w, part.h)
        if part.kind == "text":
            out.append(text(palette, node_id, box, part.color, part.label, part.font))
        else:
            out.append(rectangle(palette, node_id, part.name, box, part.color, part.radius, shadow=False))
    return out


class FrameBuilder:
    """Frame ``g`` of a file, child by child, from its own random stream: the first ``k``
    children of a frame are the same whether it has ``k`` or more."""

    def __init__(self, model: FileModel, g: int) -> None:
        self.model, self.palette = model, model.palette
        self.session = FRAME_SESSION + g
        self.g = g
        self.rng = random.Random(f"{model.design.key}:frame:{g}")
        self.counter = 9  # :1 the frame, :2 its component, :3… the component's children

    def next_id(self) -> str:
        self.counter += 1
        return f"{self.session}:{self.counter}"

    def build(self, children: int, x: float, y: float) -> Node:
        rng = self.rng
        w, h = rng.choice(_FRAME_SIZES)
        x, y = x + rng.randint(-200, 200), y + rng.randint(-100, 100)
        name = rng.choice((f"{rng.choice(_SCREENS)} / {rng.randint(1, 9)}", f"Frame {rng.randint(1, 999)}"))
        frame = container(self.palette, f"{self.session}:1", name, "FRAME", _box(x, y, w, h), WHITE)
        if rng.random() < 0.4:
            frame.update(layoutMode="VERTICAL", itemSpacing=float(rng.choice((8, 16, 24))), paddingLeft=24.0)
            frame.update(paddingRight=24.0, paddingTop=32.0, paddingBottom=32.0, primaryAxisSizingMode="FIXED")
        frame["children"] = [self.component(x, y) if i == 0 else self.child(x, y, w, h) for i in range(children)]
        return frame

    def component(self, x: float, y: float) -> Node:
        spec = self.model.component(self.g)
        box = _box(x + 40, y + 40, spec.w, spec.h)
        node = container(self.palette, f"{self.session}:2", spec.name, "COMPONENT", box, None)
        node["componentPropertyDefinitions"] = {}
        ids = [f"{self.session}:{3 + k}" for k in range(len(spec.parts))]
        node["children"] = materialize(self.palette, spec, x + 40, y + 40, ids)
        return node

    def child(self, fx: float, fy: float, fw: int, fh: int) -> Node:
        rng = self.rng
        kind = rng.choices(("RECTANGLE", "TEXT", "GROUP", "INSTANCE"), (25, 40, 15, 20))[0]
        if kind == "INSTANCE":
            return self.instance(fx, fy, fw, fh)
        if kind == "GROUP":
            return self.group(fx, fy, fw, fh)
        return self.leaf(kind, fx, fy, fw, fh)

    def place(self, fx: float, fy: float, fw: int, fh: int, w: int, h: int) -> Node:
        rng = self.rng
        w, h = min(w, fw), min(h, fh)
        x, y = fx + rng.randint(0, fw - w), fy + rng.randint(0, fh - h)
        if rng.random() < 0.6:  # moved by hand, or laid out by auto layout: not on the pixel grid
            return _box(_f32(x + rng.random()), _f32(y + rng.random()), _f32(w + rng.random()), h)
        return _box(x, y, w, h)

    def leaf(self, kind: str, fx: float, fy: float, fw: int, fh: int) -> Node:
        rng = self.rng
        if kind == "TEXT":
            characters, font = words(rng, rng.randint(1, 40)), rng.randrange(len(_FONTS))
            width = int(len(characters) * _FONTS[font][3] * 0.55) + 1
            box = self.place(fx, fy, fw, fh, width, int(_FONTS[font][4]) + 1)
            node = text(self.palette, self.next_id(), box, rng.randrange(12), characters, font)
            node["absoluteRenderBounds"] = self.ink(box)  # glyphs sit inside the line box
            if rng.random() < 0.3:
                node["fills"][0]["opacity"] = _f32(rng.uniform(0.4, 0.9))
            return node
        box = self.place(fx, fy, fw, fh, rng.randint(8, 640), rng.randint(8, 480))
        name = rng.choice((f"Rectangle {rng.randint(1, 9999)}", f"{rng.choice(_UI)} {rng.choice(_WORDS)}"))
        radius = float(rng.choice((0, 0, 4, 8, 16)))
        node = rectangle(self.palette, self.next_id(), name, box, rng.randrange(13), radius, rng.random() < 0.2)
        if rng.random() < 0.2:
            node["fills"] = [self.gradient()]
            node.get("styles", {}).pop("fill", None)  # a gradient is not the fill style's colour
            if not node.get("styles", True):
                del node["styles"]
        if rng.random() < 0.15:
            node["opacity"] = _f32(rng.uniform(0.1, 0.95))
        if rng.random() < 0.3:
            node["fills"][0]["opacity"] = _f32(rng.uniform(0.04, 0.9))
        if rng.random() < 0.1:
            node["interactions"] = [self.click()]
        return node

    def ink(self, box: Node) -> Node:
        rng = self.rng
        top, bottom = _f32(rng.uniform(2.5, 5.0)), _f32(rng.uniform(2.0, 4.5))
        left = _f32(rng.uniform(0.2, 1.6))
        return _box(
            box["x"] + left, box["y"] + top, box["width"] - left - _f32(rng.uniform(0, 2)), box["height"] - top - bottom
        )

    def gradient(self) -> Node:
        rng, colors = self.rng, self.palette.colors
        handles = [{"x": _f32(rng.random()), "y": _f32(rng.random())} for _ in range(3)]
        stops = [{"color": colors[rng.randrange(12)], "position": _f32(p)} for p in (0.0, rng.random(), 1.0)]
        return {
            "blendMode": "NORMAL",
            "type": "GRADIENT_LINEAR",
            "gradientHandlePositions": handles,
            "gradientStops": stops,
        }

    def click(self) -> Node:
        """A prototype link to another frame of the file."""
        rng = self.rng
        destination = f"{FRAME_SESSION + rng.randint(max(0, self.g - 40), self.g)}:1"
        transition = {
            "type": "SMART_ANIMATE",
            "easing": {"type": "EASE_OUT"},
            "duration": _f32(rng.choice((0.2, 0.3, 0.45))),
        }
        action: Node = {"type": "NODE", "destinationId": destination, "navigation": "NAVIGATE"}
        action.update(transition=transition, preserveScrollPosition=False)
        return {"trigger": {"type": "ON_CLICK"}, "actions": [action]}

    def group(self, fx: float, fy: float, fw: int, fh: int) -> Node:
        rng = self.rng
        gid = self.next_id()
        area = self.place(fx, fy, fw, fh, rng.randint(80, 480), rng.randint(60, 320))
        kids = [
            self.leaf(rng.choice(("RECTANGLE", "TEXT")), area["x"], area["y"], int(area["width"]), int(area["height"]))
            for _ in range(rng.randint(2, 4))
        ]
        left = min(k["absoluteBoundingBox"]["x"] for k in kids)
        top = min(k["absoluteBoundingBox"]["y"] for k in kids)
        right = max(k["absoluteBoundingBox"]["x"] + k["absoluteBoundingBox"]["width"] for k in kids)
        bottom = max(k["absoluteBoundingBox"]["y"] + k["absoluteBoundingBox"]["height"] for k in kids)
        node = container(
            self.palette,
            gid,
            f"Group {rng.randint(1, 300)}",
            "GROUP",
            _box(left, top, right - left, bottom - top),
            None,
        )
        node["children"] = kids
        return node

    def instance(self, fx: float, fy: float, fw: int, fh: int) -> Node:
        c = self.rng.randint(max(0, self.g - 30), self.g)  # frames before this one (or this one) have one
        spec = self.model.component(c)
        inst = self.next_id()
        box = self.place(fx, fy, fw, fh, spec.w, spec.h)
        node = container(self.palette, inst, spec.name, "INSTANCE", box, None)
        label = {"value": words(self.rng, self.rng.randint(1, 4)), "type": "TEXT"}
        properties = {f"Label#{FRAME_SESSION + c}:{self.rng.randint(0, 99)}": label}
        node.update(componentId=f"{FRAME_SESSION + c}:2", componentProperties=properties, overrides=[])
        ids = [f"I{inst};{FRAME_SESSION + c}:{3 + k}" for k in range(len(spec.parts))]
        node["children"] = materialize(self.palette, spec, box["x"], box["y"], ids)
        return node


# -- the file ----------------------------------------------------------------------------------


class FileModel:
    """A design and its layout: builds any page, frame or node of it alone."""

    def __init__(self, design: Design, layout: Layout | None = None) -> None:
        self.design, self.layout = design, layout
        self.palette = Palette(design.key, design.styled)
        self.specs: dict[int, ComponentSpec] = {}
        self.edits: dict[tuple[str, int], list[Edit]] = {}
        frames = layout.frames if layout is not None else 0
        for number in range(1, design.edits + 1):
            change = edit(design.key, number, frames)
            where = ("page", 0) if change.op == "rename_page" else ("frame", change.target)
            self.edits.setdefault(where, []).append(change)

    @property
    def pages(self) -> int:
        return len(self.layout.pages) if self.layout is not None else page_count(self.design.size)

    def component(self, c: int) -> ComponentSpec:
        if c not in self.specs:
            self.specs[c] = component_spec(self.design.key, c)
        return self.specs[c]

    def component_meta(self, c: int) -> Node:
        key = hex40(f"{self.design.key}:component:{c}")
        return {
            "key": key,
            "name": self.component(c).name,
            "description": "",
            "remote": False,
            "documentationLinks": [],
        }

    def components(self) -> Node:
        """Every component of the file (one in each frame that has children)."""
        assert self.layout is not None
        return {
            f"{FRAME_SESSION + g}:2": self.component_meta(g)
            for g in range(self.layout.frames)
            if self.layout.children(g) > 0
        }

    def styles(self) -> Node:
        if not self.design.styled:
            return {}
        key = self.design.key
        catalog = [(10 + i, name, "FILL") for i, name in enumerate(_FILL_STYLES)]
        catalog += [(20 + i, name, "TEXT") for i, name in enumerate(_TEXT_STYLES)]
        catalog.append((30, "Elevation/Shadow", "EFFECT"))
        return {
            f"2:{n}": {
                "key": hex40(f"{key}:style:{n}"),
                "name": name,
                "styleType": kind,
                "remote": False,
                "description": "",
            }
            for n, name, kind in catalog
        }

    def document(self) -> Node:
        return {"id": "0:0", "name": "Document", "type": "DOCUMENT", "scrollBehavior": "SCROLLS", "children": []}

    def page(self, p: int) -> Node:
        """Page ``p`` without its children."""
        names = ["Page 1"] if self.pages == 1 else random.Random(f"{self.design.key}:pages").sample(_PAGES, self.pages)
        page: Node = {
            "id": f"0:{p + 1}",
            "name": names[p],
            "type": "CANVAS",
            "scrollBehavior": "SCROLLS",
            "children": [],
            "backgroundColor": _color("F5F5F5"),
            "prototypeStartNodeID": None,
            "flowStartingPoints": [],
            "prototypeDevice": {"type": "NONE", "rotation": "NONE"},
        }
        if p == 0 and self.layout is not None and self.layout.title > 1:
            page["name"] += " " + notes_text(f"{self.design.key}:title", self.layout.title - 1)
        for change in self.edits.get(("page", p), []) if p == 0 else []:
            page["name"] = change.name
        return page

    def frame(self, g: int, children: int, index: int) -> Node:
        """Frame ``g`` (the ``index``-th of its page) with ``children`` children, edits applied."""
        frame = FrameBuilder(self, g).build(children, (index % 10) * 2000, (index // 10) * 1200)
        for change in self.edits.get(("frame", g), []):
            _apply(self.palette, frame, change)
        return frame

    def frame_at(self, g: int) -> Node | None:
        assert self.layout is not None
        where = self.layout.locate(g)
        return None if where is None else self.frame(g, self.layout.pages[where[0]][where[1]], where[1])

    def page_frames(self, p: int) -> list[int]:
        assert self.layout is not None
        return list(range(self.layout.starts[p], self.layout.starts[p] + len(self.layout.pages[p])))

    def notes(self, length: int) -> Node:
        return notes(self.palette, self.design.key, length)


def _apply(palette: Palette, frame: Node, change: Edit) -> None:
    """One edit to a frame: rename or move one of its children (never its component), add a
    rectangle, or rename the frame."""
    kids = frame["children"][1:]
    box = frame["absoluteBoundingBox"]
    if change.op == "rename_frame":
        frame["name"] = change.name
    elif change.op == "add":
        session = frame["id"].split(":")[0]
        x = box["x"] + int(change.pick * max(0.0, box["width"] - 120))
        y = box["y"] + int((1 - change.pick) * max(0.0, box["height"] - 80))
        node_id = f"{session}:{EDITED + change.number}"
        frame["children"].append(rectangle(palette, node_id, change.name, _box(x, y, 120, 80), 0, 8.0, False))
    elif kids and change.op == "rename":
        kids[int(change.pick * len(kids))]["name"] = change.name
    elif kids and change.op == "move":
        shift(kids[int(change.pick * len(kids))], change.dx, change.dy)


# -- the file's JSON --------------------------------------------------------------------------


def _open(node: Node) -> bytes:
    """The node's JSON up to and including the opening of its children's list."""
    return dumps({k: v for k, v in node.items() if k != "children"})[:-1] + b',"children":['


class _Writer:
    """Writes a file's JSON page by page, frame by frame, and knows at every step how long it
    would be if closed now (the open page, the document, the components map and the rest)."""

    def __init__(self, model: FileModel) -> None:
        self.out = bytearray(dumps(model.design.header())[:-1] + b',"document":' + _open(model.document()))
        self.entries: list[bytes] = []
        self.entry_bytes = 0
        styles = dumps(model.styles())
        self.tail = b',"componentSets":{},"schemaVersion":0,"styles":' + styles + b"}"
        self.items = 0  # children written in the open page
        self.pages = 0

    def size(self) -> int:
        components = 2 + self.entry_bytes + max(0, len(self.entries) - 1)
        return len(self.out) + 4 + len(b',"components":') + components + len(self.tail)

    def cost(self, chunk: bytes, entry: bytes | None) -> int:
        extra = 0 if entry is None else len(entry) + (1 if self.entries else 0)
        return len(chunk) + (1 if self.items else 0) + extra

    def open_page(self, page: Node) -> None:
        self.out += (b"," if self.pages else b"") + _open(page)
        self.items = 0

    def add(self, chunk: bytes, entry: bytes | None) -> None:
        self.out += (b"," if self.items else b"") + chunk
        self.items += 1
        if entry is not None:
            self.entries.append(entry)
            self.entry_bytes += len(entry)

    def close_page(self) -> None:
        self.out += b"]}"
        self.pages += 1

    def finish(self) -> bytes:
        self.out += b']},"components":{' + b",".join(self.entries) + b"}" + self.tail
        return bytes(self.out)


def _entry(model: FileModel, g: int) -> bytes:
    return dumps(f"{FRAME_SESSION + g}:2") + b":" + dumps(model.component_meta(g))


def _place(model: FileModel, out: _Writer, g: int, children: int, index: int, limit: int) -> int:
    """Write frame ``g`` with as many of its ``children`` as fit under ``limit`` bytes: how many
    (-1: not even the empty frame fits)."""
    for k in range(children, -1, -1):
        chunk, entry = dumps(model.frame(g, k, index)), _entry(model, g) if k else None
        if out.size() + out.cost(chunk, entry) <= limit:
            out.add(chunk, entry)
            return k
    return -1


def plan(design: Design) -> tuple[bytes, Layout]:
    """The first version's JSON, written until it reaches ``design.size``, and the layout that
    writes it again: frames page by page (each page its share of the size), the last frame cut to
    what fits, then the notes, whose length makes up the rest to the byte (in a file too small
    for notes, the first page's name does)."""
    model = FileModel(Design(design.key, design.name, design.size, design.version_base))
    out, rng = _Writer(model), random.Random(f"{design.key}:{design.size}:layout")
    reserve = len(dumps(model.notes(0))) + 1
    pages: list[tuple[int, ...]] = []
    full, g, notes_length = False, 0, -1
    for p in range(model.pages):
        out.open_page(model.page(p))
        counts: list[int] = []
        while not full and out.size() < design.size * (p + 1) // model.pages:
            wanted = rng.randint(3, 24)
            placed = _place(model, out, g, wanted, len(counts), design.size - reserve)
            full = placed < wanted
            if placed >= 0:
                counts.append(placed)
                g += 1
        if p == model.pages - 1:
            notes_length = design.size - out.size() - out.cost(dumps(model.notes(0)), None)
            if notes_length >= 0:
                out.add(dumps(model.notes(notes_length)), None)
        out.close_page()
        pages.append(tuple(counts))
    body, layout = out.finish(), Layout(tuple(pages), max(notes_length, -1))
    if layout.notes < 0 and design.size - len(body) > 1:  # too small for notes: a longer page name
        layout = Layout(layout.pages, -1, design.size - len(body))
        body = replay(model.design, layout)
    return body, layout


def replay(design: Design, layout: Layout) -> bytes:
    """The JSON of any version, from the layout its first version planned."""
    model = FileModel(design, layout)
    out = _Writer(model)
    for p, counts in enumerate(layout.pages):
        out.open_page(model.page(p))
        for index, (g, children) in enumerate(zip(model.page_frames(p), counts, strict=True)):
            out.add(dumps(model.frame(g, children, index)), _entry(model, g) if children else None)
        if p == len(layout.pages) - 1 and layout.notes >= 0:
            out.add(dumps(model.notes(layout.notes)), None)
        out.close_page()
    return out.finish()


def document_span(body: bytes, design: Design) -> tuple[int, int]:
    """Where the document's JSON lies in a file's JSON (GET /nodes of ``0:0`` answers it)."""
    start = len(dumps(design.header())[:-1] + b',"document":')
    return start, body.rindex(b',"components":{')


# -- parts of a file: ids, depth, one node -------------------------------------------------------


def _prune(node: Node, ids: set[str]) -> Node | None:
    """The node if it is wanted; else the chain down to the wanted nodes inside it (None: none)."""
    if node["id"] in ids:
        return node
    kids = [k for k in (_prune(c, ids) for c in node.get("children", ())) if k is not None]
    return {**node, "children": kids} if kids else None


def _page_children(model: FileModel, p: int, ids: set[str] | None, depth: int | None) -> list[Node]:
    assert model.layout is not None
    last = p == len(model.layout.pages) - 1
    whole = ids is None or "0:0" in ids or f"0:{p + 1}" in ids
    if whole and depth is not None and depth <= 1:
        return []
    wanted = set() if whole or ids is None else {frame_session(i) for i in ids}
    kids: list[Node] = []
    for index, g in enumerate(model.page_frames(p)):
        if whole or g in wanted:
            frame = model.frame(g, model.layout.pages[p][index], index)
            part = frame if whole or ids is None else _prune(frame, ids)
            if part is not None:
                kids.append(truncate(part, None if depth is None else depth - 2))
    if last and model.layout.notes >= 0 and (whole or (ids is not None and NOTES_ID in ids)):
        kids.append(model.notes(model.layout.notes))
    return kids


def select(model: FileModel, ids: set[str] | None, depth: int | None) -> Node:
    """The document cut to ``depth`` levels and to the ``ids`` subtrees with their ancestors;
    every page is there, as Figma returns "top-level canvas nodes … regardless"."""
    assert model.layout is not None
    document = model.document()
    for p in range(len(model.layout.pages)):
        page = model.page(p)
        page["children"] = _page_children(model, p, ids, depth)
        document["children"].append(page)
    return truncate(document, depth)


def find(model: FileModel, node_id: str) -> Node | None:
    """One node with everything in it (None: the file has no such node)."""
    assert model.layout is not None
    if node_id == "0:0":
        return select(model, None, None)
    if node_id.startswith("0:") and node_id[2:].isdigit() and 1 <= int(node_id[2:]) <= len(model.layout.pages):
        page = model.page(int(node_id[2:]) - 1)
        page["children"] = _page_children(model, int(node_id[2:]) - 1, None, None)
        return page
    if node_id == NOTES_ID:
        return model.notes(model.layout.notes) if model.layout.notes >= 0 else None
    g = frame_session(node_id)
    frame = None if g is None else model.frame_at(g)
    return next((n for n in walk(frame) if n["id"] == node_id), None) if frame is not None else None


def used(model: FileModel, node: Node) -> tuple[Node, Node]:
    """(components, styles) a subtree uses: its components and those its instances copy, and the
    styles its nodes name."""
    catalog = model.styles()
    components: Node = {}
    styles: Node = {}
    for n in walk(node):
        component: str | None = (
            n["componentId"] if n["type"] == "INSTANCE" else n["id"] if n["type"] == "COMPONENT" else None
        )
        g = None if component is None else frame_session(component)
        if component is not None and g is not None:
            components[component] = model.component_meta(g)
        for style in n.get("styles", {}).values():
            if style in catalog:
                styles[style] = catalog[style]
    return components, styles
