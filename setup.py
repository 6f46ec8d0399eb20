"""Build script: maps the repository's top-level folders into one import package
`plait`, and compiles the C++ engine (csrc/) into the extension `plait._engine`."""
import glob
import os

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = ["core", "ndarray", "symbol", "gluon"]
subpkgs = [p for p in find_packages(where=HERE) if p.split(".")[0] in TOP]

ext = Pybind11Extension(
    "plait._engine",
    sorted(glob.glob("csrc/*.cc")),
    include_dirs=["csrc"],
    depends=sorted(glob.glob("csrc/*.h")),  # a header edit rebuilds the kernels
    cxx_std=17,
    extra_compile_args=["-O3"],
)

setup(
    packages=["plait"] + ["plait." + p for p in subpkgs],
    package_dir={"plait": "."},
    ext_modules=[ext],
    cmdclass={"build_ext": build_ext},
    zip_safe=False,
)
