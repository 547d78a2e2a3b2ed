"""`python -m taimatsu_vision` runs the demo (see taimatsu_vision.demo)."""

from .demo import main

if __name__ == "__main__":
    main()
