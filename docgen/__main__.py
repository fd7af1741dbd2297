from docgen.commands.main import main

raise SystemExit(main())
