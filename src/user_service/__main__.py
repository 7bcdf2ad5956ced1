"""``python -m user_service`` is the ``user-service`` command."""

from user_service.cli import main

if __name__ == "__main__":
    main()
