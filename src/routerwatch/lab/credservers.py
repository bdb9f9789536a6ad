"""Lab servers that take a login: SSH, the RouterOS API, an SNMPv3 agent and TR-064.

Each speaks the real protocol with the library made for it (asyncssh's server, pysnmp's
command responder, librouteros' word codec, http.server + RFC 7616 digest for TR-064's SOAP),
answers like the real firmware (see lab/creds/devices.yaml for the origin of each answer) and
records every request in :class:`RequestLog`, so tests can prove what a collector sent: logins
(with their outcome) and calls — never the password itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from routerwatch.lab.profiles import page_text

# ----------------------------------------------------------------------------- request log


@dataclass(frozen=True)
class Request:
    address: str
    protocol: str  # "ssh", "routeros", "snmpv3", "tr064"
    kind: str  # "login" or "call"
    what: str  # the command / API word / PDU type + OIDs / SOAP action or GET path
    user: str = ""
    ok: bool = True


@dataclass
class RequestLog:
    """Every request any lab server received, in order (thread-safe)."""

    items: list[Request] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, req: Request) -> None:
        with self._lock:
            self.items.append(req)

    def snapshot(self) -> list[Request]:
        with self._lock:
            return list(self.items)

    def clear(self) -> None:
        with self._lock:
            self.items.clear()

    def logins(self, address: str | None = None, protocol: str | None = None) -> list[Request]:
        return [r for r in self.snapshot() if r.kind == "login"
                and (address is None or r.address == address)
                and (protocol is None or r.protocol == protocol)]  # fmt: skip


class _Lockout:
    """Failed logins per device; after ``limit`` failures the account is locked."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.failures = 0

    @property
    def locked(self) -> bool:
        return self.limit is not None and self.failures >= self.limit

    def fail(self) -> None:
        self.failures += 1


# ----------------------------------------------------------------------------- SSH


async def start_ssh(
    address: str, spec: dict[str, Any], log: RequestLog, host_key: Any,
    authorized: set[str] | None = None,
) -> Any:
    """An asyncssh server: password logins (and public keys in ``authorized``, OpenSSH
    text, which a test may fill while it runs), exec requests answered from
    ``spec['commands']`` (unknown commands: ``sh: <cmd>: not found``, exit 127, like
    BusyBox ash)."""
    import asyncssh

    user, password = str(spec["user"]), str(spec["password"])
    commands: dict[str, str] = {str(k): str(v) for k, v in (spec.get("commands") or {}).items()}
    lockout = _Lockout(spec.get("lockout_after"))

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, given: str) -> bool:
            if lockout.locked:
                log.add(Request(address, "ssh", "login", "password", username, False))
                raise asyncssh.PermissionDenied("account locked after too many failures")
            ok = username == user and secrets.compare_digest(given, password)
            log.add(Request(address, "ssh", "login", "password", username, ok))
            if not ok:
                lockout.fail()
            return ok

        def public_key_auth_supported(self) -> bool:
            return authorized is not None

        def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
            text = key.export_public_key("openssh").decode().split()[1]
            ok = username == user and any(a.split()[1] == text for a in authorized or ())
            log.add(Request(address, "ssh", "login", "publickey", username, ok))
            return ok

    async def handle(process: asyncssh.SSHServerProcess[str]) -> None:
        cmd = process.command or ""
        log.add(Request(address, "ssh", "call", cmd or "<shell>", user))
        if cmd in commands:
            process.stdout.write(commands[cmd])
            process.exit(0)
        else:
            process.stderr.write(f"sh: {cmd.split(' ')[0] if cmd else 'shell'}: not found\n")
            process.exit(127)

    return await asyncssh.create_server(
        Server, address, int(spec.get("port", 22)), server_host_keys=[host_key],
        process_factory=handle, server_version=str(spec.get("version", "dropbear")),
        kbdint_auth=False, public_key_auth=authorized is not None,
    )  # fmt: skip


# ----------------------------------------------------------------------------- RouterOS API


async def start_routeros(address: str, spec: dict[str, Any], log: RequestLog) -> asyncio.Server:
    """The RouterOS API (TCP 8728): sentences of length-prefixed words (librouteros' codec);
    ``/login`` with =name= and =password= (RouterOS >= 6.43), then ``<path>/print`` answered
    from ``spec['paths']``; anything else gets the real ``!trap`` "no such command"."""
    from librouteros.protocol import decode_length, determine_length, encode_sentence

    user, password = str(spec["user"]), str(spec["password"])
    paths: dict[str, list[dict[str, str]]] = {
        str(k): [{str(a): str(b) for a, b in row.items()} for row in v]
        for k, v in (spec.get("paths") or {}).items()
    }

    async def read_word(reader: asyncio.StreamReader) -> str:
        first = await reader.readexactly(1)
        if first == b"\x00":
            return ""
        more = determine_length(first)
        head = first + (await reader.readexactly(more) if more else b"")
        length = decode_length(head)
        if length > 65536:
            raise ValueError("word too long")
        return (await reader.readexactly(length)).decode("utf-8", "replace")

    async def read_sentence(reader: asyncio.StreamReader) -> list[str]:
        words = []
        while (w := await read_word(reader)) != "":
            words.append(w)
            if len(words) > 256:
                raise ValueError("sentence too long")
        return words

    def send(writer: asyncio.StreamWriter, *words: str) -> None:
        writer.write(encode_sentence(*words, encoding="UTF-8"))

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        logged_in = False
        try:
            while True:
                sentence = await asyncio.wait_for(read_sentence(reader), 60)
                if not sentence:
                    continue
                cmd, args = sentence[0], sentence[1:]
                params = dict(a[1:].split("=", 1) for a in args if a.startswith("=") and
                              "=" in a[1:])  # fmt: skip
                tag = [a for a in args if a.startswith(".tag=")]
                if cmd == "/login":
                    ok = params.get("name") == user and secrets.compare_digest(
                        params.get("password", ""), password
                    )
                    log.add(Request(address, "routeros", "login", "/login",
                                    params.get("name", ""), ok))  # fmt: skip
                    if ok:
                        logged_in = True
                        send(writer, "!done", *tag)
                    else:
                        send(writer, "!trap", "=message=invalid user name or password (6)", *tag)
                        send(writer, "!done", *tag)
                    await writer.drain()
                    continue
                log.add(Request(address, "routeros", "call", cmd, user if logged_in else ""))
                if not logged_in:
                    send(writer, "!trap", "=message=not logged in", *tag)
                    send(writer, "!done", *tag)
                elif cmd.endswith("/print") and cmd.removesuffix("/print") in paths:
                    for row in paths[cmd.removesuffix("/print")]:
                        send(writer, "!re", *(f"={k}={v}" for k, v in row.items()), *tag)
                    send(writer, "!done", *tag)
                else:
                    send(writer, "!trap", "=category=0", "=message=no such command prefix", *tag)
                    send(writer, "!done", *tag)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError, ValueError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(on_connect, address, int(spec.get("port", 8728)))


# ----------------------------------------------------------------------------- SNMPv3


class _Instrum:
    """A read-only MIB: the OIDs of the spec and nothing else (pysnmp custom controller)."""

    def __init__(self, address: str, values: dict[str, tuple[str, str]], log: RequestLog,
                 user: str) -> None:  # fmt: skip
        self.address, self.log, self.user = address, log, user
        from pysnmp.proto import rfc1902

        self.values: dict[tuple[int, ...], Any] = {}
        for oid, (kind, value) in values.items():
            key = tuple(int(p) for p in oid.split("."))
            self.values[key] = (
                rfc1902.ObjectIdentifier(value) if kind == "oid" else rfc1902.OctetString(value)
            )

    def read_variables(self, *var_binds: Any, **context: Any) -> list[Any]:
        from pysnmp.proto import rfc1905

        oids = [tuple(name) for name, _ in var_binds]
        self.log.add(Request(self.address, "snmpv3", "call",
                             "GET " + " ".join(".".join(map(str, o)) for o in oids), self.user))
        return [(name, self.values.get(tuple(name), rfc1905.noSuchObject))
                for name, _ in var_binds]  # fmt: skip

    def read_next_variables(self, *var_binds: Any, **context: Any) -> list[Any]:
        from pysnmp.proto import rfc1905

        self.log.add(Request(self.address, "snmpv3", "call", "GETNEXT", self.user))
        out = []
        for name, _ in var_binds:
            later = sorted(k for k in self.values if k > tuple(name))
            out.append((later[0], self.values[later[0]]) if later
                       else (name, rfc1905.endOfMibView))  # fmt: skip
        return out

    def write_variables(self, *var_binds: Any, **context: Any) -> list[Any]:
        from pysnmp.smi import error as smi_error

        self.log.add(Request(self.address, "snmpv3", "call", "SET", self.user))
        raise smi_error.NotWritableError(idx=0)


def start_snmpv3(address: str, spec: dict[str, Any], log: RequestLog) -> Any:
    """A pysnmp SNMPv3 agent (USM user with auth+priv, VACM read view only) on UDP 161;
    must be called inside the running loop. Returns the engine (close its dispatcher)."""
    from pysnmp.carrier.asyncio.dgram import udp
    from pysnmp.entity import config, engine
    from pysnmp.entity.rfc3413 import cmdrsp, context

    auth = {"SHA": config.USM_AUTH_HMAC96_SHA, "SHA256": config.USM_AUTH_HMAC192_SHA256,
            "MD5": config.USM_AUTH_HMAC96_MD5}[str(spec.get("auth_protocol", "SHA")).upper()]
    priv = {"AES": config.USM_PRIV_CFB128_AES, "DES": config.USM_PRIV_CBC56_DES,
            "AES256": config.USM_PRIV_CFB256_AES}[str(spec.get("priv_protocol", "AES")).upper()]
    class Counted(udp.UdpAsyncioTransport):
        """Records every datagram (USM refuses a wrong digest before any PDU is seen)."""

        def datagram_received(self, datagram: bytes, address_: Any) -> None:
            log.add(Request(address, "snmpv3", "packet", f"{len(datagram)} bytes"))
            super().datagram_received(datagram, address_)

    snmp = engine.SnmpEngine()
    config.add_transport(
        snmp, udp.DOMAIN_NAME,
        Counted(loop=asyncio.get_running_loop()).open_server_mode(
            (address, int(spec.get("port", 161)))
        ),
    )  # fmt: skip
    user = str(spec["user"])
    config.add_v3_user(snmp, user, auth, str(spec["auth_key"]), priv, str(spec["priv_key"]))
    config.add_vacm_user(snmp, 3, user, "authPriv", (1, 3, 6), ())  # read view only
    ctx = context.SnmpContext(snmp)
    ctx.unregister_context_name(b"")
    values = {str(k): (str(v[0]), str(v[1])) for k, v in (spec.get("values") or {}).items()}
    ctx.register_context_name(b"", _Instrum(address, values, log, user))
    cmdrsp.GetCommandResponder(snmp, ctx)
    cmdrsp.NextCommandResponder(snmp, ctx)
    cmdrsp.SetCommandResponder(snmp, ctx)  # so that a SET would be seen (and refused)

    snmp.transport_dispatcher.job_started(1)
    return snmp


# ----------------------------------------------------------------------------- TR-064


_UNAUTHORIZED = (
    b"<HTML><HEAD><TITLE>401 Unauthorized (ERR_NONE)</TITLE></HEAD><BODY><H1>401 Unauthorized"
    b"</H1><BR>ERR_NONE<HR><B>Webserver</B></BODY></HTML>"
)
_GENERIC_SCPD = b"""<?xml version="1.0"?>
<scpd xmlns="urn:dslforum-org:service-1-0"><specVersion><major>1</major><minor>0</minor>
</specVersion><actionList></actionList><serviceStateTable></serviceStateTable></scpd>
"""


def start_tr064(address: str, spec: dict[str, Any], log: RequestLog) -> ThreadingHTTPServer:
    """TR-064 on TCP 49000: the captured descriptions unauthenticated (like FRITZ!OS), SOAP
    actions only with HTTP digest auth (realm "F!Box SOAP-Auth", qop auth, MD5)."""
    user, password = str(spec["user"]), str(spec["password"])
    realm = "F!Box SOAP-Auth"
    files: dict[str, bytes] = {str(k): page_text(str(v)) for k, v in spec["files"].items()}
    actions: dict[str, dict[str, str]] = {
        str(k): {str(a): str(b) for a, b in v.items()} for k, v in spec["actions"].items()
    }
    lockout = _Lockout(spec.get("lockout_after"))
    nonces: set[str] = set()

    def digest_ok(header: str, method: str) -> tuple[bool, str]:
        import urllib.request

        if not header.lower().startswith("digest "):
            return False, ""
        fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(header[7:]))
        name = fields.get("username", "")
        if fields.get("nonce") not in nonces or fields.get("realm") != realm:
            return False, name
        ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"{method}:{fields.get('uri', '')}".encode()).hexdigest()
        want = hashlib.md5(
            f"{ha1}:{fields['nonce']}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:"
            f"{fields.get('qop', '')}:{ha2}".encode()
        ).hexdigest()
        return name == user and secrets.compare_digest(want, fields.get("response", "")), name

    class Handler(BaseHTTPRequestHandler):
        server_version = "FRITZ!Box 7590 UPnP/1.0 AVM FRITZ!Box 7590 154.07.10"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Type", 'text/xml; charset="utf-8"')
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            log.add(Request(address, "tr064", "call", f"GET {self.path}"))
            if self.path in files:
                self._send(200, files[self.path])
            elif self.path.endswith(".xml"):  # the other services' SCPDs (not emulated)
                self._send(200, _GENERIC_SCPD)
            else:
                self._send(404, b"")

        def do_POST(self) -> None:
            size = min(int(self.headers.get("Content-Length") or 0), 65536)
            body = self.rfile.read(size)
            action = (self.headers.get("SoapAction") or "").strip('"')
            header = self.headers.get("Authorization") or ""
            if header:
                ok, name = digest_ok(header, "POST")
                if lockout.locked:
                    ok = False
                log.add(Request(address, "tr064", "login", "digest", name, ok))
                if not ok:
                    lockout.fail()
            else:
                ok = False
            log.add(Request(address, "tr064", "call", f"POST {self.path} {action}",
                            user if ok else ""))  # fmt: skip
            if not ok:
                nonce = secrets.token_hex(8).upper()
                nonces.add(nonce)
                # FRITZ!OS answers 401 with a small HTML page (fritzconnection's soaper
                # reads an HTML 401 as FritzAuthorizationError)
                self._send(401, _UNAUTHORIZED, {"WWW-Authenticate":
                                      f'Digest realm="{realm}", nonce="{nonce}", '
                                      'algorithm=MD5, qop="auth"'})  # fmt: skip
                return
            short_name = action.rsplit(":", 1)[-1]  # "DeviceInfo:1#GetInfo" -> "1#GetInfo"
            service = action.split("#")[0].rsplit(":", 2)[-2] if "#" in action else ""
            key = f"{service}#{short_name.split('#')[-1]}"
            answer = actions.get(key)
            if answer is None or b"<s:Envelope" not in body:
                self._send(500, b"<s:Envelope><s:Body><s:Fault><faultcode>s:Client</faultcode>"
                                b"<faultstring>UPnPError</faultstring><detail><UPnPError>"
                                b"<errorCode>401</errorCode><errorDescription>Invalid Action"
                                b"</errorDescription></UPnPError></detail></s:Fault></s:Body>"
                                b"</s:Envelope>")  # fmt: skip
                return
            act = key.split("#")[1]
            svc_type = action.split("#")[0]
            args = "".join(f"<{k}>{v}</{k}>" for k, v in answer.items())
            xml = (
                '<?xml version="1.0"?>\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
                'envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">\n'
                f'<s:Body>\n<u:{act}Response xmlns:u="{svc_type}">\n{args}\n'
                f"</u:{act}Response>\n</s:Body>\n</s:Envelope>"
            )
            self._send(200, xml.encode())

    server = ThreadingHTTPServer((address, int(spec.get("port", 49000))), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=f"tr064-{address}", daemon=True).start()
    return server


# ----------------------------------------------------------------------------- vendor web APIs


class _WebApiHandler(BaseHTTPRequestHandler):
    """Shared part of the vendor web API servers: bounded bodies, raw answers, and every
    request the API does not handle answered by the device's own (unauthenticated) site of
    the main-lab profile, so its face on that port is unchanged."""

    server_version = ""
    protocol_version = "HTTP/1.1"
    ctx: Any = None  # DeviceContext of the profile
    site: Any = None  # the profile's Site that answered on this port

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def version_string(self) -> str:
        return self.server_version or "httpd"

    def body(self) -> bytes:
        size = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(size, 65536)) if size > 0 else b""

    def answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def fallback(self, method: str) -> None:
        from routerwatch.lab.profiles import Route
        from routerwatch.lab.tcp import _own_origin, http_response

        self.close_connection = True
        if self.ctx is None or self.site is None:
            self.answer(404, b"", {"Content-Type": "text/html"})
            return
        path, _, query = self.path.partition("?")
        route = self.site.route(method, path, query, self.ctx.render_text)
        if route.need_referer and not _own_origin(self.ctx, self.headers.get("Referer")):
            route = Route(status=403, headers=(("Content-Type", "text/html"),), body=b"")
        self.wfile.write(http_response(self.ctx, self.site, route, head_only=method == "HEAD"))

    def do_HEAD(self) -> None:
        self.fallback("HEAD")


def _serve(address: str, port: int, handler: type, name: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((address, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=f"{name}-{address}", daemon=True).start()
    return server


# ----------------------------------------------------------------------------- TP-Link


def _rsa_key(bits: int) -> Any:
    """An RSA key of ``bits`` (pycryptodome's generator refuses < 1024; the Archer firmware
    signs with a 512-bit key, so the primes are drawn here). Lab use only."""
    from Crypto.PublicKey import RSA
    from Crypto.Util.number import getPrime, inverse

    if bits >= 1024:
        return RSA.generate(bits)
    e = 65537
    while True:
        p, q = getPrime(bits // 2), getPrime(bits // 2)
        n, phi = p * q, (p - 1) * (q - 1)
        if p != q and n.bit_length() == bits and phi % e:
            return RSA.construct((n, e, inverse(e, phi), p, q))


def start_tplink(address: str, spec: dict[str, Any], log: RequestLog, ctx: Any = None,
                 site: Any = None) -> ThreadingHTTPServer:  # fmt: skip
    """The Archer LuCI web API (TCP 80) as tplinkrouterc6u's ``TplinkRouter`` drives it:

    ``POST /cgi-bin/luci/;stok=/login?form=keys`` -> the password RSA key (1024 bit);
    ``login?form=auth`` -> the signature RSA key (512 bit) and a sequence number;
    ``login?form=login`` with ``sign`` (RSA PKCS#1 v1.5 in 53-byte chunks of
    ``k=<aes key>&i=<iv>&h=md5(user+password)&s=<seq + len(data)>``) and ``data``
    (AES-128-CBC of ``operation=login&password=<RSA(password) hex>``) -> encrypted
    ``{"success":true,"data":{"stok":…}}`` + a ``sysauth`` cookie; then
    ``;stok=<stok>/admin/…`` calls, AES-encrypted both ways, answered from
    ``spec['calls']``. Wrong passwords get TP-Link's ``login failed`` answer with
    failureCount / attemptsAllowed, then ``exceeded max attempts`` (attemptsAllowed 0). The
    exchange is the one tplinkrouterc6u's client and its tests (test/test_client_c6u.py)
    implement; the answers' field names are those of the library's tests (see
    lab/creds/devices.yaml)."""
    import json
    from base64 import b64decode, b64encode
    from urllib.parse import parse_qsl

    from Crypto.Cipher import AES, PKCS1_v1_5
    from Crypto.Util.Padding import pad, unpad

    user, password = str(spec["user"]), str(spec["password"])
    limit = int(spec.get("lockout_after") or 10)
    calls: dict[str, dict[str, Any]] = {str(k): dict(v) for k, v in spec["calls"].items()}
    pwd_key, sig_key = _rsa_key(1024), _rsa_key(512)
    state: dict[str, Any] = {"seq": secrets.randbelow(10**9) + 10**8, "failures": 0}
    sessions: dict[str, tuple[bytes, bytes, str]] = {}  # stok -> (aes key, iv, sysauth)
    lock = threading.Lock()

    def rsa_hex(key: Any) -> list[str]:
        return [f"{key.n:X}", f"{key.e:06X}"]

    def rsa_decrypt(key: Any, hex_text: str) -> bytes:
        size = key.size_in_bytes() * 2
        cipher = PKCS1_v1_5.new(key)
        out = b""
        for pos in range(0, len(hex_text), size):
            part = cipher.decrypt(bytes.fromhex(hex_text[pos:pos + size]), None)
            if part is None:
                raise ValueError("bad RSA block")
            out += part
        return out

    def aes(key: bytes, iv: bytes) -> Any:
        return AES.new(key, AES.MODE_CBC, iv)

    def sealed(key: bytes, iv: bytes, obj: Any) -> bytes:
        text = json.dumps(obj).encode()
        return json.dumps({"data": b64encode(aes(key, iv).encrypt(pad(text, 16))).decode()
                           }).encode()  # fmt: skip

    def render(obj: Any) -> Any:
        if ctx is None:
            return obj
        if isinstance(obj, str):
            return ctx.render_text(obj)
        if isinstance(obj, dict):
            return {k: render(v) for k, v in obj.items()}
        return obj

    class Handler(_WebApiHandler):
        server_version = "Webs"

        def json(self, obj: Any, headers: dict[str, str] | None = None) -> None:
            body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
            self.answer(200, body, {"Content-Type": "application/json", **(headers or {})})

        def do_GET(self) -> None:
            self.fallback("GET")

        def do_POST(self) -> None:
            path, _, query = self.path.partition("?")
            body = self.body()
            if path == "/cgi-bin/luci/;stok=/login":
                self.login(query, body)
            elif path.startswith("/cgi-bin/luci/;stok=") and "/admin/" in path:
                self.call(path, query, body)
            else:
                self.fallback("POST")

        def login(self, query: str, body: bytes) -> None:
            form = dict(parse_qsl(query))
            what = f"login?{query}"
            if form.get("form") in ("keys", "auth"):
                log.add(Request(address, "http-tplink", "call", what))
                if form["form"] == "keys":
                    self.json({"success": True, "data": {"password": rsa_hex(pwd_key),
                                                         "mode": "router", "username": ""}})
                else:
                    self.json({"success": True, "data": {"key": rsa_hex(sig_key),
                                                         "seq": state["seq"]}})
                return
            if form.get("form") != "login":
                log.add(Request(address, "http-tplink", "call", what))
                self.json({"success": False, "errorcode": "invalid operation"})
                return
            try:
                fields = dict(parse_qsl(body.decode("latin-1")))
                signed = dict(parse_qsl(rsa_decrypt(sig_key, fields["sign"]).decode()))
                key, iv = signed["k"].encode(), signed["i"].encode()
                plain = unpad(aes(key, iv).decrypt(b64decode(fields["data"])), 16).decode()
                login = dict(parse_qsl(plain))
                given = rsa_decrypt(pwd_key, login["password"]).decode("utf-8", "replace")
            except (KeyError, ValueError):
                log.add(Request(address, "http-tplink", "login", "login?form=login", "", False))
                self.answer(400, b"", {"Content-Type": "text/html"})
                return
            expect = hashlib.md5(f"{user}{password}".encode()).hexdigest()
            with lock:
                locked = state["failures"] >= limit
                ok = (not locked and secrets.compare_digest(given, password)
                      and signed.get("h") == expect
                      and signed.get("s") == str(state["seq"] + len(fields["data"])))
                if not ok and not locked:
                    state["failures"] += 1
                failures = state["failures"]
            log.add(Request(address, "http-tplink", "login", "login?form=login",
                            user if signed.get("h") == expect else "?", ok))  # fmt: skip
            if locked:
                self.json(sealed(key, iv, {"success": False, "errorcode": "exceeded max attempts",
                                           "data": {"failureCount": failures,
                                                    "attemptsAllowed": 0}}))  # fmt: skip
                return
            if not ok:
                self.json(sealed(key, iv, {"success": False, "errorcode": "login failed",
                                           "data": {"failureCount": failures,
                                                    "attemptsAllowed": limit - failures}}))
                return
            stok, sysauth = secrets.token_hex(16), secrets.token_hex(16)
            with lock:
                sessions[stok] = (key, iv, sysauth)
            self.json(sealed(key, iv, {"success": True, "data": {"stok": stok}}),
                      {"Set-Cookie": f"sysauth={sysauth}; path=/cgi-bin/luci; HttpOnly"})

        def call(self, path: str, query: str, body: bytes) -> None:
            stok, _, rest = path[len("/cgi-bin/luci/;stok="):].partition("/")
            what = f"{rest}?{query}" if query else rest
            session = sessions.get(stok)
            cookie = self.headers.get("Cookie") or ""
            if session is None or f"sysauth={session[2]}" not in cookie:
                log.add(Request(address, "http-tplink", "call", what))
                self.answer(403, b"", {"Content-Type": "text/html"})
                return
            log.add(Request(address, "http-tplink", "call", what, user))
            key, iv, _ = session
            try:
                fields = dict(parse_qsl(body.decode("latin-1")))
                unpad(aes(key, iv).decrypt(b64decode(fields["data"])), 16)
            except (KeyError, ValueError):
                self.answer(400, b"", {"Content-Type": "text/html"})
                return
            if what == "admin/system?form=logout&operation=write":
                with lock:
                    sessions.pop(stok, None)
                self.json(sealed(key, iv, {"success": True, "data": {}}))
            elif what in calls:
                self.json(sealed(key, iv, {"success": True, "data": render(calls[what])}))
            else:  # LuCI's answer to a form it does not have
                self.json(sealed(key, iv, {"success": False, "errorcode": "-40101",
                                           "data": {}}))  # fmt: skip

    Handler.ctx, Handler.site = ctx, site
    return _serve(address, int(spec.get("port", 80)), Handler, "tplink")


# ----------------------------------------------------------------------------- NETGEAR


_NETGEAR_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<soap-env:Envelope\n'
    '        xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"\n'
    '        soap-env:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"\n        >\n'
    "<soap-env:Body>\n{inner}<ResponseCode>{code}</ResponseCode>\n</soap-env:Body>\n"
    "</soap-env:Envelope>\n"
)


def start_netgear(address: str, spec: dict[str, Any], log: RequestLog, ctx: Any = None,
                  site: Any = None) -> ThreadingHTTPServer:  # fmt: skip
    """The NETGEAR SOAP API on ``/soap/server_sa/`` (TCP 5000, beside the UPnP description
    the profile serves there): ``DeviceConfig:1#SOAPLogin`` with Username/Password (login v2)
    -> ``ResponseCode 000`` and a session cookie, or ``401``; then actions answered from
    ``spec['actions']`` (``<service>#<action>``) with the cookie, ``401`` without it; unknown
    actions ``501`` (pynetgear's "method not found"). Envelope and codes as pynetgear's client
    parses them (const.py, helpers.py) and as captured by the netgear SOAP write-ups cited in
    lab/creds/devices.yaml."""
    import re
    from html import escape

    user, password = str(spec["user"]), str(spec["password"])
    actions: dict[str, dict[str, str]] = {
        str(k): {str(a): str(b) for a, b in v.items()} for k, v in spec["actions"].items()
    }
    sessions: set[str] = set()

    def field(xml: str, name: str) -> str:
        m = re.search(rf"<{name}>(.*?)</{name}>", xml, re.S)
        if not m:
            return ""
        from html import unescape

        return unescape(m.group(1))

    class Handler(_WebApiHandler):
        server_version = "Linux/2.6.36.4brcmarm, UPnP/1.0, Portable SDK for UPnP devices/1.6.18"

        def soap(self, inner: str, code: str, headers: dict[str, str] | None = None) -> None:
            body = _NETGEAR_ENVELOPE.format(inner=inner, code=code).encode()
            self.answer(200, body, {"Content-Type": "text/xml; charset=utf-8", **(headers or {})})

        def do_GET(self) -> None:
            self.fallback("GET")

        def do_POST(self) -> None:
            if self.path.partition("?")[0] != "/soap/server_sa/":
                self.fallback("POST")
                return
            xml = self.body().decode("utf-8", "replace")
            action = (self.headers.get("SOAPAction") or "").strip('"')
            short_name = action.removeprefix("urn:NETGEAR-ROUTER:service:")
            service, _, method = short_name.partition("#")
            what = f"{service} {method}"
            if short_name == "DeviceConfig:1#SOAPLogin":
                name = field(xml, "Username")
                ok = name == user and secrets.compare_digest(field(xml, "Password"), password)
                log.add(Request(address, "http-netgear", "login", what, name, ok))
                if not ok:
                    self.soap("", "401")
                    return
                sid = secrets.token_hex(12)
                sessions.add(sid)
                self.soap('<m:SOAPLoginResponse xmlns:m="urn:NETGEAR-ROUTER:service:'
                          'DeviceConfig:1">\n</m:SOAPLoginResponse>\n', "000",
                          {"Set-Cookie": f"sess_id={sid}; path=/"})  # fmt: skip
                return
            cookie = self.headers.get("Cookie") or ""
            authed = any(f"sess_id={s}" in cookie for s in sessions)
            log.add(Request(address, "http-netgear", "call", what, user if authed else ""))
            if not authed:
                self.soap("", "401")
                return
            answer = actions.get(f"{service.split(':')[0]}#{method}")
            if answer is None:
                self.soap("", "501")
                return
            values = "".join(
                f"<{k}>{escape(ctx.render_text(v) if ctx else v)}</{k}>\n"
                for k, v in answer.items()
            )
            self.soap(f'<m:{method}Response\n        xmlns:m="urn:NETGEAR-ROUTER:service:'
                      f'{service}">\n{values}</m:{method}Response>\n', "000")

    Handler.ctx, Handler.site = ctx, site
    return _serve(address, int(spec.get("port", 5000)), Handler, "netgear")


# ----------------------------------------------------------------------------- ASUS


def start_asus(address: str, spec: dict[str, Any], log: RequestLog, ctx: Any = None,
               site: Any = None) -> ThreadingHTTPServer:  # fmt: skip
    """The ASUSWRT web API (TCP 80) as asusrouter's ``Connection`` drives it:
    ``POST /login.cgi`` with ``login_authorization=<base64 user:password>`` -> JSON
    ``{"asus_token": …}`` + an ``asus_token`` cookie, or ``{"error_status":"3"}`` (wrong
    credentials), ``{"error_status":"7","remaining_lock_time":…}`` once locked;
    ``POST /appGet.cgi`` with ``hook=nvram_get(<name>);…`` and the cookie -> JSON of those
    nvram values from ``spec['nvram']`` (an unset name: ""), ``{"error_status":"2"}``
    without a valid token; ``Logout.asp`` -> ``{"error_status":"8"}``. Codes and shapes as
    asusrouter parses them (modules/endpoint/error.py AccessError, connection.py); the rest
    of the port is the profile's own site."""
    import base64
    import json
    import re
    from urllib.parse import unquote

    user, password = str(spec["user"]), str(spec["password"])
    nvram: dict[str, str] = {str(k): str(v) for k, v in (spec.get("nvram") or {}).items()}
    lockout = _Lockout(spec.get("lockout_after"))
    tokens: set[str] = set()

    class Handler(_WebApiHandler):
        server_version = "httpd/2.0"

        def json(self, obj: Any, headers: dict[str, str] | None = None) -> None:
            self.answer(200, json.dumps(obj).encode(),
                        {"Content-Type": "application/json;charset=UTF-8", **(headers or {})})

        def token(self) -> str | None:
            m = re.search(r"asus_token=([0-9A-Za-z]+)", self.headers.get("Cookie") or "")
            return m.group(1) if m and m.group(1) in tokens else None

        def do_GET(self) -> None:
            if self.path.partition("?")[0] == "/Logout.asp":
                self.do_POST()
            else:
                self.fallback("GET")

        def do_POST(self) -> None:
            path = self.path.partition("?")[0]
            body = unquote(self.body().decode("latin-1"))
            if path == "/login.cgi":
                key, _, value = body.partition("=")
                try:
                    name, _, given = base64.b64decode(value).decode().partition(":")
                except ValueError:
                    name = given = ""
                ok = (key == "login_authorization" and not lockout.locked and name == user
                      and secrets.compare_digest(given, password))  # fmt: skip
                log.add(Request(address, "http-asus", "login", "login.cgi", name, ok))
                if ok:
                    new = secrets.token_hex(16)
                    tokens.add(new)
                    self.json({"asus_token": new}, {"Set-Cookie": f"asus_token={new}; HttpOnly;"})
                elif lockout.locked:
                    self.json({"error_status": "7", "remaining_lock_time": "60"})
                else:
                    lockout.fail()
                    self.json({"error_status": "3"})
                return
            if path == "/Logout.asp":
                held = self.token()
                log.add(Request(address, "http-asus", "call", "Logout.asp", user if held else ""))
                tokens.discard(held or "")
                self.json({"error_status": "8"})
                return
            if path != "/appGet.cgi":
                self.fallback("POST")
                return
            token = self.token()
            items = body.removeprefix("hook=").split(";") if body.startswith("hook=") else []
            for item in items or [body[:80]]:
                log.add(Request(address, "http-asus", "call", f"appGet.cgi {item}",
                                user if token else ""))  # fmt: skip
            if token is None:
                self.json({"error_status": "2"})
                return
            out: dict[str, str] = {}
            for item in items:
                m = re.fullmatch(r"nvram_get\(([A-Za-z0-9_]+)\)", item)
                if m:
                    value = nvram.get(m.group(1), "")
                    out[m.group(1)] = ctx.render_text(value) if ctx else value
            self.json(out)

    Handler.ctx, Handler.site = ctx, site
    return _serve(address, int(spec.get("port", 80)), Handler, "asus")
