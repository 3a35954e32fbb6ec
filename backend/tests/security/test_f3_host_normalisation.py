"""Finding 3: one spelling per host. Forms the C resolver reads as loopback in disguise are refused."""

import socket

import pytest

from cdcflow.engine.hostnames import InvalidHost, normalise_host


@pytest.mark.parametrize("raw,canonical", [
    ("127.0.0.1", "127.0.0.1"), ("10.1.2.3", "10.1.2.3"), ("DB.Example.COM", "db.example.com"),
    ("localhost", "localhost"), ("db-1.internal", "db-1.internal"), ("db.example.com.", "db.example.com"),
    ("0:0:0:0:0:0:0:1", "::1"), ("::1", "::1"), ("[::1]", "::1"), ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
    ("::ffff:127.0.0.1", "127.0.0.1"), ("::ffff:7f00:1", "127.0.0.1"), ("0x7f.example.com", "0x7f.example.com"),
])
def test_accepted_spellings_have_one_canonical_form(raw, canonical):
    assert normalise_host(raw) == canonical


@pytest.mark.parametrize("raw", [
    "0x7f000001", "0X7F000001", "2130706433", "127.1", "127.0.1", "0177.0.0.1", "0177.0.0.01", "127.000.000.001",
    "0x7f.0.0.1", "017700000001", "0x7f.1", "1.2.3.4.5", "256.1.1.1", "1.2.3.4.", "0", "0x",
    "fe80::1%eth0", "1::2::3", ":::", "-db.example", "db..example", "db_1.example", "x" * 64 + ".example", "",
])
def test_ambiguous_or_invalid_spellings_are_refused(raw):
    with pytest.raises(InvalidHost):
        normalise_host(raw)


@pytest.mark.parametrize("raw", ["0x7f000001", "2130706433", "127.1", "0177.0.0.1", "017700000001"])
def test_the_refused_numeric_forms_really_are_loopback_to_the_resolver(raw):
    """Why they are refused: getaddrinfo (what libpq uses) reads every one of them as 127.0.0.1."""
    assert {info[4][0] for info in socket.getaddrinfo(raw, 5432, socket.AF_INET)} == {"127.0.0.1"}
