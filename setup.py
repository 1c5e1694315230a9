"""Map the top-level folders of the design card onto import names.

`core/` is the package `silverprint`, `gui/` is `silverprint_gui`; `resources/` and `plugin/` ship as
data packages so that an installed wheel finds the built-in styles and the host-app plug-ins.
"""
from setuptools import find_packages, setup

ROOTS = {"silverprint": "core", "silverprint_gui": "gui",
         "silverprint_resources": "resources", "silverprint_plugins": "plugin"}


def _packages() -> list[str]:
    found = []
    for name, folder in ROOTS.items():
        found.append(name)
        found += [f"{name}.{sub}" for sub in find_packages(folder)]
    return found


setup(
    packages=_packages(),
    package_dir=ROOTS,
    package_data={"silverprint_resources": ["**/*"], "silverprint_plugins": ["**/*"]},
    include_package_data=True,
)
