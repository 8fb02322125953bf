"""Placeholder: the benchmark runner."""


def main(argv=None) -> None:
    raise SystemExit("benchmark runner not built yet")
