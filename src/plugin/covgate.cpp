// The C ABI (include/covgate/covgate.h) over plugin::gate. Every entry point catches
// everything: no exception crosses into the host. Only covgate_* symbols leave the library
// (hidden visibility and libcovgate.map).
#include "covgate/covgate.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "cluster_link.hpp"
#include "covgate/mapping/tables.hpp"
#include "gate.hpp"

#ifndef COVGATE_VERSION_STRING
#define COVGATE_VERSION_STRING "0.0.0"
#endif

struct covgate_handle {
  covgate_handle(std::string_view config, const std::filesystem::path& base) : gate(config, base) {}
  covgate::plugin::gate gate;
};

namespace {

namespace cg = covgate::plugin;

// An answer and the storage its pointers point into. covgate_answer is its base, so
// covgate_answer_free gets back to it with a static_cast.
struct answer_box : covgate_answer {
  explicit answer_box(cg::answer&& from) : a(std::move(from)) {
    covgate_answer& c = *this;
    std::memset(&c, 0, sizeof c);
    c.size = sizeof(covgate_answer);
    c.disposition = static_cast<std::int32_t>(a.result);
    c.flags = a.flags;
    parts.reserve(a.parts.size());
    for (const auto& [offset, length] : a.parts) parts.push_back({offset, length});
    c.part_count = static_cast<std::uint32_t>(parts.size());
    c.parts = parts.empty() ? nullptr : parts.data();
    c.body = reinterpret_cast<const std::uint8_t*>(a.body.c_str());  // NUL-terminated too
    c.body_length = a.body.size();
    content_type = std::string(a.content_type);
    c.content_type = content_type.c_str();
    c.decisions = a.decisions.c_str();
    c.decisions_length = a.decisions.size();
    c.findings = a.findings.c_str();
    c.findings_length = a.findings.size();
    c.sequence = a.sequence;
    c.key = a.key.c_str();
    c.event = a.event.c_str();
    c.claims = a.claims;
    c.facts = a.facts;
  }
  cg::answer a;
  std::string content_type;
  std::vector<covgate_part> parts;
};

int32_t fail(covgate_error* err, int32_t code, const char* message) {
  if (err != nullptr && err->size >= offsetof(covgate_error, code) + sizeof(err->code)) {
    err->code = code;
    if (err->size >= sizeof(covgate_error)) {
      std::snprintf(err->message, sizeof err->message, "%s", message);
    }
  }
  return code;
}

int32_t ok(covgate_error* err, int32_t code = COVGATE_OK) {
  if (err != nullptr && err->size >= offsetof(covgate_error, code) + sizeof(err->code)) {
    err->code = code;
    if (err->size >= sizeof(covgate_error)) err->message[0] = '\0';
  }
  return code;
}

// Runs `body` and turns whatever it throws into a status. The texts of configuration and
// store errors name files, settings and SQLite's reason; any other exception's text is not
// passed on (it could quote data).
template <class Body>
int32_t guarded(covgate_error* err, Body&& body) noexcept {
  try {
    return body();
  } catch (const covgate::mapping::config_error& e) {
    return fail(err, COVGATE_E_CONFIG, e.what());
  } catch (const covgate::store::store_error& e) {
    return fail(err, COVGATE_E_STORE, e.what());
  } catch (const covgate::plugin::cluster_unavailable& e) {
    return fail(err, COVGATE_E_UNAVAILABLE, e.what());
  } catch (const std::bad_alloc&) {
    return fail(err, COVGATE_E_NOMEM, "out of memory");
  } catch (const std::exception&) {
    return fail(err, COVGATE_E_INTERNAL, "internal error (please report it)");
  } catch (...) {
    return fail(err, COVGATE_E_INTERNAL, "internal error (please report it)");
  }
}

int32_t submit(covgate_handle* gate, const void* data, size_t length, const char* content_type,
               const char* source, int64_t unix_ms, covgate_answer** out, covgate_error* err) {
  if (out != nullptr) *out = nullptr;
  if (gate == nullptr || out == nullptr || (data == nullptr && length > 0)) {
    return fail(err, COVGATE_E_ARGUMENT, "covgate_submit: gate, out and data must not be NULL");
  }
  if (length > 0xFFFF'FFFFull) {
    return fail(err, COVGATE_E_TOO_LARGE, "covgate_submit: a message over 4 GiB");
  }
  return guarded(err, [&] {
    const std::string_view message(static_cast<const char*>(data), data == nullptr ? 0 : length);
    auto a = gate->gate.submit(message, content_type == nullptr ? "" : content_type,
                               source == nullptr ? "" : source, unix_ms);
    *out = new answer_box(std::move(a));
    return ok(err);
  });
}

}  // namespace

extern "C" {

COVGATE_API uint32_t covgate_abi_version(void) { return COVGATE_ABI_VERSION; }

COVGATE_API const char* covgate_version(void) { return COVGATE_VERSION_STRING; }

COVGATE_API const char* covgate_status_name(int32_t code) {
  switch (code) {
    case COVGATE_OK:
      return "COVGATE_OK";
    case COVGATE_EMPTY:
      return "COVGATE_EMPTY";
    case COVGATE_E_ARGUMENT:
      return "COVGATE_E_ARGUMENT";
    case COVGATE_E_CONFIG:
      return "COVGATE_E_CONFIG";
    case COVGATE_E_STORE:
      return "COVGATE_E_STORE";
    case COVGATE_E_NOMEM:
      return "COVGATE_E_NOMEM";
    case COVGATE_E_TOO_LARGE:
      return "COVGATE_E_TOO_LARGE";
    case COVGATE_E_UNAVAILABLE:
      return "COVGATE_E_UNAVAILABLE";
    case COVGATE_E_INTERNAL:
      return "COVGATE_E_INTERNAL";
    default:
      return "COVGATE_UNKNOWN_STATUS";
  }
}

COVGATE_API int32_t covgate_open(const char* config, size_t config_length, const char* base_dir,
                                 covgate_handle** out, covgate_error* err) {
  if (out == nullptr) return fail(err, COVGATE_E_ARGUMENT, "covgate_open: out must not be NULL");
  *out = nullptr;
  if (config == nullptr && config_length > 0) {
    return fail(err, COVGATE_E_ARGUMENT, "covgate_open: config is NULL but its length is not 0");
  }
  return guarded(err, [&] {
    const std::string_view text(config == nullptr ? "" : config, config_length);
    std::filesystem::path base = base_dir != nullptr && *base_dir != '\0'
                                     ? std::filesystem::path(base_dir)
                                     : std::filesystem::current_path();
    *out = new covgate_handle(text, base);
    return ok(err);
  });
}

COVGATE_API int32_t covgate_submit(covgate_handle* gate, const void* data, size_t length,
                                   const char* content_type, covgate_answer** out,
                                   covgate_error* err) {
  return submit(gate, data, length, content_type, nullptr, 0, out, err);
}

COVGATE_API int32_t covgate_submit_message(covgate_handle* gate, const covgate_message* message,
                                           covgate_answer** out, covgate_error* err) {
  if (message == nullptr || message->size < offsetof(covgate_message, unix_ms)) {
    if (out != nullptr) *out = nullptr;
    return fail(err, COVGATE_E_ARGUMENT,
                "covgate_submit_message: message is NULL or its size is too small");
  }
  // Fields past the caller's size are taken as absent (an older header).
  const bool has_time = message->size >= offsetof(covgate_message, unix_ms) + sizeof(int64_t);
  return submit(gate, message->data, message->length, message->content_type, message->source,
                has_time ? message->unix_ms : 0, out, err);
}

COVGATE_API int32_t covgate_poll(covgate_handle* gate, covgate_answer** out, covgate_error* err) {
  if (out != nullptr) *out = nullptr;
  if (gate == nullptr || out == nullptr) {
    return fail(err, COVGATE_E_ARGUMENT, "covgate_poll: gate and out must not be NULL");
  }
  return guarded(err, [&] {
    auto a = gate->gate.poll();
    if (!a) return ok(err, COVGATE_EMPTY);
    *out = new answer_box(std::move(*a));
    return ok(err);
  });
}

COVGATE_API int32_t covgate_ack(covgate_handle* gate, uint64_t sequence, covgate_error* err) {
  if (gate == nullptr) return fail(err, COVGATE_E_ARGUMENT, "covgate_ack: gate must not be NULL");
  return guarded(err,
                 [&] { return ok(err, gate->gate.ack(sequence) ? COVGATE_OK : COVGATE_EMPTY); });
}

COVGATE_API int32_t covgate_redeliver(covgate_handle* gate, covgate_error* err) {
  if (gate == nullptr) {
    return fail(err, COVGATE_E_ARGUMENT, "covgate_redeliver: gate must not be NULL");
  }
  return guarded(err, [&] {
    gate->gate.redeliver();
    return ok(err);
  });
}

COVGATE_API int covgate_wait_fd(covgate_handle* gate) {
  return gate == nullptr ? -1 : gate->gate.wait_fd();
}

static_assert(static_cast<int>(cg::health::level::healthy) == COVGATE_HEALTHY);
static_assert(static_cast<int>(cg::health::level::degraded) == COVGATE_DEGRADED);
static_assert(static_cast<int>(cg::health::level::failed) == COVGATE_FAILED);

COVGATE_API int32_t covgate_get_health(covgate_handle* gate, covgate_health* out,
                                       covgate_error* err) {
  if (gate == nullptr || out == nullptr || out->size < offsetof(covgate_health, last_trouble)) {
    return fail(err, COVGATE_E_ARGUMENT,
                "covgate_get_health: gate and out must not be NULL, out->size at least "
                "offsetof(covgate_health, last_trouble)");
  }
  return guarded(err, [&] {
    const auto h = gate->gate.health_now();
    // Written up to the caller's size and no further (an older host's struct is smaller); the
    // size written back says how much a newer host's struct got.
    const std::size_t filled = out->size >= sizeof(covgate_health)
                                   ? sizeof(covgate_health)
                                   : offsetof(covgate_health, last_trouble);
    std::memset(out, 0, filled);
    out->size = static_cast<std::uint32_t>(filled);
    out->state = static_cast<std::int32_t>(h.state);
    out->flags = (h.durable ? COVGATE_HEALTH_DURABLE : 0u) |
                 (h.cluster ? COVGATE_HEALTH_CLUSTER : 0u) |
                 (h.connected ? COVGATE_HEALTH_CONNECTED : 0u);
    out->later_waiting = h.later_waiting;
    out->troubles = h.troubles.count;
    out->last_trouble_unix_ms = h.troubles.last_unix_ms;
    if (filled == sizeof(covgate_health)) {
      std::snprintf(out->last_trouble, sizeof out->last_trouble, "%s", h.troubles.last.c_str());
    }
    return ok(err);
  });
}

COVGATE_API void covgate_answer_free(covgate_answer* answer) {
  delete static_cast<answer_box*>(answer);
}

COVGATE_API int32_t covgate_close(covgate_handle* gate, covgate_error* err) {
  if (gate == nullptr) return ok(err);
  const auto status = guarded(err, [&] {
    gate->gate.flush();
    return ok(err);
  });
  try {
    delete gate;
  } catch (...) {  // a destructor that throws would terminate: never let it reach the host
  }
  return status;
}

}  // extern "C"
