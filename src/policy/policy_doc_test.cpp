// docs/policy.md is the users' policy reference: its reason-code table must say what the code's
// reason table says, and its parameter table what the shipped policy file says. The checks
// read the page as text, so they also run on an edited copy (a deleted row must be reported).
//
// The convention they parse:
// - "## … Reason codes" section: one table row per reason,
//   | `code` | `outcome` | 277 STC01 | second status or — | 277CA STC01 | plain sentence |
//   (the sentence may escape `*` and `|` with a backslash, as Markdown needs);
// - anywhere on the page, a backticked word of the reason-code form (`csii.followup.missing`)
//   in a family of the table (the part before its first dot) must be a reason of the table;
// - "## … Parameters" section: a header row | parameter | <version label>… | rule | and one
//   row per parameter, | `name` | value per version… | text |.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/policy/policy.hpp"

using namespace covgate;

namespace {

std::string policy_page() {
  std::ifstream in(std::string(COVGATE_SOURCE_DIR) + "/docs/policy.md", std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The lines of the "## " section whose heading contains `title`, heading excluded.
std::vector<std::string> section(std::string_view page, std::string_view title) {
  std::vector<std::string> out;
  bool inside = false;
  for (auto& line : lines_of(page)) {
    if (line.rfind("## ", 0) == 0) {
      inside = line.find(title) != std::string::npos;
      continue;
    }
    if (inside) out.push_back(std::move(line));
  }
  return out;
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return std::string(s.substr(first, last - first + 1));
}

// A table row's cells, with "\|" and "\*" unescaped; empty for a line that is not a row.
std::vector<std::string> cells(std::string_view line) {
  std::vector<std::string> out;
  if (line.empty() || line.front() != '|') return out;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && (line[i + 1] == '|' || line[i + 1] == '*')) {
      cell += line[++i];
    } else if (line[i] == '|') {
      out.push_back(trim(cell));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return out;
}

// `x` → x; anything else → "".
std::string backticked(std::string_view cell) {
  if (cell.size() < 3 || cell.front() != '`' || cell.back() != '`') return {};
  return std::string(cell.substr(1, cell.size() - 2));
}

std::string composite(std::string_view category, std::string_view status) {
  return std::string(category) + ":" + std::string(status);
}

struct reason_row {
  std::string outcome, stc, second, stc_277ca, sentence;
};

// Every difference between the page's reason-code table and model::reasons(), one line each.
std::vector<std::string> reason_table_problems(std::string_view page) {
  std::vector<std::string> problems;
  std::map<std::string, reason_row> rows;
  for (const auto& line : section(page, "Reason codes")) {
    const auto c = cells(line);
    if (c.empty()) continue;
    const auto code = backticked(c[0]);
    if (code.empty()) continue;  // the header and its rule line
    if (c.size() != 6) {
      problems.push_back("row of " + code + " has " + std::to_string(c.size()) + " cells, not 6");
      continue;
    }
    if (rows.count(code)) problems.push_back("row of " + code + " appears twice");
    rows[code] = {backticked(c[1]), backticked(c[2]), c[3], backticked(c[4]), c[5]};
  }
  if (rows.empty()) problems.emplace_back("no reason-code table found in a 'Reason codes' section");

  std::set<std::string> families;
  for (const auto& r : model::reasons()) {
    const std::string code(r.code);
    families.insert(code.substr(0, code.find('.')));
    const auto it = rows.find(code);
    if (it == rows.end()) {
      problems.push_back(code + ": in the reason table, missing from the page");
      continue;
    }
    const auto& row = it->second;
    const std::string outcome(model::name(r.result));
    if (row.outcome != outcome) {
      problems.push_back(code + ": outcome `" + row.outcome + "` on the page, `" + outcome +
                         "` in the code");
    }
    if (row.stc != composite(r.category, r.status)) {
      problems.push_back(code + ": 277 STC01 `" + row.stc + "` on the page, `" +
                         composite(r.category, r.status) + "` in the code");
    }
    const auto second = r.extra_status.empty() ? std::string("—")
                                               : "`" + composite(r.category, r.extra_status) + "`";
    if (row.second != second) {
      problems.push_back(code + ": second status " + row.second + " on the page, " + second +
                         " in the code");
    }
    const std::string strict = r.result == model::outcome::release ? "A2:20" : "A1:19";
    if (row.stc_277ca != strict) {
      problems.push_back(code + ": 277CA STC01 `" + row.stc_277ca + "` on the page, `" + strict +
                         "` in the code");
    }
    if (row.sentence != r.message) {
      problems.push_back(code + ": sentence \"" + row.sentence + "\" on the page, \"" +
                         std::string(r.message) + "\" in the code");
    }
  }
  for (const auto& [code, row] : rows) {
    if (!model::reason_named(code)) problems.push_back(code + ": on the page, not a reason code");
  }

  // Reason codes named in the prose: `family.rest` with only [a-z0-9.-].
  std::set<std::string> named;
  for (std::size_t open = page.find('`'); open != std::string_view::npos;) {
    const auto close = page.find('`', open + 1);
    if (close == std::string_view::npos) break;
    const auto word = page.substr(open + 1, close - open - 1);
    const auto dot = word.find('.');
    const bool shaped =
        dot != std::string_view::npos && dot + 1 < word.size() &&
        std::all_of(word.begin(), word.end(), [](char ch) {
          return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
        });
    if (shaped && families.count(std::string(word.substr(0, dot))) && !model::reason_named(word) &&
        named.insert(std::string(word)).second) {
      problems.push_back(std::string(word) + ": named on the page, not a reason code");
    }
    open = page.find('`', close + 1);
  }
  return problems;
}

// A parameter's value as the page writes it.
std::string page_value(const rapidjson::Value& v) {
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsString()) return v.GetString();
  return {};  // numbers are compared as numbers
}

// Every difference between the page's parameter table and the shipped policy file.
std::vector<std::string> parameter_table_problems(std::string_view page) {
  std::vector<std::string> problems;
  rapidjson::Document file;
  const auto text = policy::embedded_ncd223();
  file.Parse<rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag>(text.data(),
                                                                                  text.size());
  REQUIRE_FALSE(file.HasParseError());

  std::vector<std::string> labels;  // page columns 1..n-2
  std::map<std::string, std::vector<std::string>> rows;
  for (const auto& line : section(page, "Parameters")) {
    const auto c = cells(line);
    if (c.size() < 3) continue;
    if (c[0] == "parameter") {
      labels.assign(c.begin() + 1, c.end() - 1);
      continue;
    }
    const auto name = backticked(c[0]);
    if (name.empty()) continue;
    if (c.size() != labels.size() + 2) {
      problems.push_back("row of " + name + " does not match the header");
      continue;
    }
    if (rows.count(name)) problems.push_back("row of " + name + " appears twice");
    rows[name].assign(c.begin() + 1, c.end() - 1);
  }
  if (rows.empty()) problems.emplace_back("no parameter table found in a 'Parameters' section");

  std::set<std::string> in_file;
  for (const auto& version : file["versions"].GetArray()) {
    const std::string label = version["label"].GetString();
    const auto column = std::find(labels.begin(), labels.end(), label);
    if (column == labels.end()) {
      problems.push_back("version " + label + ": no column on the page");
      continue;
    }
    const auto index = static_cast<std::size_t>(column - labels.begin());
    for (const auto& member : version["parameters"].GetObject()) {
      const std::string name = member.name.GetString();
      const auto& value = member.value;
      in_file.insert(name);
      const auto row = rows.find(name);
      if (row == rows.end()) {
        problems.push_back(name + ": in the policy file, missing from the page");
        continue;
      }
      const auto& cell = row->second[index];
      bool same = false;
      if (value.IsNumber()) {
        std::size_t used = 0;
        try {
          same = std::stod(cell, &used) == value.GetDouble() && used == cell.size();
        } catch (const std::exception&) {
          same = false;
        }
      } else {
        same = cell == page_value(value);
      }
      if (!same) problems.push_back(name + " @ " + label + ": " + cell + " on the page");
    }
  }
  for (const auto& [name, values] : rows) {
    if (!in_file.count(name)) problems.push_back(name + ": on the page, not in the policy file");
  }
  return problems;
}

std::string joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n  " + p;
  return out;
}

// The page with the first line containing `needle` removed (or replaced).
std::string edited(std::string page, std::string_view needle, std::string_view replacement = {}) {
  const auto at = page.find(needle);
  REQUIRE(at != std::string::npos);
  const auto begin = page.rfind('\n', at) + 1;
  const auto end = page.find('\n', at) + 1;
  page.replace(begin, end - begin, replacement);
  return page;
}

bool mentions(const std::vector<std::string>& problems, std::string_view text) {
  return std::any_of(problems.begin(), problems.end(),
                     [&](const std::string& p) { return p.find(text) != std::string::npos; });
}

}  // namespace

TEST_SUITE("docs.policy") {
  TEST_CASE("the reason-code table of docs/policy.md is the code's reason table") {
    const auto page = policy_page();
    REQUIRE_MESSAGE(!page.empty(), "docs/policy.md not found under " << COVGATE_SOURCE_DIR);
    const auto problems = reason_table_problems(page);
    CHECK_MESSAGE(problems.empty(),
                  "docs/policy.md disagrees with src/policy/policy_file.cpp:" << joined(problems));
  }

  TEST_CASE("the parameter table of docs/policy.md is mappings/policies/ncd223.json") {
    const auto page = policy_page();
    REQUIRE(!page.empty());
    const auto problems = parameter_table_problems(page);
    CHECK_MESSAGE(problems.empty(), "docs/policy.md disagrees with mappings/policies/ncd223.json:"
                                        << joined(problems));
  }

  TEST_CASE("a deleted, changed or invented reason row is reported") {
    const auto page = policy_page();
    REQUIRE(reason_table_problems(page).empty());
    CHECK(mentions(reason_table_problems(edited(page, "| `csii.prior-auth.missing` |")),
                   "csii.prior-auth.missing: in the reason table, missing from the page"));
    CHECK(mentions(
        reason_table_problems(edited(page, "| `csii.prior-auth.missing` |",
                                     "| `csii.prior-auth.missing` | `hold:review` | `P3:252` | — "
                                     "| `A1:19` | Initial insulin-pump treatment without a prior "
                                     "authorization number. |\n")),
        "csii.prior-auth.missing: outcome `hold:review`"));
    CHECK(mentions(reason_table_problems(edited(
                       page, "| `csii.followup.not-physician` |",
                       "| `csii.followup.not-physician` | `hold:documentation` | `P3:387` | — | "
                       "`A1:19` | The only follow-up visits in the window were not with a "
                       "physician. |\n")),
                   "csii.followup.not-physician: second status"));
    CHECK(mentions(reason_table_problems(page + "\nSee `csii.no-such-reason`.\n"),
                   "csii.no-such-reason: named on the page"));
  }

  TEST_CASE("a changed parameter value is reported") {
    const auto page = policy_page();
    REQUIRE(parameter_table_problems(page).empty());
    CHECK(mentions(
        parameter_table_problems(edited(page, "| `rereview_months` |",
                                        "| `rereview_months` | 12 | 12 | §4.3: months |\n")),
        "rereview_months @ pre-2026-03-07: 12 on the page"));
    CHECK(mentions(parameter_table_problems(edited(page, "| `dawn_window_days` |")),
                   "dawn_window_days: in the policy file, missing from the page"));
  }
}
