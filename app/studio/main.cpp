// otfuse-studio: the desktop app. Thin: command-line parsing, then the main window.
//   otfuse-studio [MODEL...]                 open models (two or more to fuse)
//   otfuse-studio A B C --screenshot DIR     fuse all of them (A, the first, is the anchor)
//   otfuse-studio --demo                     train/reuse two MNIST MLPNets, fuse, show heatmaps
//   otfuse-studio --demo --demo-split personal:4:10   the same on a personal split (A: every 4
//                                            and 10 % of the rest; B: the rest)
//   otfuse-studio ... --screenshot DIR       run, compute the curves, save every view, exit
//                     [--no-curves]          (skip the curves: quick on big models)
//                     [--finetune-epochs N]  (instead: fine-tune, save DIR/finetune_tab.png)
//                     [--compare-maps METHOD]  (instead: compare the methods, save the plan
//                                            and matching tabs showing METHOD's maps)
//   otfuse-studio --skill-transfer DIR [--skill-epochs N] [--skill-seeds K] [--screenshot OUT]
//                                            run the skill-transfer scenario (parents kept in
//                                            DIR), show it; with --screenshot save it and exit
#include <qcustomplot.h>
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QMessageBox>
#include <QSettings>
#include <QTabWidget>
#include <QTimer>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "compare/compare_view.h"
#include "finetune/finetune_view.h"
#include "heatmap/plan_heatmap_view.h"
#include "main_window/main_window.h"
#include "matching/neuron_matching_view.h"
#include "otfuse/runtime.h"
#include "settings/settings_form.h"
#include "skill_transfer/skill_transfer_view.h"

namespace {

// Saves the window as it looks now to `file` (PNG) and prints the path; false when it cannot.
bool saveWindowShot(QWidget& window, const QString& file) {
  if (!window.grab().save(file, "PNG", 0)) return false;
  std::printf("%s\n", qPrintable(file));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  otfuse::preferPassiveOpenMpWait(argv);
  QApplication app(argc, argv);
  QApplication::setOrganizationName("OTFuse");
  QApplication::setApplicationName("OTFuse Studio");
  QApplication::setApplicationVersion("0.1.0");

  QCommandLineParser parser;
  parser.setApplicationDescription("OTFuse Studio: model fusion via optimal transport.");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument("models", "Model files to open (two or more to fuse).",
                               "[MODEL...]");
  QCommandLineOption demo("demo",
                          "Set up the MNIST demo: train (or reuse) two MLPNets, fuse "
                          "them and show the transport plans.");
  QCommandLineOption screenshot("screenshot",
                                "Run the fusion of the given models (all of them onto the default "
                                "anchor) or of the demo's, compute the "
                                "accuracy curves, save every view as PNG into DIR and exit.",
                                "DIR");
  QCommandLineOption noCurves("no-curves",
                              "With --screenshot: skip the accuracy curves (they evaluate the "
                              "test set dozens of times: minutes for a CIFAR-10 VGG).");
  QCommandLineOption dataDir("data-dir", "Folder holding the datasets.", "DIR");
  QCommandLineOption finetuneEpochs(
      "finetune-epochs",
      "With --screenshot: instead of the curves, fine-tune OT fusion and the vanilla average for "
      "N epochs (the Fine-tuning tab's settings) and save that tab as DIR/finetune_tab.png.",
      "N");
  QCommandLineOption demoSplit(
      "demo-split",
      "With --demo: train the demo's parents on a personal split (the paper's skill-transfer "
      "setting): A on every example of digit CLASS plus PERCENT % of the others, B on the rest. "
      "SPEC is personal, personal:CLASS or personal:CLASS:PERCENT (default 4 and 10).",
      "SPEC");
  QCommandLineOption compareMaps(
      "compare-maps",
      "With --screenshot: instead of the curves, compare the alignment methods (the Compare "
      "tab) and save the Transport plans and Neuron matching tabs showing METHOD's maps "
      "(vanilla, ot-weights, ot-activations, ot-sinkhorn, weight-matching, activation-matching) "
      "as DIR/compare-maps-heatmap.png and DIR/compare-maps-matching.png.",
      "METHOD");
  parser.addOption(compareMaps);
  parser.addOption(finetuneEpochs);
  parser.addOption(demo);
  parser.addOption(demoSplit);
  parser.addOption(screenshot);
  parser.addOption(noCurves);
  QCommandLineOption skill("skill-transfer",
                           "Run the skill-transfer scenario with the defaults of Run > Skill "
                           "transfer (MLPNet on MNIST, special class 4, 10 %, t = 0.5, 0.7, "
                           "0.9), trained parents kept in DIR, and show it. With --screenshot: "
                           "save OUT/skill_transfer.png and exit.",
                           "DIR");
  QCommandLineOption skillEpochs("skill-epochs", "Epochs per parent (default 10).", "N", "10");
  QCommandLineOption skillSeeds("skill-seeds", "Seeds (default 1).", "K", "1");
  parser.addOption(dataDir);
  parser.addOption(skill);
  parser.addOption(skillEpochs);
  parser.addOption(skillSeeds);
  parser.process(app);

  try {
    otfuse::initRuntime();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "otfuse-studio: %s\n", e.what());
    return 2;
  }

  otfuse::DemoOptions demoOptions;
  if (parser.isSet(demoSplit)) {
    const QStringList parts = parser.value(demoSplit).split(':');
    bool ok = parts.size() <= 3 && parts[0] == "personal";
    if (ok && parts.size() >= 2) {
      demoOptions.specialClass = parts[1].toInt(&ok);
      ok = ok && demoOptions.specialClass >= 0 && demoOptions.specialClass <= 9;
    }
    if (ok && parts.size() == 3) {
      const double percent = parts[2].toDouble(&ok);
      ok = ok && percent >= 0 && percent <= 100;
      demoOptions.fraction = percent / 100;
    }
    if (!ok || !parser.isSet(demo)) {
      std::fprintf(stderr,
                   "otfuse-studio: --demo-split '%s': expected personal, personal:CLASS or "
                   "personal:CLASS:PERCENT (CLASS a digit 0-9, PERCENT in 0-100), with --demo\n",
                   qPrintable(parser.value(demoSplit)));
      return 2;
    }
    demoOptions.personalSplit = true;
  }

  otfuse::ui::MainWindow window;
  if (parser.isSet(dataDir)) {
    auto s = window.settingsForm()->settings();
    s.dataDir = parser.value(dataDir);
    window.settingsForm()->setSettings(s);
  }
  const QStringList files = parser.positionalArguments();
  const bool shots = parser.isSet(screenshot);
  int exitCode = 0;
  if (parser.isSet(skill)) {
    otfuse::SkillTransferRequest r;
    r.cacheDir = parser.value(skill).toStdString();
    r.epochs = parser.value(skillEpochs).toInt();
    r.seeds = parser.value(skillSeeds).toInt();
    if (r.epochs < 1 || r.seeds < 1) {
      std::fprintf(stderr, "otfuse-studio: --skill-epochs and --skill-seeds must be positive\n");
      return 2;
    }
    window.show();
    if (shots) {
      window.setErrorHandler([&](const QString& title, const QString& message) {
        std::fprintf(stderr, "otfuse-studio: %s: %s\n", qPrintable(title), qPrintable(message));
        app.exit(1);
      });
      QObject::connect(&window, &otfuse::ui::MainWindow::skillTransferShown, &window, [&] {
        // After the job's end has reached the status bar (progress bar and Cancel hidden).
        QTimer::singleShot(300, &window, [&] {
        const QString dir = parser.value(screenshot);
        QDir().mkpath(dir);
        QApplication::processEvents();
        int code = 0;
        for (const auto& [t, name] : {std::pair{0.5, QString("skill_transfer_t05.png")},
                                      std::pair{0.9, QString("skill_transfer.png")}}) {
          window.skillTransferView()->setChartT(t);
          QApplication::processEvents();
          for (QCustomPlot* p : window.skillTransferView()->plots()) p->replot();
          if (!saveWindowShot(window, dir + "/" + name)) code = 1;
        }
        app.exit(code);
        });
      });
    }
    if (window.runSkillTransfer(r) < 0) return 1;
    const int code = app.exec();
    if (!otfuse::ui::EngineController::waitForDetachedWorkers(300)) {
      std::fflush(nullptr);
      std::_Exit(code);
    }
    return code;
  }
  if (shots) {
    window.setErrorHandler([&](const QString& title, const QString& message) {
      std::fprintf(stderr, "otfuse-studio: %s: %s\n", qPrintable(title), qPrintable(message));
      exitCode = 1;
    });
    const bool finetuneShot = parser.isSet(finetuneEpochs);
    const bool compareShot = parser.isSet(compareMaps);
    auto curvesStarted =
        std::make_shared<bool>(parser.isSet(noCurves) || finetuneShot || compareShot);
    if (compareShot) {
      // Fusion, then the comparison; when it is done, the method's maps are shown and saved.
      auto compareJob = std::make_shared<int>(-1);
      QObject::connect(&window, &otfuse::ui::MainWindow::fusionShown, &window, [&, compareJob] {
        if (*compareJob >= 0) return;
        window.tabs()->setCurrentWidget(window.compareView());
        *compareJob = window.runComparison();
        if (*compareJob < 0) app.exit(1);
      });
      QObject::connect(window.controller(), &otfuse::ui::EngineController::jobFinished, &window,
                       [&, compareJob](int job, otfuse::ui::JobKind) {
        if (job != *compareJob) return;
        QTimer::singleShot(300, &window, [&] {  // after the queued outcome
          const QString dir = parser.value(screenshot);
          QDir().mkpath(dir);
          if (!window.showCompareMaps(parser.value(compareMaps))) {
            std::fprintf(stderr, "otfuse-studio: --compare-maps: no maps of method %s\n",
                         qPrintable(parser.value(compareMaps)));
            app.exit(1);
            return;
          }
          auto* heatmap = window.heatmapView();
          heatmap->setCurrentLayer(heatmap->shownLayers().size() > 2 ? 1 : 0);
          heatmap->setReorder(true);
          QApplication::processEvents();
          for (QCustomPlot* p : heatmap->plots()) p->replot();
          int code = exitCode;
          if (!saveWindowShot(window, dir + "/compare-maps-heatmap.png")) code = 1;
          window.tabs()->setCurrentWidget(window.matchingView());
          window.matchingView()->setCurrentLayer(0);
          window.matchingView()->selectNeuron(0);
          QApplication::processEvents();
          if (!saveWindowShot(window, dir + "/compare-maps-matching.png")) code = 1;
          app.exit(code);
        });
      });
    }
    if (finetuneShot) {
      // Fusion, then fine-tuning; when it is done (idle), the tab is saved and the app exits.
      auto started = std::make_shared<bool>(false);
      QObject::connect(&window, &otfuse::ui::MainWindow::fusionShown, &window, [&, started] {
        if (*started) return;
        *started = true;
        window.finetuneView()->setEpochs(parser.value(finetuneEpochs).toInt());
        window.tabs()->setCurrentWidget(window.finetuneView());
        if (window.finetuneView()->start() < 0) app.exit(1);
      });
      QObject::connect(window.finetuneView(), &otfuse::ui::FinetuneView::runEnded, &window, [&] {
        // After the job's last signals (the status bar's progress is gone by then).
        QTimer::singleShot(500, &window, [&] {
        const QString file = parser.value(screenshot) + "/finetune_tab.png";
        QDir().mkpath(parser.value(screenshot));
        window.tabs()->setCurrentWidget(window.finetuneView());
        QApplication::processEvents();
        window.finetuneView()->replotIfDirty();
        for (QCustomPlot* p : window.finetuneView()->plots()) p->replot();
        saveWindowShot(window, file);
        std::printf("%s\n", qPrintable(window.finetuneView()->status()));
        app.exit(exitCode);
        });
      });
    }
    QObject::connect(&window, &otfuse::ui::MainWindow::fusionShown, &window, [&, curvesStarted] {
      if (*curvesStarted) return;
      *curvesStarted = true;
      window.computeCurves("all");
    });
    // Stages: 0 = fusion and curves running; 1 = exact views saved, a Sinkhorn fusion running
    // (its blurred plan is the teaching point next to the exact one).
    auto stage = std::make_shared<int>(0);
    QObject::connect(window.controller(), &otfuse::ui::EngineController::idle, &window, [&, stage] {
      if (finetuneShot || compareShot) {  // saved when that run ends (above), unless something failed
        if (exitCode != 0) app.exit(exitCode);
        return;
      }
      if (!window.outcome() && exitCode == 0) return;  // e.g. between the demo's stages
      const QString dir = parser.value(screenshot);
      // fc2 (200x200) reads well at screenshot size and keeps the PNG small; in a residual
      // network the first layer whose stream's map comes from two writers (the shortcut and
      // the main path), else the first that shares a stream (what the stream note is about).
      int layer = window.outcome() && window.outcome()->layers.size() > 2 ? 1 : 0;
      if (window.outcome()) {
        const auto& layers = window.outcome()->layers;
        int shared = -1, stream = -1;
        for (size_t k = 1; k < layers.size(); ++k) {
          if (shared < 0 && layers[k].mapFrom.size() > 1) shared = int(k);
          if (stream < 0 && layers[k].stream >= 0) stream = int(k);
        }
        layer = shared >= 0 ? shared : stream >= 0 ? stream : layer;
      }
      if (*stage == 0) {
        window.heatmapView()->setCurrentLayer(layer);
        const QStringList saved = window.saveScreenshots(dir);
        for (const QString& f : saved) std::printf("%s\n", qPrintable(f));
        if (saved.isEmpty() || exitCode != 0 || !window.outcome()) {
          app.exit(saved.isEmpty() ? 1 : exitCode);
          return;
        }
        *stage = 1;
        auto s = window.settingsForm()->settings();
        s.options.solver = otfuse::Solver::Sinkhorn;
        s.options.epsilon = 0.01;  // the form's default: blurred, structure still visible
        window.settingsForm()->setSettings(s);
        if (window.runFusion() < 0) app.exit(1);
        return;
      }
      window.heatmapView()->setCurrentLayer(layer);
      window.heatmapView()->setReorder(true);
      window.tabs()->setCurrentWidget(window.heatmapView());
      const QString file = dir + "/studio-heatmap-sinkhorn.png";
      QApplication::processEvents();
      for (QCustomPlot* p : window.heatmapView()->plots()) p->replot();
      saveWindowShot(window, file);
      app.exit(exitCode);
    });
  }
  window.show();

  if (parser.isSet(demo)) {
    window.runDemo(demoOptions);
  } else if (!files.isEmpty()) {
    window.openFiles(files, shots);
  } else if (!shots) {
    QSettings settings;
    if (!settings.value("firstStartOffered").toBool()) {
      settings.setValue("firstStartOffered", true);
      QTimer::singleShot(300, &window, [&window] {
        if (QMessageBox::question(&window, QObject::tr("Welcome to OTFuse Studio"),
                                  QObject::tr("Set up the MNIST demo? Two small networks are "
                                              "trained once (a few minutes, then cached), "
                                              "fused, and their transport plans shown.")) ==
            QMessageBox::Yes)
          window.runDemo();
      });
    }
  } else {
    std::fprintf(stderr, "otfuse-studio: --screenshot needs --demo or two or more model files\n");
    return 2;
  }
  const int code = app.exec();
  // A job that did not stop when the window closed runs on in a detached worker thread
  // (EngineController::shutdown): do not tear down Qt and LibTorch under it.
  if (!otfuse::ui::EngineController::waitForDetachedWorkers(300)) {
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}
