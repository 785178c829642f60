"""Constructs and the stack that declare Cognito user attributes (Custom::CognitoUserAttributes)."""

from .cognito_user_attributes import CognitoUserAttributes, OnDelete

__all__ = ["CognitoUserAttributes", "OnDelete"]
