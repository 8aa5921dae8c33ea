"""Errors split by who must act."""


class JixiaoError(Exception):
    """Base of the project's own errors."""


class ConfigError(JixiaoError):
    """A configuration mistake the operator must fix; the message names the setting and the fix."""


class InputError(JixiaoError):
    """Bad input from a user; the message is Simplified Chinese and safe to show."""


class DataError(JixiaoError):
    """A knowledge table or source file is invalid; the message names the file and line to fix."""
