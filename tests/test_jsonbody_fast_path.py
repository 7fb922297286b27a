"""orjson's fast path and the strict parser agree: same value (types and key order included) or the
same refusal, on a corpus of edge cases and on random documents and random byte mutations."""

from __future__ import annotations

import json
import random

import pytest

from mockserver.core import jsonbody

CORPUS = [
    b"{}",
    b"[]",
    b'{"a": 1, "a": 2, "b": 3}',
    b'{"b": 1, "a": {"c": [1, 2.0, -0.0, 1e-400, 0.1e1, 1E5]}}',
    b"9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775808",
    b"-9223372036854775809",
    b"18446744073709551615",
    b"18446744073709551616",
    b"123456789012345678901234567890",
    b"[1.7976931348623157e308, 5e-324, 1e308, 9.3e18, -9.3e18]",
    b'"\\u0000\\u00e9\\ud83d\\ude00\\/"',
    b'"\\ud800"',
    b'"\\udc00"',
    b'"\\ud83d x"',
    '"\ud800"'.encode("utf-8", "surrogatepass"),
    b"NaN",
    b"[Infinity]",
    b"-Infinity",
    b"1e400",
    b"-1e400",
    b"[1,]",
    b"01",
    b"\xef\xbb\xbf{}",
    b'"\xe9"',
    b'"\x01"',
    b" \t\r\n[1] \n",
    b"\x0c1",
    b"",
    b"  ",
    b"[1] x",
    b"tru",
    b"[" * 100 + b"]" * 100,
    b"[" * 101 + b"]" * 101,
    b'{"a":' * 100 + b"1" + b"}" * 100,
    b'{"a":' * 101 + b"1" + b"}" * 101,
    b"[" * 99 + b"[1e400]" + b"]" * 99,
    b"[" * 2000 + b"]" * 2000,
    '{"name": "é"}'.encode("latin-1"),
    '{"name": "x"}'.encode("utf-16"),
]


def outcome(parse, raw: bytes | str) -> tuple[str, str]:
    """What a parser made of ``raw``: the value written exactly (ints stay ints, key order kept), or its refusal."""
    try:
        return "value", json.dumps(parse(raw), ensure_ascii=True)
    except jsonbody.BodyError as exc:
        return "refused", str(exc)


def strict(raw: bytes | str) -> object:
    return jsonbody._parse_strictly(raw, jsonbody.MAX_DEPTH)


def assert_agree(raw: bytes | str) -> None:
    assert outcome(jsonbody.parse, raw) == outcome(strict, raw), raw[:200]


@pytest.mark.parametrize("raw", CORPUS, ids=range(len(CORPUS)))
def test_corpus_agrees_with_the_strict_parser(raw):
    assert_agree(raw)
    if isinstance(raw, bytes) and not raw.startswith(b"\xef\xbb\xbf"):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return
        assert_agree(text)


def test_the_fast_path_is_taken_for_ordinary_bodies(monkeypatch):
    """Plain bodies never reach the standard library's parser; big integers and deep nesting do."""
    calls = []
    monkeypatch.setattr(jsonbody, "_parse_strictly", lambda raw, depth: calls.append(raw) or "strict")
    assert jsonbody.parse(b'{"name": "x", "n": [1, 2.5, null, true]}') == {"name": "x", "n": [1, 2.5, None, True]}
    assert calls == []
    assert jsonbody.parse(b"[123456789012345678901234567890]") == "strict"
    assert jsonbody.parse(b"[" * 101 + b"]" * 101) == "strict"
    assert jsonbody.parse(b"NaN") == "strict"
    assert len(calls) == 3


def _number(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return str(rng.randint(-(2**70), 2**70))
    if kind == 1:
        return str(rng.choice([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64 - 1, 2**64, 0, -1]))
    if kind == 2:
        return repr(rng.uniform(-1e6, 1e6))
    if kind == 3:
        return f"{rng.randint(-999, 999)}.{rng.randint(0, 99999)}e{rng.randint(-330, 330)}"
    if kind == 4:
        return repr(random.Random(rng.random()).getrandbits(64) / 3.0 * 10 ** rng.randint(-20, 20))
    return f"{rng.randint(1, 9)}E{rng.randint(-400, 400)}"


def _string(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randrange(6)):
        kind = rng.randrange(5)
        if kind == 0:
            out.append(rng.choice('abc xyz_-/\\"é😀'))
        elif kind == 1:
            out.append(f"\\u{rng.choice([rng.randrange(0x10000), 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0]):04x}")
        elif kind == 2:
            out.append("\\ud83d\\ude00")
        elif kind == 3:
            out.append(rng.choice(["\\n", "\\t", '\\"', "\\\\", "\\/", "\\b"]))
        else:
            out.append(chr(rng.randrange(0x20, 0x3000)))
    text = "".join(out)
    return '"' + text.replace('"', "").rstrip("\\") + '"'


def _value(rng: random.Random, depth: int) -> str:
    kind = rng.randrange(8) if depth < 105 else rng.randrange(4)
    if kind == 0:
        return _number(rng)
    if kind == 1:
        return _string(rng)
    if kind == 2:
        return rng.choice(["true", "false", "null", "NaN", "Infinity", "-Infinity"])
    if kind == 3:
        return _number(rng)
    if kind in (4, 5) and rng.random() < 0.95:  # usually a single deep chain, sometimes wide
        width = 1 if rng.random() < 0.7 else rng.randrange(4)
        items = [_value(rng, depth + 1) for _ in range(width)]
        return "[" + ",".join(items) + "]"
    width = 1 if rng.random() < 0.7 else rng.randrange(4)
    members = [f"{_string(rng)}:{_value(rng, depth + 1)}" for _ in range(width)]
    return "{" + ",".join(members) + "}"


def _mutate(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randrange(1, 4)):
        if not data:
            break
        at = rng.randrange(len(data))
        choice = rng.randrange(3)
        if choice == 0:
            data[at] = rng.randrange(256)
        elif choice == 1:
            del data[at]
        else:
            data.insert(at, rng.choice(b'[]{}",:\\e-+.0u\xed\xa0\x80\xff '))
    return bytes(data)


def _openers(text: str) -> list[str]:
    """The containers ``text`` leaves open (outside strings), outermost first."""
    stack: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            stack.append(char)
        elif char in "]}":
            stack.pop()
    return stack


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_documents_agree_with_the_strict_parser(seed):
    rng = random.Random(seed)
    accepted = 0
    for _ in range(1500):
        text = _value(rng, 1)
        if rng.random() < 0.2:  # around the depth limit
            levels = rng.randint(95, 105)
            text = "".join(rng.choice(["[", '{"k":']) for _ in range(levels)) + text
            text += "".join("]" if opener == "[" else "}" for opener in reversed(_openers(text)))
        raw = text.encode("utf-8", "surrogatepass")
        assert_agree(raw)
        assert_agree(_mutate(rng, raw))
        accepted += outcome(jsonbody.parse, raw)[0] == "value"
    assert 100 < accepted < 1400  # both outcomes were exercised
