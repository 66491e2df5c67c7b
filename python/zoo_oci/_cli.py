"""The `zoo-oci` console script of the Python package: the same command line as the Rust binary,
run in this process by the compiled core."""

from __future__ import annotations

import sys

from . import _native


def main() -> None:
    """Run `zoo-oci` with this process's arguments and exit with its exit code.

    Example:
        From a shell, after `pip install zoo-oci`::

            zoo-oci pull oci:./zoo:1.0 -o ./iris
    """
    raise SystemExit(_native.main(["zoo-oci", *sys.argv[1:]]))


if __name__ == "__main__":  # python -m zoo_oci._cli
    main()
