"""The project's promises about itself: CI runs the README's test command, the package is typed."""

import re
from pathlib import Path

import tinygraph as tg

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands():
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = next(c for c in _readme_commands() if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_quickstart_runs_and_matches_the_formula():
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.+?)```", readme, re.S).group(1)
    namespace = {}
    exec(code, namespace)
    X, y, a = namespace["X"].data, namespace["y"], namespace["a"].data
    assert abs(namespace["w"].grad - X.T @ (a - y) / 5).max() < 1e-12
    assert abs(namespace["b"].grad - (a - y).mean()) < 1e-12


def test_package_is_typed():
    assert (Path(tg.__file__).parent / "py.typed").exists()
