"""Entry point of ``python -m npkernels`` (see ``npkernels._selfcheck``)."""

from __future__ import annotations

import sys

from ._selfcheck import main

sys.exit(main())
