#pragma once
// Shared by the libFuzzer targets (tests/fuzz): what a target may throw, and temporary files
// for the readers that take a path (written under /dev/shm when it exists: no disk I/O).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "otfuse/error.h"

namespace otfuse::fuzz {

/// A folder of this process's own, removed at exit.
inline const std::filesystem::path& scratchDir() {
  static const std::filesystem::path dir = [] {
    std::error_code ec;
    std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : std::filesystem::temp_directory_path();
    std::string templ = (base / "otfuse-fuzz-XXXXXX").string();
    if (!::mkdtemp(templ.data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    static std::string toRemove;
    toRemove = templ;
    std::atexit([] {
      std::error_code e;
      std::filesystem::remove_all(toRemove, e);
    });
    return std::filesystem::path(templ);
  }();
  return dir;
}

/// Writes `size` bytes to scratchDir()/name (replacing it) and returns the path.
inline std::string writeScratch(const std::string& name, const uint8_t* data, size_t size) {
  const std::filesystem::path p = scratchDir() / name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", p.c_str());
    std::abort();
  }
  return p.string();
}

/// The readers' contract: a bad file gives otfuse::FileError whose message names the file.
/// Anything else escaping (another exception type, a FileError for another path) is a bug:
/// abort so that libFuzzer records the input.
template <typename F>
void expectCleanFailure(const std::string& path, F&& read) {
  try {
    read();
  } catch (const otfuse::FileError& e) {
    const std::string what = e.what();
    if (what.find(path) == std::string::npos) {
      std::fprintf(stderr, "FileError does not name the file %s: %s\n", path.c_str(), e.what());
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "escaped exception (not otfuse::FileError): %s\n", e.what());
    std::abort();
  }
}

}  // namespace otfuse::fuzz
