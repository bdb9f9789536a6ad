"""Schema codec: serialise and validate 100,000 observations (issue 10).

Compares the chosen codec (msgspec on the frozen Struct models of routerwatch.models, as
routerwatch.schema uses it) with msgspec and pydantic v2 (strict TypeAdapter) on frozen
dataclasses of the same fields (what the models were before issue 10).
Each way is timed per observation (one JSON text each, as JSON Lines / agent uploads carry
them), as one batch document, and as a stream of JSON Lines decoded and dropped. Rates are per
CPU second (one core). Run: ``python3 tasks.py bench schema`` (N=… to change the size,
PEERS=0 to skip the comparison).
"""

from __future__ import annotations

import dataclasses
import gc
import os
import resource
import sys
import time
import types
import typing
from typing import Any

import msgspec

from routerwatch.models import (
    Banner,
    HttpObservation,
    Observation,
    TlsCertificate,
    UpnpDescription,
)
from routerwatch.schema import decode, decode_lines, encode
from routerwatch.schema.codec import decoder

N = int(os.environ.get("N", "100000"))


def sample(i: int) -> Observation:
    """A lab-like router observation: 3 HTTP answers, 3 banners, a certificate, UPnP."""
    a, b = divmod(i, 250)
    body = "<html><head><title>TL-WR841N</title></head><body>" + "x" * (200 + i % 300) + "</body>"
    return Observation(
        address=f"10.{a // 250 % 250}.{a % 250}.{b + 1}",
        open_ports=(22, 23, 80, 443, 1900, 7777),
        http=tuple(
            HttpObservation(
                port=p, scheme="https" if p == 443 else "http", method="GET", path=path,
                status=401 if path == "/" else 200,
                headers=(("server", "TP-LINK HTTPD/1.0"), ("content-type", "text/html"),
                         ("www-authenticate", 'Basic realm="TP-LINK Wireless N Router WR841N"')),
                body=body, title="TL-WR841N",
            )
            for p, path in ((80, "/"), (80, "/currentsetting.htm"), (443, "/"))
        ),
        banners=(
            Banner(22, "ssh", "SSH-2.0-dropbear_2019.78"),
            Banner(23, "telnet", "TP-LINK Wireless Router login:", raw_hex="fffd01fffd1f"),
            Banner(7777, "tcp", "xlogin:"),
        ),
        tls=(TlsCertificate(443, "CN=tplinkwifi.net", "CN=tplinkwifi.net",
                            "2032-01-01T00:00:00", True, "ab" * 32),),
        upnp=UpnpDescription(
            location=f"http://10.0.0.{b + 1}:1900/rootDesc.xml",
            server="ipos/7.0 UPnP/1.0 TL-WR841N/8.0",
            manufacturer="TP-Link", model_name="TL-WR841N", model_number="8.0",
            friendly_name="TL-WR841N", udn=f"uuid:{i:08x}-0000-1000-8000-00000000{i % 9999:04d}",
        ),
        mac=f"50:c7:bf:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
        mac_vendor="TP-LINK TECHNOLOGIES CO.,LTD.",
        elapsed=1.25,
        observed_at="2026-12-03T18:00:00+00:00",
    )


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>9,.0f}/s ({seconds:.2f} s)"


def timed(fn: Any) -> tuple[Any, float]:
    """Run fn; the CPU seconds it took (per core: the machine is shared, wall time is not
    ours alone). Wall seconds are added to WALL for the record."""
    gc.collect()
    w, t = time.perf_counter(), time.process_time()
    out = fn()
    WALL.append(time.perf_counter() - w)
    return out, time.process_time() - t


WALL: list[float] = []


def bench_msgspec(obs: list[Observation]) -> dict[str, float]:
    lines, enc = timed(lambda: [encode(o) for o in obs])
    dec_one = decoder(Observation)
    back, dec = timed(lambda: [dec_one.decode(x) for x in lines])
    assert back == obs
    del back
    batch, enc_b = timed(lambda: encode(obs))
    back_b, dec_b = timed(lambda: decode(batch, tuple[Observation, ...]))
    assert list(back_b) == obs
    del back_b

    def stream() -> int:  # JSON Lines read one by one and dropped: the agent/bulk path
        n = 0
        for x in lines:
            n += len(dec_one.decode(x).open_ports)
        return n

    _, dec_s = timed(stream)
    jsonl = b"\n".join(lines)
    back_l, dec_l = timed(lambda: decode_lines(jsonl, Observation))
    assert back_l == obs
    return {"encode": enc, "decode": dec, "encode_batch": enc_b, "decode_batch": dec_b,
            "decode_stream": dec_s, "decode_lines": dec_l,
            "bytes": sum(map(len, lines)) / len(lines)}


def _dataclass_mirror() -> dict[type, type]:
    """Frozen dataclasses with the same fields and bounds as the models (what routerwatch used
    before issue 10), to measure what the Structs buy."""
    mirror: dict[type, type] = {}

    def sub(tp: Any) -> Any:
        if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
            return build(tp)
        args = typing.get_args(tp)
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            return typing.Annotated[(sub(args[0]), *tp.__metadata__)]  # type: ignore[misc]
        if args and origin in (typing.Union, types.UnionType):
            return typing.Union[tuple(sub(a) for a in args)]  # noqa: UP007
        if origin is tuple:
            return tuple[tuple(a if a is Ellipsis else sub(a) for a in args)]  # type: ignore[misc]
        return tp

    def build(cls: type) -> type:
        if cls in mirror:
            return mirror[cls]
        hints = typing.get_type_hints(cls, include_extras=True)
        specs: list[Any] = []
        for f in msgspec.structs.fields(cls):
            tp = sub(hints[f.name])
            if f.default is not msgspec.NODEFAULT:
                specs.append((f.name, tp, dataclasses.field(default=f.default)))
            elif f.default_factory is not msgspec.NODEFAULT:
                specs.append((f.name, tp, dataclasses.field(default_factory=f.default_factory)))
            else:
                specs.append((f.name, tp))
        mirror[cls] = dataclasses.make_dataclass(cls.__name__, specs, frozen=True)
        return mirror[cls]

    build(Observation)
    return mirror


def bench_dataclasses(obs: list[Observation], codec: str) -> dict[str, float] | None:
    mirror = _dataclass_mirror()
    D = mirror[Observation]
    objs = msgspec.convert(msgspec.to_builtins(obs), list[D])  # type: ignore[valid-type]
    if codec == "msgspec":
        enc_ = msgspec.json.Encoder()
        one, many = msgspec.json.Decoder(D), msgspec.json.Decoder(list[D])  # type: ignore[valid-type]
        dump_one, load_one = enc_.encode, one.decode
        dump_many, load_many = enc_.encode, many.decode
    else:
        try:
            from pydantic import ConfigDict, TypeAdapter
        except ImportError:
            return None
        for cls in mirror.values():
            cls.__pydantic_config__ = ConfigDict(strict=True)  # type: ignore[attr-defined]
        # pydantic does not read msgspec's bounds (ports 0-65535 ...): it checks a little less.
        ta, tl = TypeAdapter(D), TypeAdapter(list[D])  # type: ignore[valid-type]
        dump_one, load_one = ta.dump_json, ta.validate_json
        dump_many, load_many = tl.dump_json, tl.validate_json
    lines, enc = timed(lambda: [dump_one(o) for o in objs])
    back, dec = timed(lambda: [load_one(x) for x in lines])
    assert back == objs
    batch, enc_b = timed(lambda: dump_many(objs))
    back_b, dec_b = timed(lambda: load_many(batch))
    assert list(back_b) == objs
    return {"encode": enc, "decode": dec, "encode_batch": enc_b, "decode_batch": dec_b,
            "bytes": sum(map(len, lines)) / len(lines)}


def main() -> int:
    started = time.perf_counter()
    obs, built = timed(lambda: [sample(i) for i in range(N)])
    print(f"{N:,} observations built in {built:.2f} s (routerwatch.models Structs)")
    rows = [("msgspec, Struct models (chosen)", bench_msgspec(obs))]
    if os.environ.get("PEERS", "1") != "0":  # PEERS=0: the chosen codec only
        rows += [("msgspec, frozen dataclasses", bench_dataclasses(obs, "msgspec")),
                 ("pydantic v2, frozen dataclasses", bench_dataclasses(obs, "pydantic"))]
    print(f"{'codec':<30} {'encode one by one':>24} {'decode+validate one by one':>26} "
          f"{'encode batch':>24} {'decode+validate batch':>24}")
    for name, r in rows:
        if r is None:
            print(f"{name:<30} not installed")
            continue
        print(f"{name:<30} {rate(N, r['encode']):>24} {rate(N, r['decode']):>26} "
              f"{rate(N, r['encode_batch']):>24} {rate(N, r['decode_batch']):>24}")
    chosen = rows[0][1]
    assert chosen is not None
    print(f"JSON Lines, decode_lines (all kept, chosen codec):           "
          f"{rate(N, chosen['decode_lines'])}")
    print(f"JSON Lines, decoded+validated and dropped one by one (chosen): "
          f"{rate(N, chosen['decode_stream'])}")
    print("rates are per CPU second of this process (one core); wall time of all timed "
          f"steps {sum(WALL):.1f} s on a machine shared with other jobs")
    print(f"mean JSON size of one observation: {chosen['bytes']:.0f} bytes")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB; whole process {time.perf_counter() - started:.1f} s; "
          f"python {sys.version.split()[0]}, msgspec {msgspec.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
