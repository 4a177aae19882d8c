"""``python -m nnx``: the command line, see :mod:`nnx.cli`."""

from nnx.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
