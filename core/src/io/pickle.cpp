#include "io/pickle.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <unordered_map>

namespace otfuse::pickle {

namespace {

using Kind = Value::Kind;

struct StorageName {
  const char* name;
  at::ScalarType dtype;
};
constexpr std::array<StorageName, 12> kStorages{{
    {"FloatStorage", at::kFloat},
    {"DoubleStorage", at::kDouble},
    {"HalfStorage", at::kHalf},
    {"BFloat16Storage", at::kBFloat16},
    {"LongStorage", at::kLong},
    {"IntStorage", at::kInt},
    {"ShortStorage", at::kShort},
    {"CharStorage", at::kChar},
    {"ByteStorage", at::kByte},
    {"BoolStorage", at::kBool},
    {"ComplexFloatStorage", at::kComplexFloat},
    {"ComplexDoubleStorage", at::kComplexDouble},
}};

std::string formatDouble(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, res.ptr);
  // Python writes integral floats as "3.0".
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

void reprInto(const Value& v, std::string& out, size_t maxChars, int depth) {
  if (out.size() > maxChars) return;
  if (depth > 32) {
    out += "...";
    return;
  }
  switch (v.kind) {
    case Kind::None:
      out += "None";
      break;
    case Kind::Bool:
      out += v.b ? "True" : "False";
      break;
    case Kind::Int:
      out += std::to_string(v.i);
      break;
    case Kind::BigInt:
      out += "<int of " + std::to_string(v.s.size()) + " bytes>";
      break;
    case Kind::Float:
      out += formatDouble(v.f);
      break;
    case Kind::String:
      out += "'" + v.s + "'";
      break;
    case Kind::Bytes:
      out += "<" + std::to_string(v.s.size()) + " bytes>";
      break;
    case Kind::Global:
      out += v.s;
      break;
    case Kind::Storage:
      out += "<storage>";
      break;
    case Kind::Tensor: {
      out += "tensor(shape=[";
      for (int64_t d = 0; d < v.tensor.dim(); ++d) {
        if (d) out += ", ";
        out += std::to_string(v.tensor.size(d));
      }
      out += "], dtype=" + std::string(c10::toString(v.tensor.scalar_type())) + ")";
      break;
    }
    case Kind::List:
    case Kind::Tuple: {
      out += v.kind == Kind::List ? "[" : "(";
      for (size_t k = 0; k < v.items.size() && out.size() <= maxChars; ++k) {
        if (k) out += ", ";
        reprInto(*v.items[k], out, maxChars, depth + 1);
      }
      if (v.kind == Kind::Tuple && v.items.size() == 1) out += ",";
      out += v.kind == Kind::List ? "]" : ")";
      break;
    }
    case Kind::Dict: {
      const bool ns = v.dictType == "argparse.Namespace";
      out += ns ? "Namespace(" : "{";
      for (size_t k = 0; k < v.entries.size() && out.size() <= maxChars; ++k) {
        if (k) out += ", ";
        const auto& [key, val] = v.entries[k];
        if (ns && key->kind == Kind::String) {
          out += key->s + "=";
        } else {
          reprInto(*key, out, maxChars, depth + 1);
          out += ": ";
        }
        reprInto(*val, out, maxChars, depth + 1);
      }
      out += ns ? ")" : "}";
      break;
    }
  }
}

/// Reads little-endian integers and byte runs with bounds checks.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size, size_t pos) : data_(data), size_(size), pos_(pos) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  void need(uint64_t n) const {
    if (n > remaining())
      throw PickleError("the data ends early (truncated or corrupt file): " + std::to_string(n) +
                        " bytes needed at offset " + std::to_string(pos_) + ", " +
                        std::to_string(remaining()) + " left");
  }
  uint8_t u8() {
    need(1);
    return data_[pos_++];
  }
  uint64_t le(int n) {
    need(n);
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; --k) v = (v << 8) | data_[pos_ + k];
    pos_ += n;
    return v;
  }
  std::string bytes(uint64_t n) {
    need(n);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }
  std::string line() {
    const size_t limit = std::min<size_t>(remaining(), 256);
    for (size_t k = 0; k < limit; ++k) {
      if (data_[pos_ + k] == '\n') {
        std::string s(reinterpret_cast<const char*>(data_ + pos_), k);
        pos_ += k + 1;
        return s;
      }
    }
    throw PickleError("a GLOBAL name is unterminated or too long at offset " +
                      std::to_string(pos_));
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_;
};

class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, size_t pos, Arena& arena,
            const PersistentLoad& persistent, bool torchScript)
      : in_(data, size, pos), arena_(arena), persistent_(persistent), torchScript_(torchScript) {}

  ValuePtr run(size_t* endPos) {
    for (;;) {
      const size_t opPos = in_.pos();
      const uint8_t op = in_.u8();
      switch (op) {
        case 0x80:  // PROTO
          if (in_.u8() > 5) throw PickleError("unsupported pickle protocol");
          break;
        case 0x95:  // FRAME (protocol 4): just a length hint
          in_.le(8);
          break;
        case '.': {  // STOP
          ValuePtr v = pop();
          *endPos = in_.pos();
          return v;
        }
        case '}':
          push(makeDict("dict"));
          break;
        case ']':
          push(arena_.make(Kind::List));
          break;
        case ')':
          push(arena_.make(Kind::Tuple));
          break;
        case '(':
          marks_.push_back(stack_.size());
          break;
        case 't': {
          auto items = popMark();
          ValuePtr t = arena_.make(Kind::Tuple);
          t->items = std::move(items);
          push(t);
          break;
        }
        case 0x85:
        case 0x86:
        case 0x87: {  // TUPLE1..3
          const size_t n = op - 0x84;
          needStack(n);
          ValuePtr t = arena_.make(Kind::Tuple);
          t->items.assign(stack_.end() - n, stack_.end());
          stack_.resize(stack_.size() - n);
          push(t);
          break;
        }
        case 'l': {  // LIST
          ValuePtr l = arena_.make(Kind::List);
          l->items = popMark();
          push(l);
          break;
        }
        case 'd': {  // DICT
          auto items = popMark();
          ValuePtr d = makeDict("dict");
          fillDict(d, items);
          push(d);
          break;
        }
        case 'X':
          push(str(Kind::String, in_.le(4)));
          break;
        case 0x8c:
          push(str(Kind::String, in_.u8()));
          break;
        case 0x8d:
          push(str(Kind::String, in_.le(8)));
          break;
        case 'T': {  // BINSTRING (signed 32-bit length)
          const uint64_t n = in_.le(4);
          if (n > 0x7fffffffu) throw PickleError("negative BINSTRING length");
          push(str(Kind::String, n));
          break;
        }
        case 'U':
          push(str(Kind::String, in_.u8()));
          break;
        case 'B':
          push(str(Kind::Bytes, in_.le(4)));
          break;
        case 'C':
          push(str(Kind::Bytes, in_.u8()));
          break;
        case 0x8e:
          push(str(Kind::Bytes, in_.le(8)));
          break;
        case 'J':
          push(makeInt(static_cast<int32_t>(static_cast<uint32_t>(in_.le(4)))));
          break;
        case 'K':
          push(makeInt(in_.u8()));
          break;
        case 'M':
          push(makeInt(static_cast<int64_t>(in_.le(2))));
          break;
        case 0x8a:
          push(makeLong(in_.u8()));
          break;
        case 0x8b: {  // LONG4
          const uint64_t n = in_.le(4);
          if (n > 0x7fffffffu) throw PickleError("negative LONG4 length");
          push(makeLong(n));
          break;
        }
        case 'G': {
          const uint64_t bits = be64();
          ValuePtr v = arena_.make(Kind::Float);
          std::memcpy(&v->f, &bits, sizeof(double));
          push(v);
          break;
        }
        case 0x88:
        case 0x89: {
          ValuePtr v = arena_.make(Kind::Bool);
          v->b = op == 0x88;
          push(v);
          break;
        }
        case 'N':
          push(arena_.make(Kind::None));
          break;
        case 's': {  // SETITEM
          needStack(3);
          ValuePtr value = pop();
          ValuePtr key = pop();
          ValuePtr d = top();
          std::vector<ValuePtr> kv{key, value};
          fillDict(d, kv);
          break;
        }
        case 'u': {  // SETITEMS
          auto items = popMark();
          fillDict(top(), items);
          break;
        }
        case 'a': {  // APPEND
          needStack(2);
          ValuePtr v = pop();
          appendTo(top(), {v});
          break;
        }
        case 'e': {  // APPENDS
          auto items = popMark();
          appendTo(top(), items);
          break;
        }
        case 'q':
          memo_[in_.u8()] = top();
          break;
        case 'r':
          memo_[static_cast<uint32_t>(in_.le(4))] = top();
          break;
        case 0x94: {  // MEMOIZE
          const uint32_t idx = static_cast<uint32_t>(memo_.size());
          memo_[idx] = top();
          break;
        }
        case 'h':
          push(memoGet(in_.u8()));
          break;
        case 'j':
          push(memoGet(static_cast<uint32_t>(in_.le(4))));
          break;
        case '0':
          pop();
          break;  // POP
        case '1':
          popMark();
          break;
        case '2':
          push(top());
          break;     // DUP
        case 'c': {  // GLOBAL
          std::string module = in_.line();
          std::string name = in_.line();
          push(global(module, name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          needStack(2);
          ValuePtr name = pop();
          ValuePtr module = pop();
          if (name->kind != Kind::String || module->kind != Kind::String)
            throw PickleError("STACK_GLOBAL needs two strings");
          push(global(module->s, name->s));
          break;
        }
        case 'R': {  // REDUCE
          needStack(2);
          ValuePtr args = pop();
          ValuePtr fn = pop();
          push(reduce(fn, args));
          break;
        }
        case 0x81: {  // NEWOBJ
          needStack(2);
          ValuePtr args = pop();
          ValuePtr cls = pop();
          push(newObj(cls, args));
          break;
        }
        case 'b': {  // BUILD
          needStack(2);
          ValuePtr state = pop();
          build(top(), state);
          break;
        }
        case 'Q': {  // BINPERSID
          ValuePtr pid = pop();
          if (!persistent_) throw PickleError("unexpected persistent id (BINPERSID)");
          push(persistent_(pid));
          break;
        }
        default: {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "0x%02x", op);
          throw PickleError("unsupported pickle opcode " + std::string(hex) + " at offset " +
                            std::to_string(opPos));
        }
      }
    }
  }

 private:
  void push(ValuePtr v) { stack_.push_back(v); }
  void needStack(size_t n) {
    const size_t base = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() < base + n) throw PickleError("pickle stack underflow (corrupt data)");
  }
  ValuePtr pop() {
    needStack(1);
    ValuePtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  ValuePtr top() {
    needStack(1);
    return stack_.back();
  }
  std::vector<ValuePtr> popMark() {
    if (marks_.empty()) throw PickleError("pickle MARK missing (corrupt data)");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(stack_.begin() + m, stack_.end());
    stack_.resize(m);
    return items;
  }
  ValuePtr memoGet(uint32_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) throw PickleError("pickle memo entry missing (corrupt data)");
    return it->second;
  }
  uint64_t be64() {
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v = (v << 8) | in_.u8();
    return v;
  }
  ValuePtr str(Kind k, uint64_t n) {
    ValuePtr v = arena_.make(k);
    v->s = in_.bytes(n);
    return v;
  }
  ValuePtr makeInt(int64_t i) {
    ValuePtr v = arena_.make(Kind::Int);
    v->i = i;
    return v;
  }
  ValuePtr makeLong(uint64_t n) {
    std::string bytes = in_.bytes(n);
    if (n <= 8) {
      uint64_t u = 0;
      for (size_t k = n; k-- > 0;) u = (u << 8) | static_cast<uint8_t>(bytes[k]);
      if (n > 0 && n < 8 && (static_cast<uint8_t>(bytes[n - 1]) & 0x80))
        u |= ~uint64_t(0) << (8 * n);  // sign-extend
      return makeInt(static_cast<int64_t>(u));
    }
    ValuePtr v = arena_.make(Kind::BigInt);
    v->s = std::move(bytes);
    return v;
  }
  ValuePtr makeDict(const std::string& type) {
    ValuePtr d = arena_.make(Kind::Dict);
    d->dictType = type;
    return d;
  }
  void fillDict(ValuePtr d, const std::vector<ValuePtr>& kv) {
    if (d->kind != Kind::Dict) throw PickleError("SETITEM on something that is not a dict");
    if (kv.size() % 2) throw PickleError("SETITEMS with an odd number of items");
    for (size_t k = 0; k < kv.size(); k += 2) setItem(d, kv[k], kv[k + 1]);
  }
  static void setItem(ValuePtr d, ValuePtr key, ValuePtr value) {
    // String keys replace an earlier equal key, as in Python (indexed: no quadratic cost).
    if (key->kind == Kind::String) {
      auto [it, inserted] = d->keyIndex.emplace(key->s, d->entries.size());
      if (!inserted) {
        d->entries[it->second].second = value;
        return;
      }
    }
    d->entries.emplace_back(key, value);
  }
  static void appendTo(ValuePtr l, const std::vector<ValuePtr>& items) {
    if (l->kind != Kind::List) throw PickleError("APPEND on something that is not a list");
    l->items.insert(l->items.end(), items.begin(), items.end());
  }

  ValuePtr global(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    at::ScalarType dt;
    const bool allowed =
        full == "collections.OrderedDict" || full == "torch._utils._rebuild_tensor_v2" ||
        full == "torch._utils._rebuild_tensor" || full == "torch._utils._rebuild_parameter" ||
        full == "argparse.Namespace" || full == "torch.Size" || full == "_codecs.encode" ||
        (module == "torch" && storageDtype(name, &dt)) ||
        (torchScript_ && (isTorchScriptClass(full) || isTorchScriptHelper(full)));
    if (!allowed)
      throw PickleError("refused to load the Python global '" + full +
                        "' (only tensors and plain data are read; pickled code or classes are "
                        "never executed)");
    ValuePtr g = arena_.make(Kind::Global);
    g->s = full;
    return g;
  }

  static int64_t intArg(const ValuePtr& v, const char* what) {
    if (v->kind != Kind::Int) throw PickleError(std::string("tensor ") + what + " is not an int");
    return v->i;
  }
  static std::vector<int64_t> intTuple(const ValuePtr& v, const char* what) {
    if (v->kind != Kind::Tuple && v->kind != Kind::List)
      throw PickleError(std::string("tensor ") + what + " is not a tuple");
    std::vector<int64_t> out;
    for (const auto& item : v->items) out.push_back(intArg(item, what));
    return out;
  }

  ValuePtr rebuildTensor(const std::vector<ValuePtr>& a) {
    if (a.size() < 4) throw PickleError("_rebuild_tensor takes at least 4 arguments");
    const ValuePtr& st = a[0];
    if (st->kind != Kind::Storage)
      throw PickleError("_rebuild_tensor's first argument is not a storage");
    const int64_t offset = intArg(a[1], "storage offset");
    const std::vector<int64_t> size = intTuple(a[2], "size");
    const std::vector<int64_t> stride = intTuple(a[3], "stride");
    if (size.size() != stride.size())
      throw PickleError("tensor size and stride have different lengths");
    if (size.size() > 64) throw PickleError("tensor has too many dimensions");
    if (offset < 0) throw PickleError("negative tensor storage offset");
    // The highest element index the view reaches must lie within the storage.
    bool empty = false;
    __int128 extent = offset;
    for (size_t d = 0; d < size.size(); ++d) {
      if (size[d] < 0 || stride[d] < 0) throw PickleError("negative tensor size or stride");
      if (size[d] == 0) empty = true;
      extent += static_cast<__int128>(size[d] > 0 ? size[d] - 1 : 0) * stride[d];
      if (extent > (static_cast<__int128>(1) << 62)) throw PickleError("tensor size overflows");
    }
    if (!empty && extent >= st->storageNumel)
      throw PickleError("tensor (offset " + std::to_string(offset) + ") reaches past the end of " +
                        "its storage of " + std::to_string(st->storageNumel) + " elements");
    // Overlapping views (stride 0, as from expand) could make a few bytes stand for 2^40
    // elements that any later use would copy: a tensor may have no more elements than its
    // storage (issue 8). torch.save of a state_dict never writes such views.
    __int128 numel = 1;
    for (int64_t n : size) numel = std::min<__int128>(numel * n, static_cast<__int128>(1) << 62);
    if (numel > st->storageNumel)
      throw PickleError("tensor of " + std::to_string(static_cast<long long>(numel)) +
                        " elements views a storage of only " +
                        std::to_string(st->storageNumel) +
                        " (overlapping views are not supported in model files)");
    at::Tensor t = at::empty({0}, at::TensorOptions().dtype(st->dtype));
    t.set_(st->storage, st->storageOffset + offset, size, stride);
    ValuePtr v = arena_.make(Kind::Tensor);
    v->tensor = t;
    return v;
  }

  ValuePtr reduce(ValuePtr fn, ValuePtr args) {
    if (fn->kind != Kind::Global) throw PickleError("REDUCE on something that is not callable");
    if (args->kind != Kind::Tuple) throw PickleError("REDUCE arguments are not a tuple");
    const auto& a = args->items;
    const std::string& name = fn->s;
    if (name == "collections.OrderedDict") {
      ValuePtr d = makeDict(name);
      if (a.empty()) return d;
      if (a.size() == 1 && a[0]->kind == Kind::List) {
        for (const auto& pair : a[0]->items) {
          if ((pair->kind != Kind::Tuple && pair->kind != Kind::List) || pair->items.size() != 2)
            throw PickleError("OrderedDict built from something other than pairs");
          setItem(d, pair->items[0], pair->items[1]);
        }
        return d;
      }
      throw PickleError("unsupported OrderedDict arguments");
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor")
      return rebuildTensor(a);
    if (name == "torch._utils._rebuild_parameter") {
      if (a.empty() || a[0]->kind != Kind::Tensor)
        throw PickleError("_rebuild_parameter needs a tensor");
      return a[0];
    }
    if (name == "torch.Size") {
      ValuePtr t = arena_.make(Kind::Tuple);
      if (a.size() == 1 && (a[0]->kind == Kind::Tuple || a[0]->kind == Kind::List))
        t->items = a[0]->items;
      return t;
    }
    if (torchScript_ && isTorchScriptHelper(name)) {
      // build_*list(list) and restore_type_tag(value, type): the value itself.
      if (a.empty()) throw PickleError("'" + name + "' needs an argument");
      return a[0];
    }
    if (name == "_codecs.encode") {
      if (a.empty() || a[0]->kind != Kind::String) throw PickleError("bad _codecs.encode call");
      ValuePtr b = arena_.make(Kind::Bytes);
      b->s = a[0]->s;  // latin-1 text → bytes; kept as-is (metadata only)
      return b;
    }
    throw PickleError("'" + name + "' cannot be called here");
  }

  ValuePtr newObj(ValuePtr cls, ValuePtr args) {
    if (cls->kind != Kind::Global) throw PickleError("NEWOBJ on something that is not a class");
    if (cls->s == "argparse.Namespace" || cls->s == "collections.OrderedDict" ||
        (torchScript_ && isTorchScriptClass(cls->s)))
      return makeDict(cls->s);
    throw PickleError("'" + cls->s + "' cannot be instantiated here");
  }

  void build(ValuePtr obj, ValuePtr state) {
    if (obj->kind == Kind::Dict) {
      // Namespace: its attributes; OrderedDict: attributes such as a state_dict's _metadata,
      // which are not entries and are dropped.
      if (obj->dictType == "argparse.Namespace" || isTorchScriptClass(obj->dictType)) {
        if (state->kind != Kind::Dict)
          throw PickleError("the state of '" + obj->dictType + "' is not a dict");
        for (const auto& [k, v] : state->entries) setItem(obj, k, v);
      }
      return;
    }
    if (obj->kind == Kind::Tensor) return;  // parameter/tensor python attributes: ignored
    throw PickleError("BUILD on an unsupported object");
  }

  static bool isTorchScriptClass(const std::string& name) {
    return name.rfind("__torch__.", 0) == 0;
  }
  static bool isTorchScriptHelper(const std::string& name) {
    return name == "torch.jit._pickle.build_intlist" ||
           name == "torch.jit._pickle.build_floatlist" ||
           name == "torch.jit._pickle.build_doublelist" ||
           name == "torch.jit._pickle.build_boollist" ||
           name == "torch.jit._pickle.build_tensorlist" ||
           name == "torch.jit._pickle.restore_type_tag";
  }

  Reader in_;
  Arena& arena_;
  const PersistentLoad& persistent_;
  bool torchScript_;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, ValuePtr> memo_;
};

}  // namespace

std::string Value::repr(size_t maxChars) const {
  std::string out;
  reprInto(*this, out, maxChars, 0);
  if (out.size() > maxChars) {
    out.resize(maxChars);
    out += "...";
  }
  return out;
}

ValuePtr Value::get(const std::string& key) const {
  auto it = keyIndex.find(key);
  return it == keyIndex.end() ? nullptr : entries[it->second].second;
}

ValuePtr unpickle(const uint8_t* data, size_t size, size_t* pos, Arena& arena,
                  const PersistentLoad& persistent, bool torchScript) {
  Unpickler u(data, size, *pos, arena, persistent, torchScript);
  return u.run(pos);
}

bool storageDtype(const std::string& className, at::ScalarType* dtype) {
  for (const auto& s : kStorages) {
    if (className == s.name) {
      *dtype = s.dtype;
      return true;
    }
  }
  return false;
}

std::string storageClassName(at::ScalarType dtype) {
  for (const auto& s : kStorages)
    if (s.dtype == dtype) return s.name;
  throw PickleError("tensors of type " + std::string(c10::toString(dtype)) + " cannot be saved");
}

Writer::Writer() {
  out_ = "\x80\x02";
}

void Writer::global(const std::string& module, const std::string& name) {
  out_ += 'c';
  out_ += module + "\n" + name + "\n";
}

void Writer::str(const std::string& s) {
  out_ += 'X';
  const uint32_t n = static_cast<uint32_t>(s.size());
  for (int k = 0; k < 4; ++k) out_.push_back(static_cast<char>((n >> (8 * k)) & 0xff));
  out_ += s;
}

void Writer::integer(int64_t v) {
  if (v >= INT32_MIN && v <= INT32_MAX) {
    out_ += 'J';
    const uint32_t u = static_cast<uint32_t>(static_cast<int32_t>(v));
    for (int k = 0; k < 4; ++k) out_.push_back(static_cast<char>((u >> (8 * k)) & 0xff));
    return;
  }
  out_ += '\x8a';
  out_.push_back(8);
  const uint64_t u = static_cast<uint64_t>(v);
  for (int k = 0; k < 8; ++k) out_.push_back(static_cast<char>((u >> (8 * k)) & 0xff));
}

void Writer::floating(double v) {
  out_ += 'G';
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  for (int k = 7; k >= 0; --k) out_.push_back(static_cast<char>((bits >> (8 * k)) & 0xff));
}

void Writer::intTuple(const std::vector<int64_t>& v) {
  if (v.empty()) {
    emptyTuple();
    return;
  }
  mark();
  for (int64_t x : v) integer(x);
  tupleFromMark();
}

std::string Writer::finish() {
  out_ += '.';
  return std::move(out_);
}

}  // namespace otfuse::pickle
