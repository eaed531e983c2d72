#include "covgate/cluster/dead_letters.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <tuple>

#include "covgate/model/json_writer.hpp"

namespace covgate::cluster {

namespace {

constexpr std::size_t sequence_digits = 20;  // every uint64_t

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  const auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string> string_member(const rapidjson::Value& object, const char* name) {
  const auto* v = member(object, name);
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

// The consumer and sequence a key names; nullopt for a key this module did not write.
std::optional<std::pair<std::string, std::uint64_t>> parse_key(std::string_view key) {
  const auto dot = key.rfind('.');
  if (dot == std::string_view::npos || key.size() - dot - 1 != sequence_digits) return std::nullopt;
  std::uint64_t sequence = 0;
  const auto digits = key.substr(dot + 1);
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), sequence);
  if (error != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return std::pair{std::string(key.substr(0, dot)), sequence};
}

}  // namespace

std::string dead_letter_key(std::string_view consumer, std::uint64_t sequence) {
  auto digits = std::to_string(sequence);
  return std::string(consumer) + "." + std::string(sequence_digits - digits.size(), '0') + digits;
}

std::string encode_dead_letter(const dead_letter& letter) {
  std::string out;
  model::json_writer w(out);
  w.begin_object();
  w.key("consumer").value(letter.consumer);
  w.key("sequence").value(static_cast<std::int64_t>(letter.sequence));
  w.key("key").value(letter.key);
  w.key("attempts").value(static_cast<std::int64_t>(letter.attempts));
  w.key("at").value(letter.at_ms);
  w.key("error").value(letter.error);
  w.key("delivered").value(letter.delivered);
  w.end_object();
  return out;
}

std::optional<dead_letter> decode_dead_letter(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  dead_letter letter;
  const auto consumer = string_member(doc, "consumer");
  const auto key = string_member(doc, "key");
  const auto error = string_member(doc, "error");
  const auto* sequence = member(doc, "sequence");
  const auto* attempts = member(doc, "attempts");
  const auto* at = member(doc, "at");
  const auto* delivered = member(doc, "delivered");
  if (!consumer || !key || !error || sequence == nullptr || !sequence->IsUint64() ||
      attempts == nullptr || !attempts->IsUint64() || at == nullptr || !at->IsInt64() ||
      delivered == nullptr || !delivered->IsBool()) {
    return std::nullopt;
  }
  letter.consumer = *consumer;
  letter.sequence = sequence->GetUint64();
  letter.key = *key;
  letter.attempts = attempts->GetUint64();
  letter.at_ms = at->GetInt64();
  letter.error = *error;
  letter.delivered = delivered->GetBool();
  return letter;
}

void dead_letter_book::record(const dead_letter& letter) {
  (void)bucket_.put(dead_letter_key(letter.consumer, letter.sequence), encode_dead_letter(letter));
}

std::optional<dead_letter> dead_letter_book::find(std::string_view consumer,
                                                  std::uint64_t sequence) {
  const auto entry = bucket_.get(dead_letter_key(consumer, sequence));
  if (!entry) return std::nullopt;
  auto letter = decode_dead_letter(entry->value);
  // A record must say what its key says: anything else was not written here.
  if (!letter || letter->consumer != consumer || letter->sequence != sequence) return std::nullopt;
  return letter;
}

std::vector<dead_letter> dead_letter_book::list(const std::vector<std::string>& consumers,
                                                std::optional<bool> delivered, std::uint64_t after,
                                                std::size_t limit) {
  std::vector<std::pair<std::uint64_t, std::string>> wanted;  // (sequence, consumer)
  for (const auto& key : bucket_.keys()) {
    const auto named = parse_key(key);
    if (!named || named->second <= after) continue;
    if (std::find(consumers.begin(), consumers.end(), named->first) == consumers.end()) continue;
    wanted.emplace_back(named->second, named->first);
  }
  std::sort(wanted.begin(), wanted.end());
  std::vector<dead_letter> out;
  for (const auto& [sequence, consumer] : wanted) {
    // Past the limit only for the other receivers' letters of the last sequence: a page never
    // ends between two letters of one release (a cursor by sequence would skip the second).
    if (out.size() >= limit && (out.empty() || out.back().sequence != sequence)) break;
    auto letter = find(consumer, sequence);
    if (letter && (!delivered || letter->delivered == *delivered)) {
      out.push_back(std::move(*letter));
    }
  }
  return out;
}

}  // namespace covgate::cluster
