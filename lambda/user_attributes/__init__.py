"""Sets Cognito users' attributes declaratively and restores them exactly (see index.py)."""
