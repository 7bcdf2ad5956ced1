"""The k6 load scenario (``scenario.js``) and the commands that run it (``make load``)."""
