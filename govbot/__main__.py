from govbot.bot.cli import main

raise SystemExit(main())
