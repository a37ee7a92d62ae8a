// otfuse data list | data import cifar10 PATH
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "otfuse/data/dataset.h"
#include "otfuse/error.h"

namespace otfuse::cli {

namespace {

const char* kHelp = R"(usage: otfuse data list [--data-dir DIR]
       otfuse data import cifar10 PATH [--data-dir DIR]

list      the datasets looked for (mnist, fashion-mnist, cifar10, and image folders
          <data dir>/<name>/{train,test}/<class>/), whether found, where, and sample counts
import cifar10 PATH
          stores CIFAR-10 in the official binary layout under
          <data dir>/cifar10/cifar-10-batches-bin; PATH is cifar-10-binary.tar.gz, an
          extracted cifar-10-batches-bin folder, or an image folder of 32x32 RGB images in
          10 classes (PATH/{train,test}/<class>/*.png|jpg), or a .tar.gz of one

options:
  --data-dir DIR   where datasets live (default $OTFUSE_DATA_DIR, else
                   ${XDG_DATA_HOME:-~/.local/share}/otfuse/datasets)
  --help           this text

expected layout: <data dir>/mnist/*-ubyte[.gz], <data dir>/fashion-mnist/*-ubyte[.gz]
(also found in /usr/share/datasets/fashion-mnist), <data dir>/cifar10/cifar-10-batches-bin/
or <data dir>/cifar10/cifar-10-binary.tar.gz
)";

std::string count(long long n) {
  return n < 0 ? "-" : std::to_string(n);
}

int list(const std::string& dataDir) {
  const std::string dir = resolveDataDir(dataDir);
  const auto rows = listDatasets(dir);
  std::vector<std::vector<std::string>> table = {
      {"NAME", "STATUS", "TRAIN", "TEST", "PATH", "DETAIL"}};
  for (const auto& r : rows) {
    table.push_back({r.name, r.found ? "found" : "missing", r.found ? count(r.trainSize) : "-",
                     r.found ? count(r.testSize) : "-", r.path, r.detail});
  }
  std::vector<std::size_t> width(table[0].size(), 0);
  for (const auto& row : table) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::cout << "data dir: " << dir << "\n";
  for (const auto& row : table) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string cell = row[i];
      const bool numeric = i == 2 || i == 3;
      if (i + 1 < row.size()) {
        std::string pad(width[i] - cell.size(), ' ');
        cell = numeric ? pad + cell : cell + pad;
        cell += "  ";
      }
      line += cell;
    }
    std::cout << line << "\n";
  }
  return 0;
}

}  // namespace

int cmdData(Args& args) {
  if (args.flag("help")) {
    std::cout << kHelp;
    return 0;
  }
  args.requireKnown({"data-dir"});
  const auto& pos = args.positional();
  const std::string dataDir = args.get("data-dir");
  if (pos.empty()) {
    std::cerr << kHelp;
    return 2;
  }
  if (pos[0] == "list" && pos.size() == 1) return list(dataDir);
  if (pos[0] == "import") {
    if (pos.size() != 3 || pos[1] != "cifar10") {
      std::cerr << "otfuse data import: expected 'cifar10 PATH' (only CIFAR-10 can be "
                   "imported)\n";
      return 2;
    }
    std::cerr << "importing " << pos[2] << " ...\n";
    const std::string dest = importCifar10(pos[2], dataDir);
    const DatasetLocation loc = findDataset("cifar10", dataDir);
    std::cout << "CIFAR-10 stored in " << dest << " (" << count(loc.trainSize) << " train, "
              << count(loc.testSize) << " test images)\n";
    return 0;
  }
  std::cerr << "otfuse data: unknown subcommand '" << pos[0] << "'\n" << kHelp;
  return 2;
}

}  // namespace otfuse::cli
