#pragma once
// Text forms shared by the files the core writes (checkpoint metadata, JSON and CSV results).
#include <string>

namespace otfuse {

/// The shortest "%g" text that reads back (strtod) as exactly `v`: 0.1 -> "0.1", 96.31 ->
/// "96.31", 1/3 -> "0.33333333333333331". Non-finite values print as printf does ("nan", "inf").
std::string shortestNumber(double v);

/// `s` as a JSON string literal: quotes, with '"' and '\' escaped and control characters as
/// \u00XX; other bytes (UTF-8) unchanged.
std::string jsonQuoted(const std::string& s);

}  // namespace otfuse
