"""What other code imports to test against user_core without a database.

- :class:`InMemoryUserRepository`: a faithful in-memory implementation of the repository port.
- :class:`FixedClock`: a clock the test controls.
- :mod:`user_core.testing.strategies`: Hypothesis strategies for valid and invalid inputs.
- :mod:`user_core.testing.contract`: the contract suite every repository adapter must pass.
"""

from user_core.testing.clock import FixedClock
from user_core.testing.repository import InMemoryUserRepository

__all__ = ["FixedClock", "InMemoryUserRepository"]
