"""The Alembic environment (``env.py``) and revisions (``versions/``) of the service's schema.

Shipped in the wheel as ``user_postgres.migrations`` (pyproject.toml maps this folder there), so an
installed package and the image migrate without the repository; :mod:`user_postgres.migrate` runs
them.
"""
