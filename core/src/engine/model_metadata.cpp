// Which dataset a model belongs to, from what its checkpoint says (torch-free).
#include <algorithm>
#include <cctype>
#include <string>

#include "otfuse/engine/engine.h"

namespace otfuse {
namespace {

std::string shapeText(int channels, int height, int width) {
  return std::to_string(channels) + "x" + std::to_string(height) + "x" + std::to_string(width);
}

// The image shape of a named dataset; false for image folders (any shape).
bool datasetShape(const std::string& canonical, int* c, int* h, int* w) {
  if (canonical == "mnist" || canonical == "fashion-mnist") {
    *c = 1, *h = 28, *w = 28;
    return true;
  }
  if (canonical == "cifar10") {
    *c = 3, *h = 32, *w = 32;
    return true;
  }
  return false;
}

// The value of 'dataset' in the text of a stored Python dict ("{'dataset': 'mnist', ...}") or
// argparse Namespace ("Namespace(dataset='mnist', ...)"); "" if absent.
std::string datasetInArgs(const std::string& text) {
  for (const std::string key : {"'dataset': ", "\"dataset\": ", "dataset="}) {
    size_t at = text.find(key);
    // "dataset=" must not be the end of a longer name ("sub_dataset=").
    while (at != std::string::npos && key == "dataset=" && at > 0 &&
           (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '_'))
      at = text.find(key, at + 1);
    if (at == std::string::npos) continue;
    size_t open = at + key.size();
    if (open >= text.size() || (text[open] != '\'' && text[open] != '"')) continue;
    size_t close = text.find(text[open], open + 1);
    if (close == std::string::npos) continue;
    return text.substr(open + 1, close - open - 1);
  }
  return "";
}

}  // namespace

std::string canonicalDatasetName(const std::string& name) {
  if (name.rfind("folder:", 0) == 0) return name.size() > 7 ? name : "";
  std::string k;
  for (char c : name)
    if (std::isalnum(static_cast<unsigned char>(c)))
      k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (k == "mnist") return "mnist";
  if (k == "fashionmnist") return "fashion-mnist";
  if (k == "cifar10") return "cifar10";
  return "";
}

DatasetChoice defaultDataset(const std::map<std::string, std::string>& metadata, int channels,
                             int height, int width) {
  const std::string shape = shapeText(channels, height, width);
  std::string passedOver;  // why a stored name was not used
  auto consider = [&](const std::string& stored, const std::string& where) -> bool {
    if (stored.empty()) return false;
    const std::string canonical = canonicalDatasetName(stored);
    int c = 0, h = 0, w = 0;
    if (canonical.empty()) {
      passedOver = where + " names '" + stored + "', which is not a known dataset";
      return false;
    }
    if (datasetShape(canonical, &c, &h, &w) && (c != channels || h != height || w != width)) {
      passedOver = where + " names " + canonical + ", whose " + shapeText(c, h, w) +
                   " images do not fit the input " + shape;
      return false;
    }
    return true;
  };
  DatasetChoice choice;
  if (auto it = metadata.find("dataset"); it != metadata.end() &&
                                          consider(it->second, "the checkpoint's metadata")) {
    choice.name = canonicalDatasetName(it->second);
    choice.reason = "from the checkpoint's metadata";
    choice.fromMetadata = true;
    return choice;
  }
  if (auto it = metadata.find("args"); it != metadata.end()) {
    const std::string stored = datasetInArgs(it->second);
    if (consider(stored, "the checkpoint's stored arguments")) {
      choice.name = canonicalDatasetName(stored);
      choice.reason = "from the checkpoint's metadata (its stored arguments)";
      choice.fromMetadata = true;
      return choice;
    }
  }
  choice.name = channels == 1 ? "mnist" : "cifar10";
  choice.reason = "guessed from the input shape " + shape;
  if (!passedOver.empty()) choice.reason += " (" + passedOver + ")";
  return choice;
}

DatasetChoice commonDataset(const std::vector<std::pair<std::string, DatasetChoice>>& models) {
  if (models.empty()) return {};
  // The first model whose metadata names its dataset; else the first model.
  size_t chosen = 0;
  for (size_t i = 0; i < models.size(); ++i) {
    if (models[i].second.fromMetadata) {
      chosen = i;
      break;
    }
  }
  auto withOwner = [&](size_t i) {
    DatasetChoice c = models[i].second;
    if (models.size() > 1) c.reason += " of " + models[i].first;
    return c;
  };
  const DatasetChoice& best = models[chosen].second;
  for (size_t i = 0; i < models.size(); ++i) {
    const DatasetChoice& other = models[i].second;
    // A guess from the input shape gives way to a dataset named in metadata.
    if (other.name == best.name || (best.fromMetadata && !other.fromMetadata)) continue;
    DatasetChoice out = withOwner(0);
    out.conflict = models[chosen].first + " is for " + best.name + " (" + best.reason + ") but " +
                   models[i].first + " is for " + other.name + " (" + other.reason + ")";
    return out;
  }
  return withOwner(chosen);
}

}  // namespace otfuse
