#pragma once
// Structured magnitude pruning: a narrower model of the same family, keeping in every hidden
// layer the neurons with the largest incoming-weight norm (the baseline the reviewers asked
// OT fusion into a narrower model to be compared with; issue 10, section 3).
//
// Neurons are scored per neuron group (models/model.h): a neuron's score is the L2 norm of
// its incoming weights over every layer that writes its group (a Linear row; a conv filter
// over in-channels x kh x kw). In a plain network that is the one layer's row; in a residual
// network the stream's writers (conv2 of each block, the shortcut convs) are scored together,
// so one set of neurons is kept consistently in the whole stream. Biases and BatchNorm
// vectors (weight, bias, running statistics) of a kept neuron are carried along; the next
// layers' input axes are cut to match (conv: input channels; a Linear after a flatten: the
// kept channels' blocks of columns, channel-major). The output layer is never pruned.
#include <cstdint>
#include <string>
#include <vector>

#include "otfuse/models/model.h"

namespace otfuse {

/// Neurons kept at `fraction` of `width`: round(fraction * width), at least 1.
int64_t prunedWidth(int64_t width, double fraction);

/// The width of every neuron group of `arch` (group g = index g).
std::vector<int64_t> groupWidths(const Architecture& arch);

/// The architecture of `arch` with group g narrowed to widths[g], as a spec parseArchitecture
/// accepts (mlp:..., vgg:..., resnetNN_..._wN). Throws Error when the family has no spec for
/// it: mnistcnn (fixed widths), or a ResNet whose groups are not w, 2w, 4w, 8w for one w.
Architecture narrowedArchitecture(const Architecture& arch, const std::vector<int64_t>& widths);

/// Per-neuron scores of every group (L2 norm of the incoming weights over the group's writers).
std::vector<std::vector<double>> neuronScores(const Model& model);

struct PruneResult {
  Model model;
  /// Per group: the kept neurons' indices in the wide model, ascending (the narrow model's
  /// neuron i is the wide model's kept[g][i]).
  std::vector<std::vector<int64_t>> kept;
};

/// Keeps widths[g] neurons of group g (the largest scores; ties: the lower index), in their
/// original order. Throws Error if widths has the wrong size or a width is not in [1, width].
PruneResult pruneToWidths(const Model& model, const std::vector<int64_t>& widths);

/// Every hidden group pruned to prunedWidth(width, fraction). `fraction` in (0, 1]; 1 returns
/// an exact copy (same architecture, same tensors' values). Throws Error otherwise.
PruneResult pruneModel(const Model& model, double fraction);

}  // namespace otfuse
