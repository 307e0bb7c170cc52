"""The build's one compiled module, gateway/messages/readers/_field_paths (Cython against lxml's C API); everything
else about the package is in pyproject.toml. The module is optional: without a C compiler the install goes on
without it, and gateway.messages.readers.field_paths reads through its pure-Python twin."""

import lxml
from Cython.Build import cythonize
from setuptools import Extension, setup

field_paths = Extension(
    "gateway.messages.readers._field_paths",
    ["gateway/messages/readers/_field_paths.pyx"],
    include_dirs=lxml.get_include(),
    optional=True,
)

setup(ext_modules=cythonize([field_paths], compiler_directives={"language_level": 3}, quiet=True))
