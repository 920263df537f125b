"""``python -m tinygraph``: the same as the ``tinygraph`` command."""

from tinygraph.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
