from wbctl.cli import main

raise SystemExit(main())
