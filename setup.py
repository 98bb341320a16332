"""Build the compiled kernels.

This is the one place that turns ``cext/*.pyx`` into the extension modules
``kadanoff._<name>``; every compiler directive lives here.
"""
import os
import sys
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent

COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,   # kernels trust inputs validated once in Python
    "wraparound": False,
    "initializedcheck": False,
    "cdivision": True,
    "nonecheck": False,
    "embedsignature": True,
}

if sys.platform == "win32":
    extra_compile_args = ["/O2"]
else:
    extra_compile_args = ["-O3"]
    # Opt-in native tuning for local builds; wheels stay portable.
    if os.environ.get("KADANOFF_NATIVE") == "1":
        extra_compile_args.append("-march=native")

# Developers rebuilding one kernel in place may name it, e.g.
# KADANOFF_BUILD_ONLY=spin,cluster python setup.py build_ext --inplace
_only = {name for name in os.environ.get("KADANOFF_BUILD_ONLY", "").split(",") if name}

extensions = [
    Extension(
        f"kadanoff._{pyx.stem}",
        [str(pyx.relative_to(HERE))],
        include_dirs=[np.get_include(), "cext"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=extra_compile_args,
    )
    for pyx in sorted((HERE / "cext").glob("*.pyx"))
    if not _only or pyx.stem in _only
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives=COMPILER_DIRECTIVES,
        include_path=["cext"],
    ),
)
