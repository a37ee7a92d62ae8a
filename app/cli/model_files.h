#pragma once
// Model files as the otfuse commands load them, and the dataset they are evaluated on.
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "otfuse/engine/engine.h"
#include "otfuse/models/model.h"

namespace otfuse::cli {

struct ModelFile {
  std::string path;
  Model model;
  std::map<std::string, std::string> metadata;
  DatasetChoice dataset;  // what its checkpoint names, else the input-shape guess
};

/// Loads `path` (`spec` empty = infer the architecture). Throws FileError naming the file.
ModelFile loadModelFile(const std::string& path, const std::string& spec);

/// The dataset to evaluate `models` on (in order of preference, e.g. the anchor first): the
/// --dataset option when given (checked to be a known name), else commonDataset of the
/// models' own choices; models that disagree are an Error asking for --dataset.
DatasetChoice chooseDataset(const Args& args, const std::vector<const ModelFile*>& models);

/// "fashion-mnist (from the checkpoint's metadata of a.pt)", for the commands' output.
std::string describe(const DatasetChoice& choice);

}  // namespace otfuse::cli
