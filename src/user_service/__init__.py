"""user_service: the composition root. Settings, the dependency container, the app and the CLI.

This is the only package that knows every other one: it picks the PostgreSQL repository for the
core's port, hands the core's service to the HTTP adapter and runs it under uvicorn.
"""
