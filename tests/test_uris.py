"""feeds.urls.uri: how every URL is published (issue 9), checked against the validators'
own reading of RFC 3986 / RFC 3987 (tests/validators.py), written separately."""

from __future__ import annotations

import random

import pytest

from feeds.urls import uri
from tests.validators import uri_problem


@pytest.mark.parametrize(
    ("stored", "published"),
    [
        ("https://example.com/a/b?c=d&e=f#g", "https://example.com/a/b?c=d&e=f#g"),
        ("https://example.com/مقالة", "https://example.com/%D9%85%D9%82%D8%A7%D9%84%D8%A9"),
        ("https://example.com/ep[1]^.mp3", "https://example.com/ep%5B1%5D%5E.mp3"),
        ('https://example.com/a b"<>`{|}\\', "https://example.com/a%20b%22%3C%3E%60%7B%7C%7D%5C"),
        ("https://example.com/%41%e9%zz%", "https://example.com/%41%e9%25zz%25"),  # %XX kept
        ("https://example.com/#a#b", "https://example.com/#a%23b"),  # the first # delimits
        ("http://[2001:db8::1]:8080/a[1]", "http://[2001:db8::1]:8080/a%5B1%5D"),
        ("http://[v1.x]/", "http://[v1.x]/"),  # IPvFuture
        ("http://[not-ipv6]/", "http://%5Bnot-ipv6%5D/"),
        ("https://مثال.example/", "https://xn--mgbh0fb.example/"),  # IDNA: what clients resolve
        ("https://café.example:8080/ü", "https://xn--caf-dma.example:8080/%C3%BC"),
        ("https://example.com/😀", "https://example.com/%F0%9F%98%80"),
        ("https://user:pa ss@example.com/", "https://user:pa%20ss@example.com/"),
        ("HTTPS://Example.COM:443/A", "HTTPS://Example.COM:443/A"),  # nothing else changes
        ("", ""),
    ],
)
def test_uri(stored: str, published: str) -> None:
    assert uri(stored) == published
    assert uri(published) == published  # idempotent
    if stored:
        assert uri_problem(published) is None


def test_iri_keeps_what_iris_allow_and_encodes_the_rest() -> None:
    assert uri("https://example.com/مقالة?q=ü", iri=True) == "https://example.com/مقالة?q=ü"
    assert uri("https://example.com/a^b[1] c", iri=True) == "https://example.com/a%5Eb%5B1%5D%20c"
    assert uri("https://example.com/\x85\ufffe", iri=True) == "https://example.com/%C2%85%EF%BF%BE"
    assert uri("tag:example.com,2026:item/a%20b", iri=True) == "tag:example.com,2026:item/a%20b"


def test_a_uri_already_valid_is_the_same_string() -> None:
    url = "https://example.com/a-b_c.d~e/!$&'()*+,;=:@/x?y=/?#f/?"
    assert uri(url) is url


def test_whatever_is_stored_is_published_valid() -> None:
    """Random URLs of awkward characters: every result is a valid URI (IRI), and stable."""
    alphabet = "aZ09-._~:/?#[]@!$&'()*+,;=% ^\"<>`{|}\\\tüمن😀\x85"
    rng = random.Random(3)
    for _ in range(2000):
        tail = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        host = rng.choice(["example.com", "[::1]", "[2001:db8::7]:81", "مثال.example", "u@h:1"])
        stored = f"https://{host}/{tail}"
        published = uri(stored)
        assert uri_problem(published) is None, (stored, published)
        assert uri(published) == published
        assert uri_problem(uri(stored, iri=True), iri=True) is None, stored
