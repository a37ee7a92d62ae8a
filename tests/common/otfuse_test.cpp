#include "common/otfuse_test.h"

#include <QByteArray>
#include <QCoreApplication>
#include <cstdio>

#ifndef OTFUSE_SHARED_DIR
#error "OTFUSE_SHARED_DIR (the configure-time default of the shared folder) must be defined"
#endif

namespace otfuse::test {

int& skipCount() {
  static int count = 0;
  return count;
}

QString sharedDir() {
  const QString fromEnv = qEnvironmentVariable("OTFUSE_SHARED_DIR");
  return fromEnv.isEmpty() ? QString(OTFUSE_SHARED_DIR) : fromEnv;
}

std::string sharedPath(const QString& relative) {
  return (sharedDir() + "/" + relative).toStdString();
}

int runSuites(int argc, char** argv, const std::vector<std::pair<QString, QObject*>>& suites) {
  std::vector<char*> args(argv, argv + argc);
  QObject* chosen = suites.empty() ? nullptr : suites.front().second;
  QString chosenName = suites.empty() ? QString() : suites.front().first;
  if (args.size() >= 3 && QByteArray(args[1]) == "--suite") {
    chosen = nullptr;
    for (const auto& [name, object] : suites)
      if (name == QString::fromLocal8Bit(args[2])) {
        chosen = object;
        chosenName = name;
      }
    if (!chosen) {
      std::fprintf(stderr, "unknown suite '%s'; this test has:", args[2]);
      for (const auto& s : suites) std::fprintf(stderr, " %s", qPrintable(s.first));
      std::fprintf(stderr, "\n");
      return 2;
    }
    args.erase(args.begin() + 1, args.begin() + 3);
  }
  if (!chosen) return 2;
  const int failed = QTest::qExec(chosen, int(args.size()), args.data());
  if (failed != 0) return failed;
  if (skipCount() > 0) {
    std::printf("SKIPPED: %d test function(s) or row(s) of suite '%s' were skipped (see the "
                "SKIP lines above); nothing failed\n",
                skipCount(), qPrintable(chosenName));
    std::fflush(stdout);
    return kSkipExitCode;
  }
  return 0;
}

int timeScale() {
  bool ok = false;
  const int fromEnv = qEnvironmentVariableIntValue("OTFUSE_TEST_TIME_SCALE", &ok);
  if (ok && fromEnv > 0) return fromEnv;
#if defined(__SANITIZE_ADDRESS__)
  return 4;
#else
  return 1;
#endif
}

}  // namespace otfuse::test
