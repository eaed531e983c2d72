#include "covgate/store/message_source.hpp"

#include <doctest/doctest.h>

using namespace covgate::store;

TEST_SUITE("store.message_source") {
  TEST_CASE("the journal id of a source") {
    CHECK(journal_id_of("mllp:12:40") == 12);
    CHECK(journal_id_of("http:7#3") == 7);  // a FHIR Bundle's entry
    CHECK(journal_id_of("http:7") == 7);
    CHECK(journal_id_of("nats.3.4711:12:0") == 12);
    CHECK(journal_id_of("nats.3.4711:0:0") == 0);  // a snapshot's row
    CHECK(journal_id_of("review:alice") == 0);
    CHECK(journal_id_of("review:12") == 0);
    CHECK(journal_id_of("no colon") == 0);
    CHECK(journal_id_of("mllp::4") == 0);
    CHECK(journal_id_of("mllp:1x:4") == 0);
    CHECK(journal_id_of("mllp:99999999999999999999:4") == 0);  // past an int64
  }

  TEST_CASE("the stream message of a cluster worker's source") {
    CHECK(stream_channel({3, 4711}) == "nats.3.4711");
    CHECK(stream_peer({3, 4711}) == "part-3:4711");
    CHECK(stream_origin_of("nats.3.4711:12:0") == stream_origin{3, 4711});
    CHECK(stream_origin_of("nats.1024.9:1#2") == stream_origin{1024, 9});  // CG_REF's
    CHECK(stream_origin_of(stream_channel({7, 18446744073709551615U}) + ":1") ==
          stream_origin{7, 18446744073709551615U});
    CHECK_FALSE(stream_origin_of("nats:12:0"));  // a worker's row from before positions
    CHECK_FALSE(stream_origin_of("mllp:12:0"));
    CHECK_FALSE(stream_origin_of("nats.3:12"));
    CHECK_FALSE(stream_origin_of("nats.3.:12"));
    CHECK_FALSE(stream_origin_of("nats..5:12"));
    CHECK_FALSE(stream_origin_of("nats.x.5:12"));
    CHECK_FALSE(stream_origin_of("nats.3.5.6:12"));
    CHECK_FALSE(stream_origin_of("nats.99999999999.5:12"));  // past a partition number
    CHECK_FALSE(stream_origin_of("review:nats.3.4"));
  }

  TEST_CASE("a source without its journal id keeps everything else") {
    CHECK(without_journal_id("nats.3.4711:12:40") == "nats.3.4711:0:40");
    CHECK(without_journal_id("nats:12#2") == "nats:0#2");
    CHECK(without_journal_id("nats:12") == "nats:0");
    CHECK(without_journal_id("review:alice") == "review:alice");
    CHECK(without_journal_id("review:12") == "review:12");
    CHECK(without_journal_id("odd") == "odd");
    CHECK(journal_id_of(without_journal_id("mllp:5:1")) == 0);
  }
}
