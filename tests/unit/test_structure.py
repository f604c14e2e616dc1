"""The layout's rules, read from the tree's own source (AST): no class over 250 lines and no
function over 60 in the layer; no import cycle in the layer, the handlers or the dev stack
(imports inside functions count, and so do type-only ones: a cycle a type checker follows is
one a reader follows too); the claims the docstrings make about who does what; a test module's
helpers come from tests/support, never from another test module; and an item's keys and
DynamoDB's attribute values are spelled by the store alone (the values by its codec)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "shared" / "figma_auth"
MAX_CLASS_LINES = 250
MAX_FUNCTION_LINES = 60


def modules(folder: Path, package: str) -> dict[str, Path]:
    """Module name → file, for every .py file below ``folder`` (``package`` is its import name)."""
    out = {}
    for path in sorted(folder.rglob("*.py")):
        parts = list(path.relative_to(folder).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join([package, *parts])] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, *, type_only: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement at any depth; ``if TYPE_CHECKING:`` bodies only with ``type_only``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.If) and _is_type_checking(node) and not type_only:
            children = list(node.orelse)
        stack.extend(children)


def imports_of(path: Path, name: str, known: set[str], *, type_only: bool = True) -> set[str]:
    """The modules of ``known`` that ``path`` (module ``name``) imports (type-only ones too, unless
    ``type_only`` is False)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in _imports(ast.parse(path.read_text()), type_only=type_only):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def import_graph() -> dict[str, set[str]]:
    known = {
        **modules(LAYER, "figma_auth"),
        **modules(ROOT / "functions", "functions"),
        **modules(ROOT / "devstack", "devstack"),
    }
    return {name: imports_of(path, name, set(known)) for name, path in known.items()}


def test_the_cycle_finder_finds_a_cycle_of_lazy_imports(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def f():\n    from pkg import b\n")
    (tmp_path / "b.py").write_text("from pkg.a import f\n")
    (tmp_path / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n")
    found = modules(tmp_path, "pkg")
    graph = {name: imports_of(path, name, set(found), type_only=False) for name, path in found.items()}
    assert graph["pkg.c"] == set()  # a type-only import runs never
    assert cycles(graph) == [["pkg.a", "pkg.b"]]
    (tmp_path / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import c\n")
    found = modules(tmp_path, "pkg")
    graph = {name: imports_of(path, name, set(found)) for name, path in found.items()}
    assert cycles(graph) == [["pkg.a", "pkg.c"]]  # a cycle through a type-only import is one too


def test_no_import_cycle_in_the_layer_the_handlers_or_the_dev_stack_type_only_ones_included() -> None:
    graph = import_graph()
    assert len(graph) > 60 and any(graph.values())  # the tree was read
    assert cycles(graph) == []


def _units(kind: type[ast.AST]) -> list[tuple[str, int]]:
    out = []
    for path in sorted(LAYER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, kind) and isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                end = node.end_lineno or node.lineno
                out.append((f"{path.relative_to(ROOT)}:{node.name}", end - node.lineno + 1))
    return out


@pytest.mark.parametrize(("kind", "limit"), [(ast.ClassDef, MAX_CLASS_LINES), (ast.FunctionDef, MAX_FUNCTION_LINES)])
def test_no_class_or_function_in_the_layer_is_over_its_size(kind: type[ast.AST], limit: int) -> None:
    units = _units(kind)
    assert len(units) > 20  # the tree was read
    assert [(name, lines) for name, lines in units if lines > limit] == []


def _reads_the_environment(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    return any(
        (isinstance(n, ast.Attribute) and n.attr in ("environ", "getenv") and ast.unparse(n.value) == "os")
        or (isinstance(n, ast.ImportFrom) and n.module == "os" and {a.name for a in n.names} & {"environ", "getenv"})
        for n in ast.walk(tree)
    )


def test_only_settings_reads_the_deployments_configuration_and_boot_lambdas_own_variables() -> None:
    readers = sorted(
        str(p.relative_to(ROOT))
        for p in [*LAYER.rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
        if _reads_the_environment(p)
    )
    assert readers == ["shared/figma_auth/boot.py", "shared/figma_auth/settings.py"]
    boot = (LAYER / "boot.py").read_text()
    named = set(re.findall(r"os\.environ(?:\.get|\.setdefault)?\(\s*\"([A-Z_]+)\"", boot))
    assert named == {"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_INITIALIZATION_TYPE", "PYDANTIC_DISABLE_PLUGINS"}


def test_a_handler_imports_neither_boto3_nor_httpx_and_builds_nothing_itself() -> None:
    for path in sorted((ROOT / "functions").rglob("app.py")):
        imported = {n.module or "" for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ImportFrom)}
        imported |= {
            a.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Import) for a in n.names
        }
        assert not {m for m in imported if m.split(".")[0] in ("boto3", "botocore", "httpx")}, path


def test_the_use_case_packages_list_names_every_module_it_holds() -> None:
    package = LAYER / "usecases"
    listed = set(re.findall(r"^- ``(\w+)``", (package / "__init__.py").read_text(), re.MULTILINE))
    held = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    assert listed == held


# -- tests: helpers in tests/support, nowhere else -------------------------------------------------------


def imports_from_the_tests(path: Path, name: str) -> list[str]:
    """What ``path`` (module ``name``, below tests/) imports from the tests' own tree, other than
    ``tests.support``: a test module, a conftest or the bare package."""
    found = []
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in _imports(ast.parse(path.read_text()), type_only=True):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                kept = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(kept + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names]
        found += [t for t in targets if t.split(".")[0] == "tests" and t.split(".")[:2] != ["tests", "support"]]
    return found


def test_the_test_import_finder_finds_each_way_to_import_a_test_module(tmp_path: Path) -> None:
    (tmp_path / "unit").mkdir()
    (tmp_path / "unit" / "test_a.py").write_text(
        "from tests.support.fakes import X\nfrom tests.support import stack\n"
        "from tests.unit.test_b import helper\nimport tests.integration.test_c\nfrom . import conftest\n"
        "from tests import unit\ndef f():\n    from ..browser.conftest import ARTIFACTS\n"
    )
    found = imports_from_the_tests(tmp_path / "unit" / "test_a.py", "tests.unit.test_a")
    assert sorted(found) == [
        "tests.browser.conftest.ARTIFACTS",
        "tests.integration.test_c",
        "tests.unit",
        "tests.unit.conftest",
        "tests.unit.test_b.helper",
    ]


def test_no_test_module_imports_another_only_tests_support() -> None:
    tests = modules(ROOT / "tests", "tests")
    read = {name: path for name, path in tests.items() if "node_modules" not in path.parts}
    assert len(read) > 100 and "tests.support.fakes" in read  # the tree was read
    assert {name: found for name, path in read.items() if (found := imports_from_the_tests(path, name))} == {}


def test_no_test_uses_motos_in_process_mocks_whose_exit_resets_the_servers_world_too() -> None:
    """moto keeps one world per process: ``mock_aws``'s exit resets the backends the session's
    moto server serves, so a test after it (any order, as under pytest-xdist) finds the stack's
    rule and queue gone. AWS is moto's server, over HTTP (``moto_endpoint``)."""
    tests = modules(ROOT / "tests", "tests")
    read = {name: path for name, path in tests.items() if "node_modules" not in path.parts}
    assert len(read) > 100  # the tree was read
    mocks = re.compile(r"^\s*from moto import|^\s*import moto\b|mock_aws\(", re.MULTILINE)
    assert [name for name, path in read.items() if mocks.search(path.read_text())] == []


# -- item keys: spelled by the store alone -----------------------------------------------------------------

STORE = LAYER / "store"
PYTHON_TREES = (".ci", "bench", "clients", "devstack", "examples", "functions", "shared", "tests")
ATTRIBUTE_TYPES = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"}
# Outside the store, who may spell an item's key or attribute values by hand, and why.
SPELLS_ITEMS = {
    "bench/cold_child.py": "the plain-boto3 handler the cold start is measured against: its own BENCH item",
    "bench/aws_model.py": "DynamoDB's answers, modelled for the scheduler benchmark",
    "tests/integration/": "reads and ages items as DynamoDB holds them: the table is the test's oracle",
    "tests/faults/": "the same, under injected faults",
    "tests/unit/test_structure.py": "this test, which names what it looks for",
    "tests/unit/test_codec.py": "the codec's own test: DynamoDB's attribute format against boto3's",
}


def key_prefixes() -> set[str]:
    """The partition-key prefixes the store's modules lay out: each ``Kind("X")``'s ``X#``, and a
    literal ``X#…`` a module spells itself (the sessions' ``USER#`` index key)."""
    found = set()
    for path in STORE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "Kind":
                found.add(f"{node.args[0].value}#")  # type: ignore[attr-defined]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                found |= set(re.findall(r"^([A-Z][A-Z_]*#)", node.value))
    return found


def item_spellings(path: Path, prefixes: set[str]) -> list[tuple[int, str]]:
    """Where ``path`` spells an item by hand, line and what: ``key`` (a dict keyed ``"pk"`` or
    ``"sk"``), ``value`` (an attribute value: ``{"S": …}``) or ``prefix`` (a string, an f-string's
    head too, that starts with a key prefix)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
            if keys & {"pk", "sk"}:
                found.append((node.lineno, "key"))
            elif len(node.keys) == 1 and keys and keys <= ATTRIBUTE_TYPES:
                found.append((node.lineno, "value"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(tuple(prefixes)):
            found.append((node.lineno, "prefix"))
    return sorted(found)


def test_the_item_finder_finds_each_way_to_spell_an_item(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        'k = {"pk": {"S": "X"}, "sk": {"S": "CONN"}}\nv = {":e": {"N": "1"}}\nu = f"CONN#{k}"\n'
        'fine = {"S": 1, "T": 2}\nalso_fine = "CONNECTION"\nkind = CONNECTION.key("u")\n'
    )
    assert item_spellings(tmp_path / "a.py", {"CONN#"}) == [
        (1, "key"), (1, "value"), (1, "value"), (2, "value"), (3, "prefix")
    ]  # fmt: skip


def test_item_keys_and_attribute_values_are_spelled_in_the_store_alone_and_values_in_its_codec_alone() -> None:
    prefixes = key_prefixes()
    assert {"CONN#", "SESSION#", "USER#", "TX#", "DEVICE#", "WEBHOOK#", "WHPASS#"} <= prefixes  # the store was read
    files = [
        path
        for tree in PYTHON_TREES
        for path in sorted((ROOT / tree).rglob("*.py"))
        if "node_modules" not in path.parts and STORE not in path.parents
    ]
    assert len(files) > 150  # the tree was read
    spelled = [
        (str(path.relative_to(ROOT)), line, what)
        for path in files
        if not str(path.relative_to(ROOT)).startswith(tuple(SPELLS_ITEMS))
        for line, what in item_spellings(path, prefixes)
    ]
    assert spelled == []
    values = {path.name for path in STORE.glob("*.py") if ("value" in {w for _, w in item_spellings(path, set())})}
    assert values == {"codec.py"}  # inside the store, DynamoDB's attribute format is the codec's alone
