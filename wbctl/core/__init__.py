"""Pure logic: the guide's recommendations, checks, plans. No I/O, no SDKs."""
