"""One spelling per database host: odd numeric forms refused, IP literals canonical, names lower-case.

The C resolver (inet_aton) reads 0x7f000001, 2130706433, 127.1 and 0177.0.0.1 all as 127.0.0.1. A check that
compares strings would let them past while libpq connects to loopback, so numeric hosts must be written the one
unambiguous way (four decimal octets, or an IPv6 literal), and IPv6 literals are stored in their compressed form.
"""

import ipaddress
import re

# A label that inet_aton reads as a number: decimal, octal (leading 0) or hex (0x...).
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_NAME_LABEL = re.compile(r"^[a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?$")


class InvalidHost(ValueError):
    """The host is not a spelling cdcflow accepts; the message says how to write it."""


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def unmapped(ip: IPAddress) -> IPAddress:
    """The IPv4 address behind an IPv4-mapped IPv6 address (::ffff:127.0.0.1 is 127.0.0.1 to the kernel)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def normalise_host(raw: str) -> str:
    """The canonical spelling of a host name or IP literal; InvalidHost for forms that are ambiguous or invalid."""
    host = raw.strip()
    if not host:
        raise InvalidHost("host is empty")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            ip = ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidHost("not a valid IPv6 address") from None
        if ip.scope_id:
            raise InvalidHost("IPv6 zone identifiers are not accepted")
        return str(unmapped(ip))
    labels = host.lower().rstrip(".").split(".")
    if all(_NUMERIC_LABEL.match(label) for label in labels):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise InvalidHost("write an IPv4 address as four decimal numbers (a.b.c.d), without leading zeros, "
                              "hex or shortened forms") from None
    if len(host) > 253 or not all(_NAME_LABEL.match(label) for label in labels):
        raise InvalidHost("not a valid host name")
    return ".".join(labels)


def parse_ip(host: str) -> IPAddress | None:
    """The address if `host` (already normalised) is an IP literal, else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
