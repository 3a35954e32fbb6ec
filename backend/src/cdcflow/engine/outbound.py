"""Which database addresses (and alert webhook addresses) cdcflow may open a connection to.

Three rules, all checked on the addresses the host resolves to (a name is only a pointer, and 0x7f000001 or
localhost.example pointing at 127.0.0.1 must not get past a string comparison):

- CDCFLOW_ALLOWED_DB_HOSTS, when set, lists the host names, addresses and CIDR ranges a connection may use;
- the ports of cdcflow's own Kafka, Kafka Connect, API and web app are never a database, on any address of the
  host they run on (so the Test button cannot be aimed at Connect's unauthenticated REST API);
- cdcflow's own metadata database (DATABASE_URL's host, port and database) is never a source or a target.

The addresses that passed are what libpq connects to (hostaddr), so a DNS answer that changes between the check
and the connect does not move the connection.

Alert webhooks (`check_webhook`) follow the same rules with their own list, CDCFLOW_ALLOWED_WEBHOOK_HOSTS, and every
port of cdcflow's metadata PostgreSQL is refused too (whatever the database); the sender connects to the address
that passed (alerts/channels.py).
"""

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from cdcflow.engine.endpoints import EndpointUnreachable
from cdcflow.engine.hostnames import IPAddress, InvalidHost, normalise_host, parse_ip, unmapped

MAX_ADDRESSES = 8
OWN_ADDRESSES_TTL = 60.0
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"),
            ipaddress.ip_network("0.0.0.0/32"), ipaddress.ip_network("::/128"))
POLICY_SETTING = "CDCFLOW_ALLOWED_DB_HOSTS"
WEBHOOK_POLICY_SETTING = "CDCFLOW_ALLOWED_WEBHOOK_HOSTS"

Resolver = Callable[[str, int], list[IPAddress]]


class OutboundRefused(EndpointUnreachable):
    """The address is not allowed by policy. `field` names the connection field that makes it so."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"Not allowed by policy: {reason}")
        self.field, self.reason = field, reason


class HostUnresolvable(EndpointUnreachable):
    def __init__(self) -> None:
        super().__init__("Could not connect to the server")


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address getaddrinfo gives for the host, in its order, IPv4-mapped forms unwrapped."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    found: list[IPAddress] = []
    for family, *_rest, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = unmapped(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
        if ip not in found:
            found.append(ip)
    return found


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The address plus any IPv4 address it carries (6to4), so a deny rule cannot be dodged through it."""
    extra = ip.sixtofour if isinstance(ip, ipaddress.IPv6Address) else None
    return [ip] if extra is None else [ip, extra]


@dataclass(frozen=True)
class AllowList:
    """CDCFLOW_ALLOWED_DB_HOSTS parsed: '*' (or empty) allows any host; otherwise names, `*.domain` wildcards,
    addresses and CIDR ranges, separated by commas or spaces."""

    any_host: bool
    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def parse(cls, text: str, setting: str = POLICY_SETTING) -> "AllowList":
        entries = [e for e in text.replace(",", " ").split() if e]
        if not entries or "*" in entries:
            return cls(any_host=True)
        names, suffixes, networks = set(), [], []
        for entry in entries:
            if "/" in entry:
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    raise ValueError(f"{setting}: {entry!r} is not a valid CIDR range") from None
                continue
            wildcard = entry.startswith("*.")
            try:
                host = normalise_host(entry[2:] if wildcard else entry)
            except InvalidHost as exc:
                raise ValueError(f"{setting}: {entry!r}: {exc}") from None
            ip = parse_ip(host)
            if ip is not None and not wildcard:
                networks.append(ipaddress.ip_network(ip))
            elif wildcard:
                suffixes.append("." + host)
            else:
                names.add(host)
        return cls(any_host=False, names=frozenset(names), suffixes=tuple(suffixes), networks=tuple(networks))

    def allows(self, host: str, ip: IPAddress) -> bool:
        if self.any_host or host in self.names or any(host.endswith(s) for s in self.suffixes):
            return True
        return any(candidate in net for candidate in _embedded(ip) for net in self.networks
                   if candidate.version == net.version)


@dataclass(frozen=True)
class ServicePort:
    label: str
    host: str   # where the service runs; loopback and this machine's names mean "every address of this host"
    port: int


def _host_port(url_or_pair: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url_or_pair if "//" in url_or_pair else f"//{url_or_pair}")
    return (parts.hostname or "127.0.0.1"), (parts.port or default_port)


class OutboundPolicy:
    def __init__(self, allow: AllowList, services: Iterable[ServicePort], metadata: tuple[str, int, str] | None,
                 resolver: Resolver = system_resolver, webhook_allow: AllowList | None = None) -> None:
        self.allow, self.services, self.metadata = allow, tuple(services), metadata
        self.webhook_allow = webhook_allow or AllowList(any_host=True)
        self._resolve = resolver
        self._own: tuple[float, set[IPAddress]] | None = None

    @classmethod
    def from_settings(cls, settings, resolver: Resolver = system_resolver) -> "OutboundPolicy":
        services = [ServicePort("Kafka", *_host_port(server, 9092))
                    for server in settings.kafka_bootstrap_servers.split(",") if server.strip()]
        kafka_host = services[0].host if services else "127.0.0.1"
        if settings.kafka_controller_port:
            services.append(ServicePort("Kafka controller", kafka_host, settings.kafka_controller_port))
        services.extend(ServicePort("Kafka Connect", *_host_port(url, 8083)) for url in settings.connect_urls())
        services.append(ServicePort("the cdcflow API", "127.0.0.1", settings.api_port))
        services.append(ServicePort("the cdcflow web app", "127.0.0.1", settings.web_port))
        meta = urlsplit(settings.database_url)
        metadata = (meta.hostname or "127.0.0.1", meta.port or 5432, meta.path.lstrip("/") or (meta.username or ""))
        return cls(AllowList.parse(settings.allowed_db_hosts), services, metadata, resolver,
                   AllowList.parse(settings.allowed_webhook_hosts, WEBHOOK_POLICY_SETTING))

    # ------------------------------------------------------------------------------------------ addresses

    def _this_host(self) -> set[IPAddress]:
        """Addresses that reach this machine besides loopback: its own name's addresses. Cached for a minute:
        resolving the machine's name on every connection would make a slow resolver slow down every check."""
        now = time.monotonic()
        if self._own is None or now - self._own[0] > OWN_ADDRESSES_TTL:
            own: set[IPAddress] = set()
            for name in (socket.gethostname(), "localhost"):
                own.update(self._resolve(name, 0))
            self._own = (now, own)
        return self._own[1]

    def _addresses_of(self, host: str) -> set[IPAddress]:
        try:
            host = normalise_host(host)
        except InvalidHost:
            return set()
        ip = parse_ip(host)
        return {ip} if ip is not None else set(self._resolve(host, 0))

    # ------------------------------------------------------------------------------------------------ check

    def check(self, host: str, port: int, database: str) -> tuple[str, ...]:
        """The addresses to connect to; OutboundRefused or HostUnresolvable when there are none allowed."""
        try:
            host = normalise_host(host)
        except InvalidHost as exc:
            raise OutboundRefused("host", str(exc)) from None
        literal = parse_ip(host)
        addresses = [literal] if literal is not None else self._resolve(host, port)[:MAX_ADDRESSES]
        if not addresses:
            raise HostUnresolvable()
        for ip in addresses:
            if not self.allow.allows(host, ip):
                raise OutboundRefused("host", f"this host is not in {POLICY_SETTING}")
        this_host = self._this_host()
        for service in self.services:
            if port == service.port and _hits(addresses, self._addresses_of(service.host), this_host):
                raise OutboundRefused("port", f"port {port} belongs to {service.label}, part of cdcflow itself")
        if self.metadata is not None:
            meta_host, meta_port, meta_db = self.metadata
            if port == meta_port and database == meta_db and _hits(
                    addresses, self._addresses_of(meta_host), this_host):
                raise OutboundRefused("database", "this is cdcflow's own metadata database; it cannot be a source "
                                                  "or a target")
        return tuple(str(ip) for ip in addresses)

    def check_webhook(self, host: str, port: int) -> tuple[str, ...]:
        """The addresses an alert webhook may be sent to: allowed by CDCFLOW_ALLOWED_WEBHOOK_HOSTS, and never a
        port of cdcflow's own services or metadata PostgreSQL. OutboundRefused / HostUnresolvable otherwise."""
        try:
            host = normalise_host(host)
        except InvalidHost as exc:
            raise OutboundRefused("url", str(exc)) from None
        literal = parse_ip(host)
        addresses = [literal] if literal is not None else self._resolve(host, port)[:MAX_ADDRESSES]
        if not addresses:
            raise HostUnresolvable()
        for ip in addresses:
            if not self.webhook_allow.allows(host, ip):
                raise OutboundRefused("url", f"this host is not in {WEBHOOK_POLICY_SETTING}")
        this_host = self._this_host()
        own = list(self.services)
        if self.metadata is not None:
            own.append(ServicePort("cdcflow's metadata database", self.metadata[0], self.metadata[1]))
        for service in own:
            if port == service.port and _hits(addresses, self._addresses_of(service.host), this_host):
                raise OutboundRefused("url", "this port belongs to cdcflow itself")
        return tuple(str(ip) for ip in addresses)


def _is_this_host(ip: IPAddress, this_host: set[IPAddress]) -> bool:
    return ip in this_host or any(ip in net for net in LOOPBACK if ip.version == net.version)


def _hits(addresses: list[IPAddress], protected: set[IPAddress], this_host: set[IPAddress]) -> bool:
    """Whether a connection to `addresses` reaches something at `protected`. A protected service on this machine
    is reached through any address of this machine (loopback aliases, 0.0.0.0, its own IPs)."""
    protected_here = any(_is_this_host(p, this_host) for p in protected)
    return any(candidate in protected or (protected_here and _is_this_host(candidate, this_host))
               for ip in addresses for candidate in _embedded(ip))
