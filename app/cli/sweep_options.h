#pragma once
// Parsing of the sweep axes on the command line (otfuse sweep, otfuse scenario table-one).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace otfuse::cli {

/// "a,b,c" -> {a, b, c}; an empty item is an Error naming --option.
std::vector<std::string> splitList(const std::string& value, const std::string& option);
/// Comma-separated numbers; Error naming --option on anything else.
std::vector<double> parseNumberList(const std::string& value, const std::string& option);
/// Comma-separated non-negative integers and ranges "a-b" (inclusive).
std::vector<uint64_t> parseSeedList(const std::string& value);
/// One "A B" pair of model files per line; blank lines and "#" comments skipped. FileError
/// naming the file and line otherwise.
std::vector<std::pair<std::string, std::string>> readPairsFile(const std::string& path);

}  // namespace otfuse::cli
