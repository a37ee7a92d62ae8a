// libFuzzer target: the restricted pickle reader (core/src/io/pickle.cpp) on raw bytes, with a
// persistent-id loader like the zip reader's (storages of at most 256 elements). Pickles of the
// zip and legacy torch.save formats reach the same code through fuzz_checkpoint_*; this target
// is the fast path for the opcode machinery.
#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>

#include <cstdio>
#include <cstdlib>

#include "io/pickle.h"

using otfuse::pickle::Value;
using Kind = Value::Kind;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  otfuse::pickle::Arena arena;
  auto persistent = [&](const otfuse::pickle::ValuePtr& pid) -> otfuse::pickle::ValuePtr {
    if (pid->kind != Kind::Tuple || pid->items.size() < 5 || pid->items[1]->kind != Kind::Global)
      throw otfuse::pickle::PickleError("not a storage id");
    at::ScalarType dtype = at::kFloat;
    const std::string& cls = pid->items[1]->s;
    if (cls.rfind("torch.", 0) != 0 || !otfuse::pickle::storageDtype(cls.substr(6), &dtype))
      throw otfuse::pickle::PickleError("unknown storage type");
    const int64_t numel = pid->items[4]->kind == Kind::Int ? pid->items[4]->i : -1;
    if (numel < 0 || numel > 256) throw otfuse::pickle::PickleError("storage size");
    auto v = arena.make(Kind::Storage);
    const size_t nbytes = static_cast<size_t>(numel) * c10::elementSize(dtype);
    v->storage = c10::Storage(c10::Storage::use_byte_size_t(), nbytes, c10::GetCPUAllocator(), false);
    v->dtype = dtype;
    v->storageNumel = numel;
    return v;
  };
  size_t pos = 0;
  try {
    // Like the legacy format: several pickles in a row.
    for (int k = 0; k < 4 && pos < size; ++k) {
      otfuse::pickle::ValuePtr v = otfuse::pickle::unpickle(data, size, &pos, arena, persistent);
      (void)v->repr(500);
      (void)v->get("state_dict");
    }
  } catch (const otfuse::pickle::PickleError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "escaped exception (not PickleError): %s\n", e.what());
    std::abort();
  }
  return 0;
}
