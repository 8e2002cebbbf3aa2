"""Package layout only (metadata is in pyproject.toml): one installed namespace, ``edgeseg``.

The top-level ``converters/`` and ``benchmarks/`` folders map into it as ``edgeseg.converters``
and ``edgeseg.benchmarks``, the way ExecuTorch maps its top-level ``backends/`` into
``executorch.backends``. The evidence scripts (``benchmarks/studies/``) and the measured numbers
(``benchmarks/results/``) stay in the repository, out of the wheel, like torchvision's
``references/``.
"""

from setuptools import find_packages, setup

MAPPED = {"edgeseg.converters": "converters", "edgeseg.benchmarks": "benchmarks"}
NOT_SHIPPED = ["studies", "studies.*"]


def mapped_packages(name: str, folder: str) -> list[str]:
    return [name] + [f"{name}.{sub}" for sub in find_packages(folder, exclude=NOT_SHIPPED)]


setup(
    packages=find_packages(include=["edgeseg", "edgeseg.*"])
    + [pkg for name, folder in MAPPED.items() for pkg in mapped_packages(name, folder)],
    package_dir=MAPPED,
)
