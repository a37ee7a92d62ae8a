// otfuse info MODEL: file format, architecture, layer table, parameter count, stored metadata.
#include <ATen/ATen.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "json_out.h"
#include "otfuse/engine/engine.h"
#include "otfuse/error.h"
#include "otfuse/io/checkpoint.h"
#include "otfuse/models/model.h"

namespace otfuse::cli {
namespace {

const char* kHelp = R"(usage: otfuse info MODEL [--arch SPEC] [--json]

Shows a model file: its format (zip, legacy or torchscript), the architecture (inferred from
the state_dict unless --arch names it), a table of weight layers with their shapes and
parameter counts, the total parameter count and the metadata stored beside the weights
(test_accuracy, epoch, args, ...).

options:
  --arch SPEC      architecture instead of inferring it (see otfuse train --help for specs)
  --json           print a JSON object instead of the table
  --data-dir DIR   accepted for symmetry with the other commands (not used)
)";

std::string shapeText(const at::Tensor& t) {
  std::ostringstream os;
  os << '[';
  for (int64_t i = 0; i < t.dim(); ++i) os << (i ? ", " : "") << t.size(i);
  return os.str() + ']';
}

struct LayerRow {
  std::string name, kind, shape;
  bool bias = false, batchNorm = false;
  int64_t parameters = 0;
};

}  // namespace

int cmdInfo(Args& args) {
  if (args.flag("help")) {
    std::cout << kHelp;
    return 0;
  }
  args.requireKnown({"arch", "data-dir"});
  if (args.positional().size() != 1) throw Error("otfuse info expects one MODEL file (see --help)");
  const std::string path = args.positional().front();
  Checkpoint ck = loadCheckpoint(path);
  const Model model = Model::fromCheckpoint(ck, path, args.get("arch"));
  const Architecture& a = model.architecture();
  std::vector<LayerRow> rows;
  for (const auto& l : a.layers) {
    LayerRow r;
    r.name = l.name;
    r.kind = l.kind == LayerKind::Linear ? "Linear" : "Conv2d";
    const at::Tensor& w = model.state().at(l.weight);
    r.shape = shapeText(w);
    r.parameters = w.numel();
    r.bias = !l.bias.empty();
    if (r.bias) r.parameters += model.state().at(l.bias).numel();
    r.batchNorm = !l.perNeuron.empty();
    if (r.batchNorm) r.parameters += 2 * l.outFeatures;
    rows.push_back(r);
  }
  const DatasetChoice dataset = defaultDataset(ck.metadata, a.inChannels, a.inHeight, a.inWidth);
  const std::string input = std::to_string(a.inChannels) + "x" + std::to_string(a.inHeight) + "x" +
                            std::to_string(a.inWidth);

  if (args.flag("json")) {
    std::cout << "{\"path\": " << jsonString(path) << ", \"format\": " << jsonString(ck.format)
              << ", \"architecture\": " << jsonString(a.name)
              << ", \"family\": " << jsonString(a.family) << ", \"input\": " << jsonString(input)
              << ", \"dataset\": " << jsonString(dataset.name)
              << ", \"dataset_source\": " << jsonString(dataset.reason)
              << ", \"classes\": " << a.numClasses
              << ", \"layers\": [";
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      std::cout << (i ? ", " : "") << "{\"name\": " << jsonString(r.name)
                << ", \"kind\": " << jsonString(r.kind) << ", \"weight_shape\": " << r.shape
                << ", \"bias\": " << (r.bias ? "true" : "false")
                << ", \"batch_norm\": " << (r.batchNorm ? "true" : "false")
                << ", \"parameters\": " << r.parameters << "}";
    }
    std::cout << "], \"parameters\": " << model.parameterCount() << ", \"metadata\": {";
    bool first = true;
    for (const auto& [k, v] : ck.metadata) {
      std::cout << (first ? "" : ", ") << jsonString(k) << ": " << jsonString(v);
      first = false;
    }
    std::cout << "}}\n";
    return 0;
  }

  std::cout << "file          " << path << "\n"
            << "format        " << ck.format << "\n"
            << "architecture  " << a.name << " (input " << input << ", " << a.numClasses
            << " classes)\n"
            << "dataset       " << dataset.name << " (" << dataset.reason << ")\n\n";
  size_t nameWidth = 5, shapeWidth = 12;
  for (const auto& r : rows) {
    nameWidth = std::max(nameWidth, r.name.size());
    shapeWidth = std::max(shapeWidth, r.shape.size());
  }
  std::printf("%-*s  %-6s  %-*s  %-4s  %-3s  %12s\n", int(nameWidth), "layer", "kind",
              int(shapeWidth), "weight shape", "bias", "bn", "parameters");
  for (const auto& r : rows) {
    std::printf("%-*s  %-6s  %-*s  %-4s  %-3s  %12lld\n", int(nameWidth), r.name.c_str(),
                r.kind.c_str(), int(shapeWidth), r.shape.c_str(), r.bias ? "yes" : "no",
                r.batchNorm ? "yes" : "no", static_cast<long long>(r.parameters));
  }
  std::printf("\ntotal parameters: %lld\n", static_cast<long long>(model.parameterCount()));
  if (!ck.metadata.empty()) {
    size_t keyWidth = 0;
    for (const auto& [k, v] : ck.metadata) keyWidth = std::max(keyWidth, k.size());
    std::cout << "\nmetadata:\n";
    for (const auto& [k, v] : ck.metadata)
      std::printf("  %-*s  %s\n", int(keyWidth), k.c_str(), v.c_str());
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace otfuse::cli
