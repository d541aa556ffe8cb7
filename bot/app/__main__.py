"""``python -m govbot.bot.app …`` (the same as ``govbot app …``)."""

import sys

from govbot.bot.app.cli import main

sys.exit(main())
