#include "sweep_options.h"

#include <fstream>
#include <sstream>

#include "otfuse/error.h"

namespace otfuse::cli {

std::vector<std::string> splitList(const std::string& value, const std::string& option) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = value.find(',', start);
    std::string item = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty())
      throw Error("--" + option + " expects a comma-separated list, got '" + value + "'");
    out.push_back(item);
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::vector<double> parseNumberList(const std::string& value, const std::string& option) {
  std::vector<double> out;
  for (const auto& item : splitList(value, option)) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size())
      throw Error("--" + option + " expects numbers separated by commas, got '" + value + "'");
    out.push_back(v);
  }
  return out;
}

std::vector<uint64_t> parseSeedList(const std::string& value) {
  std::vector<uint64_t> out;
  auto number = [&](const std::string& s) -> uint64_t {
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
      throw Error("--seeds expects non-negative integers or ranges like 0-4, got '" + value + "'");
    return std::stoull(s);
  };
  for (const auto& item : splitList(value, "seeds")) {
    const size_t dash = item.find('-');
    if (dash == std::string::npos) {
      out.push_back(number(item));
      continue;
    }
    const uint64_t from = number(item.substr(0, dash)), to = number(item.substr(dash + 1));
    if (to < from || to - from > 10000)
      throw Error("--seeds: the range '" + item + "' is empty or too long");
    for (uint64_t s = from; s <= to; ++s) out.push_back(s);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> readPairsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw FileError(path, "cannot be opened (--pairs)");
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    if (w.empty()) continue;
    if (w.size() != 2)
      throw FileError(path, "line " + std::to_string(number) + ": expected two model files \"A B\", found " +
                                std::to_string(w.size()) + " words");
    pairs.emplace_back(w[0], w[1]);
  }
  if (pairs.empty()) throw FileError(path, "lists no model pair (one \"A B\" per line)");
  return pairs;
}

}  // namespace otfuse::cli
