"""Each person's key: sealing their events, destroyed on erasure; the internal endpoint."""
