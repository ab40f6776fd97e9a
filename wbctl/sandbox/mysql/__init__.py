"""The sandbox's MySQL over its wire protocol (mysql-mimic): server.py listens and serves,
session.py answers one connection's statements, variables.py defines the variables and MySQL's
conversions (see server.py)."""
