#include "covgate/model/decision_json.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <memory>
#include <utility>

#include "covgate/model/boundary.hpp"
#include "covgate/model/copy_text.hpp"

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

// Every reason's fragments, by reason.
class fragment_table {
 public:
  fragment_table() {
    for (std::size_t i = 0; i < reason_count; ++i) rows_[i] = fragments_of(info(model::reason(i)));
  }
  const reason_fragments& operator[](model::reason r) const {
    return rows_[static_cast<std::size_t>(r)];
  }

 private:
  std::array<reason_fragments, reason_count> rows_;
};

// Built on first use (thread-safe static initialization), from the same table as info(); asked
// once a line.
const fragment_table& fragments() {
  static const fragment_table table;
  return table;
}

// The line is written through a pointer into room made for its worst case, then appended in
// one piece: std::string's append checked the capacity and called memcpy for each of the
// sixty-odd pieces of a line, which cost more than their bytes. The room is not the string's
// own, whose resize() would zero-fill some kilobytes a line first (callgrind: more than the
// appends saved), but a buffer each thread keeps from one line to the next.
class line_writer {
 public:
  explicit line_writer(char* at) noexcept : at_(at) {}
  void put(std::string_view text) noexcept {
    copy_short(at_, text.data(), text.size());
    at_ += text.size();
  }
  void put(char c) noexcept { *at_++ = c; }
  /// `text` as a JSON string's contents: plain text (nearly every value) as it is.
  void contents(std::string_view text) {
    if (boundary::json_plain(text)) {
      put(text);
    } else {
      escaped(text);
    }
  }
  void quoted(std::string_view text) {
    put('"');
    contents(text);
    put('"');
  }
  void number(std::uint32_t n) noexcept { at_ = std::to_chars(at_, at_ + 10, n).ptr; }
  [[nodiscard]] char* at() const noexcept { return at_; }

 private:
  // Escapes, invalid UTF-8: rare, so escaped by append_json_string_contents into a string of
  // its own rather than written twice.
  [[gnu::noinline]] void escaped(std::string_view text) {
    std::string out;
    boundary::append_json_string_contents(out, text);
    put(out);
  }
  char* at_;
};

// The most a JSON string's contents take for `n` bytes of text: six bytes a byte (a control
// character is written \u00XX; an invalid byte, U+FFFD, takes three; a quote, two).
constexpr std::size_t escaped_room(std::size_t n) noexcept { return 6 * n; }

// The line's keys, quotes and punctuation outside the reasons: the literals of append_json,
// 115 bytes.
constexpr std::size_t fixed_room = 128;

std::size_t room_for(const fragment_table& table, const decision& d, std::string_view dos,
                     std::string_view billing_npi, std::string_view event,
                     std::string_view source) {
  std::size_t n = fixed_room;
  for (const auto text : {std::string_view(d.claim_id), std::string_view(d.patient), dos,
                          std::string_view(d.policy), name(d.result), billing_npi, event, source}) {
    n += escaped_room(text.size());
  }
  for (const auto& f : d.findings) {
    const auto& fragment = table[f.reason];
    // ',' head, line number (ten digits at most), body, ' ' detail '"', ',"facts":[' ']' '}'
    n += 1 + fragment.head.size() + 10 + fragment.body.size() + 2 + escaped_room(f.detail.size()) +
         12;
    for (const auto& id : f.facts_used) n += 3 + escaped_room(id.size());  // ',' '"' '"'
  }
  return n;
}

void write_finding(line_writer& out, const reason_fragments& fragment, const finding& f) {
  out.put(fragment.head);
  out.number(f.line);
  out.put(fragment.body);
  if (!f.detail.empty()) {
    out.put(' ');
    out.contents(f.detail);
  }
  out.put('"');
  if (!f.facts_used.empty()) {
    out.put(R"(,"facts":[)");
    bool first = true;
    for (const auto& id : f.facts_used) {
      if (!first) out.put(',');
      first = false;
      out.quoted(id);
    }
    out.put(']');
  }
  out.put('}');
}

}  // namespace

void append_json(std::string& out, const decision& d, std::string_view billing_npi,
                 std::string_view event, std::string_view source) {
  const auto dos = d.dos.iso();
  const auto& table = fragments();
  const auto room = room_for(table, d, dos, billing_npi, event, source);
  // The room (six times the sender's text, so some kilobytes for a claim with every finding)
  // is kept up to 64 KiB; a larger room, which more than about 10 KB of a sender's text
  // makes, is taken for that line alone. The kept buffer is grown to the exact room asked for,
  // so a sanitizer sees a line that writes past it when that line is the largest so far (the
  // test of escaping-heavy text grows it line by line). Thread-local: no caller writes a
  // decision line while its thread exits.
  constexpr std::size_t kept_room = 64 * 1024;
  thread_local std::unique_ptr<char[]> kept;
  thread_local std::size_t kept_size = 0;
  std::unique_ptr<char[]> own;
  if (room > kept_size) {
    auto fresh = std::make_unique_for_overwrite<char[]>(room);
    if (room <= kept_room) {
      kept = std::move(fresh);
      kept_size = room;
    } else {
      own = std::move(fresh);
    }
  }
  char* const start = own ? own.get() : kept.get();
  line_writer w(start);
  w.put(R"({"event":)");
  w.quoted(event);
  w.put(R"(,"claim_id":)");
  w.quoted(d.claim_id);
  w.put(R"(,"billing_npi":)");
  w.quoted(billing_npi);
  w.put(R"(,"patient":)");
  w.quoted(d.patient);
  w.put(R"(,"dos":)");
  w.quoted(dos);
  w.put(R"(,"policy":)");
  w.quoted(d.policy);
  w.put(R"(,"outcome":)");
  w.quoted(name(d.result));
  w.put(R"(,"reasons":[)");
  bool first = true;
  for (const auto& f : d.findings) {
    if (!first) w.put(',');
    first = false;
    write_finding(w, table[f.reason], f);
  }
  w.put(R"(],"source":)");
  w.quoted(source);
  w.put('}');
  out.append(start, w.at());
}

}  // namespace covgate::model
