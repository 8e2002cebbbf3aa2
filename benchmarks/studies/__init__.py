"""Evidence scripts: the long measurements behind the numbers in ``benchmarks/results/``.

Not part of the installed package (like torchvision's ``references/``): run them from a checkout,
``python -m benchmarks.studies.NAME --help``. They call the ``edgeseg`` library; each writes its
results next to the exact command that produced them."""
