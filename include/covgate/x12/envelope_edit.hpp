// Whole interchanges as text: cutting a stream at each ISA, and renumbering an interchange's
// control number. A cluster front needs both: it routes each interchange of a message by
// itself, and the answers it assembles from several workers must not repeat a control number
// (each worker numbers its own answers). Pure: no I/O, no allocation beyond the results.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace covgate::x12 {

/// The interchanges of `stream` in order, each from its ISA to the end of its IEA segment
/// (the terminator and a line break after it included). Bytes before the first ISA, and
/// between one IEA and the next ISA, belong to the piece that follows them, so that the
/// reader sees and reports them. Cutting stops where the envelope cannot be followed (an ISA
/// without its sixteen elements, no IEA): the rest is one piece, for the reader to refuse with
/// its own finding. Every byte of `stream` is in exactly one piece; "" gives no piece.
[[nodiscard]] std::vector<std::string_view> split_interchanges(std::string_view stream);

/// GS01 of the interchange's first functional group: "HN" for a 277, "FA" for a 999; "" when
/// it has no group (a TA1 alone) or its envelope cannot be followed.
[[nodiscard]] std::string_view first_functional_id(std::string_view interchange);

/// Rewrites ISA13 and IEA02 of the interchange to `control` (exactly nine digits). Returns
/// false, leaving `interchange` as it was, when `control` is not nine digits or the envelope
/// cannot be followed (no ISA with sixteen elements, no IEA with a second element of nine
/// characters).
bool set_interchange_control(std::string& interchange, std::string_view control);

}  // namespace covgate::x12
