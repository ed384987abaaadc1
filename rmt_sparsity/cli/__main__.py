"""``python -m rmt_sparsity.cli``: the ``rmt-sparsity`` command."""

import sys

from . import main

sys.exit(main())
