"""python -m taimatsu: the same commands as the `taimatsu` console script."""

import sys

from .cli import main

sys.exit(main())
