// Runtime settings and StateDict basics.
#include <ATen/ATen.h>

#include <QtTest>

#include "common/otfuse_test.h"

#include "otfuse/error.h"
#include "otfuse/io/state_dict.h"
#include "otfuse/runtime.h"

class TestRuntime : public QObject {
  Q_OBJECT
 private slots:
  void threadsFollowEnvironment() {
    qputenv("OTFUSE_THREADS", "2");
    QCOMPARE(otfuse::initRuntime(), 2);
    qputenv("OTFUSE_THREADS", "0");
    QVERIFY_THROWS_EXCEPTION(otfuse::Error, otfuse::initRuntime());
    qunsetenv("OTFUSE_THREADS");
    QVERIFY(otfuse::initRuntime() >= 1);
  }
  void stateDictKeepsOrderAndReplaces() {
    otfuse::StateDict sd;
    sd.set("b", at::zeros({2}));
    sd.set("a", at::ones({3}));
    sd.set("b", at::ones({4}));
    QCOMPARE(sd.size(), size_t(2));
    QCOMPARE(sd.keys().front(), std::string("b"));
    QCOMPARE(sd.at("b").numel(), 4);
    QVERIFY_THROWS_EXCEPTION(otfuse::Error, sd.at("missing"));
  }
  void cancelFlagThrows() {
    otfuse::CancelFlag flag{false};
    otfuse::throwIfCancelled(&flag);
    otfuse::throwIfCancelled(nullptr);
    flag = true;
    QVERIFY_THROWS_EXCEPTION(otfuse::Cancelled, otfuse::throwIfCancelled(&flag));
  }
};

OTFUSE_TEST_MAIN_APPLESS(TestRuntime)
#include "test_runtime.moc"
