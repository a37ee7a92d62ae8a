#pragma once
// A restricted pickle reader and writer for the subset torch.save emits (protocol 2).
//
// The reader never executes anything: GLOBAL names are checked against a fixed allow-list
// (collections.OrderedDict, torch._utils._rebuild_tensor[_v2], _rebuild_parameter, torch.*Storage,
// argparse.Namespace, torch.Size, _codecs.encode) and any other name is refused. Every length
// field is checked against the bytes that remain, so a hostile file cannot make it allocate more
// than its own size. Persistent ids (the tensor storages) are resolved by a caller's callback.
#include <ATen/core/Tensor.h>
#include <c10/core/Storage.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace otfuse::pickle {

struct Value;
/// Values live in an Arena; the pointers between them are plain, so cycles and deep nesting
/// built by a hostile pickle cost no recursive destruction.
using ValuePtr = Value*;

/// One unpickled object. Only the fields of its kind are meaningful.
struct Value {
  enum class Kind {
    None,
    Bool,
    Int,
    BigInt,  // a LONG wider than 64 bits, kept as its little-endian two's complement bytes
    Float,
    String,  // unicode text (UTF-8)
    Bytes,
    List,
    Tuple,
    Dict,     // plain dict, OrderedDict or argparse.Namespace (see dictType)
    Global,   // an allowed callable or class, "module.name"
    Storage,  // a tensor storage from a persistent id
    Tensor,
  };
  Kind kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0.0;
  std::string s;                                       // String, Bytes, BigInt bytes, Global name
  std::vector<ValuePtr> items;                         // List, Tuple
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;  // Dict, in insertion order
  std::unordered_map<std::string, size_t> keyIndex;    // Dict: string key -> entries index
  std::string dictType;               // "dict", "collections.OrderedDict" or "argparse.Namespace"
  c10::Storage storage;               // Storage: the root storage
  at::ScalarType dtype = at::kFloat;  // Storage: its element type
  int64_t storageOffset = 0;          // Storage: offset (elements) of a legacy storage view
  int64_t storageNumel = 0;           // Storage: elements visible through this value
  at::Tensor tensor;

  /// Python-like rendering for metadata ("97.72", "True", "{'a': 1}"), cut at maxChars.
  std::string repr(size_t maxChars = 2000) const;
  /// The value of a String-keyed dict entry, or nullptr.
  ValuePtr get(const std::string& key) const;
};

/// Owns every Value of one or more pickles.
class Arena {
 public:
  ValuePtr make(Value::Kind k) {
    values_.emplace_back();
    values_.back().kind = k;
    return &values_.back();
  }

 private:
  std::deque<Value> values_;
};

/// Thrown for any malformed or refused pickle; the caller adds the file name.
struct PickleError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Resolves a BINPERSID persistent id (a tuple) to a Storage value.
using PersistentLoad = std::function<ValuePtr(const ValuePtr& pid)>;

/// Reads one pickle from data[*pos .. size) and advances *pos past its STOP.
/// With `torchScript`, also the objects of a TorchScript archive's data.pkl: classes named
/// "__torch__.*" (NEWOBJ gives a Dict whose dictType is the class name, BUILD sets its
/// attributes) and torch.jit._pickle's list builders and restore_type_tag; still nothing is
/// executed.
ValuePtr unpickle(const uint8_t* data, size_t size, size_t* pos, Arena& arena,
                  const PersistentLoad& persistent, bool torchScript = false);

/// Maps a torch.*Storage class name ("FloatStorage") to its dtype; false if unknown.
bool storageDtype(const std::string& className, at::ScalarType* dtype);
/// The torch.*Storage class name of a dtype ("FloatStorage"); throws PickleError if none.
std::string storageClassName(at::ScalarType dtype);

/// Minimal protocol-2 pickle writer.
class Writer {
 public:
  Writer();
  void global(const std::string& module, const std::string& name);
  void mark() { out_.push_back('('); }
  void str(const std::string& s);
  void integer(int64_t v);
  void floating(double v);
  void boolean(bool v) { out_.push_back(v ? '\x88' : '\x89'); }
  void none() { out_.push_back('N'); }
  void emptyTuple() { out_.push_back(')'); }
  void emptyDict() { out_.push_back('}'); }
  void tupleFromMark() { out_.push_back('t'); }
  void intTuple(const std::vector<int64_t>& v);
  void reduce() { out_.push_back('R'); }
  void persId() { out_.push_back('Q'); }
  void setItem() { out_.push_back('s'); }
  void setItems() { out_.push_back('u'); }
  /// Appends STOP and returns the bytes.
  std::string finish();

 private:
  std::string out_;
};

}  // namespace otfuse::pickle
