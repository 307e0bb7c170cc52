"""The build's compiled modules, both Cython against lxml's C API; everything else about the package is in
pyproject.toml. Each is optional: without a C compiler the install goes on without them, and the message layer runs
their pure-Python twins:
- gateway/messages/readers/_field_paths: readers' fields in one call (twin: field_paths.read_python);
- gateway/messages/_tree_bounds: the proven parse path's depth and attribute bounds (twin: two XPath queries in
  safe_xml)."""

import lxml
from Cython.Build import cythonize
from setuptools import Extension, setup

field_paths = Extension(
    "gateway.messages.readers._field_paths",
    ["gateway/messages/readers/_field_paths.pyx"],
    include_dirs=lxml.get_include(),
)

tree_bounds = Extension(
    "gateway.messages._tree_bounds",
    ["gateway/messages/_tree_bounds.pyx"],
    include_dirs=lxml.get_include(),
)

extensions = cythonize([field_paths, tree_bounds], compiler_directives={"language_level": 3}, quiet=True)
for extension in extensions:
    extension.optional = True  # cythonize makes new Extension objects, and drops `optional` on the way

setup(ext_modules=extensions)
