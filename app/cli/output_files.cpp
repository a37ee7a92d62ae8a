#include "output_files.h"

#include <unistd.h>

#include <filesystem>

#include "otfuse/error.h"

namespace otfuse::cli {

void checkOutputFile(const std::string& option, const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty()) throw Error("--" + option + " expects a file name");
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw FileError(path, "the folder " + dir.string() + " does not exist (--" + option + ")");
  if (fs::is_directory(p, ec))
    throw FileError(path, "is a folder; --" + option + " expects a file name");
  if (::access(dir.c_str(), W_OK) != 0)
    throw FileError(path, "cannot write in the folder " + dir.string() + " (--" + option + ")");
}

void checkOutputFolder(const std::string& option, const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty()) throw Error("--" + option + " expects a folder name");
  std::error_code ec;
  const fs::path p(path);
  if (fs::exists(p, ec)) {
    if (!fs::is_directory(p, ec))
      throw FileError(path, "exists and is not a folder (--" + option + ")");
    return;
  }
  const fs::path parent = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec))
    throw FileError(path, "cannot be created: the folder " + parent.string() +
                              " does not exist (--" + option + ")");
}

}  // namespace otfuse::cli
