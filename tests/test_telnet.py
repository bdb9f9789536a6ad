"""One Telnet-negotiation cleaner for the scanner, the fingerprint engine and the checks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from routerwatch.models import Banner
from routerwatch.scan.probes.banner import decode_banner
from routerwatch.telnet import banner_texts, lstrip_controls, strip_telnet

NEGOTIATION = st.lists(
    st.one_of(
        st.tuples(st.just(0xFF), st.sampled_from([0xFB, 0xFC, 0xFD, 0xFE]), st.integers(0, 255)),
        st.tuples(st.just(0xFF), st.sampled_from([0xF1, 0xF9])),
        st.builds(lambda body: (0xFF, 0xFA, *body, 0xFF, 0xF0),
                  st.lists(st.integers(0, 0xFE), max_size=4)),
    ),
    max_size=5,
).map(lambda parts: bytes(b for part in parts for b in part))
PROMPT = st.sampled_from(["xlogin:", "MikroTik v6.42.3 (stable)\r\nLogin: ", "ZyXEL login:"])


@settings(max_examples=200, deadline=None)
@given(NEGOTIATION, PROMPT)
def test_every_form_of_a_banner_reads_the_same(negotiation: bytes, prompt: str) -> None:
    """Raw bytes, the scanner's escaped text and a Latin-1 rendering of the IAC byte: after
    cleaning, all give the prompt."""
    raw = negotiation + prompt.encode()
    assert strip_telnet(raw) == (prompt.encode(), bool(negotiation))
    scanned = decode_banner(raw, 23)  # what the scanner stores
    assert scanned.text == prompt.replace("\r\n", "\n").strip()
    escaped = "".join(f"\\x{b:02x}" if b >= 0x80 or b < 0x20 else chr(b) for b in negotiation)
    latin = negotiation.decode("latin-1")
    for text in (escaped + prompt, latin + prompt):
        assert banner_texts(Banner(23, "telnet", text)) == [prompt]
    assert banner_texts(Banner(23, "telnet", "", raw_hex=raw.hex())) == [prompt]


def test_iac_iac_is_a_data_byte_and_unfinished_sequences_end_cleanly() -> None:
    assert strip_telnet(b"a\xff\xffb") == (b"a\xffb", True)
    assert strip_telnet(b"\xff\xfa\x18 never ends") == (b"", True)
    assert strip_telnet(b"x\xff") == (b"x", True)
    assert lstrip_controls("\x00\r\n \x85xlogin:") == "xlogin:"
    # a lenient UTF-8 decoding turned IAC DO and the command into U+FFFD: still negotiation
    assert banner_texts(Banner(7777, "tcp", "\ufffd\ufffd\x18xlogin:")) == ["xlogin:"]
