#include "covgate/model/decision_json.hpp"

#include <array>
#include <charconv>

#include "covgate/model/boundary.hpp"

namespace covgate::model {
namespace {

// The decision line is written once per event, and most of it is the same for every decision:
// the keys, and each finding's code, STC and sentence, which come from its reason's row. So
// the keys are literals and each reason's fragments are escaped once per process (the bytes
// are those json_writer gave: each part escaped on its own, as it did).

void append_quoted(std::string& out, std::string_view text) {
  out.push_back('"');
  boundary::append_json_string_contents(out, text);
  out.push_back('"');
}

// A finding's JSON up to its line number, and from after it to the end of its sentence (the
// string still open: the finding's detail may follow).
struct reason_fragments {
  std::string head;  // {"code":"csii.followup.missing","line":
  std::string body;  // ,"stc":"P3:387","message":"The sentence.
};

reason_fragments fragments_of(const reason_info& r) {
  reason_fragments f;
  f.head = R"({"code":)";
  append_quoted(f.head, r.code);
  f.head += R"(,"line":)";
  f.body = R"(,"stc":")";
  boundary::append_json_string_contents(f.body, r.category);
  f.body += ':';
  boundary::append_json_string_contents(f.body, r.status);
  f.body += R"(","message":")";
  boundary::append_json_string_contents(f.body, r.message);
  return f;
}

const reason_fragments& fragments(model::reason r) {
  // Built on first use (thread-safe static initialization), from the same table as info().
  static const auto table = [] {
    std::array<reason_fragments, reason_count> t;
    for (std::size_t i = 0; i < reason_count; ++i) t[i] = fragments_of(info(model::reason(i)));
    return t;
  }();
  return table[static_cast<std::size_t>(r)];
}

void append_number(std::string& out, std::int64_t n) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

void append_finding(std::string& out, const finding& f) {
  const auto& fragment = fragments(f.reason);
  out += fragment.head;
  append_number(out, f.line);
  out += fragment.body;
  if (!f.detail.empty()) {
    out.push_back(' ');
    boundary::append_json_string_contents(out, f.detail);
  }
  out.push_back('"');
  if (!f.facts_used.empty()) {
    out += R"(,"facts":[)";
    bool first = true;
    for (const auto& id : f.facts_used) {
      if (!first) out.push_back(',');
      first = false;
      append_quoted(out, id);
    }
    out.push_back(']');
  }
  out.push_back('}');
}

}  // namespace

void append_json(std::string& out, const decision& d, std::string_view billing_npi,
                 std::string_view event, std::string_view source) {
  out += R"({"event":)";
  append_quoted(out, event);
  out += R"(,"claim_id":)";
  append_quoted(out, d.claim_id);
  out += R"(,"billing_npi":)";
  append_quoted(out, billing_npi);
  out += R"(,"patient":)";
  append_quoted(out, d.patient);
  out += R"(,"dos":)";
  append_quoted(out, d.dos.iso());
  out += R"(,"policy":)";
  append_quoted(out, d.policy);
  out += R"(,"outcome":)";
  append_quoted(out, name(d.result));
  out += R"(,"reasons":[)";
  bool first = true;
  for (const auto& f : d.findings) {
    if (!first) out.push_back(',');
    first = false;
    append_finding(out, f);
  }
  out += R"(],"source":)";
  append_quoted(out, source);
  out.push_back('}');
}

}  // namespace covgate::model
