"""Errors raised on bad input. Each names the file, the column, the row and an example value."""


class DataContractError(ValueError):
    """A raw extract breaks its schema contract or cannot be read as one."""
