#include "covgate/x12/status_writer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <optional>
#include <span>
#include <unordered_map>

#include "segment_writer.hpp"

namespace covgate::x12 {
namespace {

constexpr std::size_t free_text_max = 264;  // STC12, element 933 (AN 1/264)

short_text money(std::int64_t cents) {
  short_text out;
  const auto whole = cents / 100;
  const auto part = cents % 100 < 0 ? -(cents % 100) : cents % 100;
  if (cents < 0 && whole == 0) out.append("-");
  out.number(whole);
  if (part != 0) out.append(".").number(part, 2);
  return out;
}

short_text quantity(double units) {
  // Whole units (nearly every line) are their integer: what "%.3f" gives once its zeros and
  // point are cut, at a tenth of snprintf's cost. -0.0 is 0 either way.
  if (std::fabs(units) < 1e15 && units == std::trunc(units)) {
    return decimal(static_cast<std::int64_t>(units));
  }
  char buffer[32];
  const int n = std::snprintf(buffer, sizeof buffer, "%.3f", units);
  // snprintf returns the length it would have written: a value too large for the buffer
  // (|units| from about 1e27) is cut to what it holds, as the text was before.
  std::string_view text(buffer,
                        std::min(n > 0 ? static_cast<std::size_t>(n) : 0, sizeof buffer - 1));
  while (!text.empty() && text.back() == '0') text.remove_suffix(1);
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  return short_text{}.append(text == "-0" ? "0" : text);
}

short_text ccyymmdd(const model::date& d) {
  // Every claim and line has dates: eight digits put by hand, not three to_chars and their
  // padding. A date no parser gives (a negative year) is written as it always was.
  if (d.year < 0 || d.year > 9999 || d.month > 99 || d.day > 99) {
    return short_text{}.number(d.year, 4).number(d.month, 2).number(d.day, 2);
  }
  char digits[8];
  const auto put = [&digits](int at, int value, int width) {
    for (int i = at + width - 1; i >= at; --i, value /= 10) digits[i] = char('0' + value % 10);
  };
  put(0, d.year, 4);
  put(4, d.month, 2);
  put(6, d.day, 2);
  return short_text{}.append({digits, sizeof digits});
}

model::date_range lines_period(const model::claim& c) {
  model::date_range r;
  for (const auto& l : c.lines) {
    if (!l.service_dates.from.valid()) continue;
    if (!r.from.valid() || l.service_dates.from < r.from) r.from = l.service_dates.from;
    const auto to = l.service_dates.to.valid() ? l.service_dates.to : l.service_dates.from;
    if (!r.to.valid() || r.to < to) r.to = to;
  }
  return r;
}

// The claim's service period: an 837I's statement period (DTP*434), else its lines' dates.
model::date_range claim_period(const model::claim& c) {
  if (c.kind == model::claim_kind::institutional && c.statement_dates.from.valid()) {
    return c.statement_dates;
  }
  auto r = lines_period(c);
  if (!r.from.valid()) r = c.statement_dates;
  return r;
}

// X12 has no escape character: a delimiter may not occur inside a value. The values a 277
// copies from its claims (ids, names, codes) came in under the sender's delimiters, which
// need not be ours, so any of ours that occurs in them is swapped for a character that does
// not. (Free text is not marked: it is rewritten instead, see free_text.)
delimiters safe_delimiters(delimiters wanted, const std::vector<status_entry>& entries,
                           const status_settings& s) {
  std::array<bool, 256> used{};
  auto mark = [&](std::string_view value) {
    for (const char c : value) used[static_cast<unsigned char>(c)] = true;
  };
  auto mark_name = [&](const model::person_name& n) {
    mark(n.last), mark(n.first), mark(n.middle), mark(n.suffix);
  };
  mark(s.sender_id);
  mark(s.sender_qualifier);
  mark(s.sender_name);
  for (const auto& e : entries) {
    const auto& c = *e.claim;
    for (const std::string_view v :
         {std::string_view(c.id), std::string_view(c.envelope.sender_id),
          std::string_view(c.envelope.sender_qualifier),
          std::string_view(c.envelope.application_sender),
          std::string_view(c.envelope.originator_reference),
          std::string_view(c.envelope.submitter_id), std::string_view(c.billing.npi),
          std::string_view(c.subscriber.member_id),
          std::string_view(c.subscriber.member_id_qualifier), std::string_view(c.facility_type),
          std::string_view(e.trace)}) {
      mark(v);
    }
    mark_name(c.envelope.submitter);
    mark_name(c.billing.name);
    mark_name(c.subscriber.name);
    mark_name(c.patient.name);
    for (const auto& l : c.lines) {
      mark(l.procedure_qualifier), mark(l.procedure_code), mark(l.revenue_code);
      mark(l.line_control_number);
      for (const auto& m : l.modifiers) mark(m);
    }
  }
  constexpr std::string_view candidates = "*:^~|!>{}\x1D\x1E\x1F\x1C";
  std::array<char*, 4> roles = {&wanted.element, &wanted.component, &wanted.repetition,
                                &wanted.segment};
  // Our delimiters that no value contains stay, and are reserved before any swap, so a
  // swapped one never takes another's character.
  std::array<bool, 4> clashes{};
  for (std::size_t i = 0; i < roles.size(); ++i) {
    clashes[i] = *roles[i] != 0 && used[static_cast<unsigned char>(*roles[i])];
  }
  for (std::size_t i = 0; i < roles.size(); ++i) {
    if (*roles[i] != 0 && !clashes[i]) used[static_cast<unsigned char>(*roles[i])] = true;
  }
  for (std::size_t i = 0; i < roles.size(); ++i) {
    if (!clashes[i]) continue;
    for (const char c : candidates) {
      if (!used[static_cast<unsigned char>(c)]) {
        *roles[i] = c;
        used[static_cast<unsigned char>(c)] = true;
        break;
      }
    }
  }
  return wanted;
}

// Free text (a reason's sentence, a reviewer's words) in the delimiters of this message: a
// delimiter becomes a dash ("Criterion A: completed" -> "Criterion A - completed" when ':' is
// the component separator), a control character a blank. Written through a pointer into room
// for the worst case (" -" for every byte), then cut: push_back's capacity check per byte
// made it some thirty instructions a byte.
std::string free_text(std::string_view text, const delimiters& d) {
  std::string out(2 * text.size(), '\0');
  char* const start = out.data();
  char* at = start;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    if (c == d.element || c == d.component || (d.repetition && c == d.repetition) ||
        c == d.segment) {
      const bool before_blank = i + 1 == text.size() || text[i + 1] == ' ';
      if (before_blank && at != start && at[-1] != ' ') *at++ = ' ';
      *at++ = '-';
    } else if (byte < 0x20 || byte == 0x7F) {
      *at++ = ' ';
    } else {
      *at++ = c;
    }
  }
  out.resize(static_cast<std::size_t>(at - start));
  return out;
}

// A list of reasons, held in the pool one 277's analyse() calls share.
using reason_list = std::span<const model::finding* const>;

// What one entry says, worked out once for both profiles.
struct answer {
  const status_entry* entry = nullptr;
  bool released = false;      // A2:20
  bool cancelled = false;     // a reviewer's cancel: A3
  bool voided = false;        // frequency 8 (the claim is closed; no payer claim number)
  reason_list claim_reasons;  // line 0, one per reason code
  reason_list all_reasons;    // every line, one per reason code
  // Every line's, one per reason code and line, in LX order (the decision's order within a
  // line): a flat list, not a map of lists, as most claims have a reason or two per line.
  reason_list line_reasons;
  [[nodiscard]] const model::claim& claim() const { return *entry->claim; }
};

// The room analyse() takes in its pool for `entries`: each list holds each finding at most
// once.
std::size_t reason_pool_size(const std::vector<status_entry>& entries) {
  std::size_t n = 0;
  for (const auto& e : entries) n += 3 * e.decision->findings.size();
  return n;
}

// The reasons seen so far, one bit each.
class reason_set {
 public:
  static_assert(model::reason_count <= 64, "one bit per reason");
  /// Whether `r` was not in the set (it is now).
  bool insert(model::reason r) noexcept {
    const auto bit = std::uint64_t{1} << static_cast<unsigned>(r);
    const bool added = (bits_ & bit) == 0;
    bits_ |= bit;
    return added;
  }
  void clear() noexcept { bits_ = 0; }

 private:
  std::uint64_t bits_ = 0;
};

// Appends to `pool` the findings `wanted` takes, one per reason, and returns them. The pool's
// room is reserved up front (reason_pool_size), so a list made before is never moved: one
// allocation per 277 instead of three vectors per claim.
template <class Wanted>
reason_list collect(std::vector<const model::finding*>& pool,
                    const std::vector<model::finding>& findings, Wanted wanted) {
  const auto start = pool.size();
  reason_set seen;
  for (const auto& f : findings) {
    if (wanted(f) && seen.insert(f.reason)) pool.push_back(&f);
  }
  return {pool.data() + start, pool.size() - start};
}

answer analyse(const status_entry& e, std::vector<const model::finding*>& pool) {
  answer a;
  a.entry = &e;
  const auto& d = *e.decision;
  a.cancelled = e.event == "cancel";
  a.released = !a.cancelled && d.result == model::outcome::release;
  a.voided = e.event == "void" || e.claim->frequency == '8';
  if (a.cancelled) return a;
  // A release shows the reasons a release can carry (scope, expected denial), never the hold
  // reasons a reviewer overrode; a hold shows its hold reasons.
  const auto shown = [&](const model::finding& f) {
    return (f.result() == model::outcome::release) == a.released;
  };
  // all_reasons is one per reason code whatever the line, claim_reasons one per reason code.
  a.all_reasons = collect(pool, d.findings, shown);
  a.claim_reasons =
      collect(pool, d.findings, [&](const model::finding& f) { return shown(f) && f.line == 0; });
  // The lines' reasons into line order, keeping the decision's order within a line (an
  // insertion sort: a claim has a few line reasons, and std::stable_sort took a buffer from
  // the heap per claim), then one per reason code within each line.
  const auto lines_start = pool.size();
  for (const auto& f : d.findings) {
    if (!shown(f) || f.line == 0) continue;
    auto j = pool.size();
    pool.push_back(&f);
    for (; j > lines_start && pool[j - 1]->line > f.line; --j) pool[j] = pool[j - 1];
    pool[j] = &f;
  }
  auto kept = lines_start;
  reason_set seen;
  std::uint32_t line = 0;  // never a line reason's line: the first entry starts a group
  for (auto i = lines_start; i < pool.size(); ++i) {
    const auto* f = pool[i];
    if (f->line != line) {
      seen.clear();
      line = f->line;
    }
    if (seen.insert(f->reason)) pool[kept++] = f;
  }
  pool.resize(kept);
  a.line_reasons = {pool.data() + lines_start, pool.size() - lines_start};
  return a;
}

class writer {
 public:
  writer(const status_settings& s, const delimiters& d, std::string& buffer, std::size_t from)
      : s_(s), d_(d), w_(d, s.line_breaks, buffer, from), empty_run_(5, d.element) {}

  std::string_view run(const std::vector<status_entry>& entries);

 private:
  [[nodiscard]] bool strict() const { return s_.profile == status_profile::acknowledgment_x214; }
  [[nodiscard]] std::string text(std::string_view sentence, std::string_view code) const {
    return status_text(free_text(sentence, d_), code);
  }
  /// A reason's STC12 text, valid until the next call. It depends on the reason and the
  /// finding's detail only, and claims repeat both (a detail is a list of missing items), so
  /// each reason keeps the text of the last detail it was asked for.
  [[nodiscard]] std::string_view reason_text(const model::finding& f) {
    auto& cached = reason_texts_[static_cast<std::size_t>(f.reason)];
    if (!cached || cached->detail != f.detail) {
      cached = written_for_detail{f.detail, text(f.text(), f.code())};
    }
    return cached->text;
  }
  void name(std::string_view entity, bool person, const model::person_name& n,
            std::string_view fallback, std::string_view qualifier, std::string_view id,
            bool with_ids = true);
  void period(const model::date_range& r);
  void envelope_end();
  void claim(const answer& a, std::uint32_t parent_hl);
  void claim_status(const answer& a);
  void stc(std::string_view category, std::string_view status, std::string_view entity,
           std::string_view action, std::string_view charge, std::string_view extra_category,
           std::string_view extra_status, std::string_view note, bool with_date = true);
  void lines(const answer& a);
  void line_stc(const model::finding& f);
  void totals(const std::vector<const answer*>& answers, bool provider);

  const status_settings& s_;
  const delimiters& d_;
  segment_writer w_;
  std::uint32_t hl_ = 0;
  // What was written for a reason and the finding detail it was written for; one per reason.
  struct written_for_detail {
    std::string detail;
    std::string text;
  };
  using per_reason = std::array<std::optional<written_for_detail>, model::reason_count>;
  per_reason reason_texts_;  // STC12 texts
  per_reason line_stcs_;     // whole 2220D STC segments
  std::string empty_run_;    // STC05..STC09: five element separators
};

void writer::name(std::string_view entity, bool person, const model::person_name& n,
                  std::string_view fallback, std::string_view qualifier, std::string_view id,
                  bool with_ids) {
  w_.begin("NM1").element(entity).element(person ? "1" : "2");
  w_.element(n.last.empty() ? fallback : std::string_view(n.last));
  w_.element(person ? std::string_view(n.first) : std::string_view{});
  w_.element(person ? std::string_view(n.middle) : std::string_view{});
  w_.element("");  // NM106 prefix: not used
  w_.element(person ? std::string_view(n.suffix) : std::string_view{});
  if (with_ids && !id.empty()) w_.element(qualifier).element(id);
  w_.end();
}

void writer::period(const model::date_range& r) {
  if (!r.from.valid()) return;
  if (r.to.valid() && r.from != r.to) {
    w_.begin("DTP")
        .element("472")
        .element("RD8")
        .element(ccyymmdd(r.from))
        .more("-")
        .more(ccyymmdd(r.to));
  } else {
    w_.begin("DTP").element("472").element("D8").element(ccyymmdd(r.from));
  }
  w_.end();
}

void writer::stc(std::string_view category, std::string_view status, std::string_view entity,
                 std::string_view action, std::string_view charge, std::string_view extra_category,
                 std::string_view extra_status, std::string_view note, bool with_date) {
  w_.begin("STC")
      .composite_element({category, status, entity})
      .element(with_date ? std::string_view(s_.date) : std::string_view{})
      .element(action)
      .element(charge);
  w_.more(empty_run_);  // STC05..STC09 are not used
  if (extra_status.empty()) {
    w_.element("");
  } else {
    w_.composite_element({extra_category, extra_status});
  }
  w_.element("");
  w_.element(note);
  w_.end();
}

// The claim-level STCs of 2200D (2200E).
void writer::claim_status(const answer& a) {
  const auto& c = a.claim();
  const auto& d = *a.entry->decision;
  const auto charge = money(c.total_charge_cents);
  const bool x212_text = strict() || s_.free_text;
  if (a.cancelled) {
    // A reviewer's cancel is final: returned as unprocessable (A3) with the status code of the
    // hold's first reason, and the reviewer's words.
    const model::finding* first = d.findings.empty() ? nullptr : &d.findings.front();
    const std::string note =
        x212_text ? text(a.entry->note.empty() ? "Cancelled by a reviewer." : a.entry->note, {})
                  : std::string{};
    stc("A3", first ? first->status() : "21", "", strict() ? "U" : "", charge, "A3",
        first ? first->extra_status() : "", note);
    return;
  }
  if (a.released) {
    const std::string_view action = strict() ? "WQ" : "";
    if (!a.entry->note.empty()) {
      // A reviewer's release: their words, not the hold reasons they overrode.
      stc("A2", "20", "", action, charge, "", "",
          x212_text ? text(a.entry->note, {}) : std::string{});
      return;
    }
    // One A2:20 per reason a release carries (claim level; in the 277CA also the lines',
    // whose 2220D cannot say "accepted").
    const auto& reasons = strict() ? a.all_reasons : a.claim_reasons;
    if (reasons.empty()) stc("A2", "20", "", action, charge, "", "", {});
    for (const auto* f : reasons) {
      stc("A2", "20", "", action, charge, "", "", x212_text ? reason_text(*f) : std::string_view{});
    }
    return;
  }
  if (strict()) {
    // 277CA: A categories only (X12 RFI 1942): every hold is A1:19 (receipt acknowledged,
    // not yet accepted into adjudication), one STC per reason of the claim and its lines,
    // most important first. 2220D cannot carry text, so the lines' sentences are here.
    // STC10 names the reason's own status code (A1:300…).
    if (a.all_reasons.empty()) stc("A1", "19", "PR", "WQ", charge, "", "", {});
    for (const auto* f : a.all_reasons) {
      stc("A1", "19", "PR", "WQ", charge, "A1", f->status() == "19" ? "" : f->status(),
          reason_text(*f));
    }
    return;
  }
  // X212: the claim's own reasons, one STC each; a claim held for its lines only carries the
  // most important line reason's code (the lines' STCs say which line and why).
  if (a.claim_reasons.empty()) {
    // Most important first: the decision's order, not the line order.
    const auto first = std::find_if(d.findings.begin(), d.findings.end(), [](const auto& f) {
      return f.result() != model::outcome::release && f.line != 0;
    });
    if (first != d.findings.end()) {
      stc(first->category(), first->status(), "", "", charge, first->category(),
          first->extra_status(), {});
    } else {
      stc("A1", "19", "PR", "", charge, "", "", {});
    }
    return;
  }
  for (const auto* f : a.claim_reasons) {
    stc(f->category(), f->status(), "", "", charge, f->category(), f->extra_status(),
        s_.free_text ? reason_text(*f) : std::string_view{});
  }
}

// 2220D (2220E): the service lines a reason concerns.
void writer::lines(const answer& a) {
  if (a.cancelled || (strict() && a.released)) return;
  const auto& c = a.claim();
  for (auto first = a.line_reasons.begin(); first != a.line_reasons.end();) {
    const auto wanted = (*first)->line;
    const auto last = std::find_if(first, a.line_reasons.end(),
                                   [&](const model::finding* f) { return f->line != wanted; });
    const std::span<const model::finding* const> reasons(first, last);
    first = last;
    const auto it = std::find_if(c.lines.begin(), c.lines.end(),
                                 [&](const model::service_line& l) { return l.number == wanted; });
    if (it == c.lines.end()) continue;
    const auto& line = *it;
    const std::string_view qualifier = line.procedure_qualifier.empty()
                                           ? std::string_view{"HC"}
                                           : std::string_view(line.procedure_qualifier);
    w_.begin("SVC").composite_element({qualifier, line.procedure_code});
    for (const auto& m : line.modifiers) w_.component(m);
    w_.element(money(line.charge_cents));
    if (strict()) {
      // 277CA: SVC03 (payment) not used; SVC04 revenue code; SVC07 original units.
      w_.element("").element(line.revenue_code).element("").element("");
      w_.element(quantity(line.units));
    } else {
      // X212: SVC03 (paid so far: nothing) and SVC07 (units) are required.
      w_.element("0").element(line.revenue_code).element("").element("");
      w_.element(quantity(line.units));
    }
    w_.end();
    if (strict()) {
      line_stc(*reasons.front());  // 277CA 2220D: one STC (the claim's STCs carry the rest)
    } else {
      for (const auto* f : reasons) line_stc(*f);
    }
    if (!line.line_control_number.empty()) {
      w_.begin("REF").element("FJ").element(line.line_control_number).end();
    }
    period(line.service_dates.from.valid() ? line.service_dates : claim_period(c));
  }
}

// A line's STC says its reason and nothing of the line: every element is the reason's row,
// the 277's date or delimiters, and the note is the reason's sentence with the finding's
// detail (none in the 277CA or with free_text off). So within one 277 (one writer: its date,
// delimiters and profile) each reason keeps the segment it was written as for the last detail
// it was asked for, and line after line copies it whole (most lines repeat a reason and its
// detail): writing it element by element took a quarter of the 277.
void writer::line_stc(const model::finding& f) {
  auto& cached = line_stcs_[static_cast<std::size_t>(f.reason)];
  const bool with_text = !strict() && s_.free_text;
  if (cached && (!with_text || cached->detail == f.detail)) {
    w_.repeat(cached->text);
    return;
  }
  const auto start = w_.written().size();
  if (strict()) {
    // 277CA: action code U only, no text.
    stc("A1", "19", "PR", "U", "", "A1", f.status() == "19" ? "" : f.status(), {});
  } else {
    stc(f.category(), f.status(), "", "", "", f.category(), f.extra_status(),
        with_text ? reason_text(f) : std::string_view{});
  }
  if (!cached) cached.emplace();
  cached->detail.assign(f.detail);
  cached->text.assign(w_.written().substr(start));
}

void writer::claim(const answer& a, std::uint32_t parent_hl) {
  const auto& c = a.claim();
  const bool dependent = c.patient.present() && !c.patient.name.empty();
  const auto& patient = dependent ? c.patient : c.subscriber;
  const std::string_view member_qualifier =
      c.subscriber.member_id_qualifier.empty() ? std::string_view{"MI"}
                                               : std::string_view(c.subscriber.member_id_qualifier);
  // NM109 is required at the subscriber (X212) and patient (277CA) level; an 837I may come
  // without a member id (2010BA NM109 is situational there).
  const std::string_view member_id = c.subscriber.member_id.empty()
                                         ? std::string_view{"NONE"}
                                         : std::string_view(c.subscriber.member_id);
  if (strict()) {
    w_.begin("HL").element(decimal(++hl_)).element(decimal(parent_hl)).element("PT").end();
    name("QC", true, patient.name, "UNKNOWN", member_qualifier, member_id);
  } else {
    const auto subscriber_hl = ++hl_;
    w_.begin("HL")
        .element(decimal(subscriber_hl))
        .element(decimal(parent_hl))
        .element("22")
        .element(dependent ? "1" : "0")
        .end();
    name("IL", true, c.subscriber.name, "UNKNOWN", member_qualifier, member_id);
    if (dependent) {
      w_.begin("HL").element(decimal(++hl_)).element(decimal(subscriber_hl)).element("23").end();
      name("QC", true, c.patient.name, "UNKNOWN", "", "", false);
    }
  }
  w_.begin("TRN").element("2").element(c.id).end();
  claim_status(a);
  const auto& trace = a.entry->trace;
  if (a.released && !a.voided && !trace.empty()) {
    w_.begin("REF").element("1K").element(trace).end();
  }
  if (c.kind == model::claim_kind::institutional && !c.bill_type().empty()) {
    w_.begin("REF").element("BLT").element(c.bill_type()).end();
  }
  period(claim_period(c));
  lines(a);
}

void writer::totals(const std::vector<const answer*>& answers, bool provider) {
  std::uint32_t accepted = 0, rejected = 0;
  std::int64_t accepted_cents = 0, rejected_cents = 0;
  for (const auto* a : answers) {
    if (a->cancelled) {
      ++rejected;
      rejected_cents += a->claim().total_charge_cents;
    } else {
      ++accepted;
      accepted_cents += a->claim().total_charge_cents;
    }
  }
  if (accepted) w_.begin("QTY").element(provider ? "QA" : "90").element(decimal(accepted)).end();
  if (rejected) w_.begin("QTY").element(provider ? "QC" : "AA").element(decimal(rejected)).end();
  if (accepted) w_.begin("AMT").element("YU").element(money(accepted_cents)).end();
  if (rejected) w_.begin("AMT").element("YY").element(money(rejected_cents)).end();
}

std::string_view writer::run(const std::vector<status_entry>& entries) {
  std::vector<const model::finding*> reason_pool;
  reason_pool.reserve(reason_pool_size(entries));
  std::vector<answer> answers;
  answers.reserve(entries.size());
  for (const auto& e : entries) answers.push_back(analyse(e, reason_pool));
  // A claim's loops take ~1.2 KB with its lines: one allocation up front instead of a copy of
  // the whole message at every doubling (a 1,000-claim answer is ~1.2 MB).
  w_.expect(status_277_room(entries.size()));
  const auto& first = entries.front().claim->envelope;
  const std::string guide = strict() ? "005010X214" : "005010X212";
  w_.isa({s_.sender_qualifier, s_.sender_id,
          first.sender_qualifier.empty() ? std::string_view{"ZZ"} : first.sender_qualifier,
          first.sender_id},
         std::string_view(s_.date).substr(2), s_.time, s_.control, s_.usage);
  w_.begin("GS")
      .element("HN")
      .element(s_.sender_id)
      .element(first.application_sender)
      .element(s_.date)
      .element(s_.time)
      .element(decimal(s_.control))
      .element("X")
      .element(guide);
  w_.end();
  w_.reset_count();
  const std::string reference = "COVGATE" + std::string(decimal(s_.control).view());
  w_.begin("ST").element("277").element("0001").element(guide).end();
  w_.begin("BHT")
      .element(strict() ? "0085" : "0010")
      .element("08")
      .element(reference)
      .element(s_.date)
      .element(s_.time)
      .element(strict() ? "TH" : "DG");
  w_.end();
  // 2000A information source: us.
  w_.begin("HL").element(decimal(++hl_)).element("").element("20").element("1").end();
  name("PR", false, {s_.sender_name, {}, {}, {}}, "COVGATE", strict() ? "46" : "PI", s_.sender_id);
  if (strict()) {
    w_.begin("TRN").element("1").element(reference).end();
    w_.begin("DTP").element("050").element("D8").element(s_.date).end();
    w_.begin("DTP").element("009").element("D8").element(s_.date).end();
  }
  // 2000B information receiver: the 837's submitter.
  const auto receiver_hl = ++hl_;
  w_.begin("HL").element(decimal(receiver_hl)).element("1").element("21").element("1").end();
  name("41", first.submitter_is_person, first.submitter, first.sender_id, "46",
       first.submitter_id.empty() ? std::string_view(first.sender_id)
                                  : std::string_view(first.submitter_id));
  std::int64_t total_cents = 0;
  for (const auto& a : answers) total_cents += a.claim().total_charge_cents;
  w_.begin("TRN").element("2").element(
      first.originator_reference.empty() ? "NONE" : first.originator_reference);
  w_.end();
  if (strict()) {
    stc("A1", "19", "PR", "WQ", money(total_cents), "", "", {});
    std::vector<const answer*> all;
    for (const auto& a : answers) all.push_back(&a);
    totals(all, false);
  } else {
    stc("A1", "19", "PR", "", "", "", "", {});
  }
  // One 2000C per billing provider, in first-seen order: answers grouped by the rank of their
  // NPI's first appearance (a stable sort keeps the claims' own order within a group).
  std::unordered_map<std::string_view, std::size_t> rank_of_npi;
  std::vector<std::pair<std::size_t, const answer*>> ordered;
  ordered.reserve(answers.size());
  for (const auto& a : answers) {
    const auto rank = rank_of_npi.try_emplace(a.claim().billing.npi, rank_of_npi.size()).first;
    ordered.emplace_back(rank->second, &a);
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  for (std::size_t i = 0; i < ordered.size();) {
    const auto group = ordered[i].first;
    const auto& billing = ordered[i].second->claim().billing;
    const auto provider_hl = ++hl_;
    w_.begin("HL")
        .element(decimal(provider_hl))
        .element(decimal(receiver_hl))
        .element("19")
        .element("1")
        .end();
    name(strict() ? "85" : "1P", billing.entity_is_person, billing.name, "UNKNOWN", "XX",
         billing.npi);
    std::vector<const answer*> members;
    for (std::size_t j = i; j < ordered.size() && ordered[j].first == group; ++j) {
      members.push_back(ordered[j].second);
    }
    if (strict()) {
      std::int64_t cents = 0;
      for (const auto* a : members) cents += a->claim().total_charge_cents;
      w_.begin("TRN").element("1").element(billing.npi.empty() ? reference : billing.npi).end();
      stc("A1", "19", "PR", "WQ", money(cents), "", "", {}, false);
      totals(members, true);
    }
    for (const auto* a : members) claim(*a, provider_hl);
    i += members.size();
  }
  envelope_end();
  return w_.written();
}

void writer::envelope_end() {
  const auto segments = w_.count() + 1;  // ST..SE inclusive, counted before SE is begun
  w_.begin("SE").element(decimal(segments)).element("0001").end();
  w_.begin("GE").element("1").element(decimal(s_.control)).end();
  char control[16];
  std::snprintf(control, sizeof control, "%09u", s_.control % 1000000000u);
  w_.begin("IEA").element("1").element(control).end();
}

}  // namespace

std::string status_text(std::string_view sentence, std::string_view code) {
  while (!sentence.empty() && sentence.back() == ' ') sentence.remove_suffix(1);
  const std::string suffix = code.empty() ? std::string{} : " [" + std::string(code) + "]";
  const std::size_t budget = free_text_max > suffix.size() ? free_text_max - suffix.size() : 0;
  std::string out;
  if (sentence.size() <= budget) {
    out.assign(sentence);
  } else {
    // Cut at the last blank that leaves room for "...", then drop the punctuation before it.
    constexpr std::string_view ellipsis = "...";
    const auto room = budget > ellipsis.size() ? budget - ellipsis.size() : 0;
    auto cut = sentence.substr(0, room + 1).rfind(' ');
    if (cut == std::string_view::npos || cut == 0) cut = room;
    auto kept = sentence.substr(0, cut);
    while (!kept.empty() && (kept.back() == ' ' || kept.back() == ',' || kept.back() == ';' ||
                             kept.back() == ':' || kept.back() == '.')) {
      kept.remove_suffix(1);
    }
    out.assign(kept).append(ellipsis);
  }
  if (out.empty() && !suffix.empty()) return std::string(code.substr(0, free_text_max - 2));
  return out + suffix;
}

std::string_view write_277(const std::vector<status_entry>& entries, const status_settings& s,
                           std::string& buffer, std::size_t from) {
  if (entries.empty()) return {};
  const auto delims = safe_delimiters(s.delims, entries, s);
  writer w(s, delims, buffer, from);
  return w.run(entries);
}

std::string write_277(const std::vector<status_entry>& entries, const status_settings& s) {
  std::string buffer;
  buffer.resize(write_277(entries, s, buffer).size());
  return buffer;
}

}  // namespace covgate::x12
