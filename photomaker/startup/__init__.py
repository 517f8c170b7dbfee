"""Start-up: settings checked before anything loads, the records opened (database, accounts), then the engines."""
