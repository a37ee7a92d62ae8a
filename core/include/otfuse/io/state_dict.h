#pragma once
// An ordered name -> tensor map, as PyTorch's state_dict (insertion order is kept).
#include <ATen/core/Tensor.h>

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace otfuse {

class StateDict {
 public:
  using Entry = std::pair<std::string, at::Tensor>;

  /// Inserts or replaces; a new key goes to the end.
  void set(const std::string& name, at::Tensor tensor);
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  /// Throws otfuse::Error naming the missing key.
  const at::Tensor& at(const std::string& name) const;
  at::Tensor& at(const std::string& name);
  std::vector<std::string> keys() const;
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<Entry>::const_iterator end() const { return entries_.end(); }
  std::vector<Entry>::iterator begin() { return entries_.begin(); }
  std::vector<Entry>::iterator end() { return entries_.end(); }
  /// Deep copy (tensors cloned).
  StateDict clone() const;

 private:
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace otfuse
