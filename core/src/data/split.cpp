// The paper's personalised split: all of the special class plus a fraction of the others for
// A, the rest (without the special class) for B.
#include "otfuse/data/split.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "otfuse/error.h"
#include "otfuse/text.h"

namespace otfuse {

SplitIndices personalSplit(const at::Tensor& labelsIn, int classes,
                           const PersonalSplitOptions& o) {
  if (classes < 1) throw Error("a split needs at least one class");
  if (o.specialClass < 0 || o.specialClass >= classes)
    throw Error("the special class must be in 0.." + std::to_string(classes - 1) + ", got " +
                std::to_string(o.specialClass));
  if (!(o.fraction >= 0.0 && o.fraction <= 1.0))
    throw Error("the fraction of the other classes given to A must be in [0, 1], got " +
                std::to_string(o.fraction));
  if (!labelsIn.defined() || labelsIn.dim() != 1) throw Error("a split needs a label vector");
  at::Tensor labels = labelsIn.to(at::kLong).contiguous();
  const int64_t n = labels.size(0);
  const int64_t* y = labels.data_ptr<int64_t>();
  std::vector<std::vector<int64_t>> byClass(static_cast<size_t>(classes));
  for (int64_t i = 0; i < n; ++i) {
    if (y[i] < 0 || y[i] >= classes)
      throw Error("label " + std::to_string(y[i]) + " of example " + std::to_string(i) +
                  " is outside 0.." + std::to_string(classes - 1));
    byClass[size_t(y[i])].push_back(i);
  }
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  SplitIndices out;
  for (int c = 0; c < classes; ++c) {
    const std::vector<int64_t>& members = byClass[size_t(c)];
    const int64_t nc = int64_t(members.size());
    if (c == o.specialClass) {
      out.a.insert(out.a.end(), members.begin(), members.end());
      continue;
    }
    const int64_t toA = std::llround(o.fraction * double(nc));
    // One permutation per class, drawn in class order from one generator: the choice for a
    // class does not depend on how many examples other classes have beyond their count.
    at::Tensor perm = at::randperm(nc, gen, at::kLong);
    const int64_t* p = perm.data_ptr<int64_t>();
    for (int64_t k = 0; k < nc; ++k) (k < toA ? out.a : out.b).push_back(members[size_t(p[k])]);
  }
  std::sort(out.a.begin(), out.a.end());
  std::sort(out.b.begin(), out.b.end());
  return out;
}

Dataset subsetOf(const Dataset& data, const std::vector<int64_t>& indices,
                 const std::string& note) {
  Dataset out;
  out.name = data.name;
  out.source = note.empty() ? data.source : data.source + " (" + note + ")";
  out.classes = data.classes;
  out.mean = data.mean;
  out.std = data.std;
  at::Tensor idx = at::tensor(at::ArrayRef<int64_t>(indices.data(), indices.size()), at::kLong);
  out.images = data.images.index_select(0, idx).contiguous();
  out.labels = data.labels.index_select(0, idx).contiguous();
  return out;
}

std::map<std::string, std::string> personalSplitMetadata(const PersonalSplitOptions& o, char part,
                                                         int64_t trainSize) {
  const std::string fraction = shortestNumber(o.fraction);
  return {{"split", "personal"},
          {"split_part", std::string(1, part)},
          {"special_class", std::to_string(o.specialClass)},
          {"split_fraction", fraction},
          {"split_seed", std::to_string(o.seed)},
          {"train_size", std::to_string(trainSize)}};
}

}  // namespace otfuse
