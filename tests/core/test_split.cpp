// Issue 10: the paper's personalised split (special class and fraction p for A, the rest for
// B): disjoint parts that cover the set, the special class only in A, the fraction of every
// other class exact, seeded, and bad parameters refused.
#include <ATen/ATen.h>

#include <QtTest>

#include "common/otfuse_test.h"

#include <algorithm>
#include <set>

#include "otfuse/data/split.h"
#include "otfuse/error.h"

using namespace otfuse;

namespace {

// 1,000 labels in 10 classes of unequal sizes (class c has 55 + 2c ... roughly), seeded.
at::Tensor labels() {
  std::vector<int64_t> y;
  for (int c = 0; c < 10; ++c)
    for (int k = 0; k < 60 + 7 * c; ++k) y.push_back(c);
  at::Tensor t = at::tensor(y, at::kLong);
  return t.index_select(0, at::randperm(t.size(0), at::kLong));  // shuffled order
}

}  // namespace

class TestSplit : public QObject {
  Q_OBJECT
 private slots:
  void invariants_data() {
    QTest::addColumn<int>("special");
    QTest::addColumn<double>("fraction");
    QTest::newRow("paper default: class 4, 10 %") << 4 << 0.1;
    QTest::newRow("class 0, 25 %") << 0 << 0.25;
    QTest::newRow("class 9, 0 %") << 9 << 0.0;
    QTest::newRow("class 2, 100 %") << 2 << 1.0;
    QTest::newRow("class 7, 33.3 %") << 7 << 0.333;
  }
  void invariants() {
    QFETCH(int, special);
    QFETCH(double, fraction);
    const at::Tensor y = labels();
    const int64_t n = y.size(0);
    PersonalSplitOptions o;
    o.specialClass = special;
    o.fraction = fraction;
    o.seed = 3;
    const SplitIndices s = personalSplit(y, 10, o);
    // Disjoint and covering, each sorted.
    QVERIFY(std::is_sorted(s.a.begin(), s.a.end()));
    QVERIFY(std::is_sorted(s.b.begin(), s.b.end()));
    std::set<int64_t> all(s.a.begin(), s.a.end());
    QCOMPARE(all.size(), s.a.size());
    for (int64_t i : s.b) QVERIFY2(all.insert(i).second, "an index is in both parts");
    QCOMPARE(int64_t(all.size()), n);
    QCOMPARE(*all.begin(), int64_t(0));
    QCOMPARE(*all.rbegin(), n - 1);
    // Per class: the special class entirely in A; round(p n_c) of every other class in A.
    std::vector<int64_t> inA(10, 0), inB(10, 0), total(10, 0);
    for (int64_t i : s.a) ++inA[size_t(y[i].item<int64_t>())];
    for (int64_t i : s.b) ++inB[size_t(y[i].item<int64_t>())];
    for (int64_t i = 0; i < n; ++i) ++total[size_t(y[i].item<int64_t>())];
    for (int c = 0; c < 10; ++c) {
      if (c == special) {
        QCOMPARE(inA[size_t(c)], total[size_t(c)]);
        QCOMPARE(inB[size_t(c)], int64_t(0));
      } else {
        QCOMPARE(inA[size_t(c)], int64_t(std::llround(fraction * double(total[size_t(c)]))));
      }
    }
  }

  void seeded() {
    const at::Tensor y = labels();
    PersonalSplitOptions o;
    const SplitIndices s0 = personalSplit(y, 10, o), again = personalSplit(y, 10, o);
    QVERIFY(s0.a == again.a && s0.b == again.b);
    o.seed = 1;
    const SplitIndices s1 = personalSplit(y, 10, o);
    QCOMPARE(s1.a.size(), s0.a.size());  // same sizes, other examples
    QVERIFY(s1.a != s0.a);
  }

  void badParameters() {
    const at::Tensor y = labels();
    PersonalSplitOptions o;
    o.specialClass = 10;
    QVERIFY_THROWS_EXCEPTION(Error, personalSplit(y, 10, o));
    o.specialClass = -1;
    QVERIFY_THROWS_EXCEPTION(Error, personalSplit(y, 10, o));
    o.specialClass = 4;
    for (double bad : {-0.1, 1.5, std::nan("")}) {
      o.fraction = bad;
      QVERIFY_THROWS_EXCEPTION(Error, personalSplit(y, 10, o));
    }
    try {
      o.fraction = 2;
      personalSplit(y, 10, o);
      QFAIL("no error");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("[0, 1]"), e.what());
    }
  }

  // subsetOf keeps the examples asked for, in that order, and the dataset's description.
  void subsetKeepsExamples() {
    Dataset d;
    d.name = "toy";
    d.source = "memory";
    d.classes = {"a", "b"};
    d.mean = {0.5f};
    d.std = {0.5f};
    d.images = at::arange(5 * 4, at::kByte).view({5, 1, 2, 2});
    d.labels = at::tensor(std::vector<int64_t>{0, 1, 0, 1, 1}, at::kLong);
    Dataset s = subsetOf(d, {4, 1, 2}, "part A");
    QCOMPARE(s.size(), 3LL);
    QVERIFY(at::equal(s.labels, at::tensor(std::vector<int64_t>{1, 1, 0}, at::kLong)));
    QVERIFY(at::equal(s.images[0], d.images[4]));
    QVERIFY(at::equal(s.images[2], d.images[2]));
    QCOMPARE(s.classes, d.classes);
    QVERIFY(QString::fromStdString(s.source).contains("part A"));
  }

  void metadataRecordsTheSplit() {
    PersonalSplitOptions o;
    o.fraction = 0.1;
    o.seed = 5;
    auto md = personalSplitMetadata(o, 'B', 1234);
    QCOMPARE(md.at("split"), std::string("personal"));
    QCOMPARE(md.at("split_part"), std::string("B"));
    QCOMPARE(md.at("special_class"), std::string("4"));
    QCOMPARE(md.at("split_fraction"), std::string("0.1"));
    QCOMPARE(md.at("split_seed"), std::string("5"));
    QCOMPARE(md.at("train_size"), std::string("1234"));
  }
};

OTFUSE_TEST_MAIN_APPLESS(TestSplit)
#include "test_split.moc"
