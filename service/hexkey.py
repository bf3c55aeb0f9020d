"""Secret keys written as hex in the environment (master keys, stamp keys): one decoder,
so every variable reports a bad key the same way and never shows the key itself."""

from __future__ import annotations

from service.errors import ConfigError


def decode_hex_key(text: str, where: str, size: int) -> bytes:
    """``text`` as ``size`` bytes; ``where`` names the variable and item in the error."""
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ConfigError(f"{where} is not hexadecimal") from None
    if len(key) != size:
        raise ConfigError(f"{where} is {len(key)} bytes; it must be {size} bytes "
                          f"({size * 2} hex digits)")
    return key
