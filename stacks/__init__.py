"""This app's own stack composition, built from the ``cognito_seed_users`` library."""

from .seed_users_stack import SeedUsersStack

__all__ = ["SeedUsersStack"]
