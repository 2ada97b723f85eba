"""``python -m app.cli``: the ``wasteroute`` command line (the benchmarks start the service so)."""

from app.cli import main

if __name__ == "__main__":
    main()
