#include "covgate/cluster/claim_list_query.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "covgate/cluster/subjects.hpp"
#include "covgate/model/hex.hpp"

namespace covgate::cluster {

namespace {

using model::hex;
using model::unhex;

constexpr std::size_t max_limit = 10'000;

template <typename T>
std::optional<T> number(std::string_view text) {
  T n{};
  const auto [at, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc{} || at != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

// The lines of `text` ('\n'-terminated; a last line without one counts too).
template <typename Each>
bool for_each_line(std::string_view text, Each&& each) {
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto line = text.substr(0, end);
    if (!each(line)) return false;
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return true;
}

}  // namespace

std::string encode_claim_list_request(const claim_list_request& request) {
  const auto& q = request.query;
  std::string out = "now=" + std::to_string(request.now_ms) + "\n";
  if (q.released_since_ms) {
    out += "released=" + std::to_string(*q.released_since_ms) + "\n";
  } else {
    out +=
        "outcome=" + std::to_string(static_cast<int>(q.result.value_or(model::outcome::release))) +
        "\n";
  }
  if (q.reason) out += "reason=" + std::to_string(static_cast<int>(*q.reason)) + "\n";
  const std::pair<const char*, const std::string*> texts[] = {{"patient", &q.patient},
                                                              {"provider", &q.provider},
                                                              {"sender", &q.sender},
                                                              {"dos_from", &q.dos_from},
                                                              {"dos_to", &q.dos_to}};
  for (const auto& [name, text] : texts) {
    if (!text->empty()) out += std::string(name) + "=" + hex(*text) + "\n";
  }
  if (q.since_at_most_ms) out += "at_most=" + std::to_string(*q.since_at_most_ms) + "\n";
  if (q.since_at_least_ms) out += "at_least=" + std::to_string(*q.since_at_least_ms) + "\n";
  out += "sort=" + std::to_string(static_cast<int>(q.sort)) + (q.descending ? "-\n" : "\n");
  if (q.after) out += "after=" + hex(q.after->first) + "." + hex(q.after->second) + "\n";
  out += "limit=" + std::to_string(q.limit) + "\n";
  return out;
}

std::optional<claim_list_request> decode_claim_list_request(std::string_view text) {
  claim_list_request out;
  auto& q = out.query;
  std::set<std::string_view> seen;
  bool has_now = false, has_queue = false;
  const bool read = for_each_line(text, [&](std::string_view line) {
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) return false;
    const auto name = line.substr(0, eq);
    const auto value = line.substr(eq + 1);
    if (!seen.insert(name).second) return false;
    if (name == "now") {
      const auto n = number<std::int64_t>(value);
      out.now_ms = n.value_or(0);
      return has_now = n.has_value();
    }
    if (name == "released" || name == "at_most" || name == "at_least") {
      const auto n = number<std::int64_t>(value);
      if (!n) return false;
      if (name == "released") {
        if (has_queue) return false;
        has_queue = true;
        q.released_since_ms = *n;
      } else {
        (name == "at_most" ? q.since_at_most_ms : q.since_at_least_ms) = *n;
      }
      return true;
    }
    if (name == "outcome") {
      const auto n = number<int>(value);
      if (has_queue || !n || *n < 0 || *n >= static_cast<int>(std::size(model::outcomes))) {
        return false;
      }
      has_queue = true;
      q.result = static_cast<model::outcome>(*n);
      return true;
    }
    if (name == "reason") {
      const auto n = number<int>(value);
      if (!n || *n < 0 || static_cast<std::size_t>(*n) >= model::reason_count) return false;
      q.reason = static_cast<model::reason>(*n);
      return true;
    }
    if (name == "patient" || name == "provider" || name == "sender" || name == "dos_from" ||
        name == "dos_to") {
      auto decoded = unhex(value);
      if (!decoded || decoded->empty()) return false;
      (name == "patient"    ? q.patient
       : name == "provider" ? q.provider
       : name == "sender"   ? q.sender
       : name == "dos_from" ? q.dos_from
                            : q.dos_to) = std::move(*decoded);
      return true;
    }
    if (name == "sort") {
      auto key = value;
      q.descending = key.ends_with('-');
      if (q.descending) key.remove_suffix(1);
      const auto n = number<int>(key);
      if (!n || *n < 0 || *n > static_cast<int>(store::claim_sort::events)) return false;
      q.sort = static_cast<store::claim_sort>(*n);
      return true;
    }
    if (name == "after") {
      const auto dot = value.find('.');
      if (dot == std::string_view::npos) return false;
      auto sort_value = unhex(value.substr(0, dot));
      auto id = unhex(value.substr(dot + 1));
      if (!sort_value || !id) return false;
      q.after = std::pair{std::move(*sort_value), std::move(*id)};
      return true;
    }
    if (name == "limit") {
      const auto n = number<std::size_t>(value);
      if (!n || *n == 0 || *n > max_limit) return false;
      q.limit = *n;
      return true;
    }
    return false;  // a name this version does not know
  });
  if (!read || !has_now || !has_queue || !seen.contains("limit")) return std::nullopt;
  return out;
}

std::string encode_claim_list_page(const claim_list_page& page) {
  std::string out;
  for (const auto& [partition, total] : page.totals) {
    out += std::to_string(partition) + ":" + std::to_string(total) + ";";
  }
  out += '\n';
  for (const auto& row : page.rows) {
    out += std::to_string(row.partition) + '\t' + hex(row.sort_value) + '\t' + hex(row.id) + '\t' +
           row.json + '\n';
  }
  return out;
}

std::optional<claim_list_page> decode_claim_list_page(std::string_view text, int partitions) {
  const auto first_end = text.find('\n');
  if (first_end == std::string_view::npos) return std::nullopt;
  claim_list_page page;
  const auto partition_of = [&](std::string_view digits) -> std::optional<int> {
    const auto p = number<int>(digits);
    if (!p || *p < 0 || *p >= partitions) return std::nullopt;
    return p;
  };
  for (auto totals = text.substr(0, first_end); !totals.empty();) {
    const auto end = totals.find(';');
    if (end == std::string_view::npos) return std::nullopt;
    const auto item = totals.substr(0, end);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const auto p = partition_of(item.substr(0, colon));
    const auto n = number<std::uint64_t>(item.substr(colon + 1));
    if (!p || !n || !page.totals.emplace(*p, *n).second) return std::nullopt;
    totals.remove_prefix(end + 1);
  }
  const bool rows_read = for_each_line(text.substr(first_end + 1), [&](std::string_view line) {
    std::string_view fields[3];
    for (auto& field : fields) {
      const auto tab = line.find('\t');
      if (tab == std::string_view::npos) return false;
      field = line.substr(0, tab);
      line.remove_prefix(tab + 1);
    }
    const auto p = partition_of(fields[0]);
    auto sort_value = unhex(fields[1]);
    auto id = unhex(fields[2]);
    if (!p || !sort_value || !id || id->empty() || line.empty()) return false;
    page.rows.push_back({*p, std::move(*sort_value), std::move(*id), std::string(line)});
    return true;
  });
  if (!rows_read) return std::nullopt;
  return page;
}

bool listed_before(const listed_claim& a, const listed_claim& b, store::claim_sort sort,
                   bool descending) {
  int order = 0;
  if (sort != store::claim_sort::id) {
    if (store::sorts_as_number(sort)) {
      const auto x = number<std::int64_t>(a.sort_value).value_or(0);
      const auto y = number<std::int64_t>(b.sort_value).value_or(0);
      order = x < y ? -1 : (x > y ? 1 : 0);
    } else {
      order = a.sort_value.compare(b.sort_value);
    }
  }
  if (order == 0) order = a.id.compare(b.id);
  return descending ? order > 0 : order < 0;
}

void claim_list_merge::add(const claim_list_page& page, const std::vector<int>& fresh) {
  const std::set<int> counted(fresh.begin(), fresh.end());
  for (const auto& [partition, total] : page.totals) {
    if (counted.contains(partition)) total_ += total;
  }
  for (const auto& row : page.rows) {
    if (counted.contains(row.partition)) rows_.push_back(row);
  }
}

std::vector<listed_claim> claim_list_merge::rows() const {
  auto out = rows_;
  std::sort(out.begin(), out.end(), [this](const listed_claim& a, const listed_claim& b) {
    return listed_before(a, b, sort_, descending_);
  });
  if (out.size() > limit_) out.resize(limit_);
  return out;
}

claim_list_result gather_claim_list(jetstream& js, std::string_view requester,
                                    const claim_list_request& request, int partitions,
                                    std::chrono::milliseconds wait) {
  claim_list_merge merge(request.query.sort, request.query.descending, request.query.limit);
  bool broken = false;
  const auto asked = ask_every_partition(
      js, requester, std::string(list_query_subject), encode_claim_list_request(request),
      partitions, wait, [&](const fetched_message& m, const std::vector<int>& fresh) {
        const auto page = decode_claim_list_page(m.data(), partitions);
        if (!page) {  // its partitions would count as answered: the list would be short
          broken = true;
          return true;
        }
        merge.add(*page, fresh);
        return false;
      });
  claim_list_result out;
  out.answers = asked.answers;
  out.complete = asked.complete && !broken;
  out.uncovered = asked.uncovered;
  out.total = merge.total();
  out.rows = merge.rows();
  return out;
}

claim_list_responder::claim_list_responder(
    jetstream& js, std::string worker,
    std::function<claim_list_answer(const claim_list_request&)> answer)
    : responder_(js, std::string(list_query_subject), std::move(worker),
                 [answer = std::move(answer)](const fetched_message& m) {
                   partition_query_responder::reply r;
                   const auto request = decode_claim_list_request(m.data());
                   if (!request) return r;  // names no partition
                   const auto found = answer(*request);
                   r.body = encode_claim_list_page(found.page);
                   if (!found.caught_up.empty()) {
                     r.headers.push_back({"Cg-Caught-Up", partition_list(found.caught_up)});
                   }
                   return r;
                 }) {}

void claim_list_responder::stop() { responder_.stop(); }

}  // namespace covgate::cluster
