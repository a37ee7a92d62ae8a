// otfuse prune MODEL --width F --out FILE: structured magnitude pruning of every hidden layer.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "json_out.h"
#include "otfuse/engine/compression.h"
#include "otfuse/error.h"
#include "otfuse/io/checkpoint.h"
#include "otfuse/models/model.h"

namespace otfuse::cli {
namespace {

const char* kHelp = R"(usage: otfuse prune MODEL --width F --out FILE [options]

Structured magnitude pruning: every hidden layer keeps round(F x width) of its neurons, those
with the largest incoming-weight norm (L2 of a Linear row or of a conv filter; in a ResNet the
layers writing one residual stream are scored together so the stream keeps one set of
channels). Biases and BatchNorm parameters of kept neurons are carried along, the next layer's
inputs are cut to match, the output layer is never pruned. The result is a model of the narrower
architecture (e.g. mlpnet at 0.5 -> mlp:200-100-50) that every otfuse command and PyTorch load.
mnistcnn (fixed widths) cannot be pruned; a ResNet only to widths w, 2w, 4w, 8w.

required:
  --width F              kept fraction of every hidden layer, in (0, 1]
  --out FILE             checkpoint to write (temporary file, then rename)
options:
  --arch SPEC            architecture of MODEL instead of inferring it
  --json                 print {"in", "out", "width", "from_architecture", "architecture",
                         "from_parameters", "parameters", "layers": [{"name", "kept", "of"}]}
)";

}  // namespace

int cmdPrune(Args& args) {
  if (args.flag("help")) {
    std::cout << kHelp;
    return 0;
  }
  args.requireKnown({"width", "out", "arch"});
  if (args.positional().size() != 1)
    throw Error("otfuse prune expects one MODEL file (see --help)");
  if (!args.has("width")) throw Error("otfuse prune needs --width F (e.g. --width 0.5)");
  if (!args.has("out")) throw Error("otfuse prune needs --out FILE");
  const double width = args.getDouble("width", 1.0);
  if (!(width > 0.0 && width <= 1.0))
    throw Error("--width must be a fraction in (0, 1] (e.g. 0.5 keeps half of every hidden layer), got " +
                args.get("width"));
  const std::string in = args.positional().front(), out = args.get("out");
  ModelPtr wide = loadModel(in, args.get("arch"));
  if (std::string why = pruneIncompatibility(*wide, width); !why.empty())
    throw Error("cannot prune " + in + ": " + why);
  ModelPtr narrow = pruneModelTo(wide, width);
  saveCheckpoint(out, narrow->model->state(), narrow->metadata);

  if (args.flag("json")) {
    std::cout << "{\"in\": " << jsonString(in) << ", \"out\": " << jsonString(out)
              << ", \"width\": " << jsonNumber(width)
              << ", \"from_architecture\": " << jsonString(wide->architecture)
              << ", \"architecture\": " << jsonString(narrow->architecture)
              << ", \"from_parameters\": " << wide->parameters
              << ", \"parameters\": " << narrow->parameters << ", \"layers\": [";
    for (size_t i = 0; i < narrow->layers.size(); ++i)
      std::cout << (i ? ", " : "") << "{\"name\": " << jsonString(narrow->layers[i].name)
                << ", \"kept\": " << narrow->layers[i].outFeatures
                << ", \"of\": " << wide->layers[i].outFeatures << "}";
    std::cout << "]}\n";
    return 0;
  }
  std::printf("%s (%s, %lld parameters) -> %s (%s, %lld parameters, %.1f %%)\n", in.c_str(),
              wide->architecture.c_str(), static_cast<long long>(wide->parameters), out.c_str(),
              narrow->architecture.c_str(), static_cast<long long>(narrow->parameters),
              100.0 * double(narrow->parameters) / double(wide->parameters));
  for (size_t i = 0; i < narrow->layers.size(); ++i)
    std::printf("  %-24s %6lld of %6lld neurons kept\n", narrow->layers[i].name.c_str(),
                static_cast<long long>(narrow->layers[i].outFeatures),
                static_cast<long long>(wide->layers[i].outFeatures));
  return 0;
}

}  // namespace otfuse::cli
