// A structure check of a 277 against its guide's loop and segment tables, independent of the
// writer: 005010X212 (claim status notification) and 005010X214 (277CA). It checks the
// envelope and counts, every loop's and segment's usage, repeats and order, the HL chain
// (HL01 counting from 1, HL02 naming the right parent, HL04 saying whether children follow),
// and each element's usage (R present, N absent), code list and length where the tables give
// one. Tables drawn from the public structure of the guides (pyx12's and stupidedi's
// 277.5010.X212/X214 definitions list the same loops, segments and codes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "x12/schema_837.hpp"

namespace covgate::test {

namespace schema = x12::schema;

namespace guide_277 {

struct loop;

/// One position in a loop: a segment (or a nested loop starting with it).
struct position {
  std::string_view id;
  std::string_view qualifier;  ///< codes element `qualifier_element` must hold, "" for any
  bool required = false;
  int max = 1;                ///< 0: no limit
  std::string_view elements;  ///< the element spec grammar of schema_837.hpp
  const loop* child = nullptr;
  int qualifier_element = 1;
};

struct loop {
  std::string_view name;
  std::vector<position> positions;  ///< positions[0] is the loop's own first segment
};

constexpr bool R = true;
constexpr bool S = false;

// ---- 005010X212 -------------------------------------------------------------------------------

// STC12 is Not Used throughout X212; POLICY.md §1 writes it anyway (see check options).
inline const std::string_view x212_claim_stc =
    "R(R;R;S;S:RX)|R|N|S|S|S|N|S|S|S(R;R;S;S:RX)|S(R;R;S;S:RX)";
inline const std::string_view x212_line_stc =
    "R(R;R;S;S:RX)|R|N|N|N|N|N|N|N|S(R;R;S;S:RX)|S(R;R;S;S:RX)";

inline const loop x212_2220{
    "2220D",
    {{"SVC", "", R, 1, "R(R:AD,ER,HC,HP,IV,N4,NU,WK;R;S;S;S;S)|R|R|S|N|N|R"},
     {"STC", "", R, 0, x212_line_stc},
     {"REF", "FJ", S, 1, "R:FJ|R"},
     {"DTP", "472", R, 1, "R:472|R:D8,RD8|R"}}};
inline const loop x212_2200{"2200D",
                            {{"TRN", "2", R, 1, "R:2|R"},
                             {"STC", "", R, 0, x212_claim_stc},
                             {"REF", "1K", S, 1, "R:1K|R"},
                             {"REF", "BLT", S, 1, "R:BLT|R"},
                             {"REF", "EJ", S, 1, "R:EJ|R"},
                             {"REF", "XZ", S, 1, "R:XZ|R"},
                             {"REF", "VV", S, 1, "R:VV|R"},
                             {"REF", "D9", S, 1, "R:D9|R"},
                             {"DTP", "472", S, 1, "R:472|R:D8,RD8|R"},
                             {"SVC", "", S, 0, "", &x212_2220}}};
inline const loop x212_2100e{"2100E", {{"NM1", "QC", R, 1, "R:QC|R:1|R|S|S|N|S"}}};
inline const loop x212_2000e{"2000E",
                             {{"HL", "23", R, 1, "R|R|R:23|N", nullptr, 3},
                              {"NM1", "QC", R, 1, "", &x212_2100e},
                              {"TRN", "2", R, 0, "", &x212_2200}}};
inline const loop x212_2100d{"2100D", {{"NM1", "IL", R, 1, "R:IL|R:1,2|R|S|S|N|S|R:24,II,MI|R"}}};
inline const loop x212_2000d{"2000D",
                             {{"HL", "22", R, 1, "R|R|R:22|R:0,1", nullptr, 3},
                              {"NM1", "IL", R, 1, "", &x212_2100d},
                              {"TRN", "2", S, 0, "", &x212_2200},
                              {"HL", "23", S, 0, "", &x212_2000e, 3}}};
inline const loop x212_2200c{
    "2200C",
    {{"TRN", "1", R, 1, "R:1|R"},
     {"STC", "", R, 0, "R(R;R;S:1P)|R|N|N|N|N|N|N|N|S(R;R;S:1P)|S(R;R;S:1P)"}}};
inline const loop x212_2100c{"2100C", {{"NM1", "1P", R, 1, "R:1P|R:1,2|S|S|S|N|S|R:FI,SV,XX|R"}}};
inline const loop x212_2000c{"2000C",
                             {{"HL", "19", R, 1, "R|R|R:19|R:0,1", nullptr, 3},
                              {"NM1", "1P", R, 2, "", &x212_2100c},
                              {"TRN", "1", S, 1, "", &x212_2200c},
                              {"HL", "22", S, 0, "", &x212_2000d, 3}}};
inline const loop x212_2200b{
    "2200B",
    {{"TRN", "2", R, 1, "R:2|R"},
     {"STC", "", R, 0, "R(R;R;S:41,AY,PR)|R|N|N|N|N|N|N|N|S(R;R;S)|S(R;R;S)"}}};
inline const loop x212_2100b{"2100B", {{"NM1", "41", R, 1, "R:41|R:1,2|S|S|S|N|N|R:46|R"}}};
inline const loop x212_2000b{"2000B",
                             {{"HL", "21", R, 1, "R|R|R:21|R:0,1", nullptr, 3},
                              {"NM1", "41", R, 1, "", &x212_2100b},
                              {"TRN", "2", S, 1, "", &x212_2200b},
                              {"HL", "19", S, 0, "", &x212_2000c, 3}}};
inline const loop x212_2100a{
    "2100A",
    {{"NM1", "PR", R, 1, "R:PR|R:2|R|N|N|N|N|R:PI,XV|R"},
     {"PER", "IC", S, 1, "R:IC|S|R:ED,EM,FX,TE|R|S:ED,EM,EX,FX,TE|S|S:ED,EM,EX,FX,TE|S"}}};
inline const loop x212_2000a{"2000A",
                             {{"HL", "20", R, 1, "R|N|R:20|R:1", nullptr, 3},
                              {"NM1", "PR", R, 1, "", &x212_2100a},
                              {"HL", "21", R, 0, "", &x212_2000b, 3}}};
inline const loop x212{"header",
                       {{"ST", "", R, 1, "R:277|R|R:005010X212"},
                        {"BHT", "", R, 1, "R:0010|R:08|R#30|R|R|R:DG"},
                        {"HL", "20", R, 0, "", &x212_2000a, 3},
                        {"SE", "", R, 1, "R|R"}}};

// ---- 005010X214 (277CA) -------------------------------------------------------------------------

inline const std::string_view x214_entities =
    "03,1P,1Z,40,41,71,72,73,77,82,85,87,DK,DN,DQ,FA,GB,HK,IL,LI,MSC,PR,PRP,QB,QC,QD,SEP,TL,TTP,"
    "TU";
inline const std::string x214_claim_stc =
    "R(R;R;S:" + std::string(x214_entities) + ")|R|R:U,WQ|R|N|N|N|N|N|S(R;R;S)|S(R;R;S)|S#264";
inline const std::string x214_line_stc =
    "R(R;R;S:" + std::string(x214_entities) + ")|R|R:U|N|N|N|N|N|N|S(R;R;S)|S(R;R;S)";

inline const loop x214_2220{"2220D",
                            {{"SVC", "", R, 1, "R(R:AD,ER,HC,HP,IV,NU,WK;R;S;S;S;S)|R|N|S|N|N|S"},
                             {"STC", "", R, 1, x214_line_stc},
                             {"REF", "FJ", S, 1, "R:FJ|R"},
                             {"REF", "XZ", S, 1, "R:XZ|R"},
                             {"DTP", "472", S, 1, "R:472|R:D8,RD8|R"}}};
inline const loop x214_2200d{"2200D",
                             {{"TRN", "2", R, 1, "R:2|R"},
                              {"STC", "", R, 0, x214_claim_stc},
                              {"REF", "1K", S, 1, "R:1K|R"},
                              {"REF", "D9", S, 1, "R:D9|R"},
                              {"REF", "BLT", S, 1, "R:BLT|R"},
                              {"DTP", "472", R, 1, "R:472|R:D8,RD8|R"},
                              {"SVC", "", S, 0, "", &x214_2220}}};
inline const loop x214_2100d{"2100D", {{"NM1", "QC", R, 1, "R:QC|R:1|R|S|S|S|S|R:II,MI|R"}}};
inline const loop x214_2000d{"2000D",
                             {{"HL", "PT", R, 1, "R|R|R:PT|N", nullptr, 3},
                              {"NM1", "QC", R, 1, "", &x214_2100d},
                              {"TRN", "2", S, 0, "", &x214_2200d}}};
inline const std::string x214_provider_stc =
    "R(R;R;S:36,40,41,77,82,85,87,AY,PR)|N|R:U,WQ|R|N|N|N|N|N|S(R;R;S)|S(R;R;S)";
inline const loop x214_2200c{"2200C",
                             {{"TRN", "1", R, 1, "R:1|R"},
                              {"STC", "", R, 0, x214_provider_stc},
                              {"REF", "0B,1G,G2,LU,SY,TJ", S, 1, "R:0B,1G,G2,LU,SY,TJ|R"},
                              {"QTY", "QA", S, 1, "R:QA|R"},
                              {"QTY", "QC", S, 1, "R:QC|R"},
                              {"AMT", "YU", S, 1, "R:YU|R"},
                              {"AMT", "YY", S, 1, "R:YY|R"}}};
inline const loop x214_2100c{"2100C", {{"NM1", "85", R, 1, "R:85|R:1,2|R|S|S|S|S|R:FI,SV,XX|R"}}};
inline const loop x214_2000c{"2000C",
                             {{"HL", "19", R, 1, "R|R|R:19|R:1", nullptr, 3},
                              {"NM1", "85", R, 0, "", &x214_2100c},
                              {"TRN", "1", R, 1, "", &x214_2200c},
                              {"HL", "PT", R, 0, "", &x214_2000d, 3}}};
inline const loop x214_2200b{
    "2200B",
    {{"TRN", "2", R, 1, "R:2|R"},
     {"STC", "", R, 0, "R(R;R;S:36,40,41,AY,PR)|R|R:U,WQ|R|N|N|N|N|N|S(R;R;S)|S(R;R;S)"},
     {"QTY", "90", S, 1, "R:90|R"},
     {"QTY", "AA", S, 1, "R:AA|R"},
     {"AMT", "YU", S, 1, "R:YU|R"},
     {"AMT", "YY", S, 1, "R:YY|R"}}};
inline const loop x214_2100b{"2100B", {{"NM1", "41", R, 1, "R:41|R:1,2|R|S|S|N|N|R:46|R"}}};
inline const loop x214_2000b{"2000B",
                             {{"HL", "21", R, 1, "R|R|R:21|R:0,1", nullptr, 3},
                              {"NM1", "41", R, 1, "", &x214_2100b},
                              {"TRN", "2", R, 1, "", &x214_2200b},
                              {"HL", "19", R, 0, "", &x214_2000c, 3}}};
inline const loop x214_2200a{"2200A",
                             {{"TRN", "1", R, 1, "R:1|R"},
                              {"DTP", "050", R, 1, "R:050|R:D8|R"},
                              {"DTP", "009", R, 1, "R:009|R:D8|R"}}};
inline const loop x214_2100a{"2100A",
                             {{"NM1", "PR,AY", R, 1, "R:PR,AY|R:2|R|N|N|N|N|R:46,FI,PI,XV|R"}}};
inline const loop x214_2000a{"2000A",
                             {{"HL", "20", R, 1, "R|N|R:20|R:1", nullptr, 3},
                              {"NM1", "PR,AY", R, 1, "", &x214_2100a},
                              {"TRN", "1", R, 0, "", &x214_2200a},
                              {"HL", "21", R, 1, "", &x214_2000b, 3}}};
inline const loop x214{"header",
                       {{"ST", "", R, 1, "R:277|R|R:005010X214"},
                        {"BHT", "", R, 1, "R:0085|R:08|R|R|R|R:TH"},
                        {"HL", "20", R, 0, "", &x214_2000a, 3},
                        {"SE", "", R, 1, "R|R"}}};

}  // namespace guide_277

struct guide_check_options {
  /// Accept STC12 where X212 marks it Not Used (2200D/E, 2220D/E): POLICY.md §1 writes the
  /// reason's sentence there in both profiles.
  bool policy_free_text = true;
};

/// The problems of one 277 interchange (ISA..IEA) against its guide (chosen by GS08), one
/// sentence each; empty when it follows the guide.
inline std::vector<std::string> check_277(std::string_view text, guide_check_options options = {}) {
  std::vector<std::string> problems;
  auto problem = [&](std::string p) { problems.push_back(std::move(p)); };
  if (text.size() < 106 || text.substr(0, 3) != "ISA") return {"not an interchange"};
  const char element = text[3];
  const char component = text[104];
  const char terminator = text[105];
  // Segments, without the line breaks after terminators.
  std::vector<std::vector<std::string>> segments;
  std::size_t at = 0;
  while (at < text.size()) {
    auto end = text.find(terminator, at);
    if (end == std::string_view::npos) end = text.size();
    auto raw = text.substr(at, end - at);
    at = end + 1;
    while (!raw.empty() && (raw.front() == '\n' || raw.front() == '\r')) raw.remove_prefix(1);
    if (raw.empty()) continue;
    std::vector<std::string> elements;
    std::size_t from = 0;
    for (;;) {
      const auto cut = raw.find(element, from);
      elements.emplace_back(raw.substr(from, cut == std::string_view::npos ? cut : cut - from));
      if (cut == std::string_view::npos) break;
      from = cut + 1;
    }
    segments.push_back(std::move(elements));
  }
  auto el = [](const std::vector<std::string>& s, std::size_t i) -> std::string_view {
    return i < s.size() ? std::string_view(s[i]) : std::string_view{};
  };
  // Envelope: ISA, GS, ST..SE, GE, IEA with their counts and control numbers.
  if (segments.size() < 6 || segments.front()[0] != "ISA" || segments[1][0] != "GS" ||
      segments[segments.size() - 2][0] != "GE" || segments.back()[0] != "IEA") {
    return {"envelope is not ISA GS .. GE IEA"};
  }
  const auto& isa = segments.front();
  if (el(isa, 15) != "P" && el(isa, 15) != "T") problem("ISA15 is not P or T");
  if (el(segments.back(), 2) != el(isa, 13)) problem("IEA02 differs from ISA13");
  if (el(segments.back(), 1) != "1") problem("IEA01 is not 1");
  const auto guide = el(segments[1], 8);
  const bool strict = guide == "005010X214";
  if (!strict && guide != "005010X212") return {"GS08 names no 277 guide"};
  if (el(segments[1], 1) != "HN") problem("GS01 is not HN");
  if (el(segments[segments.size() - 2], 2) != el(segments[1], 6)) problem("GE02 differs from GS06");
  std::vector<std::vector<std::string>> set(segments.begin() + 2, segments.end() - 2);
  if (set.empty() || set.front()[0] != "ST" || set.back()[0] != "SE") {
    return {"the group holds no ST..SE"};
  }
  if (el(set.back(), 1) != std::to_string(set.size())) problem("SE01 miscounts");
  if (el(set.back(), 2) != el(set.front(), 2)) problem("SE02 differs from ST02");
  if (el(segments[segments.size() - 2], 1) != "1") problem("GE01 is not 1");

  // Element usage, codes and lengths of one segment against its spec.
  auto check_elements = [&](const std::vector<std::string>& seg, std::string_view spec,
                            std::string_view where) {
    schema::spec_cursor items(spec);
    const std::size_t count = seg.size() - 1;
    for (std::size_t p = 1; p <= std::max<std::size_t>(count, 12); ++p) {
      const auto item = items.next();
      const auto v = el(seg, p);
      const std::string name =
          std::string(where) + " " + seg[0] + (p < 10 ? "0" : "") + std::to_string(p);
      const bool free_text_allowed = options.policy_free_text && !strict && seg[0] == "STC" &&
                                     p == 12 &&
                                     (where.starts_with("2200") || where.starts_with("2220"));
      if (v.empty()) {
        if (item.usage == 'R') problem(name + " is required and missing");
        continue;
      }
      if (item.usage == 'N') {
        if (free_text_allowed) {
          if (v.size() > 264) problem(name + " (POLICY free text) is over 264 characters");
          continue;
        }
        problem(name + " is Not Used but holds a value");
        continue;
      }
      if (!item.components.empty()) {
        schema::spec_cursor parts(item.components, ';');
        std::size_t c = 0;
        std::size_t from = 0;
        bool more = true;
        while (more || !parts.done()) {
          ++c;
          std::string_view part;
          if (more) {
            const auto cut = v.find(component, from);
            part = v.substr(from, cut == std::string_view::npos ? cut : cut - from);
            more = cut != std::string_view::npos;
            from = cut + 1;
          }
          const auto sub = parts.next();
          const std::string cname = name + "-" + std::to_string(c);
          if (part.empty()) {
            if (sub.usage == 'R') problem(cname + " is required and missing");
          } else if (sub.usage == 'N') {
            problem(cname + " is Not Used but holds a value");
          } else if (!sub.codes.empty() && !schema::in_list(sub.codes, part)) {
            problem(cname + " holds a code the guide does not list");
          }
          if (c > 20) break;
        }
        continue;
      }
      if (!item.codes.empty() && !schema::in_list(item.codes, v)) {
        problem(name + " holds a code the guide does not list");
      }
      if (item.max && v.size() > item.max) problem(name + " is over its maximum length");
    }
  };

  // Loop walk: a stack of (loop, index of the last position matched, uses per position).
  struct frame {
    const guide_277::loop* def;
    std::size_t index = 0;
    std::vector<int> uses;
  };
  auto matches = [&](const guide_277::position& p, const std::vector<std::string>& seg) {
    if (p.id != seg[0]) return false;
    return p.qualifier.empty() ||
           schema::in_list(p.qualifier, el(seg, static_cast<std::size_t>(p.qualifier_element)));
  };
  auto missing = [&](const frame& f, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to && i < f.def->positions.size(); ++i) {
      const auto& p = f.def->positions[i];
      if (p.required && f.uses[i] == 0) {
        problem(std::string(f.def->name) + ": required " + std::string(p.id) +
                (p.child ? " (loop " + std::string(p.child->name) + ")" : std::string{}) +
                " missing");
      }
    }
  };
  const auto& root = strict ? guide_277::x214 : guide_277::x212;
  std::vector<frame> stack{{&root, 0, std::vector<int>(root.positions.size(), 0)}};
  stack.front().uses[0] = 1;
  // HL chain: level code of each HL01, and who has children.
  std::vector<std::string> levels;
  std::vector<bool> has_children;
  std::vector<std::string> child_codes;
  for (std::size_t n = 1; n < set.size(); ++n) {
    const auto& seg = set[n];
    bool placed = false;
    while (!placed && !stack.empty()) {
      auto& f = stack.back();
      const auto& positions = f.def->positions;
      // Search forward from the current position (a loop's own first segment repeats only
      // through its parent).
      for (std::size_t i = std::max<std::size_t>(f.index, stack.size() > 1 ? 1 : 0);
           i < positions.size(); ++i) {
        if (!matches(positions[i], seg)) continue;
        missing(f, f.index + 1, i);  // what was skipped on the way
        f.index = i;
        ++f.uses[i];
        if (positions[i].max && f.uses[i] > positions[i].max) {
          problem(std::string(f.def->name) + ": " + seg[0] + " over its maximum use");
        }
        if (positions[i].child) {
          const auto* child = positions[i].child;
          stack.push_back({child, 0, std::vector<int>(child->positions.size(), 0)});
          stack.back().uses[0] = 1;
          check_elements(seg, child->positions[0].elements, child->name);
        } else {
          check_elements(seg, positions[i].elements, f.def->name);
        }
        placed = true;
        break;
      }
      if (!placed) {
        if (stack.size() == 1) break;
        missing(f, f.index + 1, f.def->positions.size());
        stack.pop_back();
      }
    }
    if (!placed) {
      problem("segment " + seg[0] + " at position " + std::to_string(n + 1) +
              " has no place after what precedes it");
      continue;
    }
    if (seg[0] == "HL") {
      const auto id = el(seg, 1);
      const auto parent = el(seg, 2);
      if (id != std::to_string(levels.size() + 1)) problem("HL01 does not count from 1");
      const std::string level(el(seg, 3));
      const std::string want_parent = level == "21"   ? "20"
                                      : level == "19" ? "21"
                                      : level == "22" ? "19"
                                      : level == "23" ? "22"
                                      : level == "PT" ? "19"
                                                      : "";
      if (want_parent.empty()) {
        if (!parent.empty()) problem("HL02 of a 20 level is not empty");
      } else {
        std::size_t p = 0;
        for (const char c : parent) p = p * 10 + static_cast<std::size_t>(c - '0');
        if (p == 0 || p > levels.size() || levels[p - 1] != want_parent) {
          problem("HL02 of HL " + std::string(id) + " names no " + want_parent + " level");
        } else {
          has_children[p - 1] = true;
        }
      }
      levels.push_back(level);
      has_children.push_back(false);
      child_codes.emplace_back(el(seg, 4));
    }
  }
  while (!stack.empty()) {
    missing(stack.back(), stack.back().index + 1, stack.back().def->positions.size());
    stack.pop_back();
  }
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (child_codes[i].empty()) continue;
    if ((child_codes[i] == "1") != has_children[i]) {
      problem("HL04 of HL " + std::to_string(i + 1) + " says " + child_codes[i] + " but children " +
              (has_children[i] ? "follow" : "do not follow"));
    }
  }
  return problems;
}

/// Splits text holding several interchanges (a replay's output) into interchanges.
inline std::vector<std::string_view> interchanges(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t at = text.find("ISA");
  while (at != std::string_view::npos) {
    const auto next = text.find("\nISA", at + 3);
    out.push_back(text.substr(at, next == std::string_view::npos ? next : next + 1 - at));
    at = next == std::string_view::npos ? next : next + 1;
  }
  return out;
}

}  // namespace covgate::test
