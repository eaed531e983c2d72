"""covgate in-process: the Python binding of libcovgate (ctypes; no compiled part).

    import covgate
    with covgate.Gate() as gate:                      # in memory, built-in policy and tables
        answer = gate.submit(open("claim.x12", "rb").read())
        answer.body, answer.content_type, answer.decisions   # the 277, its type, decision dicts
        for later in gate.poll():                     # releases caused by later facts
            forward(later.body)

The library is found through $COVGATE_LIBRARY, then the build tree of this checkout
(build/libcovgate.so), then the system (libcovgate.so.1). Every method may be called from any
thread (ctypes releases the GIL during each call; the library serializes its engine).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import pathlib
from dataclasses import dataclass, field
from typing import Iterable, Optional, Union

__all__ = ["Gate", "Answer", "Health", "CovgateError", "ABI_VERSION", "library_path"]

ABI_VERSION = 1

_DISPOSITIONS = {0: "accepted", 1: "hold", 2: "release", 3: "rejected", 4: "closed"}
_EMPTY = 1
_HEALTH_STATES = {0: "healthy", 1: "degraded", 2: "failed"}
_HEALTH_DURABLE, _HEALTH_CLUSTER, _HEALTH_CONNECTED = 0x1, 0x2, 0x4


class CovgateError(Exception):
    """A call failed: `code` is the covgate_status (negative), `name` its name."""

    def __init__(self, code: int, name: str, message: str):
        super().__init__(f"{name}: {message}" if message else name)
        self.code = code
        self.name = name
        self.message = message


class _Error(ctypes.Structure):
    _fields_ = [("size", ctypes.c_uint32), ("code", ctypes.c_int32), ("message", ctypes.c_char * 256)]


class _Part(ctypes.Structure):
    _fields_ = [("offset", ctypes.c_size_t), ("length", ctypes.c_size_t)]


class _Answer(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("disposition", ctypes.c_int32),
        ("flags", ctypes.c_uint32),
        ("part_count", ctypes.c_uint32),
        ("body", ctypes.c_void_p),
        ("body_length", ctypes.c_size_t),
        ("content_type", ctypes.c_char_p),
        ("decisions", ctypes.c_void_p),
        ("decisions_length", ctypes.c_size_t),
        ("findings", ctypes.c_void_p),
        ("findings_length", ctypes.c_size_t),
        ("parts", ctypes.POINTER(_Part)),
        ("sequence", ctypes.c_uint64),
        ("key", ctypes.c_char_p),
        ("event", ctypes.c_char_p),
        ("claims", ctypes.c_uint32),
        ("facts", ctypes.c_uint32),
    ]


class _Message(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("data", ctypes.c_char_p),
        ("length", ctypes.c_size_t),
        ("content_type", ctypes.c_char_p),
        ("source", ctypes.c_char_p),
        ("unix_ms", ctypes.c_int64),
    ]


class _Health(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("state", ctypes.c_int32),
        ("flags", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
        ("later_waiting", ctypes.c_uint64),
        ("troubles", ctypes.c_uint64),
        ("last_trouble_unix_ms", ctypes.c_int64),
        ("last_trouble", ctypes.c_char * 256),
    ]


def library_path() -> str:
    """Where libcovgate is loaded from: $COVGATE_LIBRARY, the build tree, the system."""
    env = os.environ.get("COVGATE_LIBRARY")
    if env:
        return env
    root = pathlib.Path(__file__).resolve().parents[3]
    for candidate in (root / "build" / "libcovgate.so",):
        if candidate.exists():
            return str(candidate)
    return ctypes.util.find_library("covgate") or "libcovgate.so.1"


_lib = None


def _library():
    global _lib
    if _lib is not None:
        return _lib
    lib = ctypes.CDLL(library_path())
    lib.covgate_abi_version.restype = ctypes.c_uint32
    lib.covgate_abi_version.argtypes = []
    if lib.covgate_abi_version() != ABI_VERSION:
        raise CovgateError(-1, "COVGATE_E_ARGUMENT",
                           f"libcovgate has ABI {lib.covgate_abi_version()}, this binding {ABI_VERSION}")
    lib.covgate_version.restype = ctypes.c_char_p
    lib.covgate_status_name.restype = ctypes.c_char_p
    lib.covgate_status_name.argtypes = [ctypes.c_int32]
    handle_p = ctypes.c_void_p
    err_p = ctypes.POINTER(_Error)
    answer_pp = ctypes.POINTER(ctypes.POINTER(_Answer))
    lib.covgate_open.restype = ctypes.c_int32
    lib.covgate_open.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                 ctypes.POINTER(handle_p), err_p]
    lib.covgate_submit_message.restype = ctypes.c_int32
    lib.covgate_submit_message.argtypes = [handle_p, ctypes.POINTER(_Message), answer_pp, err_p]
    lib.covgate_poll.restype = ctypes.c_int32
    lib.covgate_poll.argtypes = [handle_p, answer_pp, err_p]
    lib.covgate_ack.restype = ctypes.c_int32
    lib.covgate_ack.argtypes = [handle_p, ctypes.c_uint64, err_p]
    lib.covgate_redeliver.restype = ctypes.c_int32
    lib.covgate_redeliver.argtypes = [handle_p, err_p]
    lib.covgate_wait_fd.restype = ctypes.c_int
    lib.covgate_wait_fd.argtypes = [handle_p]
    if hasattr(lib, "covgate_get_health"):  # a library older than this binding lacks it
        lib.covgate_get_health.restype = ctypes.c_int32
        lib.covgate_get_health.argtypes = [handle_p, ctypes.POINTER(_Health), err_p]
    lib.covgate_answer_free.restype = None
    lib.covgate_answer_free.argtypes = [ctypes.POINTER(_Answer)]
    lib.covgate_close.restype = ctypes.c_int32
    lib.covgate_close.argtypes = [handle_p, err_p]
    _lib = lib
    return lib


def _new_error() -> _Error:
    e = _Error()
    e.size = ctypes.sizeof(_Error)
    return e


def _raise(lib, rc: int, err: _Error):
    raise CovgateError(rc, lib.covgate_status_name(rc).decode(), err.message.decode("utf-8", "replace"))


@dataclass
class Answer:
    """One answer: for the sender of a message (Gate.submit) or a later one (Gate.poll)."""

    body: bytes
    content_type: str
    decisions: list = field(default_factory=list)  # dicts: the lines of `covgate replay --decisions`
    disposition: str = "accepted"  # accepted, hold, release, rejected, closed
    findings: list = field(default_factory=list)  # what was refused or noted (no patient data)
    parts: list = field(default_factory=list)  # bytes: one per HL7 v2 ACK (else the whole body)
    flags: int = 0
    claims: int = 0
    facts: int = 0
    key: str = ""  # later answers: "NPI_CLM01-sequence" ("CLM01-sequence" without a billing NPI)
    event: str = ""  # later answers: release, hold, reopened, void, cancel
    sequence: int = 0  # later answers: what Gate.ack takes

    @property
    def rejected(self) -> bool:
        return self.disposition == "rejected"


@dataclass
class Health:
    """How a gate is doing (Gate.health): "healthy"; "degraded" (pointed at a cluster: the
    connection is down or the delivery of later answers is in trouble; it recovers by itself);
    "failed" (the store failed: every message is refused until the gate is opened again).
    `troubles` counts what went wrong since open, `last_trouble` says what the last was (no
    patient data) and `last_trouble_unix_ms` when (0: never)."""

    state: str
    durable: bool
    cluster: bool
    connected: bool
    later_waiting: int  # later answers not acknowledged
    troubles: int
    last_trouble: str
    last_trouble_unix_ms: int


def _answer(lib, p) -> Answer:
    a = p.contents
    body = ctypes.string_at(a.body, a.body_length) if a.body_length else b""
    decisions = ctypes.string_at(a.decisions, a.decisions_length).decode("utf-8") if a.decisions_length else ""
    findings = ctypes.string_at(a.findings, a.findings_length).decode("utf-8", "replace") if a.findings_length else ""
    parts = [body[a.parts[i].offset:a.parts[i].offset + a.parts[i].length] for i in range(a.part_count)]
    out = Answer(
        body=body,
        content_type=(a.content_type or b"").decode(),
        decisions=[json.loads(line) for line in decisions.splitlines() if line],
        disposition=_DISPOSITIONS.get(a.disposition, str(a.disposition)),
        findings=findings.splitlines(),
        parts=parts,
        flags=a.flags,
        claims=a.claims,
        facts=a.facts,
        key=(a.key or b"").decode(),
        event=(a.event or b"").decode(),
        sequence=a.sequence,
    )
    lib.covgate_answer_free(p)
    return out


class Gate:
    """One open gate. `config` holds the keys of covgate.json (None: everything by default,
    the state in memory); `base_dir` resolves its relative paths (default: the current
    directory). A "store": {"directory": DIR} keeps the state, and the later answers not yet
    acknowledged, in DIR/covgate.db across restarts."""

    def __init__(self, config: Optional[dict] = None, base_dir: Optional[str] = None):
        self._lib = _library()
        self._handle = ctypes.c_void_p()
        self._unacked: list[int] = []
        text = json.dumps(config).encode() if config is not None else None
        err = _new_error()
        rc = self._lib.covgate_open(text, len(text) if text else 0,
                                    base_dir.encode() if base_dir else None,
                                    ctypes.byref(self._handle), ctypes.byref(err))
        if rc < 0:
            _raise(self._lib, rc, err)

    def __enter__(self) -> "Gate":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _live(self):
        if not self._handle:
            raise CovgateError(-1, "COVGATE_E_ARGUMENT", "the gate is closed")
        return self._handle

    def submit(self, data: bytes, content_type: Optional[str] = None, *, source: Optional[str] = None,
               unix_ms: int = 0) -> Answer:
        """Submits one whole message; returns its answer. `content_type` is a hint (a
        message of another kind than it names is refused unprocessed); `source` names the
        message in decision lines; `unix_ms` is when it arrived (0: now)."""
        if isinstance(data, str):
            raise TypeError("data must be bytes (X12, FHIR and HL7 v2 are byte streams)")
        data = bytes(data)
        m = _Message()
        m.size = ctypes.sizeof(_Message)
        m.data = data
        m.length = len(data)
        m.content_type = content_type.encode() if content_type else None
        m.source = source.encode() if source else None
        m.unix_ms = unix_ms
        out = ctypes.POINTER(_Answer)()
        err = _new_error()
        rc = self._lib.covgate_submit_message(self._live(), ctypes.byref(m), ctypes.byref(out), ctypes.byref(err))
        if rc < 0:
            _raise(self._lib, rc, err)
        return _answer(self._lib, out)

    def poll(self) -> list[Answer]:
        """The later answers waiting (releases caused by later facts, reopenings), oldest
        first. Calling poll() again says the previous batch was forwarded: it is acknowledged
        then (at-least-once: a batch never acknowledged comes back after a restart with a
        durable store). Gate.ack() acknowledges earlier."""
        self.ack(self._unacked)
        out = []
        while True:
            p = ctypes.POINTER(_Answer)()
            err = _new_error()
            rc = self._lib.covgate_poll(self._live(), ctypes.byref(p), ctypes.byref(err))
            if rc < 0:
                _raise(self._lib, rc, err)
            if rc == _EMPTY:
                break
            out.append(_answer(self._lib, p))
        self._unacked = [a.sequence for a in out]
        return out

    def ack(self, answers: Iterable[Union[Answer, int]]) -> None:
        """Acknowledges later answers (or their sequence numbers) as forwarded."""
        done = set()
        for a in list(answers):
            seq = a.sequence if isinstance(a, Answer) else int(a)
            err = _new_error()
            rc = self._lib.covgate_ack(self._live(), seq, ctypes.byref(err))
            if rc < 0:
                _raise(self._lib, rc, err)
            done.add(seq)
        self._unacked = [s for s in self._unacked if s not in done]

    def redeliver(self) -> None:
        """Every unacknowledged later answer comes out of poll() again."""
        self._unacked = []
        err = _new_error()
        rc = self._lib.covgate_redeliver(self._live(), ctypes.byref(err))
        if rc < 0:
            _raise(self._lib, rc, err)

    def health(self) -> Health:
        """How the gate is doing; never waits for a message in progress (any thread)."""
        if not hasattr(self._lib, "covgate_get_health"):
            raise CovgateError(-1, "COVGATE_E_ARGUMENT", "this libcovgate has no covgate_get_health")
        h = _Health()
        h.size = ctypes.sizeof(_Health)
        err = _new_error()
        rc = self._lib.covgate_get_health(self._live(), ctypes.byref(h), ctypes.byref(err))
        if rc < 0:
            _raise(self._lib, rc, err)
        return Health(
            state=_HEALTH_STATES.get(h.state, str(h.state)),
            durable=bool(h.flags & _HEALTH_DURABLE),
            cluster=bool(h.flags & _HEALTH_CLUSTER),
            connected=bool(h.flags & _HEALTH_CONNECTED),
            later_waiting=h.later_waiting,
            troubles=h.troubles,
            last_trouble=h.last_trouble.decode("utf-8", "replace"),
            last_trouble_unix_ms=h.last_trouble_unix_ms,
        )

    def fileno(self) -> int:
        """A descriptor readable while poll() has something (for select/selectors)."""
        return self._lib.covgate_wait_fd(self._live())

    def close(self) -> None:
        """Flushes and closes (idempotent). The last poll() batch stays unacknowledged
        unless ack() said otherwise."""
        if not getattr(self, "_handle", None):
            return
        handle, self._handle = self._handle, ctypes.c_void_p()
        err = _new_error()
        rc = self._lib.covgate_close(handle, ctypes.byref(err))
        if rc < 0:
            _raise(self._lib, rc, err)

    @staticmethod
    def version() -> str:
        return _library().covgate_version().decode()
