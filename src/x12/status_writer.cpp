#include "covgate/x12/status_writer.hpp"

#include "segment_writer.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <unordered_map>

namespace covgate::x12 {
namespace {

std::string money(std::int64_t cents) {
  char buffer[32];
  const auto whole = cents / 100;
  const auto part = std::llabs(cents % 100);
  if (part == 0) {
    std::snprintf(buffer, sizeof buffer, "%lld", static_cast<long long>(whole));
  } else {
    std::snprintf(buffer, sizeof buffer, "%s%lld.%02lld", cents < 0 && whole == 0 ? "-" : "",
                  static_cast<long long>(whole), static_cast<long long>(part));
  }
  return buffer;
}

std::string ccyymmdd(const model::date& d) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d%02d%02d", d.year, d.month, d.day);
  return buffer;
}

model::date_range service_period(const model::claim& c) {
  model::date_range r;
  for (const auto& l : c.lines) {
    if (!l.service_dates.from.valid()) continue;
    if (!r.from.valid() || l.service_dates.from < r.from) r.from = l.service_dates.from;
    const auto to = l.service_dates.to.valid() ? l.service_dates.to : l.service_dates.from;
    if (!r.to.valid() || r.to < to) r.to = to;
  }
  if (!r.from.valid()) r = c.statement_dates;
  return r;
}

// X12 has no escape character: a delimiter may not occur inside a value. The values a 277
// copies from its claims came in under the sender's delimiters, which need not be ours, so
// any of ours that occurs in them is swapped for a character that does not.
delimiters safe_delimiters(delimiters wanted, const std::vector<status_entry>& entries,
                           const status_settings& s) {
  std::array<bool, 256> used{};
  auto mark = [&](std::string_view value) {
    for (const char c : value) used[static_cast<unsigned char>(c)] = true;
  };
  mark(s.sender_id);
  mark(s.sender_qualifier);
  for (const auto& e : entries) {
    const auto& c = *e.claim;
    for (const std::string_view v :
         {std::string_view(c.id), std::string_view(c.envelope.sender_id),
          std::string_view(c.envelope.sender_qualifier),
          std::string_view(c.envelope.application_sender),
          std::string_view(c.envelope.originator_reference), std::string_view(c.billing.npi),
          std::string_view(c.subscriber.member_id),
          std::string_view(c.subscriber.member_id_qualifier), std::string_view(c.facility_type),
          std::string_view(e.trace)}) {
      mark(v);
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

}  // namespace

std::string write_277(const std::vector<status_entry>& entries, const status_settings& s) {
  if (entries.empty()) return {};
  const bool strict = s.profile == status_profile::acknowledgment_x214;
  const auto& first = entries.front().claim->envelope;
  const auto delims = safe_delimiters(s.delims, entries, s);
  segment_writer w(delims, s.line_breaks);
  char control[16];
  std::snprintf(control, sizeof control, "%09u", s.control % 1000000000u);
  w.isa({s.sender_qualifier, s.sender_id,
         first.sender_qualifier.empty() ? std::string_view{"ZZ"} : first.sender_qualifier,
         first.sender_id},
        std::string_view(s.date).substr(2), s.time, s.control, s.usage);
  const std::string guide = strict ? "005010X214" : "005010X212";
  w.begin("GS")
      .element("HN")
      .element(s.sender_id)
      .element(first.application_sender)
      .element(s.date)
      .element(s.time)
      .element(std::to_string(s.control))
      .element("X")
      .element(guide);
  w.end();
  w.reset_count();
  w.begin("ST").element("277").element("0001").element(guide).end();
  w.begin("BHT")
      .element(strict ? "0085" : "0010")
      .element("08")
      .element("COVGATE" + std::to_string(s.control))
      .element(s.date)
      .element(s.time)
      .element(strict ? "TH" : "DG");
  w.end();
  std::uint32_t hl = 1;
  w.begin("HL").element("1").element("").element("20").element("1").end();
  w.begin("NM1")
      .element("PR")
      .element("2")
      .element("COVGATE")
      .element("")
      .element("")
      .element("")
      .element("")
      .element("46")
      .element(s.sender_id);
  w.end();
  w.begin("HL").element(std::to_string(++hl)).element("1").element("21").element("1").end();
  w.begin("NM1")
      .element("41")
      .element("2")
      .element("SUBMITTER")
      .element("")
      .element("")
      .element("")
      .element("")
      .element("46")
      .element(first.sender_id);
  w.end();
  w.begin("TRN").element("2").element(
      first.originator_reference.empty() ? "NONE" : first.originator_reference);
  w.end();
  // One provider level per billing NPI, in first-seen order: entries grouped by the rank of
  // their NPI's first appearance (a stable sort keeps the claims' own order within a group).
  std::unordered_map<std::string_view, std::size_t> rank_of_npi;
  std::vector<std::pair<std::size_t, const status_entry*>> ordered;
  ordered.reserve(entries.size());
  for (const auto& e : entries) {
    const auto rank = rank_of_npi.try_emplace(e.claim->billing.npi, rank_of_npi.size()).first;
    ordered.emplace_back(rank->second, &e);
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < ordered.size();) {
    const auto group = ordered[i].first;
    const std::string_view npi = ordered[i].second->claim->billing.npi;
    const auto provider_hl = ++hl;
    w.begin("HL")
        .element(std::to_string(provider_hl))
        .element("2")
        .element("19")
        .element("1")
        .end();
    w.begin("NM1")
        .element("85")
        .element("2")
        .element("BILLING PROVIDER")
        .element("")
        .element("")
        .element("")
        .element("")
        .element(npi.empty() ? "" : "XX")
        .element(npi);
    w.end();
    for (; i < ordered.size() && ordered[i].first == group; ++i) {
      const auto& e = *ordered[i].second;
      const auto& c = *e.claim;
      const auto& d = *e.decision;
      w.begin("HL")
          .element(std::to_string(++hl))
          .element(std::to_string(provider_hl))
          .element("PT")
          .end();
      w.begin("NM1")
          .element("QC")
          .element("1")
          .element("PATIENT")
          .element("")
          .element("")
          .element("")
          .element("")
          .element(c.subscriber.member_id_qualifier.empty() ? "MI"
                                                            : c.subscriber.member_id_qualifier)
          .element(c.subscriber.member_id);
      w.end();
      w.begin("TRN").element("2").element(c.id).end();
      const bool released = d.result == model::outcome::release;
      const auto charge = money(c.total_charge_cents);
      auto stc = [&](std::string_view category, std::string_view status, std::string_view extra,
                     const std::string& note) {
        w.begin("STC")
            .element(w.composite({category, status}))
            .element(s.date)
            .element(released ? "WQ" : "")
            .element(charge)
            .element("")
            .element("")
            .element("")
            .element("")
            .element("")
            .element(extra.empty() ? std::string{} : w.composite({category, extra}))
            .element("")
            .element(note);
        w.end();
      };
      if (strict) {
        // 277CA allows A categories only (X12 RFI 1942): every hold is A1:19, its reasons in
        // STC12; a release is A2:20.
        std::string note;
        for (const auto& f : d.findings) note.append(note.empty() ? "" : " ").append(f.code());
        stc(released ? "A2" : "A1", released ? "20" : "19", "", note);
      } else if (released || d.findings.empty()) {
        std::string note;
        for (const auto& f : d.findings) note.append(note.empty() ? "" : " ").append(f.code());
        stc("A2", "20", "", note);
      } else {
        // One STC per reason code; STC12 names the code and the lines it holds.
        std::vector<const model::finding*> first_of_reason;
        for (const auto& f : d.findings) {
          if (f.result() == model::outcome::release) continue;
          if (std::none_of(first_of_reason.begin(), first_of_reason.end(),
                           [&](const auto* g) { return g->reason == f.reason; })) {
            first_of_reason.push_back(&f);
          }
        }
        for (const auto* f : first_of_reason) {
          std::string lines;
          for (const auto& g : d.findings) {
            if (g.reason != f->reason || g.line == 0) continue;
            lines += (lines.empty() ? " LX" : ",") + std::to_string(g.line);
          }
          stc(f->category(), f->status(), f->extra_status(), std::string(f->code()) + lines);
        }
      }
      if (released && !e.trace.empty()) w.begin("REF").element("1K").element(e.trace).end();
      if (c.kind == model::claim_kind::institutional && !c.bill_type().empty()) {
        w.begin("REF").element("BLT").element(c.bill_type()).end();
      }
      const auto period = service_period(c);
      if (period.from.valid()) {
        if (period.to.valid() && period.from != period.to) {
          w.begin("DTP").element("472").element("RD8").element(ccyymmdd(period.from) + "-" +
                                                               ccyymmdd(period.to));
        } else {
          w.begin("DTP").element("472").element("D8").element(ccyymmdd(period.from));
        }
        w.end();
      }
    }
  }
  const auto segments = w.count() + 1;  // ST..SE inclusive, counted before SE is begun
  w.begin("SE").element(std::to_string(segments)).element("0001").end();
  w.begin("GE").element("1").element(std::to_string(s.control)).end();
  w.begin("IEA").element("1").element(control).end();
  return std::move(w.text());
}

}  // namespace covgate::x12
