#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>

#include "covgate/model/fact_codec.hpp"
#include "covgate/store/message_source.hpp"
#include "covgate/store/partition_snapshot.hpp"
#include "covgate/store/sqlite_store.hpp"
#include "support/gate_fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace covgate;

namespace {

using covgate::test::temp_dir;

constexpr std::uint32_t partition = 3;

engine::claim_record claim_of(const char* id, const char* patient, model::outcome result) {
  engine::claim_record r;
  r.claim = test::pump_claim(id);
  r.claim.subscriber.member_id = patient;
  r.decision.claim_id = id;
  r.decision.result = result;
  r.source = "nats:1";
  r.events = 1;
  return r;
}

std::string encoded(const model::fact& f) {
  std::string out;
  model::encode(std::span<const model::fact>(&f, 1), out);
  return out;
}

model::fact lab_of(const char* resource, const char* patient_key) {
  auto lab = test::lab("", mapping::lab_kind::c_peptide_fasting, 0.5, "ng/mL",
                       "2026-03-01T08:00:00Z", 0.8);
  lab.resource_id = resource;
  lab.patient = "Patient/x";
  lab.patient_key = patient_key;
  return lab;
}

constexpr std::uint32_t their_partition = 5;
constexpr std::uint32_t reference_partition = 1024;

// How fill() writes its rows: filed under the partition of the message that wrote them (a
// worker of this version), or not (a store written before rows were filed: part NULL).
enum class filing : std::uint8_t { by_partition, before_filing };

// A worker's store holding partition 3 (patient MINE) and another partition's patient (THEIRS),
// reference data, and a fact still waiting for its Patient (it came in a message of
// partition 3: a front routed it there by its identity).
void fill(store::sqlite_store& s, filing how = filing::by_partition) {
  const auto file_under = [&](std::uint32_t p) {
    if (how == filing::by_partition) s.set_writing_partition(p);
  };
  s.begin();
  REQUIRE(s.record_applied(partition, 40, 2) == store::apply_verdict::apply);
  file_under(partition);
  s.save(claim_of("M-1", "MINE", model::outcome::hold_documentation));
  s.save(claim_of("M-2", "MINE", model::outcome::release));
  file_under(their_partition);
  s.save(claim_of("T-1", "THEIRS", model::outcome::hold_documentation));
  model::decision held;
  held.claim_id = "M-1";
  held.result = model::outcome::hold_documentation;
  s.record_history("M-1", {1, "hold", 1000, held, "nats:1", ""});
  held.claim_id = "T-1";
  s.record_history("T-1", {1, "hold", 1000, held, "nats:2", ""});
  file_under(partition);
  s.save_facts("Observation/m", "", encoded(lab_of("Observation/m", "MINE")));
  // Waits for a link.
  s.save_facts("Observation/w", "", encoded(lab_of("Observation/w", "")));
  file_under(their_partition);
  s.save_facts("Observation/t", "", encoded(lab_of("Observation/t", "THEIRS")));
  // A Practitioner the other partition's message carried (a shared line of a message split by
  // patient): the last one that brought it, of all the partitions whose messages did.
  model::practitioner visited;
  visited.resource_id = "Practitioner/g";
  s.save_facts("Practitioner/g", "", encoded(visited));
  file_under(reference_partition);
  model::practitioner doctor;
  doctor.resource_id = "Practitioner/d";
  s.save_facts("Practitioner/d", "", encoded(doctor));  // reference data: CG_REF's
  s.set_writing_partition(std::nullopt);
  s.enqueue({0, "M-2-1", 0, "application/edi-x12", "ISA*277 M-2", 0}, 1000);
  s.enqueue({0, "T-1-1", 0, "application/edi-x12", "ISA*277 T-1", 0}, 1000);
  const auto sent = s.enqueue({0, "M-1-1", 0, "application/edi-x12", "ISA*277 M-1", 0}, 1000);
  s.delivered(sent, 1000);  // on CG_OUT already: not the new owner's to send
  s.commit();
}

const auto mine = [](std::string_view patient) { return patient == "MINE"; };
const auto theirs = [](std::string_view patient) { return patient == "THEIRS"; };

}  // namespace

TEST_SUITE("store.sqlite_snapshot") {
  TEST_CASE("a partition's rows move to a store that never held it, at their position") {
    temp_dir from_dir;
    store::sqlite_store from(from_dir.path, false);
    filing how = filing::by_partition;
    SUBCASE("rows filed under their message's partition") {}
    SUBCASE("rows written before rows were filed, picked by their patient") {
      how = filing::before_filing;
    }
    fill(from, how);
    std::string bytes;
    const auto wrote = from.write_snapshot(partition, mine, bytes);
    REQUIRE(wrote.position);
    CHECK(*wrote.position == store::applied_position{40, 2});
    CHECK(wrote.claims == 2);
    CHECK(wrote.history == 1);
    // MINE's, the one waiting, and the Practitioners: every partition's, wherever they came from.
    CHECK(wrote.facts == 4);
    CHECK(wrote.outbox == 1);  // M-2's release, still pending

    temp_dir to_dir;
    store::sqlite_store to(to_dir.path, false);
    to.begin();
    to.save(claim_of("OWN-1", "OTHER", model::outcome::release));  // the new owner's own
    to.commit();
    std::vector<std::string> facts_given;
    std::vector<std::string> open_given;
    to.begin();
    const auto loaded = to.load_snapshot(
        bytes, {[&](std::string_view body) { facts_given.emplace_back(body); },
                [&](const model::decision& d) { open_given.push_back(d.claim_id); }});
    to.commit();
    REQUIRE(loaded.verdict == store::snapshot_load_verdict::loaded);
    CHECK(loaded.claims == 2);
    CHECK(loaded.history == 1);
    CHECK(loaded.facts == 4);
    CHECK(loaded.outbox == 1);
    // The outbox's counts (kept by triggers) follow the rows a snapshot brings.
    CHECK(to.outbox().pending == 1);
    CHECK(to.outbox().delivered == 0);
    CHECK(from.outbox().pending == 2);
    CHECK(from.outbox().delivered == 1);
    model::practitioner visited, doctor;
    visited.resource_id = "Practitioner/g";
    doctor.resource_id = "Practitioner/d";
    CHECK(facts_given == std::vector<std::string>{encoded(lab_of("Observation/m", "MINE")),
                                                  encoded(lab_of("Observation/w", "")),
                                                  encoded(visited), encoded(doctor)});
    // The partition's patients see the Practitioner another partition's message brought: a
    // copy rebuilt from the stream would have it too, from this partition's own messages.
    // (Seen in the cluster test: a follow-up visit by an unknown provider kept a claim held.)
    CHECK(to.filed_facts_of("Practitioner/g")->partition == store::sqlite_store::shared_part);
    CHECK(to.applied(partition) == store::applied_position{40, 2});
    CHECK(open_given == std::vector<std::string>{"M-1", "M-2"});

    const auto m1 = to.load("M-1");
    REQUIRE(m1);
    CHECK(m1->claim == from.load("M-1")->claim);
    CHECK(m1->decision.result == model::outcome::hold_documentation);
    CHECK_FALSE(to.load("T-1"));
    CHECK(to.history("M-1").size() == 1);
    CHECK(to.claims_of("MINE").size() == 2);
    // Numbered after the store's own claim: the new owner's order of arrival stands.
    const auto ids = to.claims_of("OTHER");
    REQUIRE(ids.size() == 1);
    CHECK(to.open_claims_of("MINE", false).size() == 1);
    // The worklist's rows came along.
    store::claim_query held;
    held.result = model::outcome::hold_documentation;
    const auto page = to.list_claims(held);
    REQUIRE(page.rows.size() == 1);
    CHECK(page.rows[0].id == "M-1");

    // The new owner delivers the release the old one had not.
    const auto due = to.due(2000, 10);
    REQUIRE(due.size() == 1);
    CHECK(due[0].key == "M-2-1");
    CHECK(due[0].body == "ISA*277 M-2");

    // The loaded rows are filed under the partition (even those the old store had not filed):
    // the new owner's own snapshot picks them by it, whoever the patient seems to be.
    std::string again;
    const auto rewritten = to.write_snapshot(
        partition, [](std::string_view) { return false; }, again);
    CHECK(rewritten.claims == 2);
    CHECK(rewritten.facts == 4);

    // Loaded once: the same snapshot again changes nothing.
    to.begin();
    CHECK(to.load_snapshot(bytes, {}).verdict == store::snapshot_load_verdict::not_newer);
    to.commit();
  }

  TEST_CASE("a loaded row names no message of the writer's journal, and keeps its stream's") {
    // Regression: the rows came over as they were, so a claim's source named the writer's
    // journal id, and the loader's GET /claims/{id} offered the loader's own message of that
    // number (another patient's, maybe) as the claim's raw message.
    temp_dir from_dir;
    store::sqlite_store from(from_dir.path, false);
    from.begin();
    REQUIRE(from.record_applied(partition, 40, 2) == store::apply_verdict::apply);
    from.set_writing_partition(partition);
    auto streamed = claim_of("M-1", "MINE", model::outcome::hold_documentation);
    streamed.source = "nats.3.40:1:7";
    from.save(streamed);
    auto older = claim_of("M-2", "MINE", model::outcome::release);
    older.source = "nats:1:90";  // written before sources named their stream message
    from.save(older);
    model::decision held;
    held.claim_id = "M-1";
    held.result = model::outcome::hold_documentation;
    from.record_history("M-1", {1, "hold", 1000, held, "nats.3.40:1:7", ""});
    from.record_history("M-1", {2, "release", 2000, held, "review:alice", ""});
    from.set_writing_partition(std::nullopt);
    from.commit();
    std::string bytes;
    REQUIRE(from.write_snapshot(partition, mine, bytes).position);

    temp_dir to_dir;
    store::sqlite_store to(to_dir.path, false);
    to.begin();
    store::journal_entry own;
    own.channel = "mllp";
    own.sender = "peer";
    own.kind = "x12";
    own.body = "ISA*someone else's";
    REQUIRE(to.journal(own) == 1);
    REQUIRE(to.load_snapshot(bytes, {}).verdict == store::snapshot_load_verdict::loaded);
    to.commit();
    CHECK(to.load("M-1")->source == "nats.3.40:0:7");
    CHECK(to.load("M-2")->source == "nats:0:90");
    const auto history = to.history("M-1");
    REQUIRE(history.size() == 2);
    CHECK(history[0].source == "nats.3.40:0:7");
    CHECK(history[1].source == "review:alice");
    CHECK(from.load("M-1")->source == "nats.3.40:1:7");  // the writer's rows are its own
  }

  TEST_CASE("a store opened again files its Practitioners as every partition's") {
    // Written by a version that filed them under the partition whose message brought them.
    temp_dir dir;
    model::practitioner doctor;
    doctor.resource_id = "Practitioner/p";
    model::practitioner_role role;
    role.resource_id = "PractitionerRole/r";
    {
      store::sqlite_store s(dir.path, false);
      s.begin();
      s.set_writing_partition(their_partition);
      s.save_facts("Practitioner/p", "", encoded(doctor));
      s.save_facts("PractitionerRole/r", "", encoded(role));
      s.save_facts("Observation/t", "", encoded(lab_of("Observation/t", "THEIRS")));
      s.set_writing_partition(std::nullopt);
      s.save_facts("Practitioner/single", "", encoded(doctor));  // a single server's
      s.commit();
      CHECK(s.filed_facts_of("Practitioner/p")->partition == store::sqlite_store::shared_part);
    }
    {
      // What that version left: the rows under the partition.
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open((dir.path / "covgate.db").c_str(), &db) == SQLITE_OK);
      const auto refile = "UPDATE facts SET part = " + std::to_string(their_partition) +
                          " WHERE resource IN ('Practitioner/p', 'PractitionerRole/r')";
      CHECK(sqlite3_exec(db, refile.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
      CHECK(sqlite3_changes(db) == 2);
      sqlite3_close(db);
    }
    store::sqlite_store s(dir.path, false);
    CHECK(s.filed_facts_of("Practitioner/p")->partition == store::sqlite_store::shared_part);
    CHECK(s.filed_facts_of("PractitionerRole/r")->partition == store::sqlite_store::shared_part);
    CHECK(s.filed_facts_of("Observation/t")->partition == their_partition);
    CHECK_FALSE(s.filed_facts_of("Practitioner/single")->partition);
  }

  TEST_CASE("a fact waiting for its Patient goes with its message's partition, or everywhere") {
    // Filed: the partition its message came in (a front routed it by its identity). Not
    // filed (a store from before): its patient is unknown, so every partition carries it.
    for (const auto how : {filing::by_partition, filing::before_filing}) {
      store::sqlite_store s("", false);
      fill(s, how);
      s.begin();
      REQUIRE(s.record_applied(their_partition, 41, 2) == store::apply_verdict::apply);
      s.commit();
      std::string bytes;
      const auto wrote = s.write_snapshot(their_partition, theirs, bytes);
      CHECK(wrote.claims == 1);
      // THEIRS's, and the two Practitioners (every partition's).
      CHECK(wrote.facts == (how == filing::by_partition ? 3 : 4));
    }
  }

  TEST_CASE(
      "a store that held the partition, a claim id it holds, or a damaged snapshot: no load") {
    temp_dir from_dir;
    store::sqlite_store from(from_dir.path, false);
    fill(from);
    std::string bytes;
    from.write_snapshot(partition, mine, bytes);
    const store::snapshot_restore none;

    store::sqlite_store stale("", false);
    stale.begin();
    REQUIRE(stale.record_applied(partition, 12, 1) == store::apply_verdict::apply);
    CHECK(stale.load_snapshot(bytes, none).verdict == store::snapshot_load_verdict::held_before);
    stale.commit();

    // A claim id the store holds: the snapshot's rows are undone, the transaction's own stay.
    store::sqlite_store colliding("", false);
    colliding.begin();
    colliding.save(claim_of("M-2", "SOMEONE", model::outcome::release));
    bool restored = false;
    CHECK_THROWS_AS(
        colliding.load_snapshot(bytes, {[&](std::string_view) { restored = true; },
                                        [&](const model::decision&) { restored = true; }}),
        store::store_error);
    colliding.save(claim_of("OWN-2", "SOMEONE", model::outcome::release));
    colliding.commit();
    CHECK_FALSE(restored);
    CHECK_FALSE(colliding.load("M-1"));
    CHECK_FALSE(colliding.applied(partition));
    CHECK(colliding.claims_of("SOMEONE").size() == 2);

    store::sqlite_store fresh("", false);
    fresh.begin();
    const auto cut = fresh.load_snapshot(bytes.substr(0, bytes.size() - 1), none);
    CHECK(cut.verdict == store::snapshot_load_verdict::malformed);
    CHECK(cut.error.find("at byte") != std::string::npos);
    CHECK_FALSE(fresh.applied(partition));
    fresh.commit();
    CHECK_THROWS_AS(fresh.load_snapshot(bytes, none), store::store_error);  // no transaction
  }

  TEST_CASE("a stale copy of a partition is replaced whole by a newer snapshot of it") {
    // The holder moved on: M-1 released, M-3 came, at position 60 under epoch 3.
    temp_dir from_dir;
    store::sqlite_store from(from_dir.path, false);
    fill(from);
    from.begin();
    from.set_writing_partition(partition);
    auto m1 = claim_of("M-1", "MINE", model::outcome::release);
    m1.events = 2;
    from.save(m1);
    from.save(claim_of("M-3", "MINE", model::outcome::hold_documentation));
    from.save_facts("Observation/m2", "", encoded(lab_of("Observation/m2", "MINE")));
    from.set_writing_partition(std::nullopt);
    REQUIRE(from.record_applied(partition, 60, 3) == store::apply_verdict::apply);
    from.commit();
    std::string bytes;
    REQUIRE(from.write_snapshot(partition, mine, bytes).position);

    // The stale copy: the state at 40, and a claim of the partition only it has (what it
    // applied before it was fenced off, say) with a release it never delivered.
    filing how = filing::by_partition;
    SUBCASE("rows filed under their message's partition") {}
    SUBCASE("rows written before rows were filed, picked by their patient") {
      how = filing::before_filing;
    }
    store::sqlite_store stale("", false);
    fill(stale, how);
    stale.begin();
    if (how == filing::by_partition) stale.set_writing_partition(partition);
    stale.save(claim_of("M-STALE", "MINE", model::outcome::hold_documentation));
    stale.set_writing_partition(std::nullopt);
    stale.enqueue({0, "M-STALE-1", 0, "application/edi-x12", "ISA*277 M-STALE", 0}, 1000);
    stale.commit();
    CHECK(stale.outbox().pending == 3);

    std::vector<std::string> dropped, restored;
    // The facts in the order the caller hears of them: "-" a row of the copy gone, "+" a
    // snapshot's row to index.
    std::vector<std::string> facts_told;
    const auto resource_of = [](std::string_view body) {
      const auto facts = model::decode_facts(body);
      REQUIRE(facts);
      REQUIRE_FALSE(facts->empty());
      return model::resource_id_of(facts->front());
    };
    stale.begin();
    const auto replaced = stale.replace_partition(
        bytes, mine,
        {[&](std::string_view body) { facts_told.push_back("+" + resource_of(body)); },
         [&](const model::decision& d) { restored.push_back(d.claim_id); }},
        [&](const model::decision& d) { dropped.push_back(d.claim_id); },
        [&](std::string_view resource) { facts_told.push_back("-" + std::string(resource)); });
    stale.commit();
    REQUIRE(replaced.verdict == store::snapshot_load_verdict::loaded);
    // Every row of the copy is told gone before any of the snapshot's is told (the caller's
    // index forgets a resource's old version before it takes the new one).
    const auto first_added = std::find_if(facts_told.begin(), facts_told.end(),
                                          [](const std::string& t) { return t[0] == '+'; });
    CHECK(std::all_of(first_added, facts_told.end(),
                      [](const std::string& t) { return t[0] == '+'; }));
    std::vector<std::string> gone(facts_told.begin(), first_added);
    std::vector<std::string> added(first_added, facts_told.end());
    std::sort(gone.begin(), gone.end());
    std::sort(added.begin(), added.end());
    if (how == filing::by_partition) {
      CHECK(gone == std::vector<std::string>{"-Observation/m", "-Observation/w"});
      CHECK(added ==
            std::vector<std::string>{"+Observation/m", "+Observation/m2", "+Observation/w"});
    } else {
      // Unfiled, the row waiting for its link names no patient of the partition: it stays,
      // and the snapshot's copy of it is not loaded again.
      CHECK(gone == std::vector<std::string>{"-Observation/m"});
      CHECK(added == std::vector<std::string>{"+Observation/m", "+Observation/m2"});
    }
    std::sort(dropped.begin(), dropped.end());
    CHECK(dropped == std::vector<std::string>{"M-1", "M-2", "M-STALE"});
    std::sort(restored.begin(), restored.end());
    CHECK(restored == std::vector<std::string>{"M-1", "M-2", "M-3"});
    CHECK(stale.applied(partition) == store::applied_position{60, 3});
    CHECK_FALSE(stale.load("M-STALE"));
    CHECK(stale.history("M-STALE").empty());
    REQUIRE(stale.load("M-1"));
    CHECK(stale.load("M-1")->decision.result == model::outcome::release);
    CHECK(stale.load("M-3"));
    CHECK(stale.history("M-1").size() == 1);  // the holder's one row, not two
    CHECK(stale.claims_of("MINE").size() == 3);
    CHECK(stale.facts_of("Observation/m2"));
    CHECK(stale.facts_of("Observation/w"));
    // Another partition's rows and reference data stay.
    CHECK(stale.load("T-1"));
    CHECK(stale.history("T-1").size() == 1);
    CHECK(stale.facts_of("Observation/t"));
    CHECK(stale.facts_of("Practitioner/d"));
    CHECK(stale.facts_of("Practitioner/g"));  // every partition's: not the copy's to take away
    std::vector<std::string> due;
    for (const auto& item : stale.due(2000, 10)) due.push_back(item.key);
    std::sort(due.begin(), due.end());
    CHECK(due == std::vector<std::string>{"M-2-1", "T-1-1"});
    CHECK(stale.outbox().pending == 2);    // the copy's M-STALE-1 gone, the snapshot's M-2-1 in
    CHECK(stale.outbox().delivered == 1);  // a delivered item stays with the store
    // The worklist shows the holder's claims of the partition.
    store::claim_query held;
    held.result = model::outcome::hold_documentation;
    std::vector<std::string> listed;
    for (const auto& row : stale.list_claims(held).rows) listed.push_back(row.id);
    std::sort(listed.begin(), listed.end());
    CHECK(listed == std::vector<std::string>{"M-3", "T-1"});

    // The same snapshot again: the store stands at it.
    stale.begin();
    CHECK(stale.replace_partition(bytes, mine, {}, {}).verdict ==
          store::snapshot_load_verdict::not_newer);
    stale.commit();
  }

  TEST_CASE("a replacement that cannot load leaves the stale copy as it was") {
    temp_dir from_dir;
    store::sqlite_store from(from_dir.path, false);
    fill(from);
    from.begin();
    REQUIRE(from.record_applied(partition, 60, 3) == store::apply_verdict::apply);
    from.commit();
    std::string bytes;
    REQUIRE(from.write_snapshot(partition, mine, bytes).position);

    store::sqlite_store stale("", false);
    fill(stale);
    stale.begin();
    stale.set_writing_partition(their_partition);
    stale.save(claim_of("M-2", "THEIRS", model::outcome::release));  // another partition's M-2?
    stale.set_writing_partition(std::nullopt);
    stale.commit();
    // (fill() saved M-2 for MINE; the save above made it THEIRS and filed it elsewhere: the
    // drop does not take it, and the snapshot's M-2 collides.)
    bool told = false;
    stale.begin();
    CHECK_THROWS_AS(
        stale.replace_partition(bytes, mine, {}, [&](const model::decision&) { told = true; }),
        store::store_error);
    stale.save(claim_of("OWN", "SOMEONE", model::outcome::release));  // the group's own stay
    stale.commit();
    CHECK_FALSE(told);
    CHECK(stale.outbox().pending == 2);  // the drop's deletes undone with it
    CHECK(stale.outbox().delivered == 1);
    CHECK(stale.applied(partition) == store::applied_position{40, 2});
    CHECK(stale.load("M-1"));
    CHECK(stale.facts_of("Observation/m"));
    CHECK(stale.load("OWN"));

    stale.begin();
    const auto cut = stale.replace_partition(bytes.substr(0, 10), mine, {}, {});
    CHECK(cut.verdict == store::snapshot_load_verdict::malformed);
    stale.commit();
    CHECK(stale.applied(partition) == store::applied_position{40, 2});
    CHECK_THROWS_AS(stale.replace_partition(bytes, mine, {}, {}), store::store_error);
  }

  TEST_CASE("a snapshot naming a table or column the store does not load is refused whole") {
    const store::snapshot_restore none;
    const auto refused = [&](std::string_view table, std::string_view column) {
      std::string bytes;
      store::snapshot_writer w(bytes, {partition, 9, 1});
      const std::string_view columns[] = {column};
      w.table(table, columns);
      const store::snapshot_cell cell[] = {std::string_view("x")};
      w.row(cell);
      w.finish();
      store::sqlite_store s("", false);
      s.begin();
      std::string what;
      try {
        (void)s.load_snapshot(bytes, none);
      } catch (const store::store_error& e) {
        what = e.what();
      }
      s.rollback();
      CHECK_FALSE(s.applied(partition));
      return what;
    };
    CHECK(refused("journal", "body") == "snapshot: table journal is not one a snapshot loads");
    CHECK(refused("claims", "nonsense") == "snapshot: claims has no column nonsense");
  }

  TEST_CASE("a snapshot whose facts row does not decode is refused whole, nothing indexed") {
    // Committed, such a row would stop every later start-up's restore of the store.
    const auto snapshot_with = [](std::string_view body) {
      std::string bytes;
      store::snapshot_writer w(bytes, {partition, 9, 1});
      const std::string_view columns[] = {"resource", "seq", "updated", "body"};
      w.table("facts", columns);
      const store::snapshot_cell cells[] = {std::string_view("Observation/x"), std::int64_t{1},
                                            std::string_view(""), store::snapshot_blob{body}};
      w.row(cells);
      w.finish();
      return bytes;
    };
    store::sqlite_store s("", false);
    bool indexed = false;
    const store::snapshot_restore restore{[&](std::string_view) { indexed = true; }, nullptr};
    s.begin();
    CHECK_THROWS_WITH_AS(s.load_snapshot(snapshot_with("not facts"), restore),
                         "snapshot: a facts row does not decode (a newer covgate's?)",
                         store::store_error);
    s.commit();
    CHECK_FALSE(indexed);
    CHECK_FALSE(s.applied(partition));
    CHECK_FALSE(s.facts_of("Observation/x"));
    // The same row with a body that decodes loads.
    s.begin();
    CHECK(
        s.load_snapshot(snapshot_with(encoded(lab_of("Observation/x", "MINE"))), restore).verdict ==
        store::snapshot_load_verdict::loaded);
    s.commit();
    CHECK(indexed);
    CHECK(s.facts_of("Observation/x"));
  }

  TEST_CASE("a list whose group function throws fails as a store error, the store unharmed") {
    temp_dir dir;
    store::sqlite_store s(dir.path, false);
    fill(s, filing::by_partition);
    store::claim_query held;
    held.result = model::outcome::hold_documentation;
    held.group_of = [](std::string_view) -> int { throw std::runtime_error("no partition map"); };
    // SQLite calls the function from its C frames: the exception must not cross them.
    CHECK_THROWS_WITH_AS(s.list_claims(held), doctest::Contains("no partition map"),
                         store::store_error);
    held.group_of = [](std::string_view) { return 0; };
    const auto page = s.list_claims(held);
    CHECK(page.rows.size() == 2);
    CHECK(page.groups.at(0) == 2);
  }

  TEST_CASE("a partition the store never applied writes no snapshot") {
    store::sqlite_store s("", false);
    std::string bytes;
    const auto wrote = s.write_snapshot(partition, mine, bytes);
    CHECK_FALSE(wrote.position);
    CHECK(bytes.empty());
  }
}
