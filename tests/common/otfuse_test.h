#pragma once
// What every OTFuse Qt Test shares (issue 8, "Honest tests"):
//
// - OTFUSE_SKIP(why) instead of QSKIP: it also counts the skip, and the test's main() then
//   exits with kSkipExitCode (77) when nothing failed but something was skipped, so CTest
//   reports the run as "Skipped" (SKIP_RETURN_CODE 77) instead of "Passed". A bare QSKIP would
//   exit 0; tests/CMakeLists.txt refuses sources that use it.
// - sharedDir(): the read-only shared/ folder, from the environment variable OTFUSE_SHARED_DIR
//   when set, else the configure-time default (../shared beside the project).
// - Suites: one executable may hold several test classes; `--suite NAME` (first argument)
//   picks one, so cases that need the paper's files are their own CTest entry
//   (e.g. test_fusion and test_fusion_paper) and skip on their own.
#include <QString>
#include <QtTest>

#include <utility>
#include <vector>

namespace otfuse::test {

constexpr int kSkipExitCode = 77;

/// Number of OTFUSE_SKIPs so far in this process.
int& skipCount();

/// OTFUSE_SHARED_DIR from the environment, else the compiled-in default.
QString sharedDir();
std::string sharedPath(const QString& relative);  // sharedDir() + "/" + relative

/// Runs the suite named by a leading `--suite NAME` argument (default: the first one) with
/// the remaining arguments; returns Qt Test's failure count, or kSkipExitCode when nothing
/// failed and at least one function or row was skipped.
int runSuites(int argc, char** argv, const std::vector<std::pair<QString, QObject*>>& suites);

/// Factor for latency bounds (UI stalls, cancel delays): OTFUSE_TEST_TIME_SCALE when set, else
/// 4 in an AddressSanitizer build (instrumented OT and Eigen code runs ~10x slower, so one
/// uninterruptible layer takes ~1 s instead of ~0.1 s), else 1. Memory errors, not speed, are
/// what a sanitizer run checks; the bounds stay as written in the normal build.
int timeScale();

}  // namespace otfuse::test

#define OTFUSE_SKIP(why)            \
  do {                              \
    ++::otfuse::test::skipCount();  \
    QSKIP(why);                     \
  } while (false)

// main() for a test of one class (core tests: no QApplication) ...
#define OTFUSE_TEST_MAIN_APPLESS(Class)                         \
  int main(int argc, char** argv) {                             \
    Class tc;                                                   \
    return ::otfuse::test::runSuites(argc, argv, {{"", &tc}});  \
  }
// ... and of a main class plus a second suite `--suite Name` (e.g. "paper": needs shared/).
#define OTFUSE_TEST_SUITES_APPLESS(Class, name, Class2)                               \
  int main(int argc, char** argv) {                                                   \
    Class tc;                                                                         \
    Class2 tc2;                                                                       \
    return ::otfuse::test::runSuites(argc, argv, {{"", &tc}, {QString(name), &tc2}}); \
  }
// Widget tests: a QApplication first (what QTEST_MAIN does), then the suites.
#define OTFUSE_TEST_SUITES_GUI(Class, name, Class2)                                   \
  int main(int argc, char** argv) {                                                   \
    QApplication app(argc, argv);                                                     \
    app.setAttribute(Qt::AA_Use96Dpi, true);                                          \
    Class tc;                                                                         \
    Class2 tc2;                                                                       \
    return ::otfuse::test::runSuites(argc, argv, {{"", &tc}, {QString(name), &tc2}}); \
  }
#define OTFUSE_TEST_MAIN_GUI(Class)                             \
  int main(int argc, char** argv) {                             \
    QApplication app(argc, argv);                               \
    app.setAttribute(Qt::AA_Use96Dpi, true);                    \
    Class tc;                                                   \
    return ::otfuse::test::runSuites(argc, argv, {{"", &tc}});  \
  }
