"""A plugin's configuration: the `config` table from the host configuration, as strings."""

from typing import Iterable, List, Optional, Tuple, Union, Mapping


class Config:
    """The key/value strings the host passes to `Plugin.init`. Read them once, turn them
    into typed fields and refuse bad values there (raise `ValueError`): an `init` error stops
    the plugin from loading and is shown to the operator."""

    def __init__(self, entries: Union[Iterable[Tuple[str, str]], Mapping[str, str]] = ()):
        pairs = entries.items() if isinstance(entries, Mapping) else entries
        self.entries: List[Tuple[str, str]] = [(str(k), str(v)) for k, v in pairs]

    def get(self, key: str) -> Optional[str]:
        """The value of `key`, if set (the last one if the host repeated it)."""
        for k, v in reversed(self.entries):
            if k == key:
                return v
        return None

    def require(self, key: str) -> str:
        """The value of `key`, or a `ValueError` naming the missing key."""
        value = self.get(key)
        if value is None:
            raise ValueError(f"missing config key `{key}`")
        return value

    def only(self, known: Iterable[str]) -> None:
        """Refuses keys outside `known`, so a typo is reported instead of silently ignored."""
        known = list(known)
        for k, _ in self.entries:
            if k not in known:
                raise ValueError(f"unknown config key `{k}`; this plugin accepts: {', '.join(known)}")
