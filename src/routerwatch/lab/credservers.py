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
