#pragma once
// Splits of a training set between two models (the paper's heterogeneous-data experiments).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "otfuse/data/dataset.h"

namespace otfuse {

/// The paper's personalised split (Singh & Jaggi, Section 5.1; "personal" split of their code):
/// model A gets every example of the special class plus a fraction `fraction` of the examples
/// of every other class; model B gets the rest, which holds no example of the special class.
struct PersonalSplitOptions {
  int specialClass = 4;
  double fraction = 0.1;  // in [0, 1]
  uint64_t seed = 0;      // which examples of the other classes go to A
};

/// Index subsets of a dataset, each sorted ascending (so a subset keeps the dataset's order).
struct SplitIndices {
  std::vector<int64_t> a, b;
};

/// The personal split of `labels` (int64-convertible [N], values in [0, classes)). For every
/// class c other than the special one, exactly round(fraction * n_c) of its n_c examples,
/// chosen uniformly at random with `seed` (independently of the other classes), go to A; the
/// others go to B (stratified; the authors' get_personalized_split draws ceil(fraction * N)
/// from the pooled other classes instead, the same share per class on average). A and B are
/// disjoint and together cover every index. Throws Error when the
/// special class is outside [0, classes) or the fraction outside [0, 1] (the messages name the
/// option and the valid range).
SplitIndices personalSplit(const at::Tensor& labels, int classes,
                           const PersonalSplitOptions& options);

/// The examples `indices` of `data`, in that order (a copy; same classes and normalization).
/// `name` and `source` are kept; source gains a note on the subset.
Dataset subsetOf(const Dataset& data, const std::vector<int64_t>& indices,
                 const std::string& note = "");

/// The metadata a checkpoint trained on one part of a personal split records: "split"
/// ("personal"), "split_part" ("A" or "B"), "special_class", "split_fraction", "split_seed",
/// "train_size".
std::map<std::string, std::string> personalSplitMetadata(const PersonalSplitOptions& options,
                                                         char part, int64_t trainSize);

}  // namespace otfuse
