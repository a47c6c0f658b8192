"""Offline capture: forms marked `data-offline` keep working without a connection.

A service worker (`/sw.js`) keeps the form's page and the static files it needs; what the
officer sends while offline is kept in the browser (IndexedDB) with the form's Idempotency-Key
and sent once when the connection returns (static/offline/). Nothing is kept on the server.
"""
