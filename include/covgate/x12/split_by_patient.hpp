// Splits one 837 interchange into one interchange per patient, so a cluster front can route each
// patient's claims to the worker that owns the patient's partition. Pure: no I/O, no clocks.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/x12/interchange_reader.hpp"

namespace covgate::x12 {

/// One patient's share of the input.
struct patient_part {
  /// The subscriber's member id (2010BA NM109 with NM108 = MI), trimmed of blanks, as first
  /// written in the input. Parts are keyed case-insensitively: "ab1" and "AB1 " are one part.
  std::string patient_key;
  /// A complete interchange (ISA..IEA) holding only this patient's subscriber loops.
  std::string interchange;
  /// The input's transaction sets (ST/SE, 0-based across all groups) it was taken from.
  std::vector<std::size_t> source_sets;
};

struct split_result {
  /// One part per patient, in the order each patient first appears in the input.
  std::vector<patient_part> parts;
  /// "" when the split succeeded; otherwise why not, naming a segment and its position (segment
  /// ordinal and byte offset), never a data value. `parts` is then empty.
  std::string error;
  [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

struct split_options {
  /// ISA13 (and IEA02) of part `part_index` (0-based): must return nine digits. Parts need
  /// numbers of their own because a receiver rejects a repeated ISA13 from one sender as a
  /// duplicate. Empty: part i is numbered i + 1 ("000000001", "000000002", ...).
  std::function<std::string(std::size_t part_index)> control_number;
  /// How the input is read (limits, leniency) before it is split; the parts read cleanly with
  /// the same options.
  reader_options reader{};
};

/// Splits `interchange` by patient.
///
/// The input must be exactly one interchange that the 837 reader (`interchange_reader`, with
/// `options.reader`) accepts: no rejected interchange, group or set. Anything else is refused
/// with `error` set, because a set the reader rejects has no structure to split by.
///
/// For each patient (subscriber loop 2000B, keyed by 2010BA NM109) the part holds, per input
/// group and set with that patient's subscriber loops: the input's GS, the set's ST and header
/// (BHT, 1000A, 1000B: everything before the first HL), each billing provider loop (2000A with
/// its 2010AA/AB/AC) above the patient's subscriber loops, and those subscriber loops whole
/// (2010BA/BB, any patient loops 2000C, and their claims 2300). HL01 is renumbered from 1 in
/// each set, HL02 follows, HL04 says whether the HL has children in the part; SE01, GE01 and
/// IEA01 are recounted, SE02 = ST02, GE02 = GS06, ISA13 = IEA02 = options.control_number.
/// Every other byte (delimiters, terminators, line breaks) is copied from the input.
///
/// Findings the reader only notes (IK5 E) in the input may carry over into the parts; HL chain
/// findings do not, since HLs are renumbered. Bytes before the ISA (a byte order mark, prose) and
/// after the IEA's terminator and line break are not copied. Several interchanges in one input
/// are refused: split the stream at each ISA first. `options.control_number` is called once per
/// part, in part order; distinct numbers are the caller's business.
///
/// Costs one read by the 837 reader plus one tokenizing pass; the parts are assembled from views
/// of the input (allocations per part and per patient, none per element). Pure and reentrant:
/// no state outside the call.
[[nodiscard]] split_result split_by_patient(std::string_view interchange,
                                            const split_options& options = {});

}  // namespace covgate::x12
