#pragma once
// Error types of the OTFuse core. Exceptions are for broken input (files, shapes) and
// programmer errors; expected outcomes (an infeasible OT problem, a cancelled run) are
// reported through status values instead.
#include <stdexcept>
#include <string>

namespace otfuse {

/// A problem with user input: a file that cannot be read, a model that does not fit an
/// architecture, an unknown option. what() is a complete sentence meant for the user and
/// names the file or object concerned.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// Error tied to one file: what() reads "<path>: <problem>".
class FileError : public Error {
 public:
  FileError(std::string path, const std::string& problem)
      : Error(path + ": " + problem), path_(std::move(path)), problem_(problem) {}
  const std::string& path() const { return path_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string path_;
  std::string problem_;
};

/// Thrown by long computations when their cancellation flag was set.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

}  // namespace otfuse
