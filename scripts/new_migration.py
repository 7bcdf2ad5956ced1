"""Write a new Alembic revision for what ``tables.py`` now declares, with no database to set up.

    python scripts/new_migration.py "add display name"      (make migration MESSAGE="...")

An embedded PostgreSQL in a temporary directory is migrated to the newest revision; Alembic then
compares it with :mod:`user_postgres.tables` and writes the difference to
``migrations/versions/``. Review what it wrote: autogenerate sees columns, indexes and unique
constraints, not CHECK constraints, and the downgrade is yours to check.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from user_postgres import migrate
from user_postgres.testing import temporary_server

_ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"


def main() -> None:
    """Parse the message, then migrate a scratch server and autogenerate against it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("message", help="what the revision does, e.g. 'add display name'")
    message = parser.parse_args().message
    with temporary_server() as url:
        asyncio.run(migrate.upgrade(url))
        config = Config(_ALEMBIC_INI)
        config.set_main_option("sqlalchemy.url", url)
        # Revisions are numbered in sequence (0001, 0002, …), so their order reads at a glance.
        next_id = f"{int(migrate.head()) + 1:04d}"
        written = command.revision(config, message=message, autogenerate=True, rev_id=next_id)
    # Alembic frames what it generated with "### commands auto generated ###" comments: dropped.
    for script in written if isinstance(written, list) else [written]:
        if script is not None:
            path = Path(script.path)
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            path.write_text("".join(line for line in lines if "# ###" not in line), "utf-8")


if __name__ == "__main__":
    main()
