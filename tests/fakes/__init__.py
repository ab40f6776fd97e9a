"""Protocol-level fakes of the backends wbctl talks to, served over real sockets on loopback."""
