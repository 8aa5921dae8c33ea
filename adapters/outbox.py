"""Placeholder: messages held for delivery on a user's channel."""
