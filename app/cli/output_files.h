#pragma once
// Output destinations of the otfuse commands, checked before any work so that a typo costs
// nothing and no output is half done when another one fails.
#include <string>

namespace otfuse::cli {

/// `path` can be written: its folder exists and is writable, and it is not a folder. Throws
/// FileError naming the file and --`option`.
void checkOutputFile(const std::string& option, const std::string& path);
/// `path` is a folder or can be created (its parent exists). Throws FileError.
void checkOutputFolder(const std::string& option, const std::string& path);

}  // namespace otfuse::cli
