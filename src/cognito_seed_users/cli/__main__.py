"""``python -m cognito_seed_users.cli``: the same as the ``seed-users`` console script."""

import sys

from . import main

sys.exit(main())
