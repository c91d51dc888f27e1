# Builds the leaky example extension:  python -m pip install .   or   python setup.py build_ext --inplace
from setuptools import Extension, setup

setup(
    name="leaky",
    version="0.1.0",
    description="Extension types with deliberate garbage-collector defects (capi-gc example)",
    ext_modules=[Extension("leaky", sources=["leakymodule.c"])],
    python_requires=">=3.9",
)
