#include "claim_walker.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "covgate/model/copy_text.hpp"
#include "dictionary_5010.hpp"
#include "element_rules.hpp"

namespace covgate::x12 {
namespace {

// `exact`: element 2 must hold one of the entry's secondary codes too, when it lists any.
bool entry_matches(const schema::entry& e, std::uint32_t key, const segment& seg, bool exact) {
  if (e.key != key) return false;
  if (e.qualifiers.empty()) return true;
  const auto qualifier = e.qualifier_component
                             ? seg.component(e.qualifier_element, e.qualifier_component)
                             : seg.element(e.qualifier_element);
  if (!schema::listed(e.qualifier_keys, qualifier)) return false;
  return !exact || e.secondary_keys.empty() || schema::listed(e.secondary_keys, seg.element(2));
}

// X12 R values ("4821.55", "-3", "12.5"): parsed exactly, without a trip through double, since
// money must not round. Returns 0 for what element_rules already reported as not a number.
std::int64_t parse_cents(std::string_view text) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  std::int64_t whole = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && whole < 100'000'000'000'000; ++i) {
    whole = whole * 10 + (text[i] - '0');
  }
  std::int64_t fraction = 0;
  if (i < text.size() && text[i] == '.') {
    int digits = 0;
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
      if (digits < 2) fraction = fraction * 10 + (text[i] - '0');
      if (digits == 2 && text[i] >= '5') ++fraction;  // round half up on the third digit
    }
    if (digits == 1) fraction *= 10;
  }
  const std::int64_t cents = whole * 100 + fraction;
  return negative ? -cents : cents;
}

double parse_decimal(std::string_view text) {
  double value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

model::date_range parse_period(std::string_view qualifier, std::string_view value) {
  if (qualifier == "D8" || (qualifier == "RD8" && value.size() == 8)) {
    const auto d = model::parse_ccyymmdd(value).value_or(model::date{});
    return {d, d};
  }
  if (qualifier == "RD8" && value.size() == 17) {
    return {model::parse_ccyymmdd(value.substr(0, 8)).value_or(model::date{}),
            model::parse_ccyymmdd(value.substr(9)).value_or(model::date{})};
  }
  return {};
}

void map_name(const segment& nm1, model::person_name& name) {
  model::copy_text(name.last, nm1.element(3));
  model::copy_text(name.first, nm1.element(4));
  model::copy_text(name.middle, nm1.element(5));
  model::copy_text(name.suffix, nm1.element(7));
}

void map_provider(const segment& seg, model::provider& provider) {
  if (seg.is("NM1")) {
    provider.entity_is_person = seg.element(2) == "1";
    if (seg.element(8) == "XX") model::copy_text(provider.npi, seg.element(9));
    map_name(seg, provider.name);
  } else if (seg.is("PRV") && seg.element(2) == "PXC") {
    model::copy_text(provider.taxonomy, seg.element(3));
  }
}

void map_person(const segment& seg, model::person& person) {
  if (seg.is("NM1")) {
    model::copy_text(person.member_id, seg.element(9));
    model::copy_text(person.member_id_qualifier, seg.element(8));
    map_name(seg, person.name);
  } else if (seg.is("DMG") && seg.element(1) == "D8") {
    person.birth_date = model::parse_ccyymmdd(seg.element(2)).value_or(model::date{});
    const auto sex = seg.element(3);
    person.sex = sex.size() == 1 ? sex[0] : 0;
  } else if (seg.is("REF") && seg.element(1) == "1W" && person.member_id.empty()) {
    model::copy_text(person.member_id, seg.element(2));
  }
}

model::attachment to_attachment(const segment& seg) {
  return {std::string(seg.element(1)), std::string(seg.element(2)),
          seg.element(5) == "AC" ? std::string(seg.element(6)) : std::string{}};
}

bool diagnosis_qualifier(std::string_view q) {
  return schema::in_list("ABK,ABF,ABJ,APR,ABN,BK,BF,BJ,PR,BN", q);
}

void reset(model::person_name& n) {
  n.last.clear();
  n.first.clear();
  n.middle.clear();
  n.suffix.clear();
}

void reset(model::person& p) {
  p.member_id.clear();
  p.member_id_qualifier.clear();
  p.birth_date = {};
  p.sex = 0;
  reset(p.name);
}

void reset(model::provider& p) {
  p.npi.clear();
  p.taxonomy.clear();
  p.entity_is_person = false;
  reset(p.name);
}

// Every field, as a new service_line has it, keeping what the strings and lists hold.
void reset(model::service_line& line) {
  line.number = 0;
  line.procedure_qualifier.clear();
  line.procedure_code.clear();
  line.modifiers.clear();
  line.revenue_code.clear();
  line.charge_cents = 0;
  line.units = 0;
  line.unit_basis.clear();
  line.place_of_service.clear();
  line.service_dates = {};
  line.line_control_number.clear();
  line.prior_authorization.clear();
  line.attachments.clear();
  line.dme_conditions.clear();
  reset(line.rendering);
  reset(line.ordering);
}

}  // namespace

void claim_walker::begin(model::claim_kind kind, const model::envelope_ref& envelope,
                         set_result& result) {
  kind_ = kind;
  result_ = &result;
  stack_.clear();
  hl_levels_.clear();
  push_frame(institutional() ? schema::institutional_root() : schema::professional_root());
  context_.envelope = envelope;
  envelope_changed_ = true;
  reset(context_.billing);
  reset(context_.subscriber);
  reset(context_.patient);
  context_.payer_id.clear();
  context_.claim_filing_indicator.clear();
  in_claim_ = false;
}

bool claim_walker::find(const segment& seg, match& found) const {
  const std::uint32_t key = seg.key();
  // Three passes: a place with room left whose codes fit exactly, then one whose qualifier
  // fits, then any place (the caller reports the excess).
  for (int pass = 0; pass < 3; ++pass) {
    for (std::size_t depth = stack_.size(); depth-- > 0;) {
      const frame& f = stack_[depth];
      const auto entries = f.def->entries;
      const auto keys = f.def->keys;  // scanned instead of the entries: 4 bytes each, not 320
      // From the start of the run the last segment matched in, so entries that share one
      // position of the standard may come in any order. A loop's own first segment repeats
      // only as a new loop, which its parent places.
      std::size_t first = run_of(f, f.index);
      if (depth > 0 && first == 0) first = 1;
      for (std::size_t i = first; i < keys.size(); ++i) {
        if (keys[i] != key || !entry_matches(entries[i], key, seg, pass == 0)) continue;
        const bool room = entries[i].max == 0 || f.counts[i] < entries[i].max;
        if (pass < 2 && !room) continue;
        found = {depth, i};
        return true;
      }
    }
  }
  return false;
}

const schema::entry* claim_walker::qualified_forward(const segment& seg) const {
  const frame& f = stack_.back();
  for (std::size_t i = std::max<std::size_t>(run_of(f, f.index), 1); i < f.def->entries.size();
       ++i) {
    const auto& e = f.def->entries[i];
    if (e.key == seg.key() && !e.qualifiers.empty()) return &e;
  }
  return nullptr;
}

void claim_walker::on_segment(const segment& seg, std::uint32_t position) {
  last_where_ = seg.where();
  if (seg.defect() != error{}) {
    finding(seg.defect() == error::too_many_elements ? seg.id() : std::string_view{"UNK"}, position,
            seg.defect(), seg.where());
    return;
  }
  if (!well_formed_segment_id(seg.id())) {
    finding(seg, position, error::unrecognized_segment_id);
    return;
  }
  match found;
  if (!find(seg, found)) {
    if (!dictionary::known(seg.key())) return;  // private segment: skipped
    if (const auto* place = qualified_forward(seg)) {
      // The loop has a place for this id, but not with this qualifier code.
      const auto& slot = place->def->slots[place->qualifier_element - 1];
      const auto reference =
          slot.composite ? slot.composite->components.front().ref : slot.element.ref;
      finding(seg, position, error::segment_has_element_errors,
              {{place->qualifier_element, place->qualifier_component, reference,
                error::invalid_code_value}});
    } else {
      bool seen_before = false;
      for (const auto& f : stack_) {
        for (const auto& e : f.def->entries) seen_before = seen_before || e.key == seg.key();
      }
      finding(seg, position,
              seen_before ? error::segment_not_in_sequence : error::unexpected_segment);
    }
    return;
  }
  close_to(found.depth, position);
  frame& f = stack_.back();
  const auto& entry = f.def->entries[found.entry];
  if (found.entry != f.index) {
    // Leaving a run: what it (and anything skipped after it) required must have come.
    if (entry.group_first != run_of(f, f.index)) {
      report_missing(f, run_of(f, f.index), entry.group_first, position);
    }
    f.index = static_cast<std::uint16_t>(found.entry);
  }
  ++f.counts[found.entry];
  if (entry.max != 0 && f.counts[found.entry] > entry.max) {
    if (entry.child) {
      finding(seg, position, error::loop_over_maximum);
    } else {
      finding(seg.id(), position, error::segment_over_maximum_use, seg.where(),
              !lenient(leniency::segment_repeats));
    }
  }
  if (entry.child) enter(*entry.child);
  if (seg.is("HL")) check_hierarchy(seg, position);
  element_scratch_.clear();
  check_elements(seg, entry, options_.lenient, element_scratch_);
  if (!element_scratch_.empty()) {
    finding(seg, position, error::segment_has_element_errors, element_scratch_);
  }
  if (current_loop() == schema::loop::claim_2300 && seg.is("CLM")) {
    claim_->first_segment = position;
    claim_->source_offset = seg.where().offset;
  }
  map(current_loop(), seg);
}

void claim_walker::report_missing_from(const frame& f, std::size_t from, std::size_t to,
                                       std::uint32_t position) {
  const auto entries = f.def->entries;
  for (std::size_t i = from < entries.size() ? entries[from].next_required : to; i < to;
       i = i + 1 < entries.size() ? entries[i + 1].next_required : to) {
    const auto& e = entries[i];
    if (f.counts[i] > 0) continue;
    // A missing loop is named by its own loop id (a COB 2320 without its 2330B: NM1, 2330).
    finding(e.id, position, error::required_segment_missing, last_where_, true, {},
            e.child ? e.child->name : f.def->name);
  }
}

void claim_walker::close_loops_to(std::size_t depth, std::uint32_t position) {
  while (stack_.size() > depth + 1) {
    const frame& f = stack_.back();  // popped once left: a frame is 140 bytes to copy
    report_missing(f, run_of(f, f.index), f.def->entries.size(), position);
    leave(f);
    stack_.pop_back();
  }
}

void claim_walker::end(std::uint32_t position) {
  close_to(0, position);
  const frame& root = stack_.front();
  report_missing(root, run_of(root, root.index), root.def->entries.size() - 1,
                 position);  // all but SE
  stack_.clear();
}

void claim_walker::push_frame(const schema::loop_def& def) {
  // Built in place, its counters zeroed only as far as the loop has entries; its first
  // segment (ST, or the one that opened the loop) counted.
  frame& f = stack_.emplace_back();
  f.def = &def;
  f.index = 0;
  std::fill_n(f.counts.begin(), def.entries.size(), std::uint16_t{0});
  f.counts[0] = 1;
}

void claim_walker::enter(const schema::loop_def& def) {
  push_frame(def);
  switch (def.role) {
    case schema::loop::billing_2000a:
      reset(context_.billing);
      break;
    case schema::loop::submitter_1000a:
      reset(context_.envelope.submitter);
      context_.envelope.submitter_id.clear();
      context_.envelope.submitter_is_person = false;
      envelope_changed_ = true;
      break;
    case schema::loop::subscriber_2000b:
      reset(context_.subscriber);
      reset(context_.patient);
      context_.payer_id.clear();
      context_.claim_filing_indicator.clear();
      break;
    case schema::loop::patient_2000c:
      reset(context_.patient);
      break;
    case schema::loop::claim_2300: {
      in_claim_ = true;
      claim_ = slots_ ? slots_() : nullptr;
      if (!claim_) claim_ = &own_claim_;
      claim_->kind = kind_;
      claim_->id.clear();
      claim_->total_charge_cents = 0;
      claim_->place_of_service.clear();
      claim_->facility_type.clear();
      claim_->frequency = 0;
      claim_->statement_dates = {};
      claim_->diagnoses.clear();
      claim_->prior_authorization.clear();
      claim_->payer_claim_number.clear();
      claim_->attachments.clear();
      claim_->subscriber = context_.subscriber;
      claim_->patient = context_.patient;
      claim_->payer_id = context_.payer_id;
      claim_->claim_filing_indicator = context_.claim_filing_indicator;
      claim_->billing = context_.billing;
      reset(claim_->rendering);
      reset(claim_->attending);
      lines_used_ = 0;  // the lines already there are reused (see line_2400 below)
      if (claim_ != &own_claim_) {
        claim_->envelope = context_.envelope;
      } else if (envelope_changed_) {  // a set's claims share it: copied once, not per claim
        claim_->envelope = context_.envelope;
        envelope_changed_ = false;
      }
      if (++result_->claims == options_.max_claims_per_set + 1) {
        finding("CLM", 0, error::too_many_claims, last_where_);
      }
      break;
    }
    case schema::loop::line_2400:
      if (in_claim_) {
        // A line left by an earlier claim is reset and reused, its buffers kept (destroying
        // and rebuilding lines cost more than filling them); the extra ones go at leave().
        if (lines_used_ < claim_->lines.size()) {
          reset(claim_->lines[lines_used_]);
        } else {
          claim_->lines.emplace_back();
        }
        ++lines_used_;
      }
      break;
    default:
      break;
  }
}

void claim_walker::leave(const frame& f) {
  if (f.def->role == schema::loop::claim_2300 && in_claim_) {
    in_claim_ = false;
    auto& lines = claim_->lines;
    lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(lines_used_), lines.end());
    if (result_->claims <= options_.max_claims_per_set) on_claim_(*claim_);
  }
}

void claim_walker::check_hierarchy(const segment& seg, std::uint32_t position) {
  // HL01 counts 1, 2, 3…; HL02 names an earlier HL one level up (22 under 20, 23 under 22).
  const auto id = seg.element(1);
  const auto level = seg.element(3);
  std::uint32_t number = 0;
  std::from_chars(id.data(), id.data() + id.size(), number);
  // The guides number HL01 from 1 in each set, each HL02 naming an HL one level up. The
  // walker places loops by HL03 and position, so a broken chain does not change what it
  // reads: leniency hl_chain notes it instead of rejecting (public sample files ship such
  // chains, e.g. numbering that continues from an earlier set).
  const bool rejects = !lenient(leniency::hl_chain);
  std::vector<element_finding> bad;
  if (number != hl_levels_.size() + 1) {
    bad.push_back({1, 0, 628, error::invalid_hierarchy, rejects});
  }
  const std::uint8_t code = level == "20" ? 20 : level == "22" ? 22 : level == "23" ? 23 : 0;
  if (code == 22 || code == 23) {
    const auto parent_text = seg.element(2);
    std::uint32_t parent = 0;
    std::from_chars(parent_text.data(), parent_text.data() + parent_text.size(), parent);
    const std::uint8_t want = code == 22 ? 20 : 22;
    if (parent == 0 || parent > hl_levels_.size() || hl_levels_[parent - 1] != want) {
      bad.push_back({2, 0, 734, error::invalid_hierarchy, rejects});
    }
  }
  if (hl_levels_.size() < options_.max_segments_per_set) hl_levels_.push_back(code);
  if (!bad.empty()) finding(seg, position, error::segment_has_element_errors, std::move(bad));
}

void claim_walker::finding(const segment& seg, std::uint32_t position, error code,
                           std::vector<element_finding> elements) {
  const bool rejects = elements.empty() || std::any_of(elements.begin(), elements.end(),
                                                       [](const auto& e) { return e.rejects; });
  finding(seg.id().substr(0, 3), position, code, seg.where(), rejects, std::move(elements));
}

void claim_walker::finding(std::string_view id, std::uint32_t position, error code, location where,
                           bool rejects, std::vector<element_finding> elements,
                           std::string_view loop_name) {
  if (rejects) result_->rejected = true;
  if (result_->segments.size() >= options_.max_findings_per_set) {
    ++result_->findings_dropped;
    return;
  }
  segment_finding f;
  model::copy_text(f.segment_id, id.empty() ? std::string_view{"UNK"} : id);
  f.position = position;
  model::copy_text(f.loop,
                   loop_name.empty() && !stack_.empty() ? stack_.back().def->name : loop_name);
  if (in_claim_) f.claim_id = claim_->id;
  f.code = code;
  f.where = where;
  f.rejects = rejects;
  f.elements = std::move(elements);
  result_->segments.push_back(std::move(f));
}

void claim_walker::map(schema::loop context, const segment& seg) {
  using schema::loop;
  switch (context) {
    case loop::header:
      if (seg.is("BHT")) {
        model::copy_text(context_.envelope.originator_reference, seg.element(3));
        envelope_changed_ = true;
      }
      break;
    case loop::submitter_1000a:
      if (seg.is("NM1")) {
        map_name(seg, context_.envelope.submitter);
        model::copy_text(context_.envelope.submitter_id, seg.element(9));
        context_.envelope.submitter_is_person = seg.element(2) == "1";
        envelope_changed_ = true;
      }
      break;
    case loop::billing_2000a:
      if (seg.is("PRV")) map_provider(seg, context_.billing);
      break;
    case loop::billing_provider_2010aa:
      map_provider(seg, context_.billing);
      break;
    case loop::subscriber_2000b:
      if (seg.is("SBR")) model::copy_text(context_.claim_filing_indicator, seg.element(9));
      break;
    case loop::subscriber_name_2010ba:
      map_person(seg, context_.subscriber);
      break;
    case loop::payer_2010bb:
      if (seg.is("NM1")) model::copy_text(context_.payer_id, seg.element(9));
      break;
    case loop::patient_name_2010ca:
      map_person(seg, context_.patient);
      break;
    case loop::claim_2300:
      if (seg.is("CLM")) {
        model::copy_text(claim_->id, seg.element(1));
        claim_->total_charge_cents = parse_cents(seg.element(2));
        // A code with stray characters (a wrong component separator) is not a code: leave it
        // empty so the policy sees an unknown setting rather than a wrong one.
        const auto setting = seg.component(5, 1);
        const bool plain = std::all_of(setting.begin(), setting.end(), [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
        });
        // assign(), not copy_text(): one more call of it here and GCC 12 made the append
        // inside it a call everywhere (the parser 764 M -> 774 M instructions, callgrind).
        (institutional() ? claim_->facility_type : claim_->place_of_service)
            .assign(plain ? setting : std::string_view{});
        const auto frequency = seg.component(5, 3);
        claim_->frequency = frequency.size() == 1 ? frequency[0] : 0;
      } else if (seg.is("DTP") && seg.element(1) == "434") {
        claim_->statement_dates = parse_period(seg.element(2), seg.element(3));
      } else if (seg.is("HI")) {
        for (std::uint32_t e = 1; e <= seg.element_count(); ++e) {
          const auto qualifier = seg.component(e, 1);
          if (!diagnosis_qualifier(qualifier)) continue;
          claim_->diagnoses.push_back({std::string(qualifier), std::string(seg.component(e, 2))});
        }
      } else if (seg.is("REF") && seg.element(1) == "G1") {
        model::copy_text(claim_->prior_authorization, seg.element(2));
      } else if (seg.is("REF") && seg.element(1) == "F8") {
        model::copy_text(claim_->payer_claim_number, seg.element(2));
      } else if (seg.is("PWK")) {
        claim_->attachments.push_back(to_attachment(seg));
      }
      break;
    case loop::rendering_2310:
      map_provider(seg, claim_->rendering);
      break;
    case loop::attending_2310a:
      map_provider(seg, claim_->attending);
      break;
    case loop::line_2400: {
      if (!in_claim_ || lines_used_ == 0) break;
      auto& line = claim_->lines[lines_used_ - 1];
      if (seg.is("LX")) {
        std::from_chars(seg.element(1).data(), seg.element(1).data() + seg.element(1).size(),
                        line.number);
      } else if (seg.is("SV1") || seg.is("SV2")) {
        const bool sv2 = seg.is("SV2");
        const std::uint32_t procedure = sv2 ? 2 : 1;
        if (sv2) model::copy_text(line.revenue_code, seg.element(1));
        model::copy_text(line.procedure_qualifier, seg.component(procedure, 1));
        model::copy_text(line.procedure_code, seg.component(procedure, 2));
        for (std::uint32_t m = 3; m <= 6; ++m) {
          const auto modifier = seg.component(procedure, m);
          if (!modifier.empty()) line.modifiers.emplace_back(modifier);
        }
        line.charge_cents = parse_cents(seg.element(procedure + 1));
        model::copy_text(line.unit_basis, seg.element(procedure + 2));
        const auto units = seg.element(procedure + 3);
        // Whole units are the rule; only fractions need the general parser.
        line.units = units.find('.') == std::string_view::npos
                         ? static_cast<double>(parse_cents(units) / 100)
                         : parse_decimal(units);
        if (!sv2) model::copy_text(line.place_of_service, seg.element(5));
      } else if (seg.is("DTP") && seg.element(1) == "472") {
        line.service_dates = parse_period(seg.element(2), seg.element(3));
      } else if (seg.is("REF") && seg.element(1) == "6R") {
        model::copy_text(line.line_control_number, seg.element(2));
      } else if (seg.is("REF") && seg.element(1) == "G1") {
        model::copy_text(line.prior_authorization, seg.element(2));
      } else if (seg.is("PWK")) {
        line.attachments.push_back(to_attachment(seg));
      } else if (seg.is("CRC") && seg.element(1) == "09") {
        model::dme_condition condition;
        condition.response = seg.element(2) == "Y";
        for (std::uint32_t e = 3; e <= 7; ++e) {
          if (!seg.element(e).empty()) condition.codes.emplace_back(seg.element(e));
        }
        line.dme_conditions.push_back(std::move(condition));
      }
      break;
    }
    case loop::line_rendering_2420:
      if (in_claim_ && lines_used_ > 0) map_provider(seg, claim_->lines[lines_used_ - 1].rendering);
      break;
    case loop::ordering_2420e:
      if (in_claim_ && lines_used_ > 0) map_provider(seg, claim_->lines[lines_used_ - 1].ordering);
      break;
    default:
      break;
  }
}

}  // namespace covgate::x12
