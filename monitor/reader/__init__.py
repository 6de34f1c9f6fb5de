"""EDGE then PURE: bytes from the network -> Items: fetch (conditional GET, deadline,
private-address guard), parse (in a process pool with a real deadline), normalise."""
