// Loading and saving PyTorch model files (zip, legacy and TorchScript) without Python.
#include "otfuse/io/checkpoint.h"

#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>
#include <caffe2/serialize/file_adapter.h>
#include <caffe2/serialize/inline_container.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string_view>

#include "io/pickle.h"
#include "otfuse/error.h"

namespace otfuse {

namespace {

using pickle::Value;
using pickle::ValuePtr;
using Kind = Value::Kind;

// The first pickle of a legacy file: PROTO 2, LONG1 0x1950a86a20f9469cfc6c, STOP.
const std::string kLegacyMagic = "\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";

using Adapter = std::shared_ptr<caffe2::serialize::ReadAdapterInterface>;

/// A model file's bytes held by the caller (loadCheckpointFromMemory). Reads past the end
/// return fewer bytes, never touch memory beyond the buffer.
class BoundedMemoryAdapter final : public caffe2::serialize::ReadAdapterInterface {
 public:
  BoundedMemoryAdapter(const void* data, size_t size)
      : data_(static_cast<const uint8_t*>(data)), size_(size) {}
  size_t size() const override { return size_; }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= size_) return 0;
    n = static_cast<size_t>(std::min<uint64_t>(n, size_ - pos));
    if (n) std::memcpy(buf, data_ + pos, n);
    return n;
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

std::string readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw FileError(path, std::string("cannot open the file (") + std::strerror(errno) + ")");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw FileError(path, "cannot read the file");
  in.seekg(0);
  std::string data(static_cast<size_t>(size), '\0');
  if (size > 0 && !in.read(data.data(), size)) throw FileError(path, "cannot read the file");
  return data;
}

/// A state_dict: a dict whose keys are strings and whose values are all tensors.
bool isTensorDict(const ValuePtr& v) {
  if (!v || v->kind != Kind::Dict) return false;
  for (const auto& [k, t] : v->entries)
    if (k->kind != Kind::String || t->kind != Kind::Tensor) return false;
  return true;
}

std::string metadataText(const ValuePtr& v) {
  if (v->kind == Kind::String) return v->s;
  return v->repr(4000);
}

/// Every tensor inside nested dicts, lists and tuples, named by its path ("plans.0"). The pickle
/// memo lets a few bytes build a container that holds itself, or lists that each hold the next
/// one twice (2^n paths): containers already on the current path are skipped (a cycle has no
/// finite name) and the walk gives up after kMaxFlattenVisits objects.
constexpr size_t kMaxFlattenVisits = 100000;

struct FlattenWalk {
  const std::string& path;
  StateDict& out;
  size_t visits = 0;
  std::vector<const Value*> open;  // containers on the current path

  void visit(const ValuePtr& v, const std::string& name) {
    if (!v || open.size() > 32) return;
    if (++visits > kMaxFlattenVisits)
      throw FileError(path, "refers to the same objects too many times (more than " +
                                std::to_string(kMaxFlattenVisits) +
                                " nested references; corrupt or hostile file)");
    if (v->kind == Kind::Tensor) {
      out.set(name.empty() ? "tensor" : name, v->tensor);
      return;
    }
    if (v->kind != Kind::Dict && v->kind != Kind::List && v->kind != Kind::Tuple) return;
    if (std::find(open.begin(), open.end(), v) != open.end()) return;
    auto join = [&](const std::string& part) { return name.empty() ? part : name + "." + part; };
    open.push_back(v);
    if (v->kind == Kind::Dict) {
      for (const auto& [k, x] : v->entries)
        visit(x, join(k->kind == Kind::String ? k->s : k->repr(100)));
    } else {
      for (size_t i = 0; i < v->items.size(); ++i) visit(v->items[i], join(std::to_string(i)));
    }
    open.pop_back();
  }
};

/// Turns the unpickled top-level object into a Checkpoint (state + metadata). With `flatten`,
/// every tensor anywhere in the object is taken instead (see loadTensors).
Checkpoint interpret(const std::string& path, const ValuePtr& root, const std::string& format,
                     bool flatten) {
  Checkpoint ck;
  ck.format = format;
  if (flatten) {
    FlattenWalk{path, ck.state, 0, {}}.visit(root, "");
    if (ck.state.empty()) throw FileError(path, "holds no tensors");
    return ck;
  }
  if (!root || root->kind != Kind::Dict)
    throw FileError(path, "holds no state_dict (the top-level object is not a dict)");
  ValuePtr stateValue = nullptr;
  if (isTensorDict(root)) {
    stateValue = root;
  } else {
    // "net": kuangliu/pytorch-cifar's {'net', 'acc', 'epoch'}; "model": a common variant.
    for (const char* key : {"model_state_dict", "state_dict", "net", "model"}) {
      ValuePtr v = root->get(key);
      if (v && isTensorDict(v)) {
        stateValue = v;
        break;
      }
    }
    if (!stateValue)
      throw FileError(path,
                      "holds no state_dict (neither a dict of tensors nor a checkpoint with "
                      "'model_state_dict', 'state_dict', 'net' or 'model')");
    for (const auto& [k, v] : root->entries) {
      if (v == stateValue) continue;
      const std::string key = k->kind == Kind::String ? k->s : k->repr(200);
      ck.metadata[key] = metadataText(v);
    }
  }
  for (const auto& [k, t] : stateValue->entries) ck.state.set(k->s, t->tensor);
  return ck;
}

bool validStorageKey(const std::string& key) {
  if (key.empty() || key.size() > 64) return false;
  for (char c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

/// Decoded ('storage', type, key, location, numel[, view]) persistent id.
struct StorageId {
  at::ScalarType dtype;
  std::string key;
  int64_t numel;
  ValuePtr view;  // None or (root key, offset, size) in legacy files
};

StorageId parseStorageId(const ValuePtr& pid) {
  if (pid->kind != Kind::Tuple || pid->items.size() < 5 || pid->items[0]->kind != Kind::String)
    throw pickle::PickleError("unsupported persistent id (not a storage)");
  if (pid->items[0]->s != "storage")
    throw pickle::PickleError("refused a persistent id of type '" + pid->items[0]->s +
                              "' (whole pickled modules are not supported, save a state_dict)");
  const ValuePtr& type = pid->items[1];
  StorageId id;
  const std::string prefix = "torch.";
  if (type->kind != Kind::Global || type->s.rfind(prefix, 0) != 0 ||
      !pickle::storageDtype(type->s.substr(prefix.size()), &id.dtype))
    throw pickle::PickleError("unsupported storage type");
  if (pid->items[2]->kind != Kind::String || !validStorageKey(pid->items[2]->s))
    throw pickle::PickleError("invalid storage key");
  id.key = pid->items[2]->s;
  if (pid->items[4]->kind != Kind::Int || pid->items[4]->i < 0)
    throw pickle::PickleError("invalid storage size");
  id.numel = pid->items[4]->i;
  id.view = pid->items.size() > 5 ? pid->items[5] : nullptr;
  return id;
}

ValuePtr makeStorageValue(pickle::Arena& arena, const c10::Storage& storage, at::ScalarType dtype,
                          int64_t offset, int64_t numel) {
  ValuePtr v = arena.make(Kind::Storage);
  v->storage = storage;
  v->dtype = dtype;
  v->storageOffset = offset;
  v->storageNumel = numel;
  return v;
}

// ---------------------------------------------------------------------------------- zip files

std::string recordText(caffe2::serialize::PyTorchStreamReader& reader, const std::string& name) {
  auto [ptr, size] = reader.getRecord(name);
  return std::string(static_cast<const char*>(ptr.get()), size);
}

/// What a TorchScript archive's code/ says of one class: whether it is a Module and which of
/// its attributes are parameters and buffers.
struct ScriptClass {
  bool module = false;
  std::vector<std::string> parameters, buffers;
};

/// The names listed by a line `  __parameters__ = ["weight", "bias", ]`.
std::vector<std::string> quotedNames(const std::string& line) {
  std::vector<std::string> names;
  for (size_t p = line.find('"'); p != std::string::npos;) {
    const size_t end = line.find('"', p + 1);
    if (end == std::string::npos) break;
    names.push_back(line.substr(p + 1, end - p - 1));
    p = line.find('"', end + 1);
  }
  return names;
}

/// The classes defined by the archive's code/ records: "code/__torch__/a/b.py" defines
/// "__torch__.a.b.<Class>". Only the class headers and their __parameters__ / __buffers__
/// lines are read; the code is never compiled or run.
std::map<std::string, ScriptClass> scriptClasses(caffe2::serialize::PyTorchStreamReader& reader,
                                                 const std::vector<std::string>& records) {
  std::map<std::string, ScriptClass> classes;
  for (const auto& r : records) {
    if (r.rfind("code/", 0) != 0 || r.size() < 8 || r.compare(r.size() - 3, 3, ".py") != 0)
      continue;
    std::string module = r.substr(5, r.size() - 8);
    std::replace(module.begin(), module.end(), '/', '.');
    const std::string text = recordText(reader, r);
    ScriptClass* current = nullptr;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      const std::string line = text.substr(start, end - start);
      start = end + 1;
      if (line.rfind("class ", 0) == 0) {
        const size_t nameEnd = line.find_first_of("(:", 6);
        const std::string name = line.substr(6, nameEnd == std::string::npos ? std::string::npos
                                                                              : nameEnd - 6);
        current = &classes[module + "." + name];
        current->module = line.find("(Module)") != std::string::npos;
      } else if (current && line.rfind("  __parameters__ = [", 0) == 0) {
        current->parameters = quotedNames(line);
      } else if (current && line.rfind("  __buffers__ = [", 0) == 0) {
        current->buffers = quotedNames(line);
      }
    }
  }
  return classes;
}

/// The state_dict of a TorchScript module object, in Module.state_dict() order: per module
/// (pre-order, submodules in attribute order) its own parameters, then its own buffers.
void scriptState(const std::string& path, const ValuePtr& object, const std::string& prefix,
                 const std::map<std::string, ScriptClass>& classes, StateDict& out, int depth) {
  if (depth > 64) throw FileError(path, "nests TorchScript modules too deeply (corrupt file)");
  auto it = classes.find(object->dictType);
  if (it == classes.end())
    throw FileError(path, "the TorchScript archive has no code for the class '" +
                              object->dictType + "' (corrupt file)");
  const ScriptClass& cls = it->second;
  for (const auto* names : {&cls.parameters, &cls.buffers}) {
    for (const auto& [k, v] : object->entries) {
      if (k->kind == Kind::String && v->kind == Kind::Tensor &&
          std::find(names->begin(), names->end(), k->s) != names->end())
        out.set(prefix + k->s, v->tensor);
    }
  }
  for (const auto& [k, v] : object->entries) {
    if (k->kind != Kind::String || v->kind != Kind::Dict || v == object) continue;
    auto sub = classes.find(v->dictType);
    if (sub != classes.end() && sub->second.module)
      scriptState(path, v, prefix + k->s + ".", classes, out, depth + 1);
  }
}

uint64_t le(const std::string& b, size_t at, int n) {
  uint64_t v = 0;
  for (int k = n - 1; k >= 0; --k) v = (v << 8) | static_cast<uint8_t>(b[at + k]);
  return v;
}

/// PyTorchStreamReader allocates a record's declared uncompressed size before reading it. This
/// scans the zip central directory first and refuses records whose declared size is impossible
/// for their compressed size (stored: equal; deflate: at most ~1032x), so a hostile size field
/// cannot make us allocate far more than the file holds. Structural errors are left to miniz.
void checkZipRecordSizes(const std::string& path, const Adapter& bytes) {
  const uint64_t fileSize = bytes->size();
  // Reads exactly n bytes at `at` (false if the data ends first).
  auto readAt = [&](uint64_t at, std::string& out, size_t n) {
    out.assign(n, '\0');
    return at <= fileSize && n <= fileSize - at && bytes->read(at, out.data(), n) == n;
  };
  const uint64_t tailSize = std::min<uint64_t>(fileSize, 65557);
  std::string tail;
  if (!readAt(fileSize - tailSize, tail, tailSize)) throw FileError(path, "cannot read the file");
  size_t eocd = std::string::npos;
  for (size_t k = tailSize >= 22 ? tailSize - 22 + 1 : 0; k-- > 0;) {
    if (le(tail, k, 4) == 0x06054b50) {
      eocd = k;
      break;
    }
  }
  if (eocd == std::string::npos)
    throw FileError(path, "is a truncated or corrupt zip archive (no end of central directory)");
  uint64_t cdSize = le(tail, eocd + 12, 4), cdOffset = le(tail, eocd + 16, 4);
  if ((cdSize == 0xffffffffu || cdOffset == 0xffffffffu) && eocd >= 20 &&
      le(tail, eocd - 20, 4) == 0x07064b50) {
    // ZIP64: the locator points at the ZIP64 end of central directory record.
    const uint64_t z64 = le(tail, eocd - 20 + 8, 8);
    if (z64 > fileSize || fileSize - z64 < 56) throw FileError(path, "is a corrupt zip archive");
    std::string rec;
    if (!readAt(z64, rec, 56) || le(rec, 0, 4) != 0x06064b50)
      throw FileError(path, "is a corrupt zip archive");
    cdSize = le(rec, 40, 8);
    cdOffset = le(rec, 48, 8);
  }
  if (cdOffset > fileSize || cdSize > fileSize - cdOffset)
    throw FileError(path, "is a truncated or corrupt zip archive (bad central directory)");
  std::string cd;
  if (!readAt(cdOffset, cd, cdSize)) throw FileError(path, "cannot read the zip central directory");
  for (size_t p = 0; p + 46 <= cd.size();) {
    if (le(cd, p, 4) != 0x02014b50) break;
    const uint64_t method = le(cd, p + 10, 2);
    uint64_t comp = le(cd, p + 20, 4), uncomp = le(cd, p + 24, 4);
    const size_t nameLen = le(cd, p + 28, 2), extraLen = le(cd, p + 30, 2),
                 commentLen = le(cd, p + 32, 2);
    if (p + 46 + nameLen + extraLen > cd.size()) break;
    const std::string name = cd.substr(p + 46, nameLen);
    // ZIP64 extended sizes: uncompressed then compressed, each only if its field is saturated.
    for (size_t e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const size_t id = le(cd, e, 2), len = le(cd, e + 2, 2);
      if (e + 4 + len > p + 46 + nameLen + extraLen) break;
      if (id == 1) {
        size_t q = e + 4;
        if (uncomp == 0xffffffffu && q + 8 <= e + 4 + len) uncomp = le(cd, q, 8), q += 8;
        if (comp == 0xffffffffu && q + 8 <= e + 4 + len) comp = le(cd, q, 8);
      }
      e += 4 + len;
    }
    const bool ok = comp <= fileSize && (method == 0   ? uncomp == comp
                                         : method == 8 ? uncomp / 1032 <= comp + 1
                                                       : false);
    if (!ok)
      throw FileError(path, "zip record '" + name + "' declares an impossible size (" +
                                std::to_string(uncomp) + " bytes) or an unsupported compression");
    p += 46 + nameLen + extraLen + commentLen;
  }
}

Checkpoint loadZip(const std::string& path, const Adapter& bytes, bool flatten) {
  checkZipRecordSizes(path, bytes);
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  std::vector<std::string> records;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(bytes);
    records = reader->getAllRecords();
  } catch (const c10::Error& e) {
    throw FileError(path, "is not a readable PyTorch zip archive (truncated or corrupt)");
  }
  bool torchscript = false;
  for (const auto& r : records)
    if (r == "constants.pkl" || r.rfind("code/", 0) == 0) torchscript = true;
  if (!reader->hasRecord("data.pkl"))
    throw FileError(path, torchscript ? "is a TorchScript archive without data.pkl (an old "
                                        "format that is not supported)"
                                      : "is a zip archive without data.pkl (not a torch.save file)");
  if (reader->hasRecord("byteorder") && recordText(*reader, "byteorder") != "little")
    throw FileError(path, "was saved big-endian, which is not supported");

  try {
    const std::string pkl = recordText(*reader, "data.pkl");
    pickle::Arena arena;
    std::map<std::string, c10::Storage> storages;
    auto persistent = [&](const ValuePtr& pid) -> ValuePtr {
      StorageId id = parseStorageId(pid);
      const size_t elem = c10::elementSize(id.dtype);
      auto it = storages.find(id.key);
      if (it == storages.end()) {
        const std::string name = "data/" + id.key;
        if (!reader->hasRecord(name))
          throw pickle::PickleError("the storage record '" + name + "' is missing");
        auto [ptr, size] = reader->getRecord(name);
        c10::Storage st(c10::Storage::use_byte_size_t(), size, std::move(ptr), nullptr, false);
        it = storages.emplace(id.key, st).first;
      }
      if (static_cast<uint64_t>(id.numel) > it->second.nbytes() / elem)
        throw pickle::PickleError("the storage record 'data/" + id.key + "' holds " +
                                  std::to_string(it->second.nbytes()) + " bytes, fewer than its " +
                                  std::to_string(id.numel) + " elements need");
      return makeStorageValue(arena, it->second, id.dtype, 0, id.numel);
    };
    size_t pos = 0;
    ValuePtr root = pickle::unpickle(reinterpret_cast<const uint8_t*>(pkl.data()), pkl.size(), &pos,
                                     arena, persistent, torchscript);
    if (!torchscript) return interpret(path, root, "zip", flatten);
    // TorchScript (torch.jit.save): the module object's parameters and buffers, read like any
    // pickle. LibTorch's own loader compiles the archive's code, and crashes on some malformed
    // archives (fuzz_torchscript, issue 8): it is not used.
    if (root->kind != Kind::Dict || root->dictType.rfind("__torch__.", 0) != 0)
      throw FileError(path, "the TorchScript archive does not hold a module object");
    Checkpoint ck;
    ck.format = "torchscript";
    scriptState(path, root, "", scriptClasses(*reader, records), ck.state, 0);
    if (ck.state.empty()) throw FileError(path, "the TorchScript module has no parameters");
    return ck;
  } catch (const pickle::PickleError& e) {
    throw FileError(path, e.what());
  } catch (const c10::Error& e) {
    throw FileError(path, std::string("corrupt archive: ") + e.what_without_backtrace());
  }
}

// ------------------------------------------------------------------------------- legacy files

Checkpoint loadLegacy(const std::string& path, const uint8_t* bytes, size_t size, bool flatten) {
  try {
    pickle::Arena arena;
    size_t pos = 0;
    ValuePtr magic = pickle::unpickle(bytes, size, &pos, arena, nullptr);
    if (magic->kind != Kind::BigInt || magic->s != kLegacyMagic)
      throw FileError(path, "is a pickle but not a torch.save file (wrong magic number)");
    ValuePtr version = pickle::unpickle(bytes, size, &pos, arena, nullptr);
    if (version->kind != Kind::Int || version->i != 1001)
      throw FileError(path, "has an unsupported legacy protocol version");
    ValuePtr sysInfo = pickle::unpickle(bytes, size, &pos, arena, nullptr);
    if (sysInfo->kind == Kind::Dict) {
      ValuePtr le = sysInfo->get("little_endian");
      if (le && le->kind == Kind::Bool && !le->b)
        throw FileError(path, "was saved big-endian, which is not supported");
    }

    // Storages are created empty-sized first; their bytes follow the object pickle. Their
    // total size is checked against the bytes the file has left.
    struct Pending {
      c10::Storage storage;
      at::ScalarType dtype;
      int64_t numel;
    };
    std::map<std::string, Pending> storages;
    uint64_t declaredBytes = 0;
    auto rootStorage = [&](const std::string& key, at::ScalarType dtype,
                           int64_t numel) -> Pending& {
      auto it = storages.find(key);
      if (it != storages.end()) {
        if (it->second.dtype != dtype)
          throw pickle::PickleError("storage '" + key + "' is used with two element types");
        return it->second;
      }
      const uint64_t nbytes = static_cast<uint64_t>(numel) * c10::elementSize(dtype);
      declaredBytes += nbytes;
      if (numel > int64_t(1) << 56 || declaredBytes > size - pos)
        throw pickle::PickleError("storage sizes exceed the file size (truncated or corrupt)");
      c10::Storage st(c10::Storage::use_byte_size_t(), nbytes, c10::GetCPUAllocator(), false);
      return storages.emplace(key, Pending{st, dtype, numel}).first->second;
    };
    auto persistent = [&](const ValuePtr& pid) -> ValuePtr {
      StorageId id = parseStorageId(pid);
      if (!id.view || id.view->kind == Kind::None) {
        Pending& p = rootStorage(id.key, id.dtype, id.numel);
        if (id.numel > p.numel) throw pickle::PickleError("inconsistent storage sizes");
        return makeStorageValue(arena, p.storage, id.dtype, 0, id.numel);
      }
      // Old storage views: (view key, offset, view size) into the root storage `key`.
      const ValuePtr& v = id.view;
      if (v->kind != Kind::Tuple || v->items.size() != 3 || v->items[1]->kind != Kind::Int ||
          v->items[2]->kind != Kind::Int)
        throw pickle::PickleError("invalid storage view metadata");
      Pending& p = rootStorage(id.key, id.dtype, id.numel);
      const int64_t off = v->items[1]->i, n = v->items[2]->i;
      if (off < 0 || n < 0 || off > p.numel || n > p.numel - off)
        throw pickle::PickleError("a storage view reaches past its storage");
      return makeStorageValue(arena, p.storage, id.dtype, off, n);
    };
    ValuePtr root = pickle::unpickle(bytes, size, &pos, arena, persistent);
    ValuePtr keys = pickle::unpickle(bytes, size, &pos, arena, nullptr);
    if (keys->kind != Kind::List) throw FileError(path, "has no storage key list (corrupt file)");
    for (const auto& k : keys->items) {
      if (k->kind != Kind::String) throw FileError(path, "has an invalid storage key list");
      auto it = storages.find(k->s);
      if (it == storages.end())
        throw FileError(path, "lists storage '" + k->s + "' that no tensor uses (corrupt file)");
      Pending& p = it->second;
      if (size - pos < 8) throw FileError(path, "ends early (truncated file)");
      int64_t count = 0;
      std::memcpy(&count, bytes + pos, 8);  // little-endian hosts only
      pos += 8;
      if (count != p.numel)
        throw FileError(path, "storage '" + k->s + "' has " + std::to_string(count) +
                                  " elements in the data but " + std::to_string(p.numel) +
                                  " in the header (corrupt file)");
      const size_t nbytes = p.storage.nbytes();
      if (size - pos < nbytes) throw FileError(path, "ends early (truncated file)");
      if (nbytes) std::memcpy(p.storage.data(), bytes + pos, nbytes);
      pos += nbytes;
      p.numel = -1;  // filled
    }
    for (const auto& [key, p] : storages)
      if (p.numel != -1)
        throw FileError(path, "lacks the data of storage '" + key + "' (truncated or corrupt)");
    return interpret(path, root, "legacy", flatten);
  } catch (const pickle::PickleError& e) {
    throw FileError(path, e.what());
  } catch (const c10::Error& e) {
    throw FileError(path, std::string("corrupt file: ") + e.what_without_backtrace());
  }
}

// ------------------------------------------------------------------------------------ writing

void writeStateDict(pickle::Writer& w, const std::vector<std::pair<std::string, at::Tensor>>& ts,
                    const StateDict& state) {
  w.global("collections", "OrderedDict");
  w.emptyTuple();
  w.reduce();
  if (state.empty()) return;
  w.mark();
  size_t index = 0;
  for (const auto& [name, t] : state) {
    const at::Tensor& c = ts[index].second;
    w.str(name);
    w.global("torch._utils", "_rebuild_tensor_v2");
    w.mark();
    w.mark();
    w.str("storage");
    w.global("torch", pickle::storageClassName(c.scalar_type()));
    w.str(ts[index].first);
    w.str("cpu");
    w.integer(c.numel());
    w.tupleFromMark();
    w.persId();
    w.integer(0);
    w.intTuple(c.sizes().vec());
    w.intTuple(c.strides().vec());
    w.boolean(false);
    w.global("collections", "OrderedDict");
    w.emptyTuple();
    w.reduce();
    w.tupleFromMark();
    w.reduce();
    ++index;
  }
  w.setItems();
}

void writeMetadataValue(pickle::Writer& w, const std::string& text) {
  int64_t i = 0;
  const char* end = text.data() + text.size();
  auto ri = std::from_chars(text.data(), end, i);
  if (!text.empty() && ri.ec == std::errc() && ri.ptr == end) {
    w.integer(i);
    return;
  }
  double d = 0;
  auto rd = std::from_chars(text.data(), end, d);
  if (!text.empty() && rd.ec == std::errc() && rd.ptr == end) {
    w.floating(d);
    return;
  }
  w.str(text);
}

/// Tells the format from the first bytes and reads it. `legacyBytes` gives the whole content
/// for the legacy reader (which needs it in memory), `zipBytes` reads the archive on demand.
template <typename WholeContent>
Checkpoint loadBytes(const std::string& path, const Adapter& bytes, WholeContent legacyBytes,
                     bool flatten) {
  if (bytes->size() == 0) throw FileError(path, "is empty");
  std::string head(std::min<size_t>(bytes->size(), 512), '\0');
  head.resize(bytes->read(0, head.data(), head.size()));
  if (head.size() >= 4 && head.compare(0, 2, "PK") == 0) return loadZip(path, bytes, flatten);
  if (head.size() > 262 && head.compare(257, 5, "ustar") == 0)
    throw FileError(path,
                    "is in the very old tar-based torch.save format, which is not supported; "
                    "re-save it with a recent PyTorch");
  if (!head.empty() && static_cast<uint8_t>(head[0]) == 0x80) {
    const std::string_view all = legacyBytes();
    return loadLegacy(path, reinterpret_cast<const uint8_t*>(all.data()), all.size(), flatten);
  }
  throw FileError(path, "is not a PyTorch model file (neither a zip archive nor a legacy pickle)");
}

Checkpoint loadFile(const std::string& path, bool flatten) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw FileError(path, std::string("cannot open the file (") + std::strerror(errno) + ")");
  if (S_ISDIR(st.st_mode)) throw FileError(path, "is a folder, not a model file");
  if (st.st_size == 0) throw FileError(path, "is empty");
  Adapter file;
  try {
    file = std::make_shared<caffe2::serialize::FileAdapter>(path);
  } catch (const c10::Error&) {
    throw FileError(path, std::string("cannot open the file (") + std::strerror(errno) + ")");
  }
  std::string whole;
  return loadBytes(path, file, [&]() -> std::string_view {
    whole = readWholeFile(path);
    return whole;
  }, flatten);
}

Checkpoint loadMemory(const void* data, size_t size, const std::string& name, bool flatten) {
  auto bytes = std::make_shared<BoundedMemoryAdapter>(data, size);
  return loadBytes(name, bytes, [&] {
    return std::string_view(static_cast<const char*>(data), size);
  }, flatten);
}

}  // namespace

Checkpoint loadCheckpoint(const std::string& path) { return loadFile(path, false); }

StateDict loadTensors(const std::string& path) { return loadFile(path, true).state; }

Checkpoint loadCheckpointFromMemory(const void* data, size_t size, const std::string& name) {
  return loadMemory(data, size, name, false);
}

StateDict loadTensorsFromMemory(const void* data, size_t size, const std::string& name) {
  return loadMemory(data, size, name, true).state;
}

void saveCheckpoint(const std::string& path, const StateDict& state,
                    const std::map<std::string, std::string>& metadata) {
  // Contiguous CPU copies; several entries sharing one tensor are still written separately.
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  size_t index = 0;
  for (const auto& [name, t] : state) {
    if (!t.defined()) throw FileError(path, "cannot save the undefined tensor '" + name + "'");
    tensors.emplace_back(std::to_string(index++), t.detach().to(at::kCPU).contiguous());
  }

  pickle::Writer w;
  try {
    if (metadata.empty()) {
      writeStateDict(w, tensors, state);
    } else {
      w.emptyDict();
      w.mark();
      w.str("model_state_dict");
      writeStateDict(w, tensors, state);
      for (const auto& [key, value] : metadata) {
        if (key == "model_state_dict") continue;
        w.str(key);
        writeMetadataValue(w, value);
      }
      w.setItems();
    }
  } catch (const pickle::PickleError& e) {
    throw FileError(path, e.what());
  }
  const std::string pkl = w.finish();

  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    throw FileError(path, std::string("cannot create the file (") + std::strerror(errno) + ")");
  ::fchmod(fd, 0644);
  bool writeFailed = false;
  int writeError = 0;
  auto fail = [&](const std::string& problem) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw FileError(path, problem);
  };
  try {
    // The callback never reports a short write: PyTorchStreamWriter would throw, possibly from
    // its destructor. A failure is remembered and checked after the archive is finished.
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* buf, size_t n) -> size_t {
      const char* p = static_cast<const char*>(buf);
      size_t left = writeFailed ? 0 : n;
      while (left > 0) {
        const ssize_t k = ::write(fd, p, left);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
          writeError = errno;
          writeFailed = true;
          break;
        }
        p += k;
        left -= static_cast<size_t>(k);
      }
      return n;
    });
    writer.writeRecord("data.pkl", pkl.data(), pkl.size());
    for (const auto& [key, t] : tensors)
      writer.writeRecord("data/" + key, t.data_ptr(), t.nbytes());
    writer.writeEndOfFile();
  } catch (const c10::Error& e) {
    fail(std::string("cannot write the file: ") + e.what_without_backtrace());
  }
  if (writeFailed)
    fail(std::string("cannot write the file (") + std::strerror(writeError ? writeError : EIO) +
         ")");
  // Close the descriptor whether or not fsync succeeded (it used to stay open on failure).
  int syncError = ::fsync(fd) == 0 ? 0 : errno;
  if (::close(fd) != 0 && syncError == 0) syncError = errno;
  if (syncError != 0) {
    const std::string err = std::strerror(syncError);
    ::unlink(tmp.c_str());
    throw FileError(path, "cannot write the file (" + err + ")");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw FileError(path, "cannot write the file (" + err + ")");
  }
}

}  // namespace otfuse
