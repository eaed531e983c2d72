/* covgate.h: the C ABI of libcovgate, covgate's coverage gate in the host's own process.
 *
 * One handle (covgate_handle) runs the same engine as `covgate replay` and `covgate serve`: bytes
 * of an X12 837, a FHIR R4 resource or Bundle, or an HL7 v2 message go in (covgate_submit), the
 * answer in the message's own standard comes out (a 277 or 999/TA1, an OperationOutcome, an
 * HL7 ACK) with what it decided. Later answers (a held claim released by a later lab, a
 * released claim reopened by a retraction) wait in the handle until the host drains them
 * (covgate_poll) and acknowledges each one it forwarded (covgate_ack): delivery is
 * at-least-once, and with a durable store what was not acknowledged comes back after a
 * restart.
 *
 * Plain C11. Rules for every call:
 * - Bytes in with explicit lengths; inputs are borrowed for the call only.
 * - The library allocates what it returns and frees it (covgate_answer_free).
 * - Errors go to a caller-owned covgate_error (may be NULL), never to thread-local state:
 *   call from any thread, including a runtime's worker threads.
 * - No exception, signal handler, exit or abort crosses the boundary; bad input gets an
 *   answer (disposition COVGATE_REJECTED), never a crash. Messages never carry patient data.
 * - Threads: every call but covgate_close may run concurrently on one handle (one lock
 *   serializes the engine inside); the library starts no thread of its own. covgate_close
 *   must not race with another call on the same handle.
 * - Every struct starts with its size: the library only ever appends fields, so a host built
 *   against an older header keeps working (check `size` before reading a newer field).
 */
#ifndef COVGATE_COVGATE_H
#define COVGATE_COVGATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define COVGATE_API __declspec(dllimport)
#elif defined(__GNUC__)
#define COVGATE_API __attribute__((visibility("default")))
#else
#define COVGATE_API
#endif

/* Bumped on every incompatible change; covgate_abi_version() says what the library has. */
#define COVGATE_ABI_VERSION 1

/* Return codes: 0 or positive = success, negative = failure (see covgate_error). */
enum covgate_status {
  COVGATE_OK = 0,
  COVGATE_EMPTY = 1,          /* covgate_poll: nothing waiting; covgate_ack: nothing to ack */
  COVGATE_E_ARGUMENT = -1,    /* a NULL handle or pointer, a struct whose size is too small */
  COVGATE_E_CONFIG = -2,      /* covgate_open: the configuration cannot be used */
  COVGATE_E_STORE = -3,       /* the store failed (disk full...): nothing was processed; the
                                 handle refuses every message until it is reopened */
  COVGATE_E_NOMEM = -4,       /* out of memory */
  COVGATE_E_TOO_LARGE = -5,   /* a message over 2^32 bytes */
  COVGATE_E_UNAVAILABLE = -6, /* pointed at a cluster: it could not be reached
                                 (covgate_open), or did not take the message or answer it in
                                 time (covgate_submit): none, part or all of it may have been
                                 applied; submit it again (a repeat is harmless) */
  COVGATE_E_INTERNAL = -99    /* a bug: please report it */
};

/* What the host should do with an answer. */
enum covgate_disposition {
  COVGATE_ACCEPTED = 0, /* facts stored (FHIR, HL7 v2): the body is an OperationOutcome or ACK;
                           also an X12 interchange answered again as the first time (flag
                           COVGATE_REPEATED) */
  COVGATE_HOLD = 1,     /* at least one claim is held: the body is the 277 (pended) */
  COVGATE_RELEASE = 2,  /* every claim answered was released: the body is the 277 */
  COVGATE_REJECTED = 3, /* refused whole: the body says why (999/TA1, OperationOutcome, ACK
                           AR/AE), or is empty when the bytes are no kind covgate reads
                           (COVGATE_UNRECOGNIZED; the findings say why) */
  COVGATE_CLOSED = 4    /* later answers only: a claim voided (frequency 8) or cancelled */
};

/* Answer flags (bits of covgate_answer.flags). */
#define COVGATE_PART_REJECTED 0x1u /* part of the message was refused; the rest was answered */
#define COVGATE_UNRECOGNIZED 0x2u  /* not X12, FHIR or HL7 v2 (or not the kind the hint named) */
#define COVGATE_REPEATED 0x4u      /* answered as in an earlier message, not processed again */
#define COVGATE_LATER 0x8u         /* from covgate_poll: a change to a claim answered before */

typedef struct covgate_handle covgate_handle; /* opaque: one open gate */

/* How a handle is doing (covgate_health.state, from covgate_get_health). */
enum covgate_health_state {
  COVGATE_HEALTHY = 0,  /* nothing stands in the way */
  COVGATE_DEGRADED = 1, /* pointed at a cluster: the connection is down (no
                           COVGATE_HEALTH_CONNECTED flag), or the delivery of later answers is
                           in trouble (last_trouble says what). Submits may
                           return COVGATE_E_UNAVAILABLE meanwhile; the handle recovers by
                           itself once the cluster answers again */
  COVGATE_FAILED = 2    /* the store failed: every message is refused (COVGATE_E_STORE) until
                           the handle is closed and opened again */
};

/* Health flags (bits of covgate_health.flags). */
#define COVGATE_HEALTH_DURABLE 0x1u   /* the state is in a SQLite store */
#define COVGATE_HEALTH_CLUSTER 0x2u   /* pointed at a cluster */
#define COVGATE_HEALTH_CONNECTED 0x4u /* pointed at a cluster: the connection is up now */

/* Caller-owned error details. Set `size` to sizeof(covgate_error) before the call; the
 * library fills `code` and a NUL-terminated UTF-8 `message` (cut to fit), which names
 * settings, positions and codes, never patient data. */
typedef struct covgate_error {
  uint32_t size;
  int32_t code;
  char message[256];
} covgate_error;

/* A piece of an answer's body: an HL7 v2 answer holds one ACK per part (an MLLP host frames
 * each by itself); other answers have one part, the whole body. The one struct without a
 * size: it is an array element and never grows (more about parts would be a new array). */
typedef struct covgate_part {
  size_t offset;
  size_t length;
} covgate_part;

/* An answer, allocated by the library and freed with covgate_answer_free. Every text is
 * NUL-terminated as well as counted; lengths are authoritative (bodies may hold any byte). */
typedef struct covgate_answer {
  uint32_t size;       /* sizeof(covgate_answer) as the library built it */
  int32_t disposition; /* enum covgate_disposition */
  uint32_t flags;      /* COVGATE_PART_REJECTED | COVGATE_UNRECOGNIZED | ... */
  uint32_t part_count; /* entries in `parts` */
  const uint8_t* body; /* the answer for the sender (or, from covgate_poll, the 277) */
  size_t body_length;
  const char* content_type; /* "application/edi-x12", "application/fhir+json",
                               "x-application/hl7-v2+er7", or "" with an empty body */
  const char* decisions;    /* the decision events, one JSON object per line ('\n' after each),
                               in the shape of `covgate replay --decisions` */
  size_t decisions_length;
  const char* findings; /* what was refused or noted, one line each (positions and codes) */
  size_t findings_length;
  const covgate_part* parts;
  uint64_t sequence; /* covgate_poll: the number to pass to covgate_ack; 0 otherwise */
  const char* key;   /* covgate_poll: the idempotency key "NPI_CLM01-sequence" (the
                        billing NPI, '_', then the 277's REF*1K "CLM01-sequence"; the
                        latter alone without a billing NPI); "" otherwise */
  const char* event; /* covgate_poll: "release", "hold", "reopened", "void", "cancel" */
  uint32_t claims;   /* claims answered by this message */
  uint32_t facts;    /* facts read from this message */
} covgate_answer;

/* One message with everything a host may say about it (covgate_submit_message). */
typedef struct covgate_message {
  uint32_t size; /* sizeof(covgate_message) */
  const uint8_t* data;
  size_t length;
  const char* content_type; /* hint or NULL; see covgate_submit */
  const char* source;       /* names the message in decision lines ("mirth:in"); NULL: "covgate" */
  int64_t unix_ms;          /* when it arrived (Unix ms, stamped on the answers); 0: now */
} covgate_message;

/* Caller-owned report of a handle's health (covgate_get_health). Set `size` to
 * sizeof(covgate_health) before the call. The library has no log: trouble that happens
 * between calls (pointed at a cluster: its background delivery of later answers, a message
 * not answered in time; a store that failed) is counted and the last one kept here, for a
 * host's dashboard or alerting. Texts name settings, subjects and sequences, never patient
 * data. */
typedef struct covgate_health {
  uint32_t size;
  int32_t state;                /* enum covgate_health_state */
  uint32_t flags;               /* COVGATE_HEALTH_DURABLE | COVGATE_HEALTH_CLUSTER | ... */
  uint32_t reserved;            /* 0 */
  uint64_t later_waiting;       /* later answers not acknowledged (covgate_ack) */
  uint64_t troubles;            /* troubles noted since the handle was opened */
  int64_t last_trouble_unix_ms; /* when the last was noted (Unix ms); 0: none yet */
  char last_trouble[256];       /* what it was, NUL-terminated UTF-8 (cut to fit); "" if none */
} covgate_health;

/* COVGATE_ABI_VERSION of the library loaded. Bindings check it before anything else. */
COVGATE_API uint32_t covgate_abi_version(void);

/* The library's version, e.g. "0.1.0" (static). */
COVGATE_API const char* covgate_version(void);

/* The name of a covgate_status code, e.g. "COVGATE_E_CONFIG" (static; never NULL). */
COVGATE_API const char* covgate_status_name(int32_t code);

/* Opens a gate. `config` is the text of covgate.json (JSON with comments; the same keys as
 * `covgate serve`; NULL or empty = every default); `base_dir` resolves relative paths in it
 * (NULL = the current directory). The state is kept in memory when the configuration names
 * no store directory (or "" or ":memory:"), else in the SQLite store `covgate serve` uses
 * (DIR/covgate.db: only one process may open a directory at a time). "mappings" names a
 * folder of mapping tables instead of the built-in ones. Listeners and outbox destinations
 * are serve's and are ignored here. With "cluster": {"role": "front", ...} (the keys of
 * serve's front: urls, worker_id, key_secret_env, credentials and TLS, answer_timeout_ms) the
 * handle is a front of a covgate cluster: each message is answered by the workers that own
 * its patients (covgate_submit waits for them, up to answer_timeout_ms), and the later answers
 * are the cluster's releases, taken from its stream CG_OUT into the store, which such a handle
 * needs (store.directory), until covgate_ack; hosts opened with one worker_id share them
 * (each release reaches one of them), and a new worker_id is sent every release the stream
 * still holds. There `decisions` lists the lines the workers send back with their answers
 * (the message's parts in order), the answer is one part (HL7 v2: one per ACK), and the source
 * name and time of covgate_submit_message are not used (the stream names and dates each
 * message). On
 * success *out is the handle and COVGATE_OK is returned; on failure *out is NULL and `err`
 * names the setting at fault (COVGATE_E_UNAVAILABLE: the cluster could not be reached). */
COVGATE_API int32_t covgate_open(const char* config, size_t config_length, const char* base_dir,
                                 covgate_handle** out, covgate_error* err);

/* Submits one whole message and returns its answer in *out (free it with
 * covgate_answer_free). `content_type` is an optional hint: when it names X12
 * ("application/edi-x12"), FHIR ("application/fhir+json", "application/fhir+xml",
 * "application/json", "application/xml", "application/x-ndjson") or HL7 v2
 * ("x-application/hl7-v2+er7"), a message of another kind is refused unprocessed (disposition
 * COVGATE_REJECTED, flag COVGATE_UNRECOGNIZED); any other hint, or NULL, lets covgate sniff.
 * Refused input is an answer (COVGATE_OK), not an error. With a durable store the message's
 * changes are committed before covgate_submit returns. */
COVGATE_API int32_t covgate_submit(covgate_handle* gate, const void* data, size_t length,
                                   const char* content_type, covgate_answer** out,
                                   covgate_error* err);

/* covgate_submit with a source name and a receipt time. */
COVGATE_API int32_t covgate_submit_message(covgate_handle* gate, const covgate_message* message,
                                           covgate_answer** out, covgate_error* err);

/* The next later answer not handed out since the handle was opened (or since
 * covgate_redeliver), oldest first: COVGATE_OK with *out set, or COVGATE_EMPTY with *out
 * NULL. It stays in the handle (and in a durable store) until covgate_ack. */
COVGATE_API int32_t covgate_poll(covgate_handle* gate, covgate_answer** out, covgate_error* err);

/* Says that the later answer numbered `sequence` was forwarded: it is forgotten (durably,
 * with a durable store). COVGATE_OK, or COVGATE_EMPTY when nothing waits under that number
 * (acknowledged before: acknowledging twice is harmless, as a number is never given to
 * another answer). */
COVGATE_API int32_t covgate_ack(covgate_handle* gate, uint64_t sequence, covgate_error* err);

/* Makes every unacknowledged later answer come out of covgate_poll again (a host whose
 * forwarding failed). */
COVGATE_API int32_t covgate_redeliver(covgate_handle* gate, covgate_error* err);

/* A file descriptor (Linux eventfd) that is readable while covgate_poll has something to hand
 * out, for select/poll/epoll; -1 when unavailable. Owned by the handle: never read, write or
 * close it. Level-triggered: it stays readable until covgate_poll has handed everything out. */
COVGATE_API int covgate_wait_fd(covgate_handle* gate);

/* Fills *out with the handle's health: COVGATE_OK, or COVGATE_E_ARGUMENT for a NULL handle
 * or `out`, or an out->size below offsetof(covgate_health, last_trouble). Fields past the
 * caller's size are not written (a size below sizeof(covgate_health) gets no last_trouble),
 * and out->size is set to what was filled. Never waits for a message in progress: a
 * monitoring thread may call it at any time but during covgate_close. */
COVGATE_API int32_t covgate_get_health(covgate_handle* gate, covgate_health* out,
                                       covgate_error* err);

/* Frees an answer (NULL is fine). */
COVGATE_API void covgate_answer_free(covgate_answer* answer);

/* Flushes the store (a final checkpoint) and frees the handle (NULL is fine). Must not race
 * with other calls on the same handle. Returns COVGATE_OK, or COVGATE_E_STORE when the final
 * flush failed (the handle is freed all the same; what was committed stays committed). */
COVGATE_API int32_t covgate_close(covgate_handle* gate, covgate_error* err);

#ifdef __cplusplus
}
#endif

#endif /* COVGATE_COVGATE_H */
