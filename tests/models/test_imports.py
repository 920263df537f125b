"""The models import one way: checks ← training ← base ← the model classes, all at the top of a file."""

import ast
from pathlib import Path

import pytest

import tinygraph.models

PACKAGE = Path(tinygraph.models.__file__).parent
FILES = sorted(PACKAGE.glob("*.py"))


def runtime_imports(path: Path) -> list[tuple[str, bool]]:
    """(module, at the top level) for every import outside ``if TYPE_CHECKING:``.

    ``from tinygraph import optim`` counts as the module tinygraph.optim, ``import tinygraph`` as tinygraph.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for node in ast.walk(block)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in typing_only:
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif node.module == "tinygraph":
                names = [f"tinygraph.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
            found += [(name, node in tree.body) for name in names]
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_models_build_graphs_through_the_functional_api_not_the_top_level_package(path):
    imports = runtime_imports(path)
    assert "tinygraph" not in [name for name, _ in imports], f"{path.name} imports tinygraph itself"
    deferred = [name for name, top in imports if not top and name.startswith("tinygraph") and name not in OPTIONAL]
    assert deferred == [], f"{path.name} imports {deferred} inside a function"


# Modules that need an optional dependency (matplotlib), imported when a method needs them: not a
# cycle, since they import no model at run time.
OPTIONAL = {"tinygraph.plots"}


def test_the_optional_modules_import_no_model_at_run_time():
    for module in OPTIONAL:
        path = PACKAGE.parent / f"{module.split('.')[-1]}.py"
        assert not [name for name, _ in runtime_imports(path) if name.startswith("tinygraph.models")], module


def test_the_training_loop_and_the_checks_do_not_import_the_models():
    for name in ("training.py", "checks.py"):
        imports = [module for module, _ in runtime_imports(PACKAGE / name)]
        assert not any(module.startswith("tinygraph.models") for module in imports), name
