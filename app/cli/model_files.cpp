#include "model_files.h"

#include "otfuse/error.h"
#include "otfuse/io/checkpoint.h"

namespace otfuse::cli {

ModelFile loadModelFile(const std::string& path, const std::string& spec) {
  ModelFile f;
  f.path = path;
  Checkpoint ck = loadCheckpoint(path);
  f.model = Model::fromCheckpoint(ck, path, spec);
  f.metadata = std::move(ck.metadata);
  const Architecture& a = f.model.architecture();
  f.dataset = defaultDataset(f.metadata, a.inChannels, a.inHeight, a.inWidth);
  return f;
}

DatasetChoice chooseDataset(const Args& args, const std::vector<const ModelFile*>& models) {
  if (args.has("dataset")) {
    const std::string given = args.get("dataset");
    DatasetChoice c;
    c.name = canonicalDatasetName(given);
    if (c.name.empty())
      throw Error("unknown dataset '" + given +
                  "' given with --dataset (known: mnist, fashion-mnist, cifar10, folder:<root>)");
    c.reason = "given with --dataset";
    return c;
  }
  std::vector<std::pair<std::string, DatasetChoice>> choices;
  for (const ModelFile* m : models) choices.emplace_back(m->path, m->dataset);
  DatasetChoice c = commonDataset(choices);
  if (!c.conflict.empty())
    throw Error("the models belong to different datasets: " + c.conflict +
                "; choose one with --dataset");
  return c;
}

std::string describe(const DatasetChoice& choice) {
  return choice.name + " (" + choice.reason + ")";
}

}  // namespace otfuse::cli
