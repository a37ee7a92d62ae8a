// otfuse collect: a folder of fuse results as mean ± std over seeds per configuration.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "otfuse/engine/sweep.h"
#include "otfuse/error.h"
#include "otfuse/fusion/report.h"

namespace otfuse::cli {

int cmdCollect(Args& args) {
  if (args.flag("help")) {
    std::cout << R"(usage: otfuse collect DIR [--json] [--csv FILE] [--across-pairs]
Reads every *.json file in DIR as an `otfuse fuse --json-out` result (as written by otfuse
sweep, run here or through its --emit-jobs file), groups them by their settings except the
seed, and prints per configuration the mean ± std (sample standard deviation) over the seeds of
every row: model A, model B, prediction ensemble, vanilla average, OT fusion (and the BatchNorm
rows). A file that is not valid JSON or not a fuse result is an error naming it; other entries
of DIR (not *.json) are listed on stderr.

options:
  --json           print the table as JSON (full precision)
  --csv FILE       also write the table as CSV
  --across-pairs   replicates are different model pairs (e.g. parents trained from different
                   seeds): the model files are left out of the grouping
)";
    return 0;
  }
  args.requireKnown({"csv"});
  const auto& pos = args.positional();
  if (pos.size() != 1) throw Error("collect needs one folder of results (see --help)");
  CollectOptions options;
  options.acrossModels = args.flag("across-pairs");
  const CollectResult table = collectResults(pos[0], options);
  if (!table.ignored.empty()) {
    std::string names;
    for (const auto& n : table.ignored) names += (names.empty() ? "" : ", ") + n;
    std::fprintf(stderr, "collect: %zu result files; not results (not *.json), not read: %s\n",
                 table.files, names.c_str());
  }
  if (args.has("csv")) writeFileAtomically(args.get("csv"), collectTableCsv(table));
  std::cout << (args.flag("json") ? collectTableJson(table) : collectTableText(table));
  return 0;
}

}  // namespace otfuse::cli
