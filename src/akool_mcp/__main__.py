from akool_mcp.cli import main

raise SystemExit(main())
