// Sweeps and collect (issue 10, section 5) without any dataset: point enumeration and names,
// the emitted command lines, and collect's mean ± std on hand-written results (numbers checked
// by hand), its grouping, and its refusal of corrupt files, naming them.
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include "common/otfuse_test.h"
#include "otfuse/engine/sweep.h"
#include "otfuse/error.h"

using namespace otfuse;

namespace {

void write(const QString& path, const std::string& text) {
  std::ofstream(path.toStdString()) << text;
}

// A result as `otfuse fuse --json-out` writes it (only what collect reads).
std::string result(const std::string& mode, const std::string& solver, double t, int seed,
                   double fusedAcc, double fusedLoss, const std::string& a = "/m/a.pt",
                   const std::string& b = "/m/b.pt") {
  return "{\n  \"summary\": {\"models\": [\"" + a + "\", \"" + b +
         "\"], \"anchor\": 1, \"weights\": [0.5, 0.5], \"architecture\": \"mlp:32\", "
         "\"dataset\": \"mnist\", \"dataset_source\": \"given\", \"mode\": \"" + mode +
         "\", \"solver\": \"" + solver + "\", \"epsilon\": 0.01, \"t\": " + std::to_string(t) +
         ", \"samples\": 0, \"seed\": " + std::to_string(seed) +
         "},\n  \"plans\": {\"status\": \"optimal\"},\n  \"accuracy\": {\"model_0\": 90, "
         "\"model_1\": 91, \"ensemble\": 92.5, \"vanilla\": 50, \"fused\": " +
         std::to_string(fusedAcc) + "},\n  \"loss\": {\"model_0\": 0.3, \"model_1\": 0.3, "
         "\"ensemble\": 0.25, \"vanilla\": 1.5, \"fused\": " + std::to_string(fusedLoss) + "}\n}\n";
}

}  // namespace

class TestSweep : public QObject {
  Q_OBJECT
 private slots:
  void enumerationIsTheCartesianProduct() {
    SweepAxes axes;
    axes.pairs = {{"/m/a.pt", "/m/b.pt"}};
    axes.modes = {"weights", "activations"};
    axes.solvers = {"exact", "sinkhorn"};
    axes.epsilons = {0.01, 0.05};
    axes.ts = {0.5, 0.7};
    axes.seeds = {0, 1, 2};
    const auto points = enumerateSweep(axes);
    // modes 2 x (exact 1 + sinkhorn 2 eps) x t 2 x seeds 3
    QCOMPARE(int(points.size()), 2 * 3 * 2 * 3);
    QCOMPARE(points.front().fileName, std::string("a--b_weights_exact_t0.5_seed0.json"));
    QCOMPARE(points.back().fileName, std::string("a--b_activations_sinkhorn_eps0.05_t0.7_seed2.json"));
    std::set<std::string> names;
    for (const auto& p : points) names.insert(p.fileName);
    QCOMPARE(names.size(), points.size());
    QCOMPARE(enumerateSweep(axes)[17].fileName, points[17].fileName);  // stable
    axes.pairs.push_back({"/m/c.pt", "/m/d.pt"});
    QCOMPARE(enumerateSweep(axes).back().fileName,
             std::string("pair1_c--d_activations_sinkhorn_eps0.05_t0.7_seed2.json"));
    axes.seeds = {1, 1};
    QVERIFY_THROWS_EXCEPTION(Error, enumerateSweep(axes));
    axes.seeds = {0};
    axes.modes = {"weigths"};
    QVERIFY_THROWS_EXCEPTION(Error, enumerateSweep(axes));
    axes.modes = {"weights"};
    axes.ts = {1.5};
    QVERIFY_THROWS_EXCEPTION(Error, enumerateSweep(axes));
  }

  void jobLinesAreQuotedCommands() {
    QCOMPARE(shellQuote("plain/path-1.pt"), std::string("plain/path-1.pt"));
    QCOMPARE(shellQuote("it's here"), std::string("'it'\\''s here'"));
    SweepAxes axes;
    axes.pairs = {{"/m/my model.pt", "/m/b.pt"}};
    axes.modes = {"activations"};
    SweepCommon common;
    common.samples = 50;
    const std::string text = jobsFileText(enumerateSweep(axes), common, "/usr/bin/otfuse", "/r");
    QCOMPARE(text, std::string("OTFUSE_THREADS=1 /usr/bin/otfuse fuse --dataset mnist --mode "
                               "activations --solver exact --t 0.5 --seed 0 --samples 50 "
                               "--bn-batches 20 --no-progress --json-out "
                               "/r/my_model--b_activations_exact_t0.5_seed0.json "
                               "'/m/my model.pt' /m/b.pt\n"));
    const std::string sbatch = slurmScriptText("/r/jobs.txt", 7, "/r");
    QVERIFY(sbatch.find("#SBATCH --array=1-7\n") != std::string::npos);
    QVERIFY(sbatch.find("${SLURM_ARRAY_TASK_ID}p") != std::string::npos);
  }

  void collectGroupsBySettingsAndAveragesOverSeeds() {
    QTemporaryDir dir;
    // weights/exact over seeds 0,1,2: fused 90, 92, 94 -> mean 92, sample std 2
    write(dir.filePath("w0.json"), result("weights", "exact", 0.5, 0, 90, 0.4));
    write(dir.filePath("w1.json"), result("weights", "exact", 0.5, 1, 92, 0.5));
    write(dir.filePath("w2.json"), result("weights", "exact", 0.5, 2, 94, 0.6));
    // another t: its own configuration, one run (no std)
    write(dir.filePath("t7.json"), result("weights", "exact", 0.7, 0, 80, 0.9));
    write(dir.filePath("notes.txt"), "not a result");
    const CollectResult r = collectResults(dir.path().toStdString());
    QCOMPARE(r.files, size_t(4));
    QCOMPARE(r.ignored, std::vector<std::string>{"notes.txt"});
    QCOMPARE(int(r.configs.size()), 2);
    const ConfigStats& c = r.configs[0];
    QCOMPARE(c.title, std::string("weights, exact, t = 0.5: a.pt + b.pt"));
    QCOMPARE(c.seeds, (std::vector<uint64_t>{0, 1, 2}));
    QCOMPARE(int(c.rows.size()), 5);
    QCOMPARE(c.rows[0].label, std::string("model A"));
    QCOMPARE(c.rows[4].label, std::string("OT fusion"));
    QCOMPARE(c.rows[4].accuracyMean, 92.0);
    QCOMPARE(*c.rows[4].accuracyStd, 2.0);
    QVERIFY(std::abs(c.rows[4].lossMean - 0.5) < 1e-12);
    QVERIFY(std::abs(*c.rows[4].lossStd - 0.1) < 1e-12);
    QCOMPARE(*c.rows[0].accuracyStd, 0.0);
    QVERIFY(!r.configs[1].rows[4].accuracyStd.has_value());
    const std::string text = collectTableText(r);
    const size_t row = text.find("  OT fusion ");
    QVERIFY(row != std::string::npos);
    QVERIFY2(text.substr(row, text.find('\n', row) - row).find(" 92.00 ±  2.00 ") != std::string::npos,
             text.c_str());
    QVERIFY(text.find("±   n/a") != std::string::npos);

    // Across pairs (table-one): different model files are replicates of one configuration.
    QTemporaryDir pairs;
    write(pairs.filePath("p0.json"), result("weights", "exact", 0.5, 0, 90, 0.4, "/m/s0.pt", "/m/s1.pt"));
    write(pairs.filePath("p1.json"), result("weights", "exact", 0.5, 1, 94, 0.4, "/m/s2.pt", "/m/s3.pt"));
    QCOMPARE(int(collectResults(pairs.path().toStdString()).configs.size()), 2);
    CollectOptions across;
    across.acrossModels = true;
    const CollectResult a = collectResults(pairs.path().toStdString(), across);
    QCOMPARE(int(a.configs.size()), 1);
    QCOMPARE(a.configs[0].rows[4].accuracyMean, 92.0);
    QCOMPARE(a.configs[0].title, std::string("weights, exact, t = 0.5, 2 model pairs"));
  }

  void collectNamesCorruptFiles() {
    QTemporaryDir dir;
    write(dir.filePath("good.json"), result("weights", "exact", 0.5, 0, 90, 0.4));
    write(dir.filePath("broken.json"), result("weights", "exact", 0.5, 1, 92, 0.5).substr(0, 120));
    auto messageOf = [&]() -> std::string {
      try {
        collectResults(dir.path().toStdString());
      } catch (const FileError& e) {
        return e.what();
      }
      return "";
    };
    std::string m = messageOf();
    QVERIFY2(m.find("broken.json") != std::string::npos && m.find("not valid JSON") != std::string::npos, m.c_str());
    write(dir.filePath("broken.json"), "{\"summary\": {}, \"accuracy\": {\"fused\": 1}}");
    m = messageOf();
    QVERIFY2(m.find("broken.json") != std::string::npos && m.find("not an otfuse fuse result") != std::string::npos,
             m.c_str());
    write(dir.filePath("broken.json"), result("weights", "exact", 0.5, 0, 90, 0.4));  // = good.json
    m = messageOf();
    QVERIFY2(m.find("repeats the run of") != std::string::npos, m.c_str());
    QTemporaryDir empty;
    QVERIFY_THROWS_EXCEPTION(FileError, collectResults(empty.path().toStdString()));
  }
};

OTFUSE_TEST_MAIN_APPLESS(TestSweep)
#include "test_sweep.moc"
