"""The examples in docstrings run (``>>>`` lines), and every public name is documented."""
import doctest
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import kadanoff as kd

MODULES = sorted(m.name for m in pkgutil.walk_packages(kd.__path__, "kadanoff.")
                 if not m.name.rsplit(".", 1)[-1].startswith("_"))


def _import(name):
    try:
        return importlib.import_module(name)
    except ImportError as exc:          # optional dependency of one module (mpi4py, h5py)
        pytest.skip(f"{name}: {exc}")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = _import(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    with np.printoptions(legacy=False):
        for test in finder.find(module, name, extraglobs={"np": np, "kd": kd}):
            if test.examples and test.name.startswith(name):
                runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def _public(module):
    names = getattr(module, "__all__", None)
    if names is None:
        return []
    return [(n, getattr(module, n)) for n in names
            if inspect.isclass(getattr(module, n)) or inspect.isfunction(getattr(module, n))]


@pytest.mark.parametrize("name", ["kadanoff"] + MODULES)
def test_public_names_have_docstrings(name):
    module = _import(name)
    missing = [n for n, obj in _public(module) if not (inspect.getdoc(obj) or "").strip()]
    assert not missing, f"{name}: public names without a docstring: {missing}"
