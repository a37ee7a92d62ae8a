#include "otfuse/io/state_dict.h"

#include "otfuse/error.h"

namespace otfuse {

void StateDict::set(const std::string& name, at::Tensor tensor) {
  auto it = index_.find(name);
  if (it != index_.end()) {
    entries_[it->second].second = std::move(tensor);
    return;
  }
  index_.emplace(name, entries_.size());
  entries_.emplace_back(name, std::move(tensor));
}

const at::Tensor& StateDict::at(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw Error("the state_dict has no entry '" + name + "'");
  return entries_[it->second].second;
}

at::Tensor& StateDict::at(const std::string& name) {
  auto it = index_.find(name);
  if (it == index_.end()) throw Error("the state_dict has no entry '" + name + "'");
  return entries_[it->second].second;
}

std::vector<std::string> StateDict::keys() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.push_back(e.first);
  return out;
}

StateDict StateDict::clone() const {
  StateDict copy;
  for (const auto& [name, t] : entries_) copy.set(name, t.clone());
  return copy;
}

}  // namespace otfuse
