#include "app/inputs.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "support/temp_dir.hpp"

using covgate::app::file_reader;
using covgate::app::input_file;
using covgate::test::temp_dir;

namespace {

// A file of `size` bytes, each position's byte telling it from its neighbours and from the same
// position in the next chunk (a chunk handed out twice, or out of order, shows).
std::string numbered_bytes(std::size_t size) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    text[i] = static_cast<char>('!' + (i * 7 + i / file_reader::chunk) % 90);
  }
  return text;
}

input_file written(const temp_dir& dir, const std::string& name, const std::string& text) {
  std::filesystem::create_directories(dir.path);
  const auto path = dir.path / name;
  std::ofstream(path, std::ios::binary) << text;
  return {path, {}};
}

// Everything next(std::string&) hands out, in order, and how many pieces.
std::pair<std::string, int> read_all(file_reader& reader) {
  std::string all, buffer;
  int pieces = 0;
  while (reader.next(buffer)) {
    all += buffer;
    ++pieces;
  }
  return {all, pieces};
}

}  // namespace

TEST_CASE("file_reader: a file read ahead on a thread gives its chunks whole and in order") {
  temp_dir dir;
  // Three and a half chunks: the last one short, as most files' is.
  const auto text = numbered_bytes(file_reader::chunk * 7 / 2);
  const auto file = written(dir, "claims.x12", text);
  for (const std::size_t depth : {0, 1, 4}) {
    CAPTURE(depth);
    file_reader reader;
    REQUIRE(reader.open(file));
    reader.read_ahead(depth);
    const auto [all, pieces] = read_all(reader);
    CHECK(all == text);
    CHECK(pieces == 4);  // open()'s first chunk, then the thread's three
    CHECK(reader.consumed() == text.size());
    CHECK(reader.failure().empty());
    std::string after;
    CHECK_FALSE(reader.next(after));  // the end stays the end
  }
}

TEST_CASE("file_reader: read ahead or not, the same bytes; a small file needs no thread") {
  temp_dir dir;
  for (const std::size_t size :
       {std::size_t{10}, file_reader::chunk, file_reader::chunk + 1, 2 * file_reader::chunk}) {
    CAPTURE(size);
    const auto text = numbered_bytes(size);
    const auto file = written(dir, "f" + std::to_string(size), text);
    file_reader here, ahead;
    REQUIRE(here.open(file));
    REQUIRE(ahead.open(file));
    ahead.read_ahead(2);
    CHECK(read_all(here) == read_all(ahead));
    CHECK(ahead.consumed() == size);
  }
}

TEST_CASE("file_reader: a reader dropped while its thread waits for room, or reads, ends it") {
  temp_dir dir;
  const auto file = written(dir, "big.x12", numbered_bytes(file_reader::chunk * 12));
  for (const int taken : {0, 1, 3}) {
    CAPTURE(taken);
    file_reader reader;
    REQUIRE(reader.open(file));
    reader.read_ahead(1);  // the thread fills its one place and waits
    std::string buffer;
    for (int i = 0; i < taken; ++i) REQUIRE(reader.next(buffer));
    // Time for the thread to fill its place and wait, the case this is for (the destructor
    // coming first ends the thread too, and passes as well).
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }  // each destructor joins the thread: a test that returns shows it was not left waiting
}
