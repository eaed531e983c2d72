#include "covgate/x12/ack_writer.hpp"

#include "element_rules.hpp"
#include "schema_837.hpp"
#include "segment_writer.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

namespace covgate::x12 {
namespace {

std::string nine_digits(std::uint32_t n) {
  std::array<char, 16> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%09u", n % 1000000000u);
  return buffer.data();
}

char pick_repetition(const delimiters& d) {
  if (d.repetition) return d.repetition;
  for (const char c : std::string_view{"^!|{}"}) {
    if (c != d.element && c != d.component && c != d.segment) return c;
  }
  return '^';
}

void write_set(segment_writer& w, const set_result& set) {
  w.begin("AK2").element(set.id).element(set.control);
  if (!set.implementation.empty()) w.element(set.implementation);
  w.end();
  for (const auto& finding : set.segments) {
    // IK303 (element 447, AN 1-4) names the loop as the X12 transaction set diagram does
    // (2010), not as the guide extends it (2010AA): see schema::base_loop_id.
    w.begin("IK3")
        .element(finding.segment_id)
        .element(std::to_string(finding.position))
        .element(schema::base_loop_id(finding.loop))
        .element(ack_code(finding.code));
    w.end();
    // A CLM01 holding characters X12 data may not (CR, LF, 0x1C…) is not echoed: they would
    // break the 999 itself and whatever frames it (MLLP, HTTP headers downstream).
    if (!finding.claim_id.empty() && valid_characters(finding.claim_id)) {
      w.begin("CTX").element("CLM01").component(finding.claim_id).end();
    }
    for (const auto& e : finding.elements) {
      w.begin("IK4").element(std::to_string(e.position));
      if (e.component) w.component(std::to_string(e.component));
      w.element(e.reference ? std::to_string(e.reference) : std::string{});
      w.element(ack_code(e.code)).end();
    }
  }
  w.begin("IK5").element(std::string(1, set.ack_code()));
  std::size_t codes = 0;
  for (const auto e : set.errors) {
    if (codes++ < 5) w.element(ack_code(e));
  }
  w.end();
}

}  // namespace

std::string write_acknowledgment(const interchange_result& result, const ack_settings& settings) {
  const bool ta1 = result.ack_requested || !result.errors.empty();
  if (!ta1 && result.groups.empty()) return {};
  delimiters d = result.delims;
  d.repetition = pick_repetition(d);
  std::string out;
  segment_writer w(d, settings.line_breaks, out);
  const std::string control = nine_digits(settings.control);
  const std::string_view their_qualifier =
      result.sender_qualifier.empty() ? std::string_view{"ZZ"} : result.sender_qualifier;
  const std::string_view our_qualifier =
      result.receiver_qualifier.empty() ? std::string_view{"ZZ"} : result.receiver_qualifier;
  const std::string_view our_id =
      result.receiver_id.empty() ? std::string_view{"COVGATE"} : result.receiver_id;
  const std::string_view their_id =
      result.sender_id.empty() ? std::string_view{"UNKNOWN"} : result.sender_id;

  w.isa({our_qualifier, our_id, their_qualifier, their_id}, settings.date, settings.time,
        settings.control, result.usage);
  if (ta1) {
    const std::string_view code = result.errors.empty() ? "000" : ack_code(result.errors.front());
    w.begin("TA1")
        .element(result.control.empty() ? "000000000" : result.control)
        .element(result.date.empty() ? settings.date : result.date)
        .element(result.time.empty() ? settings.time : result.time)
        .element(std::string(1, result.ack_code()))
        .element(code);
    w.end();
  }
  std::uint32_t groups = 0;
  if (!result.groups.empty()) {
    groups = 1;
    w.begin("GS")
        .element("FA")
        .element(result.groups.front().application_receiver)
        .element(result.groups.front().application_sender)
        .element("20" + settings.date)
        .element(settings.time)
        .element(std::to_string(settings.control))
        .element("X")
        .element("005010X231A1");
    w.end();
    std::uint32_t set_number = 0;
    for (const auto& group : result.groups) {
      w.reset_count();
      const std::string set_control = std::to_string(10000 + ++set_number).substr(1);
      w.begin("ST").element("999").element(set_control).element("005010X231A1").end();
      w.begin("AK1").element(group.functional_id).element(group.control);
      if (!group.version.empty()) w.element(group.version);
      w.end();
      for (const auto& set : group.sets) write_set(w, set);
      w.begin("AK9")
          .element(std::string(1, group.ack_code()))
          .element(std::to_string(group.declared_sets ? group.declared_sets : group.sets.size()))
          .element(std::to_string(group.sets.size()))
          .element(std::to_string(group.accepted_sets()));
      std::size_t codes = 0;
      for (const auto e : group.errors) {
        if (codes++ < 5) w.element(ack_code(e));
      }
      w.end();
      const std::uint32_t count = w.count() + 1;
      w.begin("SE").element(std::to_string(count)).element(set_control).end();
    }
    w.begin("GE").element(std::to_string(set_number)).element(std::to_string(settings.control));
    w.end();
  }
  w.begin("IEA").element(std::to_string(groups)).element(control).end();
  return std::move(w.text());
}

std::string describe_findings(const interchange_result& result) {
  std::string out;
  auto line = [&](std::string_view scope, error e, bool rejects = true) {
    out.append(scope).append(": ").append(describe(e)).append(rejects ? " (" : " (noted, ");
    switch (level_of(e)) {
      case ack_level::interchange:
        out.append("TA105 ");
        break;
      case ack_level::group:
        out.append("AK905 ");
        break;
      case ack_level::set:
        out.append("IK502 ");
        break;
      case ack_level::segment:
        out.append("IK304 ");
        break;
      case ack_level::element:
        out.append("IK403 ");
        break;
    }
    out.append(ack_code(e)).append(")\n");
  };
  const std::string interchange = "interchange " +
                                  (result.control.empty() ? std::string{"?"} : result.control) +
                                  " (line " + std::to_string(result.where.line) + ")";
  for (const auto e : result.errors) line(interchange, e);
  if (result.repetition_letter_ignored) {
    out.append(interchange)
        .append(": note: ISA11 is a letter under 00501; read as no repetition separator\n");
  }
  for (const auto& group : result.groups) {
    const std::string g = "group " + group.control;
    for (const auto e : group.errors) line(g, e);
    for (const auto& set : group.sets) {
      const std::string s = g + " set " + set.control;
      for (const auto e : set.errors) {
        if (e == error::segment_count_mismatch) {
          out.append(s)
              .append(": SE01 does not match the ")
              .append(std::to_string(set.segment_count))
              .append(" segments counted from ST to SE (IK502 4)\n");
        } else {
          line(s, e);
        }
      }
      for (const auto& f : set.segments) {
        std::string where = s + " segment " + f.segment_id + " at position " +
                            std::to_string(f.position) + " (line " + std::to_string(f.where.line) +
                            ")";
        if (!f.loop.empty()) where += " in loop " + f.loop;
        line(where, f.code, f.rejects);
        for (const auto& e : f.elements) {
          std::string element = where + " element " + f.segment_id + (e.position < 10 ? "0" : "") +
                                std::to_string(e.position);
          if (e.component) element += "-" + std::to_string(e.component);
          line(element, e.code, e.rejects);
        }
      }
      if (set.findings_dropped) {
        out.append(s)
            .append(": ")
            .append(std::to_string(set.findings_dropped))
            .append(" more findings not listed\n");
      }
    }
  }
  return out;
}

}  // namespace covgate::x12
