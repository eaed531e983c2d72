'use strict';
// libcovgate through koffi: the C ABI of include/covgate/covgate.h as a small JavaScript
// class. Calls are synchronous on the calling thread (each message takes tens of
// microseconds); the library serializes its engine, so Node.js worker threads may each hold
// the same library and call it. The library is found through $COVGATE_LIBRARY (a path), then
// this checkout's build/libcovgate.so, then the system (libcovgate.so.1).
const fs = require('fs');
const path = require('path');
const koffi = require('koffi');

const ABI_VERSION = 1;
const EMPTY = 1;
const DISPOSITIONS = ['accepted', 'hold', 'release', 'rejected', 'closed'];
const HEALTH_STATES = ['healthy', 'degraded', 'failed'];
const HEALTH_DURABLE = 0x1;
const HEALTH_CLUSTER = 0x2;
const HEALTH_CONNECTED = 0x4;

function libraryPath() {
  if (process.env.COVGATE_LIBRARY) return process.env.COVGATE_LIBRARY;
  const built = path.resolve(__dirname, '..', '..', '..', 'build', 'libcovgate.so');
  return fs.existsSync(built) ? built : 'libcovgate.so.1';
}

// A function a library older than this binding may lack: null then, and its method throws.
function optional(declare) {
  try {
    return declare();
  } catch (e) {
    return null;
  }
}

let api = null;
function load() {
  if (api) return api;
  const lib = koffi.load(libraryPath());
  const Error = koffi.struct('covgate_error', {
    size: 'uint32_t', code: 'int32_t', message: koffi.array('char', 256, 'String')
  });
  const Part = koffi.struct('covgate_part', {offset: 'size_t', length: 'size_t'});
  const Answer = koffi.struct('covgate_answer', {
    size: 'uint32_t', disposition: 'int32_t', flags: 'uint32_t', part_count: 'uint32_t',
    body: 'const uint8_t *', body_length: 'size_t', content_type: 'const char *',
    decisions: 'const char *', decisions_length: 'size_t',
    findings: 'const char *', findings_length: 'size_t',
    parts: koffi.pointer(Part), sequence: 'uint64_t', key: 'const char *', event: 'const char *',
    claims: 'uint32_t', facts: 'uint32_t'
  });
  const Message = koffi.struct('covgate_message', {
    size: 'uint32_t', data: 'const uint8_t *', length: 'size_t', content_type: 'const char *',
    source: 'const char *', unix_ms: 'int64_t'
  });
  const Health = koffi.struct('covgate_health', {
    size: 'uint32_t', state: 'int32_t', flags: 'uint32_t', reserved: 'uint32_t',
    later_waiting: 'uint64_t', troubles: 'uint64_t', last_trouble_unix_ms: 'int64_t',
    last_trouble: koffi.array('char', 256, 'String')
  });
  koffi.opaque('covgate_handle');
  api = {
    Error, Answer, Part, Message, Health,
    abi_version: lib.func('uint32_t covgate_abi_version(void)'),
    version: lib.func('const char *covgate_version(void)'),
    status_name: lib.func('const char *covgate_status_name(int32_t code)'),
    open: lib.func('int32_t covgate_open(const char *config, size_t length, const char *base, ' +
                   '_Out_ covgate_handle **out, _Inout_ covgate_error *err)'),
    submit_message: lib.func('int32_t covgate_submit_message(covgate_handle *gate, ' +
                             'const covgate_message *m, _Out_ covgate_answer **out, ' +
                             '_Inout_ covgate_error *err)'),
    poll: lib.func('int32_t covgate_poll(covgate_handle *gate, _Out_ covgate_answer **out, ' +
                   '_Inout_ covgate_error *err)'),
    ack: lib.func('int32_t covgate_ack(covgate_handle *gate, uint64_t sequence, ' +
                  '_Inout_ covgate_error *err)'),
    redeliver: lib.func('int32_t covgate_redeliver(covgate_handle *gate, _Inout_ covgate_error *err)'),
    get_health: optional(() => lib.func('int32_t covgate_get_health(covgate_handle *gate, ' +
                                        '_Inout_ covgate_health *out, _Inout_ covgate_error *err)')),
    answer_free: lib.func('void covgate_answer_free(covgate_answer *a)'),
    close: lib.func('int32_t covgate_close(covgate_handle *gate, _Inout_ covgate_error *err)')
  };
  if (api.abi_version() !== ABI_VERSION) {
    const got = api.abi_version();
    api = null;
    throw new CovgateError(-1, 'COVGATE_E_ARGUMENT', `libcovgate has ABI ${got}, this binding ${ABI_VERSION}`);
  }
  return api;
}

class CovgateError extends globalThis.Error {
  constructor(code, name, message) {
    super(message ? `${name}: ${message}` : name);
    this.code = code;
    this.status = name;
  }
}

function newError(a) {
  return {size: koffi.sizeof(a.Error), code: 0, message: ''};
}

function check(a, rc, err) {
  if (rc < 0) throw new CovgateError(rc, a.status_name(rc), err.message);
}

// Decision and finding lines: NUL-terminated UTF-8 (no NUL inside), decoded by koffi.
function lines(text) {
  return text ? text.split('\n').filter((l) => l.length > 0) : [];
}

// Copies an answer out of the library's memory, then frees it.
function take(a, p) {
  try {
    const s = koffi.decode(p, a.Answer);
    const n = Number(s.body_length);
    const body = n ? Buffer.from(koffi.decode(s.body, 'uint8_t', n)) : Buffer.alloc(0);
    const parts = [];
    if (s.part_count) {
      for (const part of koffi.decode(s.parts, a.Part, s.part_count)) {
        parts.push(body.subarray(Number(part.offset), Number(part.offset) + Number(part.length)));
      }
    }
    return {
      body,
      contentType: s.content_type || '',
      disposition: DISPOSITIONS[s.disposition] || String(s.disposition),
      decisions: lines(s.decisions).map((l) => JSON.parse(l)),
      findings: lines(s.findings),
      parts,
      flags: s.flags,
      claims: s.claims,
      facts: s.facts,
      sequence: BigInt(s.sequence),
      key: s.key || '',
      event: s.event || ''
    };
  } finally {
    a.answer_free(p);
  }
}

class Gate {
  // config: an object with the keys of covgate.json (null: every default, state in memory);
  // baseDir resolves its relative paths.
  constructor(config = null, baseDir = null) {
    this.api = load();
    const text = config === null || config === undefined ? null : JSON.stringify(config);
    const out = [null];
    const err = newError(this.api);
    check(this.api, this.api.open(text, text === null ? 0 : Buffer.byteLength(text), baseDir, out, err), err);
    this.handle = out[0];
  }

  live() {
    if (!this.handle) throw new CovgateError(-1, 'COVGATE_E_ARGUMENT', 'the gate is closed');
    return this.handle;
  }

  // One whole message (a Buffer, or a string sent as UTF-8).
  submit(data, contentType = null, source = null, unixMs = 0) {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(String(data), 'utf8');
    const m = {
      size: koffi.sizeof(this.api.Message), data: bytes, length: bytes.length,
      content_type: contentType, source, unix_ms: unixMs
    };
    const out = [null];
    const err = newError(this.api);
    check(this.api, this.api.submit_message(this.live(), m, out, err), err);
    return take(this.api, out[0]);
  }

  // The later answers waiting, oldest first; each stays until ack(answer.sequence).
  poll() {
    const got = [];
    for (;;) {
      const out = [null];
      const err = newError(this.api);
      const rc = this.api.poll(this.live(), out, err);
      check(this.api, rc, err);
      if (rc === EMPTY) return got;
      got.push(take(this.api, out[0]));
    }
  }

  ack(sequence) {
    const err = newError(this.api);
    const rc = this.api.ack(this.live(), BigInt(sequence), err);
    check(this.api, rc, err);
    return rc !== EMPTY;
  }

  redeliver() {
    const err = newError(this.api);
    check(this.api, this.api.redeliver(this.live(), err), err);
  }

  // How the gate is doing: state 'healthy', 'degraded' (pointed at a cluster: the connection
  // is down or the delivery of later answers is in trouble; it recovers by itself) or
  // 'failed' (the store failed: open the gate again); durable, cluster, connected;
  // laterWaiting (later answers not acknowledged); troubles since open, the last one's text
  // (no patient data) and time (Unix ms, 0: none). Never waits for a message in progress.
  health() {
    const h = {
      size: koffi.sizeof(this.api.Health), state: 0, flags: 0, reserved: 0, later_waiting: 0,
      troubles: 0, last_trouble_unix_ms: 0, last_trouble: ''
    };
    if (!this.api.get_health) {
      throw new CovgateError(-1, 'COVGATE_E_ARGUMENT', 'this libcovgate has no covgate_get_health');
    }
    const err = newError(this.api);
    check(this.api, this.api.get_health(this.live(), h, err), err);
    return {
      state: HEALTH_STATES[h.state] || String(h.state),
      durable: (h.flags & HEALTH_DURABLE) !== 0,
      cluster: (h.flags & HEALTH_CLUSTER) !== 0,
      connected: (h.flags & HEALTH_CONNECTED) !== 0,
      laterWaiting: Number(h.later_waiting),
      troubles: Number(h.troubles),
      lastTrouble: h.last_trouble,
      lastTroubleUnixMs: Number(h.last_trouble_unix_ms)
    };
  }

  close() {
    if (!this.handle) return;
    const h = this.handle;
    this.handle = null;
    const err = newError(this.api);
    check(this.api, this.api.close(h, err), err);
  }

  static version() {
    return load().version();
  }
}

module.exports = {Gate, CovgateError, ABI_VERSION, libraryPath};
