#include "covgate/store/partition_snapshot.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <stdexcept>

using namespace covgate;

namespace {

// What a snapshot handed over, as text: "T name a,b" and "R i:1 t:x b:y" lines.
struct recorder final : store::snapshot_visitor {
  std::vector<std::string> lines;
  void table(std::string_view name, std::span<const std::string_view> columns) override {
    std::string line = "T " + std::string(name);
    for (const auto c : columns) line += " " + std::string(c);
    lines.push_back(line);
  }
  void row(std::span<const store::snapshot_cell> cells) override {
    std::string line = "R";
    for (const auto& c : cells) {
      if (const auto* n = std::get_if<std::int64_t>(&c)) {
        line += " i:" + std::to_string(*n);
      } else if (const auto* t = std::get_if<std::string_view>(&c)) {
        line += " t:" + std::string(*t);
      } else {
        line += " b:" + std::string(std::get<store::snapshot_blob>(c).bytes);
      }
    }
    lines.push_back(line);
  }
};

std::string sample() {
  std::string out;
  store::snapshot_writer w(out, {7, 123456789012ULL, 3});
  const std::string_view claims[] = {"id", "seq", "claim"};
  w.table("claims", claims);
  const store::snapshot_cell a[] = {std::string_view("CLM-1"), std::int64_t{-5},
                                    store::snapshot_blob{std::string_view("\0\x01z", 3)}};
  const store::snapshot_cell b[] = {std::string_view(""), std::numeric_limits<std::int64_t>::min(),
                                    store::snapshot_blob{""}};
  w.row(a);
  w.row(b);
  const std::string_view facts[] = {"resource"};
  w.table("facts", facts);
  const store::snapshot_cell c[] = {std::numeric_limits<std::int64_t>::max()};
  w.row(c);
  w.finish();
  CHECK(w.rows() == 3);
  return out;
}

}  // namespace

TEST_SUITE("store.partition_snapshot") {
  TEST_CASE("a snapshot reads back as written: header, tables, every kind of cell") {
    const auto bytes = sample();
    recorder r;
    std::string error;
    const auto header = store::read_snapshot(bytes, &r, error);
    REQUIRE_MESSAGE(header, error);
    CHECK(*header == store::snapshot_header{7, 123456789012ULL, 3});
    CHECK(r.lines ==
          std::vector<std::string>{
              "T claims id seq claim", "R t:CLM-1 i:-5 b:" + std::string("\0\x01z", 3),
              "R t: i:" + std::to_string(std::numeric_limits<std::int64_t>::min()) + " b:",
              "T facts resource",
              "R i:" + std::to_string(std::numeric_limits<std::int64_t>::max())});
  }

  TEST_CASE("every cut of a snapshot, and a byte after it, is refused with where") {
    const auto bytes = sample();
    std::string error;
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      recorder r;
      CHECK_FALSE(store::read_snapshot(bytes.substr(0, n), &r, error));
      CHECK(error.find("at byte") != std::string::npos);
    }
    CHECK_FALSE(store::read_snapshot(bytes + "x", nullptr, error));
    CHECK(error.find("bytes after the end record") != std::string::npos);
  }

  TEST_CASE("a wrong magic, version, count, record or name is refused") {
    std::string error;
    const auto bytes = sample();
    CHECK_FALSE(store::read_snapshot("covgate-snapshat\n", nullptr, error));
    CHECK(error.find("no magic") != std::string::npos);
    auto other_version = bytes;
    other_version[17] = 2;  // the version follows the magic
    CHECK_FALSE(store::read_snapshot(other_version, nullptr, error));
    CHECK(error.find("version 2 is not 1") != std::string::npos);
    auto counted_wrong = bytes;
    counted_wrong[counted_wrong.size() - 2] = 4;  // the end record's rows: 3
    CHECK_FALSE(store::read_snapshot(counted_wrong, nullptr, error));
    CHECK(error.find("counts 4 rows in 2 tables, the snapshot holds 3 in 2") != std::string::npos);
    auto unknown_record = bytes;
    unknown_record[unknown_record.size() - 3] = 'X';
    CHECK_FALSE(store::read_snapshot(unknown_record, nullptr, error));
    auto bad_name = bytes;
    bad_name[bad_name.find("claims")] = 'C';
    CHECK_FALSE(store::read_snapshot(bad_name, nullptr, error));
    CHECK(error.find("bad table name") != std::string::npos);

    // A row before any table: the header, then 'R'.
    std::string orphan;
    store::snapshot_writer(orphan, {1, 1, 1});
    orphan += "R";
    CHECK_FALSE(store::read_snapshot(orphan, nullptr, error));
    CHECK(error.find("a row before any table") != std::string::npos);
  }

  TEST_CASE("the writer refuses what the reader would refuse") {
    std::string out;
    store::snapshot_writer w(out, {});
    const std::string_view none[] = {"x"};
    CHECK_THROWS_AS(w.table("Claims", none), std::invalid_argument);
    CHECK_THROWS_AS(w.table("claims", std::span<const std::string_view>{}), std::invalid_argument);
    const std::string_view bad[] = {"a-b"};
    CHECK_THROWS_AS(w.table("claims", bad), std::invalid_argument);
    const store::snapshot_cell one[] = {std::int64_t{1}};
    CHECK_THROWS_AS(w.row(one), std::invalid_argument);  // no table yet
    w.table("claims", none);
    const store::snapshot_cell two[] = {std::int64_t{1}, std::int64_t{2}};
    CHECK_THROWS_AS(w.row(two), std::invalid_argument);
    w.row(one);
    w.finish();
    std::string error;
    CHECK(store::read_snapshot(out, nullptr, error));
    CHECK_THROWS_AS(w.table("facts", none), std::invalid_argument);
  }
}
