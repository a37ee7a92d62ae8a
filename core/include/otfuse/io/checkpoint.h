#pragma once
// Reading and writing PyTorch model files natively (no Python).
//
// Reads: torch.save zip format (PyTorch >= 1.6), the legacy (pre-1.6) torch.save format, and
// TorchScript archives (torch.jit.save; their data.pkl is read like any pickle, their code is
// never compiled: the parameters and buffers come out in state_dict order). Contents may be a
// state_dict (OrderedDict), a plain dict of tensors, or a checkpoint dict holding one under
// "model_state_dict" / "state_dict" / "net" (kuangliu/pytorch-cifar) / "model" (other scalar
// entries such as test_accuracy, epoch are kept as metadata).
// Writes: zip-format files that Python's torch.load + model.load_state_dict accept.
#include <cstddef>
#include <map>
#include <string>

#include "otfuse/io/state_dict.h"

namespace otfuse {

struct Checkpoint {
  StateDict state;
  /// Scalar entries stored beside the state_dict, rendered as text ("test_accuracy" -> "97.72").
  /// Nested values (e.g. an argparse Namespace under "args") are summarized.
  std::map<std::string, std::string> metadata;
  /// "zip", "legacy" or "torchscript".
  std::string format;
};

/// Loads any supported file. Throws FileError naming the path and the problem for a missing,
/// truncated, corrupt or foreign file, or one that holds anything but tensors and plain data
/// (pickled classes or code are refused, never executed).
Checkpoint loadCheckpoint(const std::string& path);

/// Every tensor of a torch.save file, whatever holds it: nested dicts, lists and tuples are
/// flattened into dotted names ({"plans": [T0, T1]} -> "plans.0", "plans.1"); a file holding
/// a bare tensor gives the single name "tensor". Same safety rules as loadCheckpoint.
StateDict loadTensors(const std::string& path);

/// loadCheckpoint / loadTensors of a file's content already in memory (`size` bytes at `data`,
/// read only during the call); `name` stands for the path in error messages.
Checkpoint loadCheckpointFromMemory(const void* data, size_t size, const std::string& name);
StateDict loadTensorsFromMemory(const void* data, size_t size, const std::string& name);

/// Writes `state` as a zip-format torch.save file. With non-empty `metadata` the file holds a
/// checkpoint dict {"model_state_dict": state, key: value...} where values that parse as numbers
/// are stored as numbers; otherwise a plain OrderedDict state_dict. Tensors are written
/// contiguous in their dtype. Written to a temporary file and renamed, so a failure never
/// leaves a half-written file. Throws FileError.
void saveCheckpoint(const std::string& path, const StateDict& state,
                    const std::map<std::string, std::string>& metadata = {});

}  // namespace otfuse
