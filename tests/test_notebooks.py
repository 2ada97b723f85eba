"""The worked examples in notebooks/ run, end to end, in this environment's Python.

Each notebook is executed cell by cell with nbclient in a real IPython kernel started
from the interpreter running the tests (the project's .venv), from the notebooks'
own folder; any cell that raises fails the test. The committed files carry no
outputs and no logic of their own (no ``def`` or ``class``: helpers belong in the
packages, with tests).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import install as install_kernelspec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
NAMES = ("quickstart.ipynb", "today_vs_optimised.ipynb")
KERNEL_NAME = "wasteroute-test"
CELL_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernelspec in a temporary prefix whose kernel runs this very interpreter."""
    prefix = tmp_path_factory.mktemp("jupyter")
    install_kernelspec(kernel_name=KERNEL_NAME, prefix=str(prefix))
    manager = KernelSpecManager(kernel_dirs=[str(prefix / "share" / "jupyter" / "kernels")])
    assert manager.get_kernel_spec(KERNEL_NAME).argv[0] == sys.executable
    return manager


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def _code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _execute(name: str | nbformat.NotebookNode, specs: KernelSpecManager, folder: Path) -> nbformat.NotebookNode:
    """The notebook (a file of notebooks/, or one given) executed in a fresh kernel (its
    connection file in ``folder``, not in the user's Jupyter runtime folder); raises
    CellExecutionError on any error."""
    notebook = _read(name) if isinstance(name, str) else name
    kernel = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs,
                           connection_file=str(folder / "kernel.json"))
    client = NotebookClient(notebook, km=kernel, timeout=CELL_TIMEOUT_S, allow_errors=False,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    return notebook


def _images(notebook: nbformat.NotebookNode) -> int:
    return sum("image/png" in output.get("data", {}) for cell in _code_cells(notebook) for output in cell.outputs)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_without_outputs(name: str) -> None:
    """Outputs are cleared before committing, so diffs show only what a person wrote."""
    for cell in _code_cells(_read(name)):
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_holds_no_logic_of_its_own(name: str) -> None:
    """No function or class is defined in a notebook; it imports wasteroute's packages."""
    sources = [cell.source for cell in _code_cells(_read(name))]
    assert not any(line.lstrip().startswith(("def ", "class ")) for s in sources for line in s.splitlines())
    assert any("from solver." in s for s in sources)


@pytest.mark.spawns
def test_a_cell_that_raises_fails_the_run(kernel_specs: KernelSpecManager, tmp_path: Path) -> None:
    """The harness itself: an error in any cell stops the run with the error, it is never skipped."""
    broken = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import solver.pipeline"),
                                             nbformat.v4.new_code_cell("raise ValueError('rotten notebook')")])
    with pytest.raises(CellExecutionError, match="rotten notebook"):
        _execute(broken, kernel_specs, tmp_path)


@pytest.mark.slow
@pytest.mark.spawns
def test_quickstart_runs_and_draws_its_maps(kernel_specs: KernelSpecManager, tmp_path: Path) -> None:
    """Every cell of the quickstart runs without error; it draws the network and the rounds."""
    notebook = _execute("quickstart.ipynb", kernel_specs, tmp_path)
    assert _images(notebook) == 2
    printed = "".join(o.get("text", "") for c in _code_cells(notebook) for o in c.outputs)
    assert "bins served" in printed and "0 violations" in printed


@pytest.mark.slow
@pytest.mark.spawns
def test_today_vs_optimised_runs_and_charts_the_comparison(kernel_specs: KernelSpecManager,
                                                           tmp_path: Path) -> None:
    """Every cell runs without error; the KPI table is shown and the bars and both maps are drawn."""
    notebook = _execute("today_vs_optimised.ipynb", kernel_specs, tmp_path)
    assert _images(notebook) == 2
    tables = [o["data"]["text/html"] for c in _code_cells(notebook) for o in c.outputs
              if "text/html" in o.get("data", {})]
    assert any("Working hours" in t and "optimised" in t and "verdict" in t for t in tables)
