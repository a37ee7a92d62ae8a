#pragma once
// Tiny helpers for the --json output of the otfuse commands (strings escaped, numbers finite).
#include <cmath>
#include <cstdio>
#include <string>

namespace otfuse::cli {

inline std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  return out + "\"";
}

/// A number with up to `digits` significant digits; null for NaN/inf (not valid JSON numbers).
inline std::string jsonNumber(double v, int digits = 10) {
  if (!std::isfinite(v)) return "null";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

}  // namespace otfuse::cli
