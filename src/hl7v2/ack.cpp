#include "covgate/hl7v2/ack.hpp"

#include <vector>

namespace covgate::hl7v2 {
namespace {

std::string_view trim_leading(std::string_view s) {
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  const auto first = s.find_first_not_of(" \t\r\n\x0B");
  return first == std::string_view::npos ? std::string_view{} : s.substr(first);
}

// A value of ours written into a field: it must not carry the separators of the message.
std::string clean(std::string_view value, const hl7_header& h) {
  std::string out;
  for (const char c : value) {
    if (c == h.field_separator || h.encoding_characters.find(c) != std::string::npos || c == '\r' ||
        c == '\n') {
      continue;
    }
    out += c;
  }
  return out;
}

// An HD field echoed whole: its components, subcomponents and escape sequences stay; nothing
// may end the field or the segment.
std::string clean_hd(std::string_view value, const hl7_header& h) {
  const auto d = h.delims();
  std::string out;
  for (const char c : value) {
    if (c == d.field || c == d.repetition || c == '\r' || c == '\n') continue;
    out += c;
  }
  return out;
}

void percent(std::string& out, std::string_view value) {
  constexpr char hex[] = "0123456789ABCDEF";
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7E || c == '%' || c == '/' || c == '^' || c == '&') {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0x0F];
    } else {
      out += c;
    }
  }
}

// One HD (or ST) field, normalized: components decoded with the message's delimiters, joined
// with '^', trailing empty components dropped.
void normalized(std::string& out, std::string_view raw, const delimiters& d) {
  std::vector<std::string_view> components;
  std::size_t start = 0;
  while (components.size() < 16) {
    const auto end = raw.find(d.component, start);
    components.push_back(raw.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  while (!components.empty() && components.back().empty()) components.pop_back();
  std::string scratch;
  for (std::size_t i = 0; i < components.size(); ++i) {
    if (i > 0) out += '^';
    percent(out, unescape(components[i], d, scratch));
  }
}

bool before_2_5(std::string_view version) {
  if (version.size() < 3 || version.substr(0, 2) != "2.") return false;
  int minor = 0;
  std::size_t i = 2;
  for (; i < version.size() && version[i] >= '0' && version[i] <= '9'; ++i) {
    minor = minor * 10 + (version[i] - '0');
    if (minor > 99) return false;
  }
  return i > 2 && minor < 5;
}

std::string message_header(const hl7_header& h, const hl7_ack_settings& settings,
                           std::string_view control_id) {
  const char f = h.field_separator;
  const char c = h.encoding_characters.empty() ? '^' : h.encoding_characters[0];
  std::string out = "MSH";
  out += f;
  out += h.encoding_characters;
  auto field = [&](std::string_view value) {
    out += f;
    out += clean(value, h);
  };
  auto hd = [&](std::string_view value) {
    out += f;
    out += clean_hd(value, h);
  };
  hd(settings.application);
  hd(settings.facility);
  hd(h.sending_application);
  hd(h.sending_facility);
  field(settings.timestamp);
  field("");
  out += f;
  out += "ACK";
  if (!h.trigger_event.empty()) {
    out += c;
    out += clean(h.trigger_event, h);
    out += c;
    out += "ACK";
  }
  field(control_id);
  field(h.processing_id);
  field(h.version);
  if (!h.character_set.empty()) {
    for (int i = 13; i < 18; ++i) out += f;
    hd(h.character_set);
  }
  out += '\r';
  return out;
}

void write_err(std::string& out, const hl7_header& h, const ack_error& e) {
  const auto d = h.delims();
  const char f = d.field;
  const char c = d.component;
  const char s = d.subcomponent;
  auto number = [](std::uint32_t n) { return n == 0 ? std::string{} : std::to_string(n); };
  out += "ERR";
  out += f;
  if (h.version_given && before_2_5(h.version)) {
    // ERR-1 (ELD): segment ^ sequence ^ field ^ code&text&HL70357.
    out += clean(e.segment, h);
    out += c;
    out += number(e.sequence);
    out += c;
    out += number(e.field);
    out += c;
    out += err_code(e.code);
    out += s;
    out += err_code_text(e.code);
    out += s;
    out += "HL70357";
    out += '\r';
    return;
  }
  out += f;
  // ERR-2 (ERL): segment ^ sequence ^ field ^ repetition ^ component, trailing empties dropped.
  if (!e.segment.empty()) {
    std::string erl = clean(e.segment, h);
    const std::string parts[] = {number(e.sequence), number(e.field), number(e.repetition),
                                 number(e.component)};
    std::size_t last = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      if (!parts[i].empty()) last = i + 1;
    }
    for (std::size_t i = 0; i < last; ++i) {
      erl += c;
      erl += parts[i];
    }
    out += erl;
  }
  out += f;
  out += err_code(e.code);
  out += c;
  out += err_code_text(e.code);
  out += c;
  out += "HL70357";
  out += f;
  out += e.level == severity::error ? 'E' : (e.level == severity::warning ? 'W' : 'I');
  if (!e.text.empty()) {
    out += f;  // ERR-5
    out += f;  // ERR-6
    out += f;  // ERR-7
    out += f;  // ERR-8 user message
    escape_into(out, e.text, d);
  }
  out += '\r';
}

std::string write_one(const hl7_header& h, ack_code code, const ack_outcome& outcome,
                      const std::vector<ack_error>& extra, const hl7_ack_settings& settings,
                      std::string_view control_id, std::size_t max_errors) {
  std::string out = message_header(h, settings, control_id);
  out += "MSA";
  out += h.field_separator;
  out += name(code);
  out += h.field_separator;
  out += clean(h.control_id, h);
  const bool old = h.version_given && before_2_5(h.version);
  const auto first = !extra.empty() ? &extra.front()
                                    : (!outcome.errors.empty() ? &outcome.errors.front() : nullptr);
  if (old && first != nullptr && code != ack_code::application_accept &&
      code != ack_code::commit_accept) {
    out += h.field_separator;  // MSA-3, the text message of versions before 2.5
    escape_into(out, first->text.empty() ? describe(first->code) : first->text, h.delims());
  }
  out += '\r';
  std::size_t written = 0;
  for (const auto* list : {&extra, &outcome.errors}) {
    for (const auto& e : *list) {
      if (written == max_errors) break;
      if (e.level == severity::information) continue;
      write_err(out, h, e);
      ++written;
    }
  }
  return out;
}

bool asks(std::string_view type, bool success) {
  if (type == "NE") return false;
  if (type == "ER") return !success;
  if (type == "SU") return success;
  return true;  // AL, empty or unknown
}

}  // namespace

delimiters hl7_header::delims() const noexcept {
  delimiters d;
  d.field = field_separator;
  char* slots[] = {&d.component, &d.repetition, &d.escape, &d.subcomponent, &d.truncation};
  for (std::size_t i = 0; i < encoding_characters.size() && i < 5; ++i) {
    *slots[i] = encoding_characters[i];
  }
  return d;
}

bool looks_like_hl7v2(std::string_view payload) noexcept {
  const auto s = trim_leading(payload);
  const auto id = s.substr(0, 3);
  return s.size() >= 8 && (id == "MSH" || id == "FHS" || id == "BHS");
}

std::optional<hl7_header> parse_msh(std::string_view payload) {
  auto s = trim_leading(payload);
  if (s.size() < 8 || s.substr(0, 3) != "MSH") return std::nullopt;
  const auto msh = first_line(s);
  const auto d = delimiters_of(msh);
  if (!d) return std::nullopt;
  const field_index fields(msh, *d);
  hl7_header h;
  h.field_separator = d->field;
  h.encoding_characters = std::string(fields[2]);
  h.sending_application = std::string(fields[3]);
  h.sending_facility = std::string(fields[4]);
  h.receiving_application = std::string(fields[5]);
  h.receiving_facility = std::string(fields[6]);
  h.timestamp = std::string(part(fields[7], d->component, 1));
  const auto type = fields[9];
  h.message_type = std::string(part(type, d->component, 1));
  h.trigger_event = std::string(part(type, d->component, 2));
  h.message_structure = std::string(part(type, d->component, 3));
  h.control_id = std::string(fields[10]);
  if (const auto p = part(fields[11], d->component, 1); !p.empty()) h.processing_id = p;
  if (const auto v = part(fields[12], d->component, 1); !v.empty()) {
    h.version = v;
    h.version_given = true;
  }
  auto code = [](std::string_view v) {
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    return std::string(v);
  };
  h.accept_ack_type = code(fields[15]);
  h.application_ack_type = code(fields[16]);
  h.character_set = code(part(fields[18], d->repetition, 1));
  return h;
}

std::string dedupe_key(const hl7_header& header) {
  const auto d = header.delims();
  std::string key;
  normalized(key, header.sending_application, d);
  key += '/';
  normalized(key, header.sending_facility, d);
  key += '/';
  std::string scratch;
  percent(key, unescape(header.control_id, d, scratch));
  return key;
}

std::string hl7_ack(const hl7_header* original, std::string_view code, std::string_view error_code,
                    std::string_view error_text, const hl7_ack_settings& settings) {
  const hl7_header h = original ? *original : hl7_header{};
  std::string out = message_header(h, settings, settings.control_id);
  const char f = h.field_separator;
  const char c = h.encoding_characters.empty() ? '^' : h.encoding_characters[0];
  out += "MSA";
  out += f;
  out += clean(code, h);
  out += f;
  out += clean(h.control_id, h);
  out += '\r';
  if (!error_code.empty()) {
    out += "ERR";
    out += f;
    out += f;
    out += f;
    out += clean(error_code, h);
    out += c;
    out += clean(error_text, h);
    out += c;
    out += "HL70357";
    out += f;
    out += 'E';
    out += '\r';
  }
  return out;
}

std::string_view name(ack_code code) noexcept {
  switch (code) {
    case ack_code::application_accept:
      return "AA";
    case ack_code::application_error:
      return "AE";
    case ack_code::application_reject:
      return "AR";
    case ack_code::commit_accept:
      return "CA";
    case ack_code::commit_error:
      return "CE";
    case ack_code::commit_reject:
      return "CR";
  }
  return "AR";
}

std::vector<std::string> write_acks(const hl7_header* original, const ack_outcome& outcome,
                                    const hl7_ack_settings& settings, std::size_t max_errors) {
  const hl7_header h = original ? *original : hl7_header{};
  std::vector<ack_error> not_stored;
  if (!outcome.stored && outcome.application != ack_code::application_reject) {
    not_stored.push_back({error::internal_error, severity::error, "", 0, 0, 0, 0,
                          "the message could not be stored: send it again"});
  }
  std::vector<std::string> out;
  if (!h.enhanced_mode()) {
    auto code = outcome.application;
    if (!not_stored.empty()) code = ack_code::application_error;
    out.push_back(
        write_one(h, code, outcome, not_stored, settings, settings.control_id, max_errors));
    return out;
  }
  const ack_code commit = outcome.application == ack_code::application_reject
                              ? ack_code::commit_reject
                              : (outcome.stored ? ack_code::commit_accept : ack_code::commit_error);
  auto next_id = [&] { return out.empty() ? settings.control_id : settings.control_id + "-2"; };
  if (asks(h.accept_ack_type, commit == ack_code::commit_accept)) {
    // The commit ACK carries the refusal's errors; an accepted message's go with the
    // application ACK.
    const ack_outcome none{};
    const auto& errors = commit == ack_code::commit_accept ? none : outcome;
    out.push_back(write_one(h, commit, errors, not_stored, settings, next_id(), max_errors));
  }
  if (commit != ack_code::commit_accept) return out;
  const bool success = outcome.application == ack_code::application_accept;
  if (asks(h.application_ack_type, success)) {
    out.push_back(write_one(h, outcome.application, outcome, {}, settings, next_id(), max_errors));
  }
  return out;
}

}  // namespace covgate::hl7v2
