"""The main job: ``python -m thunder_kernels`` (see ``thunder_kernels.benchmark``)."""

from .benchmark import main

if __name__ == "__main__":
    main()
