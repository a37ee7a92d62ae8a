// libFuzzer target: OTFuse Studio session files (ui/main_window/session_file.cpp, Qt's JSON
// parser underneath), read through SessionFile::parse as SessionFile::load does.
#include <QByteArray>
#include <QString>

#include "fuzz_common.h"
#include "main_window/session_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const QString name = QStringLiteral("fuzz.otfsession");
  const QByteArray bytes(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
  otfuse::fuzz::expectCleanFailure(name.toStdString(), [&] {
    otfuse::ui::SessionFile s = otfuse::ui::SessionFile::parse(bytes, name);
    (void)s.settings.toJson();
  });
  return 0;
}
